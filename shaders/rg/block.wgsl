// Block-spin transforms: one invocation per (sample, coarse site) maps level n − 1 (fineSide per axis) onto
// level n (coarseSide = fineSide / b). Spins are f32 ±1, [batch × sites], site = y·side + x (2D) or i (ring).
// Needs: wide-math, philox, dispatch.
//
//   majority2x2: sign of the 2×2 block sum at (2I, 2J); a zero sum is a fair coin: +1 iff word 0 of
//                Philox((I·coarseSide + J, firstSample + r, step, stream), key) is odd (stream: the ties'
//                purpose with sub-stream n), so every block, sample, measurement and level draws its own.
//   majority3:   sign of the 3×3 block sum at (3I, 3J) (2D) or of sites 3i … 3i+2 (ring): odd, never 0.
//   decimate:    the top-left spin (2I, 2J) of each 2×2 block (2D) or the even site 2i (ring).
// The RBM projector is not here: it is the RBM engine's conv hidden-sampling kernel (shaders/rbm/conv.wgsl).

struct BlockParams {
  key: vec2<u32>,
  batch: u32,
  // Global index of local sample 0 (shards of one run draw the same numbers as the unsplit run).
  firstSample: u32,
  fineSide: u32,
  coarseSide: u32,
  // Measurement index (the counter's step word).
  step: u32,
  stream: u32,
}

@group(0) @binding(0) var<uniform> params: BlockParams;
@group(0) @binding(1) var<storage, read> fine: array<f32>;
@group(0) @binding(2) var<storage, read_write> coarse: array<f32>;

override workgroupSize: u32 = 64u;
// 2 for square lattices, 1 for rings.
override dims: u32 = 2u;

/// Sites of one coarse lattice.
fn coarseSites() -> u32 {
  return select(params.coarseSide, params.coarseSide * params.coarseSide, dims == 2u);
}

/// The (sample, coarse site) of this invocation, or none past the end (x ≥ batch).
fn coarseSite(workgroupId: vec3<u32>, numWorkgroups: vec3<u32>, lid: u32) -> vec2<u32> {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  return vec2<u32>(t / coarseSites(), t % coarseSites());
}

/// Spin of sample r at fine coordinates (y, x) (periodic; y ignored on a ring).
fn fineSpin(r: u32, y: u32, x: u32) -> f32 {
  let L = params.fineSide;
  if (dims == 2u) {
    return fine[(r * L + y % L) * L + x % L];
  }
  return fine[r * L + x % L];
}

/// Sum of the b×b block (2D) or the b consecutive sites (ring) of coarse site c of sample r.
fn blockSum(r: u32, c: u32, b: u32) -> f32 {
  let I = c / params.coarseSide;
  let J = c % params.coarseSide;
  var sum = 0.0;
  for (var a = 0u; a < select(1u, b, dims == 2u); a++) {
    for (var d = 0u; d < b; d++) {
      sum += fineSpin(r, b * I + a, b * J + d);
    }
  }
  return sum;
}

@compute @workgroup_size(workgroupSize)
fn majority2x2(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let s = coarseSite(workgroupId, numWorkgroups, lid);
  if (s.x >= params.batch) {
    return;
  }
  let sum = blockSum(s.x, s.y, 2u);
  var spin = sign(sum);
  if (sum == 0.0) {
    let word = philox4x32(vec4<u32>(s.y, params.firstSample + s.x, params.step, params.stream), params.key).x;
    spin = select(-1.0, 1.0, (word & 1u) == 1u);
  }
  coarse[s.x * coarseSites() + s.y] = spin;
}

@compute @workgroup_size(workgroupSize)
fn majority3(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let s = coarseSite(workgroupId, numWorkgroups, lid);
  if (s.x >= params.batch) {
    return;
  }
  coarse[s.x * coarseSites() + s.y] =
    sign(blockSum(s.x, s.y, 3u));
}

@compute @workgroup_size(workgroupSize)
fn decimate(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let s = coarseSite(workgroupId, numWorkgroups, lid);
  if (s.x >= params.batch) {
    return;
  }
  let I = s.y / params.coarseSide;
  let J = s.y % params.coarseSide;
  coarse[s.x * coarseSites() + s.y] =
    fineSpin(s.x, 2u * I, 2u * J);
}
