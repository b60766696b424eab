// Compensated accumulator for f32 reductions: sums carried as unevaluated pairs hi + lo
// (Knuth's TwoSum at every combine), so a tree of 10^7 mixed-sign terms stays within ~1e-12 relative
// of the exact sum wherever f32 rounding and not cancellation dominates.
//
//   a = bits(sum hi, sum lo, sumSq hi, sumSq lo)   b = bits(min, max, 0, 0)
//
// Infinities are kept as bits (f32 identities for min/max cannot be written as WGSL constants).

struct Acc {
  a: vec4<u32>,
  b: vec4<u32>,
}

const F32_MAX: f32 = 0x1.fffffep+127f;

fn accIdentity() -> Acc {
  return Acc(vec4<u32>(0u), vec4<u32>(0x7f800000u, 0xff800000u, 0u, 0u));
}

fn accFromElement(bits: u32) -> Acc {
  let x = bitcast<f32>(bits);
  let sq = x * x;
  // Rounding error of the square (exact where fma is fused; 0 otherwise, and 0 once sq overflows).
  let sqErr = select(0.0, fma(x, x, -sq), abs(sq) <= F32_MAX);
  return Acc(vec4<u32>(bits, 0u, bitcast<u32>(sq), bitcast<u32>(sqErr)), vec4<u32>(bits, bits, 0u, 0u));
}

/// hi + lo of (p.hi + p.lo) + (q.hi + q.lo), renormalised.
fn addPairs(pHi: f32, pLo: f32, qHi: f32, qLo: f32) -> vec2<f32> {
  let s = pHi + qHi;
  if (!(abs(s) <= F32_MAX)) {
    return vec2<f32>(s, 0.0); // ±inf or NaN: no error term to carry
  }
  let bb = s - pHi;
  let err = (pHi - (s - bb)) + (qHi - bb);
  let lo = err + pLo + qLo;
  let hi = s + lo;
  return vec2<f32>(hi, lo - (hi - s));
}

fn accCombine(p: Acc, q: Acc) -> Acc {
  let pa = bitcast<vec4<f32>>(p.a);
  let qa = bitcast<vec4<f32>>(q.a);
  let sum = addPairs(pa.x, pa.y, qa.x, qa.y);
  let sumSq = addPairs(pa.z, pa.w, qa.z, qa.w);
  let mn = min(bitcast<f32>(p.b.x), bitcast<f32>(q.b.x));
  let mx = max(bitcast<f32>(p.b.y), bitcast<f32>(q.b.y));
  return Acc(
    bitcast<vec4<u32>>(vec4<f32>(sum.x, sum.y, sumSq.x, sumSq.y)),
    vec4<u32>(bitcast<u32>(mn), bitcast<u32>(mx), 0u, 0u),
  );
}
