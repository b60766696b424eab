// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, SC'11; the Random123 library), stateless and counter-based.
// Bit-exact with src/reference/philox.ts and with Random123's known-answer vectors.
// Needs wide-math.wgsl (mulWide).
//
// Stream layout used by every blockspin kernel (src/gpu/rng.ts documents it for the host side):
//   key     = the 64-bit user seed (lo, hi)
//   counter = (element, replica, step, stream)
//     element: site / unit / sample index inside one lattice or layer
//     replica: replica / chain / batch row
//     step:    sweep / iteration number
//     stream:  (purpose << 16) | sub-stream, a purpose per kernel family, sub-streams for e.g. the
//              checkerboard colour or the CD step
// Philox is a bijection of the counter for a fixed key, so distinct counters never share numbers.

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;

fn philoxRound(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  let p0 = mulWide(PHILOX_M0, ctr.x);
  let p1 = mulWide(PHILOX_M1, ctr.z);
  return vec4<u32>(p1.x ^ ctr.y ^ key.x, p1.y, p0.x ^ ctr.w ^ key.y, p0.y);
}

/// Ten rounds of Philox4x32 with the Weyl key schedule: four independent uniform u32 per call.
fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 9u; round++) {
    c = philoxRound(c, k);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return philoxRound(c, k);
}

/// Top 24 bits → f32 in [0, 1) exactly representable; never returns 1.0.
fn unitFloat(x: u32) -> f32 {
  return f32(x >> 8u) * 5.9604644775390625e-8; // 2^-24
}

fn unitFloat4(x: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(x >> vec4<u32>(8u)) * 5.9604644775390625e-8;
}
