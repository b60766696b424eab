// Monte Carlo π: the visible smoke kernel (demo, `blockspin` smoke tests).
// Needs wide-math.wgsl (mulWide), philox.wgsl and dispatch.wgsl.
//
// Point p (0 ≤ p < samples) is half of Philox block b = p / 2: block b = philox4x32((b, 0, 0, stream), key)
// gives point 2b from words (0, 1) and point 2b + 1 from words (2, 3), each word mapped to [0, 1) by
// unitFloat. Host side and CPU oracle: src/gpu/pi.ts, src/reference/pi.ts.

struct PiParams {
  key: vec2<u32>,
  // Counter word w: streamWord(RngPurpose.test, 0).
  stream: u32,
  // Philox blocks in the run: ceil(samples / 2).
  blocks: u32,
  // Points taken from the last block: 2, or 1 when samples is odd.
  lastBlockPoints: u32,
  // Consecutive blocks each invocation draws (a run-time size, so it is not an override).
  blocksPerInvocation: u32,
  // Invocations that write a count: ceil(blocks / blocksPerInvocation).
  invocations: u32,
}

@group(0) @binding(0) var<uniform> params: PiParams;
@group(0) @binding(1) var<storage, read_write> insideCounts: array<u32>;

override workgroupSize: u32 = 64;

/// x² + y² < 1 for x = unitFloat(u.x), y = unitFloat(u.y), decided exactly.
/// unitFloat(w) = (w >> 8) · 2^-24, so the test is a² + b² < 2^48 for the 24-bit integers a, b: done
/// in 64-bit integer arithmetic (mulWide), it cannot round near the circle the way f32 x*x + y*y can
/// (with or without a fused multiply-add), and so matches the CPU oracle bit for bit on every adapter.
fn insideQuarterCircle(u: vec2<u32>) -> u32 {
  let a = u >> vec2<u32>(8u);
  let aa = mulWide(a.x, a.x);
  let bb = mulWide(a.y, a.y);
  let lo = aa.y + bb.y;
  let hi = aa.x + bb.x + select(0u, 1u, lo < aa.y);
  return select(0u, 1u, hi < 0x10000u);
}

/// Each invocation i draws blocks [i · blocksPerInvocation, (i + 1) · blocksPerInvocation) ∩ [0, blocks),
/// two points per block (one from the last block when samples is odd), and writes how many of its
/// points fall inside the quarter circle to insideCounts[i]. A SegmentedReduction then sums them.
@compute @workgroup_size(workgroupSize)
fn countInsideQuarterCircle(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let invocation = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (invocation >= params.invocations) {
    return;
  }
  let first = invocation * params.blocksPerInvocation;
  // blocks ≤ 2^32 − 1 and first < blocks, so first + count never wraps.
  let count = min(params.blocksPerInvocation, params.blocks - first);
  var inside = 0u;
  for (var i = 0u; i < count; i++) {
    let b = first + i;
    let r = philox4x32(vec4<u32>(b, 0u, 0u, params.stream), params.key);
    inside += insideQuarterCircle(r.xy);
    if (b + 1u < params.blocks || params.lastBlockPoints == 2u) {
      inside += insideQuarterCircle(r.zw);
    }
  }
  insideCounts[invocation] = inside;
}
