// Exact accumulator for u32 / i32 reductions (override `signedInput` picks i32). Needs wide-math.wgsl.
//
//   a = (sum lo, sum hi, sumSq w0, sumSq w1)   b = (min, max, sumSq w2, 0)
//
// The sum is 64-bit two's complement, the sum of squares 96-bit unsigned: with at most 2^32 − 1
// elements per segment both are exact for any input (|Σx| < 2^63, Σx² < 2^96). min/max are raw bits.

struct Acc {
  a: vec4<u32>,
  b: vec4<u32>,
}

override signedInput: bool = false;

fn accIdentity() -> Acc {
  let minId = select(0xffffffffu, 0x7fffffffu, signedInput);
  let maxId = select(0u, 0x80000000u, signedInput);
  return Acc(vec4<u32>(0u), vec4<u32>(minId, maxId, 0u, 0u));
}

fn accFromElement(x: u32) -> Acc {
  let v = bitcast<i32>(x);
  let negative = signedInput && v < 0;
  // |v| as u32 (also right for i32 min: 2^31), then its square as 64 bits.
  let magnitude = select(x, 0u - x, negative);
  let sq = mulWide(magnitude, magnitude);
  let sumHi = select(0u, 0xffffffffu, negative);
  return Acc(vec4<u32>(x, sumHi, sq.y, sq.x), vec4<u32>(x, x, 0u, 0u));
}

fn lessThan(x: u32, y: u32) -> bool {
  return select(x < y, bitcast<i32>(x) < bitcast<i32>(y), signedInput);
}

fn accCombine(p: Acc, q: Acc) -> Acc {
  // 64-bit sum with carry.
  let s0 = p.a.x + q.a.x;
  let s1 = p.a.y + q.a.y + select(0u, 1u, s0 < p.a.x);
  // 96-bit sum of squares with carries.
  let w0 = p.a.z + q.a.z;
  let c0 = select(0u, 1u, w0 < p.a.z);
  let w1a = p.a.w + q.a.w;
  let c1a = select(0u, 1u, w1a < p.a.w);
  let w1 = w1a + c0;
  let c1b = select(0u, 1u, w1 < w1a);
  let w2 = p.b.z + q.b.z + c1a + c1b;
  let mn = select(p.b.x, q.b.x, lessThan(q.b.x, p.b.x));
  let mx = select(p.b.y, q.b.y, lessThan(p.b.y, q.b.y));
  return Acc(vec4<u32>(s0, s1, w0, w1), vec4<u32>(mn, mx, w2, 0u));
}
