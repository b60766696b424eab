// Annealed importance sampling weights (Salakhutdinov & Murray 2008) for an RBM, one invocation per run.
// The base model (β = 0) is uniform over visible states; the intermediate unnormalised marginals are
//   ln p*_β(v) = β·a·v + Σ_j act(β·x_j),  x_j = b_j + W_j·v  (act = softplus for {0,1}, ln 2cosh for ±1)
// and each step adds ln p*_{βnext}(v) − ln p*_{βprev}(v) to the run's log weight. `hiddenInput` holds
// the x_j of the runs' current visible states (from the layer kernel with outputInput).
// Needs: activation.

struct AisParams {
  runs: u32,
  nv: u32,
  nh: u32,
  // Offset of the visible bias a in `parameters` (= weight count).
  visibleBiasOffset: u32,
  betaPrev: f32,
  betaNext: f32,
}

@group(0) @binding(0) var<uniform> params: AisParams;
@group(0) @binding(1) var<storage, read> parameters: array<f32>;
@group(0) @binding(2) var<storage, read> visible: array<f32>;
@group(0) @binding(3) var<storage, read> hiddenInput: array<f32>;
@group(0) @binding(4) var<storage, read_write> logWeights: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn accumulateWeights(@builtin(global_invocation_id) id: vec3<u32>) {
  let r = id.x;
  if (r >= params.runs) {
    return;
  }
  var av = 0.0;
  for (var i = 0u; i < params.nv; i++) {
    av += parameters[params.visibleBiasOffset + i] * visible[r * params.nv + i];
  }
  var delta = (params.betaNext - params.betaPrev) * av;
  for (var j = 0u; j < params.nh; j++) {
    let x = hiddenInput[r * params.nh + j];
    delta += activationTerm(params.betaNext * x) - activationTerm(params.betaPrev * x);
  }
  logWeights[r] += delta;
}
