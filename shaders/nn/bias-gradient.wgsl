// Bias gradient of one MLP layer (src/nn/mlp.ts): the column sums of the output delta [rows × cols],
//   gradient[cOffset + j] = Σ_r delta[r · cols + j],
// one invocation per column summing the rows in order (deterministic, no atomics). Needs: dispatch.

struct BiasParams {
  rows: u32,
  cols: u32,
  cOffset: u32,
}

@group(0) @binding(0) var<uniform> params: BiasParams;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> gradient: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn biasGradient(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (j >= params.cols) {
    return;
  }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    sum += delta[r * params.cols + j];
  }
  gradient[params.cOffset + j] = sum;
}
