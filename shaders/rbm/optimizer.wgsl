// Parameter update by gradient ascent on the log-likelihood, one invocation per parameter
// ([W | a | b]). Weight decay applies to W only: ĝ = g − l2·W − l1·sign(W).
//   SGD:      θ += lr·ĝ
//   momentum: u = μ·u + lr·ĝ;  θ += u
//   Adam:     m = β1·m + (1 − β1)·ĝ;  s = β2·s + (1 − β2)·ĝ²;  θ += lr·(m / c1) / (√(s / c2) + ε)
//             with c1 = 1 − β1^t and c2 = 1 − β2^t computed on the host.
// Needs: dispatch.

struct OptimizerParams {
  count: u32,
  weightCount: u32,
  // 0 SGD, 1 momentum, 2 Adam.
  method: u32,
  lr: f32,
  l1: f32,
  l2: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  correction1: f32,
  correction2: f32,
}

@group(0) @binding(0) var<uniform> params: OptimizerParams;
@group(0) @binding(1) var<storage, read> gradient: array<f32>;
@group(0) @binding(2) var<storage, read_write> parameters: array<f32>;
// First and second moments (Adam), or the velocity in `firstMoment` (momentum).
@group(0) @binding(3) var<storage, read_write> firstMoment: array<f32>;
@group(0) @binding(4) var<storage, read_write> secondMoment: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn updateParameters(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (i >= params.count) {
    return;
  }
  let theta = parameters[i];
  var g = gradient[i];
  if (i < params.weightCount) {
    g -= params.l2 * theta + params.l1 * sign(theta);
  }
  if (params.method == 0u) {
    parameters[i] = theta + params.lr * g;
  } else if (params.method == 1u) {
    let u = params.momentum * firstMoment[i] + params.lr * g;
    firstMoment[i] = u;
    parameters[i] = theta + u;
  } else {
    let m = params.beta1 * firstMoment[i] + (1.0 - params.beta1) * g;
    let s = params.beta2 * secondMoment[i] + (1.0 - params.beta2) * g * g;
    firstMoment[i] = m;
    secondMoment[i] = s;
    parameters[i] = theta + params.lr * (m / params.correction1) / (sqrt(s / params.correction2) + params.epsilon);
  }
}
