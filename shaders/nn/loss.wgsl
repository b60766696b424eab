// Softmax cross-entropy of the MLP's output layer (src/nn/mlp.ts), one invocation per row. Needs: dispatch.
//
// For row r with logits z and label y = labels[rowSample[r]] (rowSample maps batch rows to samples):
//   p = softmax(z) computed as exp(z − max z) / Σ exp(z − max z)        (stable: no exp overflows)
//   rowLoss[r] = log Σ exp(z − max z) + max z − z_y                    (= −log p_y, without log 0)
//   delta[r, c] = scale · (1[c = y] − p_c)                             (when writeDelta is 1)
// The probabilities overwrite the logits. delta is the *ascent* direction −∂L/∂z of the mean loss
// L = scale · Σ_r rowLoss[r] (scale = 1 / rows), the convention of the shared optimiser (θ += lr·g).

struct LossParams {
  rows: u32,
  classes: u32,
  scale: f32,
  writeDelta: u32,
}

@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> rowSample: array<u32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn softmaxCrossEntropy(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (r >= params.rows) {
    return;
  }
  let base = r * params.classes;
  let label = labels[rowSample[r]];
  var top = logits[base];
  for (var c = 1u; c < params.classes; c++) {
    top = max(top, logits[base + c]);
  }
  var sum = 0.0;
  for (var c = 0u; c < params.classes; c++) {
    sum += exp(logits[base + c] - top);
  }
  rowLoss[r] = log(sum) + top - logits[base + label];
  for (var c = 0u; c < params.classes; c++) {
    let p = exp(logits[base + c] - top) / sum;
    logits[base + c] = p;
    if (params.writeDelta != 0u) {
      delta[base + c] = params.scale * (select(0.0, 1.0, c == label) - p);
    }
  }
}
