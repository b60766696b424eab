// Threefry-4×32-20 (Salmon, Moraes, Dror & Shaw, SC'11; the Random123 library), stateless and
// counter-based: additions, rotations and xors only, so it needs no emulated 32×32 → 64-bit multiply
// (about half the operations of Philox4x32-10 per 128 bits). Bit-exact with src/gpu/threefry.ts and
// with Random123's known-answer vectors. Counters follow philox.wgsl's layout (element, replica, step,
// stream); blockspin's key is the 64-bit seed in words 0 and 1, words 2 and 3 zero.

/// Rounds 0 … 3 of each eight (rotation constants R_32x4_0 … 3), written out so the constants stay literal.
fn threefryFourA(v: vec4<u32>) -> vec4<u32> {
  var x = v;
  x.x += x.y; x.y = ((x.y << 10u) | (x.y >> 22u)) ^ x.x; x.z += x.w; x.w = ((x.w << 26u) | (x.w >> 6u)) ^ x.z;
  x.x += x.w; x.w = ((x.w << 11u) | (x.w >> 21u)) ^ x.x; x.z += x.y; x.y = ((x.y << 21u) | (x.y >> 11u)) ^ x.z;
  x.x += x.y; x.y = ((x.y << 13u) | (x.y >> 19u)) ^ x.x; x.z += x.w; x.w = ((x.w << 27u) | (x.w >> 5u)) ^ x.z;
  x.x += x.w; x.w = ((x.w << 23u) | (x.w >> 9u)) ^ x.x; x.z += x.y; x.y = ((x.y << 5u) | (x.y >> 27u)) ^ x.z;
  return x;
}

/// Rounds 4 … 7 of each eight (R_32x4_4 … 7).
fn threefryFourB(v: vec4<u32>) -> vec4<u32> {
  var x = v;
  x.x += x.y; x.y = ((x.y << 6u) | (x.y >> 26u)) ^ x.x; x.z += x.w; x.w = ((x.w << 20u) | (x.w >> 12u)) ^ x.z;
  x.x += x.w; x.w = ((x.w << 17u) | (x.w >> 15u)) ^ x.x; x.z += x.y; x.y = ((x.y << 11u) | (x.y >> 21u)) ^ x.z;
  x.x += x.y; x.y = ((x.y << 25u) | (x.y >> 7u)) ^ x.x; x.z += x.w; x.w = ((x.w << 10u) | (x.w >> 22u)) ^ x.z;
  x.x += x.w; x.w = ((x.w << 18u) | (x.w >> 14u)) ^ x.x; x.z += x.y; x.y = ((x.y << 20u) | (x.y >> 12u)) ^ x.z;
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
