// RBM monitoring kernels over an explicit dense weight matrix W [nv × nh] (a conv RBM passes its tied
// dense matrix) with biases a [nv], b [nh], all in `model` = [W | a | b].
//
// freeEnergy: F(v_r) for each row r of `states` [rows × nv]:
//   {0,1}: F(v) = −a·v − Σ_j softplus(b_j + W_j·v);   ±1: F(s) = −a·s − Σ_j ln 2cosh(b_j + W_j·s)
// enumerateLayer: −F of every state of the smaller layer (index bits = unit values, bit 1 → 1 / +1):
//   hiddenSide: −F(h) = b·h + Σ_i act(a_i + W_i·h); otherwise −F(v) = a·v + Σ_j act(b_j + W_j·v)
// so that ln Z = logsumexp over the 2^n states (done on the host in f64). Serial sums in a fixed order.
// Needs: dispatch, activation.

struct MonitorParams {
  nv: u32,
  nh: u32,
  rows: u32,
  // enumerateLayer: 2^(enumerated units) states starting at `firstState`.
  firstState: u32,
  states: u32,
  // 1: enumerate hidden states; 0: visible states.
  hiddenSide: u32,
}

@group(0) @binding(0) var<uniform> params: MonitorParams;
@group(0) @binding(1) var<storage, read> model: array<f32>;
@group(0) @binding(2) var<storage, read> rowsIn: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

override workgroupSize: u32 = 64u;

fn unitValue(bit: u32) -> f32 {
  return select(select(0.0, -1.0, isingUnits), 1.0, bit == 1u);
}

@compute @workgroup_size(workgroupSize)
fn freeEnergy(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (r >= params.rows) {
    return;
  }
  let w = params.nv * params.nh;
  var f = 0.0;
  for (var i = 0u; i < params.nv; i++) {
    f -= model[w + i] * rowsIn[r * params.nv + i];
  }
  for (var j = 0u; j < params.nh; j++) {
    var x = model[w + params.nv + j];
    for (var i = 0u; i < params.nv; i++) {
      x += rowsIn[r * params.nv + i] * model[i * params.nh + j];
    }
    f -= activationTerm(x);
  }
  result[r] = f;
}

@compute @workgroup_size(workgroupSize)
fn enumerateLayer(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (t >= params.states) {
    return;
  }
  let state = params.firstState + t;
  let w = params.nv * params.nh;
  var logWeight = 0.0;
  if (params.hiddenSide != 0u) {
    for (var j = 0u; j < params.nh; j++) {
      logWeight += model[w + params.nv + j] * unitValue((state >> j) & 1u);
    }
    for (var i = 0u; i < params.nv; i++) {
      var x = model[w + i];
      for (var j = 0u; j < params.nh; j++) {
        x += model[i * params.nh + j] * unitValue((state >> j) & 1u);
      }
      logWeight += activationTerm(x);
    }
  } else {
    for (var i = 0u; i < params.nv; i++) {
      logWeight += model[w + i] * unitValue((state >> i) & 1u);
    }
    for (var j = 0u; j < params.nh; j++) {
      var x = model[w + params.nv + j];
      for (var i = 0u; i < params.nv; i++) {
        x += model[i * params.nh + j] * unitValue((state >> i) & 1u);
      }
      logWeight += activationTerm(x);
    }
  }
  result[t] = logWeight;
}
