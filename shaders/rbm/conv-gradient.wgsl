// CD/PCD gradient of a convolutional RBM (conv.wgsl's geometry), into [dW (F·k²) | da (nv) | db (nh)].
// Needs: dispatch.
// Shared weights get the sum over all positions:
//   dW[f, a, b] = (1/P) Σ_r Σ_{I,J} v⁺[r, site(I, J, a, b)]·h⁺[r, f, I, J] − (1/Q) Σ_r Σ_{I,J} v⁻·h⁻
// one workgroup per filter weight (each invocation sums its positions over all rows, then a fixed-order
// tree: reproducible).
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

/// This invocation's share of Σ_r Σ_{I,J} v[r, site(I, J, a, b)]·h[r, f, I, J], data or chain side:
/// positions lid, lid + GROUP, …, each summed over all rows.
fn correlation(negative: bool, f: u32, a: u32, b: u32, lid: u32) -> f32 {
  let positions = params.side * params.side;
  let rows = select(params.rowsPositive, params.rowsNegative, negative);
  var s = 0.0;
  for (var t = lid; t < positions; t += GROUP) {
    let I = t / params.side;
    let J = t % params.side;
    let p = (params.stride * I + a) % params.lv;
    let q = (params.stride * J + b) % params.lv;
    var vi = p * params.lv + q;
    var hj = f * positions + t;
    for (var r = 0u; r < rows; r++) {
      if (negative) {
        s += visibleNegative[vi] * hiddenNegative[hj];
      } else {
        s += visiblePositive[vi] * hiddenPositive[hj];
      }
      vi += params.nv;
      hj += params.nh;
    }
  }
  return s;
}

/// Sums partialPositive and partialNegative over the workgroup into element 0 (a fixed-order tree).
fn reducePartials(lid: u32) {
  workgroupBarrier();
  for (var stride = GROUP / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partialPositive[lid] += partialPositive[lid + stride];
      partialNegative[lid] += partialNegative[lid + stride];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(GROUP)
fn weightGradientConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // F·k² workgroups can exceed one grid dimension (src/gpu/kernel.ts workgroupGrid).
  let w = linearWorkgroupIndex(workgroupId, numWorkgroups);
  let k2 = params.kernelSize * params.kernelSize;
  if (w >= params.filters * k2) {
    return;
  }
  let f = w / k2;
  let a = (w % k2) / params.kernelSize;
  let b = w % params.kernelSize;
  partialPositive[lid] = correlation(false, f, a, b, lid);
  partialNegative[lid] = correlation(true, f, a, b, lid);
  reducePartials(lid);
  if (lid == 0u) {
    gradient[w] = partialPositive[0] / f32(params.rowsPositive) - partialNegative[0] / f32(params.rowsNegative);
  }
}

/// Workgroup 0: the tied visible bias (written to all nv copies); workgroup 1 + f: filter f's hidden bias
/// (written to its side² copies). Strided partial sums, then the fixed-order tree.
@compute @workgroup_size(GROUP)
fn biasGradientConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let task = workgroupId.x;
  if (task > params.filters) {
    return;
  }
  let weights = params.filters * params.kernelSize * params.kernelSize;
  let positions = params.side * params.side;
  var p = 0.0;
  var q = 0.0;
  if (task == 0u) {
    for (var t = lid; t < params.rowsPositive * params.nv; t += GROUP) {
      p += visiblePositive[t];
    }
    for (var t = lid; t < params.rowsNegative * params.nv; t += GROUP) {
      q += visibleNegative[t];
    }
  } else {
    let f = task - 1u;
    for (var t = lid; t < params.rowsPositive * positions; t += GROUP) {
      p += hiddenPositive[(t / positions) * params.nh + f * positions + t % positions];
    }
    for (var t = lid; t < params.rowsNegative * positions; t += GROUP) {
      q += hiddenNegative[(t / positions) * params.nh + f * positions + t % positions];
    }
  }
  partialPositive[lid] = p;
  partialNegative[lid] = q;
  reducePartials(lid);
  let on = select(params.hiddenBias, params.visibleBias, task == 0u) != 0u;
  let g = select(0.0, partialPositive[0] / f32(params.rowsPositive) - partialNegative[0] / f32(params.rowsNegative), on);
  if (task == 0u) {
    for (var i = lid; i < params.nv; i += GROUP) {
      gradient[weights + i] = g;
    }
  } else {
    for (var k = lid; k < positions; k += GROUP) {
      gradient[weights + params.nv + (task - 1u) * positions + k] = g;
    }
  }
}
