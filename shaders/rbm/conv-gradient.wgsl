// CD/PCD gradient of a convolutional RBM (conv.wgsl's geometry), into [dW (F·k²) | da (nv) | db (nh)].
// Shared weights get the sum over all positions:
//   dW[f, a, b] = (1/P) Σ_r Σ_{I,J} v⁺[r, site(I, J, a, b)]·h⁺[r, f, I, J] − (1/Q) Σ_r Σ_{I,J} v⁻·h⁻
// one workgroup per filter weight (strided partial sums, then a fixed-order tree: reproducible).
// Biases are tied (one visible bias; one hidden bias per filter) but stored expanded: every copy of a
// tied bias gets the same gradient, so the element-wise optimiser keeps the copies equal. The tied
// gradient is the sum over the copies (∂/∂ of a shared parameter), averaged over rows.

struct ConvGradientParams {
  rowsPositive: u32,
  rowsNegative: u32,
  nv: u32,
  nh: u32,
  visibleBias: u32,
  hiddenBias: u32,
  lv: u32,
  filters: u32,
  kernelSize: u32,
  stride: u32,
  side: u32,
}

@group(0) @binding(0) var<uniform> params: ConvGradientParams;
@group(0) @binding(1) var<storage, read> visiblePositive: array<f32>;
@group(0) @binding(2) var<storage, read> hiddenPositive: array<f32>;
@group(0) @binding(3) var<storage, read> visibleNegative: array<f32>;
@group(0) @binding(4) var<storage, read> hiddenNegative: array<f32>;
@group(0) @binding(5) var<storage, read_write> gradient: array<f32>;

const GROUP: u32 = 64u;

var<workgroup> partialPositive: array<f32, GROUP>;
var<workgroup> partialNegative: array<f32, GROUP>;

/// This invocation's strided share of Σ_r Σ_{I,J} v[r, site(I, J, a, b)]·h[r, f, I, J], data or chain side.
fn correlation(negative: bool, f: u32, a: u32, b: u32, lid: u32) -> f32 {
  let positions = params.side * params.side;
  let rows = select(params.rowsPositive, params.rowsNegative, negative);
  var s = 0.0;
  for (var t = lid; t < rows * positions; t += GROUP) {
    let r = t / positions;
    let I = (t % positions) / params.side;
    let J = t % params.side;
    let p = (params.stride * I + a) % params.lv;
    let q = (params.stride * J + b) % params.lv;
    let vi = r * params.nv + p * params.lv + q;
    let hj = r * params.nh + f * positions + I * params.side + J;
    if (negative) {
      s += visibleNegative[vi] * hiddenNegative[hj];
    } else {
      s += visiblePositive[vi] * hiddenPositive[hj];
    }
  }
  return s;
}

@compute @workgroup_size(GROUP)
fn weightGradientConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = workgroupId.x;
  let k2 = params.kernelSize * params.kernelSize;
  if (w >= params.filters * k2) {
    return;
  }
  let f = w / k2;
  let a = (w % k2) / params.kernelSize;
  let b = w % params.kernelSize;
  partialPositive[lid] = correlation(false, f, a, b, lid);
  partialNegative[lid] = correlation(true, f, a, b, lid);
  workgroupBarrier();
  for (var stride = GROUP / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partialPositive[lid] += partialPositive[lid + stride];
      partialNegative[lid] += partialNegative[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    gradient[w] = partialPositive[0] / f32(params.rowsPositive) - partialNegative[0] / f32(params.rowsNegative);
  }
}

/// Task 0: the tied visible bias (written to all nv copies); task 1 + f: filter f's hidden bias
/// (written to its side² copies). Serial sums in a fixed order.
@compute @workgroup_size(64)
fn biasGradientConv(@builtin(global_invocation_id) id: vec3<u32>) {
  let task = id.x;
  let weights = params.filters * params.kernelSize * params.kernelSize;
  if (task == 0u) {
    var p = 0.0;
    var q = 0.0;
    for (var t = 0u; t < params.rowsPositive * params.nv; t++) {
      p += visiblePositive[t];
    }
    for (var t = 0u; t < params.rowsNegative * params.nv; t++) {
      q += visibleNegative[t];
    }
    let g = select(0.0, p / f32(params.rowsPositive) - q / f32(params.rowsNegative), params.visibleBias != 0u);
    for (var i = 0u; i < params.nv; i++) {
      gradient[weights + i] = g;
    }
  } else if (task <= params.filters) {
    let f = task - 1u;
    let positions = params.side * params.side;
    var p = 0.0;
    var q = 0.0;
    for (var r = 0u; r < params.rowsPositive; r++) {
      for (var k = 0u; k < positions; k++) {
        p += hiddenPositive[r * params.nh + f * positions + k];
      }
    }
    for (var r = 0u; r < params.rowsNegative; r++) {
      for (var k = 0u; k < positions; k++) {
        q += hiddenNegative[r * params.nh + f * positions + k];
      }
    }
    let g = select(0.0, p / f32(params.rowsPositive) - q / f32(params.rowsNegative), params.hiddenBias != 0u);
    for (var k = 0u; k < positions; k++) {
      gradient[weights + params.nv + f * positions + k] = g;
    }
  }
}
