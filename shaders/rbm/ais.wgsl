// Annealed importance sampling (Salakhutdinov & Murray 2008) for an RBM: the importance weights and the
// visible Gibbs half-step of the intermediate models, one invocation per run (weights) or per run and
// quad of visible units (sampling). Needs: wide-math, philox, dispatch, activation.
//
// The base model (β = 0) has independent visible units with biases a_A (zeros: uniform; the data's base
// rates: Salakhutdinov & Murray's choice, which needs far fewer steps) and free hidden units. The
// intermediate unnormalised marginals are
//   ln p*_β(v) = ((1−β)·a_A + β·a)·v + Σ_j act(β·x_j),  x_j = b_j + W_j·v  (act = softplus for {0,1},
//   ln 2cosh for ±1)
// and each step adds ln p*_{βnext}(v) − ln p*_{βprev}(v) to the run's log weight. `hiddenInput` holds
// the x_j of the runs' current visible states (from the layer kernel with outputInput).

struct AisParams {
  runs: u32,
  nv: u32,
  nh: u32,
  // Offset of the visible bias a in `parameters` (= weight count).
  visibleBiasOffset: u32,
  betaPrev: f32,
  betaNext: f32,
  // sampleVisibleBase: key, step and stream of the Philox counters, and the β of the transition.
  key: vec2<u32>,
  step: u32,
  rngStream: u32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> params: AisParams;
@group(0) @binding(1) var<storage, read> parameters: array<f32>;
@group(0) @binding(2) var<storage, read_write> visible: array<f32>;
@group(0) @binding(3) var<storage, read> hiddenInput: array<f32>;
@group(0) @binding(4) var<storage, read_write> logWeights: array<f32>;
// The base model's visible biases a_A [nv].
@group(0) @binding(5) var<storage, read> baseVisibleBias: array<f32>;
// a_i + Σ_j W_ij h_j of each run's hidden state (the visible layer kernel with outputInput) [runs × nv].
@group(0) @binding(6) var<storage, read> visibleInput: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn accumulateWeights(@builtin(global_invocation_id) id: vec3<u32>) {
  let r = id.x;
  if (r >= params.runs) {
    return;
  }
  var av = 0.0;
  for (var i = 0u; i < params.nv; i++) {
    let a = parameters[params.visibleBiasOffset + i];
    av += (a - baseVisibleBias[i]) * visible[r * params.nv + i];
  }
  var delta = (params.betaNext - params.betaPrev) * av;
  for (var j = 0u; j < params.nh; j++) {
    let x = hiddenInput[r * params.nh + j];
    delta += activationTerm(params.betaNext * x) - activationTerm(params.betaPrev * x);
  }
  logWeights[r] += delta;
}

/// The visible half-step of the transition at β: unit i of run r is on with probability σ(y) ({0,1}) or
/// σ(2y) (±1), y = (1−β)·a_A,i + β·visibleInput[r, i]; β = 0 draws from the base model. Random numbers as
/// the layer kernels (layer-common.wgsl): word i mod 4 of Philox(⌊i/4⌋, r, step, rngStream).
@compute @workgroup_size(workgroupSize)
fn sampleVisibleBase(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  let quads = (params.nv + 3u) / 4u;
  if (t >= params.runs * quads) {
    return;
  }
  let r = t / quads;
  let q = t % quads;
  let u = unitFloat4(philox4x32(vec4<u32>(q, r, params.step, params.rngStream), params.key));
  for (var b = 0u; b < 4u; b++) {
    let i = 4u * q + b;
    if (i < params.nv) {
      let k = r * params.nv + i;
      // β = 0 must not touch visibleInput (its contents are then undefined).
      var y = baseVisibleBias[i];
      if (params.beta > 0.0) {
        y = (1.0 - params.beta) * y + params.beta * visibleInput[k];
      }
      let p = 1.0 / (1.0 + exp(-select(y, 2.0 * y, isingUnits)));
      visible[k] = select(select(0.0, -1.0, isingUnits), 1.0, u[b] < p);
    }
  }
}
