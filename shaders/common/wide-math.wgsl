// 32×32 → 64-bit unsigned multiply from 16-bit limbs (WGSL has no 64-bit integers).
// Returns vec2(hi, lo). Used by Philox and by the exact integer reductions.
fn mulWide(a: u32, b: u32) -> vec2<u32> {
  let aLo = a & 0xffffu;
  let aHi = a >> 16u;
  let bLo = b & 0xffffu;
  let bHi = b >> 16u;
  let ll = aLo * bLo;
  let lh = aLo * bHi;
  let hl = aHi * bLo;
  let hh = aHi * bHi;
  // Middle column: at most 3 × (2^16 − 1), no overflow.
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}
