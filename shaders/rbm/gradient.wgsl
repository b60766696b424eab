// CD/PCD gradient of a dense RBM, ⟨v h⟩_data − ⟨v h⟩_model averaged over the batch, written into a
// buffer laid out like the parameters: [dW (nv × nh) | da (nv) | db (nh)].
//
// weightGradient: dW[i, j] = (1/P) Σ_r v⁺[r, i]·h⁺[r, j] − (1/Q) Σ_r v⁻[r, i]·h⁻[r, j], batched Vᵀ·H
// products tiled over the rows (P data rows, Q chains: PCD may use a chain count ≠ the batch size).
// biasGradient: da[i] = mean_r v⁺[r, i] − mean_r v⁻[r, i], db likewise, one invocation per bias (a serial
// loop in a fixed order, so results are reproducible).

struct GradientParams {
  rowsPositive: u32,
  rowsNegative: u32,
  nv: u32,
  nh: u32,
  // 0/1: whether the visible and hidden biases are trained (their gradients are zero otherwise).
  visibleBias: u32,
  hiddenBias: u32,
}

@group(0) @binding(0) var<uniform> params: GradientParams;
@group(0) @binding(1) var<storage, read> visiblePositive: array<f32>;
@group(0) @binding(2) var<storage, read> hiddenPositive: array<f32>;
@group(0) @binding(3) var<storage, read> visibleNegative: array<f32>;
@group(0) @binding(4) var<storage, read> hiddenNegative: array<f32>;
@group(0) @binding(5) var<storage, read_write> gradient: array<f32>;

override TILE: u32 = 16u;

var<workgroup> vPos: array<f32, TILE * TILE>;
var<workgroup> hPos: array<f32, TILE * TILE>;
var<workgroup> vNeg: array<f32, TILE * TILE>;
var<workgroup> hNeg: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn weightGradient(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
) {
  // workgroupId.x: hidden tile (j), workgroupId.y: visible tile (i).
  let i = workgroupId.y * TILE + local.y;
  let j = workgroupId.x * TILE + local.x;
  var positive = 0.0;
  var negative = 0.0;
  let tiles = (max(params.rowsPositive, params.rowsNegative) + TILE - 1u) / TILE;
  for (var t = 0u; t < tiles; t++) {
    // Invocation (y, x) loads row t·TILE + y: visible column i0 + x and hidden column j0 + x.
    let r = t * TILE + local.y;
    let vi = workgroupId.y * TILE + local.x;
    let hj = workgroupId.x * TILE + local.x;
    let pos = r < params.rowsPositive;
    let neg = r < params.rowsNegative;
    let vOk = vi < params.nv;
    let hOk = hj < params.nh;
    vPos[local.y * TILE + local.x] = select(0.0, visiblePositive[r * params.nv + vi], pos && vOk);
    vNeg[local.y * TILE + local.x] = select(0.0, visibleNegative[r * params.nv + vi], neg && vOk);
    hPos[local.y * TILE + local.x] = select(0.0, hiddenPositive[r * params.nh + hj], pos && hOk);
    hNeg[local.y * TILE + local.x] = select(0.0, hiddenNegative[r * params.nh + hj], neg && hOk);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      positive += vPos[k * TILE + local.y] * hPos[k * TILE + local.x];
      negative += vNeg[k * TILE + local.y] * hNeg[k * TILE + local.x];
    }
    workgroupBarrier();
  }
  if (i < params.nv && j < params.nh) {
    gradient[i * params.nh + j] = positive / f32(params.rowsPositive) - negative / f32(params.rowsNegative);
  }
}

@compute @workgroup_size(64)
fn biasGradient(@builtin(global_invocation_id) id: vec3<u32>) {
  let u = id.x;
  let wCount = params.nv * params.nh;
  if (u < params.nv) {
    var p = 0.0;
    var q = 0.0;
    for (var r = 0u; r < params.rowsPositive; r++) {
      p += visiblePositive[r * params.nv + u];
    }
    for (var r = 0u; r < params.rowsNegative; r++) {
      q += visibleNegative[r * params.nv + u];
    }
    let g = p / f32(params.rowsPositive) - q / f32(params.rowsNegative);
    gradient[wCount + u] = select(0.0, g, params.visibleBias != 0u);
  } else if (u < params.nv + params.nh) {
    let j = u - params.nv;
    var p = 0.0;
    var q = 0.0;
    for (var r = 0u; r < params.rowsPositive; r++) {
      p += hiddenPositive[r * params.nh + j];
    }
    for (var r = 0u; r < params.rowsNegative; r++) {
      q += hiddenNegative[r * params.nh + j];
    }
    let g = p / f32(params.rowsPositive) - q / f32(params.rowsNegative);
    gradient[wCount + params.nv + j] = select(0.0, g, params.hiddenBias != 0u);
  }
}
