// CD/PCD gradient of a dense RBM, ⟨v h⟩_data − ⟨v h⟩_model averaged over the batch, written into a
// buffer laid out like the parameters: [dW (nv × nh) | da (nv) | db (nh)].
//
// weightGradient: dW[i, j] = (1/P) Σ_r v⁺[r, i]·h⁺[r, j] − (1/Q) Σ_r v⁻[r, i]·h⁻[r, j], batched Vᵀ·H
// products tiled over the rows and register-blocked (P data rows, Q chains: PCD may use a chain count
// ≠ the batch size).
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

const BLOCK: u32 = 64u;
const KSTEP: u32 = 16u;

// Tiles of 16 rows × 64 columns: visible columns i0 … i0+63 and hidden columns j0 … j0+63.
var<workgroup> vPos: array<f32, KSTEP * BLOCK>;
var<workgroup> hPos: array<f32, KSTEP * BLOCK>;
var<workgroup> vNeg: array<f32, KSTEP * BLOCK>;
var<workgroup> hNeg: array<f32, KSTEP * BLOCK>;

fn load(values: u32, r: u32, rows: u32, column: u32, width: u32) -> f32 {
  if (r >= rows || column >= width) {
    return 0.0;
  }
  switch (values) {
    case 0u: {
      return visiblePositive[r * width + column];
    }
    case 1u: {
      return hiddenPositive[r * width + column];
    }
    case 2u: {
      return visibleNegative[r * width + column];
    }
    default: {
      return hiddenNegative[r * width + column];
    }
  }
}

/// A 64×64 block of dW per 16×16 workgroup; invocation (tx, ty) owns visible rows i0 + ty + 16·a and
/// hidden columns j0 + tx + 16·b (a, b < 4), accumulating both products over 16 batch rows per step.
@compute @workgroup_size(16, 16)
fn weightGradient(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
) {
  // workgroupId.x: hidden block (j), workgroupId.y: visible block (i).
  let j0 = workgroupId.x * BLOCK;
  let i0 = workgroupId.y * BLOCK;
  let tx = local.x;
  let ty = local.y;
  let lid = ty * 16u + tx;
  var positive: array<vec4<f32>, 4>;
  var negative: array<vec4<f32>, 4>;
  let steps = (max(params.rowsPositive, params.rowsNegative) + KSTEP - 1u) / KSTEP;
  for (var s = 0u; s < steps; s++) {
    let r0 = s * KSTEP;
    for (var q = 0u; q < 4u; q++) {
      let e = lid + 256u * q;
      let r = r0 + e / BLOCK;
      let c = e % BLOCK;
      vPos[e] = load(0u, r, params.rowsPositive, i0 + c, params.nv);
      hPos[e] = load(1u, r, params.rowsPositive, j0 + c, params.nh);
      vNeg[e] = load(2u, r, params.rowsNegative, i0 + c, params.nv);
      hNeg[e] = load(3u, r, params.rowsNegative, j0 + c, params.nh);
    }
    workgroupBarrier();
    for (var k = 0u; k < KSTEP; k++) {
      let hp = vec4<f32>(hPos[k * BLOCK + tx], hPos[k * BLOCK + tx + 16u], hPos[k * BLOCK + tx + 32u], hPos[k * BLOCK + tx + 48u]);
      let hn = vec4<f32>(hNeg[k * BLOCK + tx], hNeg[k * BLOCK + tx + 16u], hNeg[k * BLOCK + tx + 32u], hNeg[k * BLOCK + tx + 48u]);
      for (var a = 0u; a < 4u; a++) {
        positive[a] += vPos[k * BLOCK + ty + 16u * a] * hp;
        negative[a] += vNeg[k * BLOCK + ty + 16u * a] * hn;
      }
    }
    workgroupBarrier();
  }
  for (var a = 0u; a < 4u; a++) {
    let i = i0 + ty + 16u * a;
    for (var b = 0u; b < 4u; b++) {
      let j = j0 + tx + 16u * b;
      if (i < params.nv && j < params.nh) {
        gradient[i * params.nh + j] = positive[a][b] / f32(params.rowsPositive) - negative[a][b] / f32(params.rowsNegative);
      }
    }
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
