// Threefry-4×32-20 (Salmon, Moraes, Dror & Shaw, SC'11; the Random123 library), stateless and
// counter-based: additions, rotations and xors only, so it needs no emulated 32×32 → 64-bit multiply
// (about half the operations of Philox4x32-10 per 128 bits). Bit-exact with src/gpu/threefry.ts and
// with Random123's known-answer vectors. Counters follow philox.wgsl's layout (element, replica, step,
// stream); blockspin's key is the 64-bit seed in words 0 and 1, words 2 and 3 zero.

/// Rotations in float arithmetic instead of shifts, bit for bit the same, for CPU implementations of WebGPU:
/// SwiftShader has no vector shift with a per-lane amount below AVX2 and emulates every shift lane by lane
/// (about 20 instructions for its 4 lanes), where a multiply, a conversion and a float operation are one SSE
/// instruction each. GPUs keep the shifts (one instruction, or one funnel shift per rotation).
override floatRotations: bool = false;

/// A left rotation by r ≤ 22 in float arithmetic: up = 2^r, keep = the top r bits, down = 2^(r − 32) and
/// low = 2^r − 1, each a constant expression of r.
struct Rotation {
  up: u32,
  keep: u32,
  down: f32,
  low: u32,
}

const ROTATE_5 = Rotation(1u << 5u, ~((1u << 27u) - 1u), 0x1p-27f, (1u << 5u) - 1u);
const ROTATE_6 = Rotation(1u << 6u, ~((1u << 26u) - 1u), 0x1p-26f, (1u << 6u) - 1u);
const ROTATE_7 = Rotation(1u << 7u, ~((1u << 25u) - 1u), 0x1p-25f, (1u << 7u) - 1u);
const ROTATE_9 = Rotation(1u << 9u, ~((1u << 23u) - 1u), 0x1p-23f, (1u << 9u) - 1u);
const ROTATE_10 = Rotation(1u << 10u, ~((1u << 22u) - 1u), 0x1p-22f, (1u << 10u) - 1u);
const ROTATE_11 = Rotation(1u << 11u, ~((1u << 21u) - 1u), 0x1p-21f, (1u << 11u) - 1u);
const ROTATE_13 = Rotation(1u << 13u, ~((1u << 19u) - 1u), 0x1p-19f, (1u << 13u) - 1u);
const ROTATE_16 = Rotation(1u << 16u, ~((1u << 16u) - 1u), 0x1p-16f, (1u << 16u) - 1u);
const ROTATE_17 = Rotation(1u << 17u, ~((1u << 15u) - 1u), 0x1p-15f, (1u << 17u) - 1u);
const ROTATE_18 = Rotation(1u << 18u, ~((1u << 14u) - 1u), 0x1p-14f, (1u << 18u) - 1u);
const ROTATE_20 = Rotation(1u << 20u, ~((1u << 12u) - 1u), 0x1p-12f, (1u << 20u) - 1u);
const ROTATE_21 = Rotation(1u << 21u, ~((1u << 11u) - 1u), 0x1p-11f, (1u << 21u) - 1u);

/// x rotated left by c's r ≤ 22 without a shift. x · 2^r is the low part. x's top r bits, read as an i32, are a
/// multiple of 2^(32 − r) with at most 22 significant bits, so they convert to f32 exactly, and scaling by
/// 2^(r − 32) gives the signed integer v they hold (|v| ≤ 2^21), exactly. v + 1.5 · 2^23 lies in [2^23, 2^24),
/// where floats are the integers, so it is exact too and its bit pattern is 0x4b400000 + v, whose low 22 bits
/// are v mod 2^22: its low r bits are x >> (32 − r).
fn rotateFloat(x: u32, c: Rotation) -> u32 {
  return (x * c.up) | (bitcast<u32>(f32(bitcast<i32>(x & c.keep)) * c.down + 12582912.0) & c.low);
}

/// x rotated left by r ≤ 22 (`c` = ROTATE_r).
fn rotl(x: u32, r: u32, c: Rotation) -> u32 {
  if (floatRotations) {
    return rotateFloat(x, c);
  }
  return (x << r) | (x >> (32u - r));
}

/// x rotated left by r > 22 (`c` = ROTATE_(r − 16)): in float arithmetic, by r − 16 and then by 16.
fn rotlHigh(x: u32, r: u32, c: Rotation) -> u32 {
  if (floatRotations) {
    return rotateFloat(rotateFloat(x, c), ROTATE_16);
  }
  return (x << r) | (x >> (32u - r));
}

/// Rounds 0 … 3 of each eight (rotation constants R_32x4_0 … 3), written out so the constants stay literal.
fn threefryFourA(v: vec4<u32>) -> vec4<u32> {
  var x = v;
  x.x += x.y; x.y = rotl(x.y, 10u, ROTATE_10) ^ x.x; x.z += x.w; x.w = rotlHigh(x.w, 26u, ROTATE_10) ^ x.z;
  x.x += x.w; x.w = rotl(x.w, 11u, ROTATE_11) ^ x.x; x.z += x.y; x.y = rotl(x.y, 21u, ROTATE_21) ^ x.z;
  x.x += x.y; x.y = rotl(x.y, 13u, ROTATE_13) ^ x.x; x.z += x.w; x.w = rotlHigh(x.w, 27u, ROTATE_11) ^ x.z;
  x.x += x.w; x.w = rotlHigh(x.w, 23u, ROTATE_7) ^ x.x; x.z += x.y; x.y = rotl(x.y, 5u, ROTATE_5) ^ x.z;
  return x;
}

/// Rounds 4 … 7 of each eight (R_32x4_4 … 7).
fn threefryFourB(v: vec4<u32>) -> vec4<u32> {
  var x = v;
  x.x += x.y; x.y = rotl(x.y, 6u, ROTATE_6) ^ x.x; x.z += x.w; x.w = rotl(x.w, 20u, ROTATE_20) ^ x.z;
  x.x += x.w; x.w = rotl(x.w, 17u, ROTATE_17) ^ x.x; x.z += x.y; x.y = rotl(x.y, 11u, ROTATE_11) ^ x.z;
  x.x += x.y; x.y = rotlHigh(x.y, 25u, ROTATE_9) ^ x.x; x.z += x.w; x.w = rotl(x.w, 10u, ROTATE_10) ^ x.z;
  x.x += x.w; x.w = rotl(x.w, 18u, ROTATE_18) ^ x.x; x.z += x.y; x.y = rotl(x.y, 20u, ROTATE_20) ^ x.z;
  return x;
}

/// Twenty rounds of Threefry-4×32 with key injections after every four: four independent uniform u32.
fn threefry4x32(counter: vec4<u32>, key: vec4<u32>) -> vec4<u32> {
  let k4 = 0x1bd11bdau ^ key.x ^ key.y ^ key.z ^ key.w;
  var x = counter + key;
  x = threefryFourA(x);
  x += vec4<u32>(key.y, key.z, key.w, k4 + 1u);
  x = threefryFourB(x);
  x += vec4<u32>(key.z, key.w, k4, key.x + 2u);
  x = threefryFourA(x);
  x += vec4<u32>(key.w, k4, key.x, key.y + 3u);
  x = threefryFourB(x);
  x += vec4<u32>(k4, key.x, key.y, key.z + 4u);
  x = threefryFourA(x);
  return x + vec4<u32>(key.x, key.y, key.z, key.w + 5u);
}
