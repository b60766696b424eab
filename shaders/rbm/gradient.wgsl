// CD/PCD gradient of a dense RBM, ⟨v h⟩_data − ⟨v h⟩_model averaged over the batch, written into a
// buffer laid out like the parameters: [dW (nv × nh) | da (nv) | db (nh)].
//
// weightGradient: dW[i, j] = (1/P) Σ_r v⁺[r, i]·h⁺[r, j] − (1/Q) Σ_r v⁻[r, i]·h⁻[r, j], batched Vᵀ·H
// products tiled over the rows and register-blocked (P data rows, Q chains: PCD may use a chain count
// ≠ the batch size).
// weightGradientDirect: the same dW without workgroup memory, an 8×8 block per invocation read straight
// from the buffers (for CPU implementations of WebGPU, see layer.wgsl).
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

/// Σ_r values[r, i]·others[r, j] for i0 … i0+7 (clamped to nv − 1) and j0 … j0+7 (clamped to nh − 1),
/// over the data (positive) or chain rows: element 2a holds j0 … j0+3 of row i0 + a, 2a + 1 j0+4 … j0+7.
/// Written out by hand like layer.wgsl's directBlock (registers on SwiftShader).
fn outerSum(positive: bool, rows: u32, i0: u32, j0: u32) -> array<vec4<f32>, 16> {
  let lastI = params.nv - 1u;
  let lastJ = params.nh - 1u;
  let x0 = min(i0, lastI);
  let x1 = min(i0 + 1u, lastI);
  let x2 = min(i0 + 2u, lastI);
  let x3 = min(i0 + 3u, lastI);
  let x4 = min(i0 + 4u, lastI);
  let x5 = min(i0 + 5u, lastI);
  let x6 = min(i0 + 6u, lastI);
  let x7 = min(i0 + 7u, lastI);
  let y0 = min(j0, lastJ);
  let y1 = min(j0 + 1u, lastJ);
  let y2 = min(j0 + 2u, lastJ);
  let y3 = min(j0 + 3u, lastJ);
  let y4 = min(j0 + 4u, lastJ);
  let y5 = min(j0 + 5u, lastJ);
  let y6 = min(j0 + 6u, lastJ);
  let y7 = min(j0 + 7u, lastJ);
  var c0 = vec4<f32>();
  var d0 = vec4<f32>();
  var c1 = vec4<f32>();
  var d1 = vec4<f32>();
  var c2 = vec4<f32>();
  var d2 = vec4<f32>();
  var c3 = vec4<f32>();
  var d3 = vec4<f32>();
  var c4 = vec4<f32>();
  var d4 = vec4<f32>();
  var c5 = vec4<f32>();
  var d5 = vec4<f32>();
  var c6 = vec4<f32>();
  var d6 = vec4<f32>();
  var c7 = vec4<f32>();
  var d7 = vec4<f32>();
  for (var r = 0u; r < rows; r++) {
    let vo = r * params.nv;
    let ho = r * params.nh;
    var vl: vec4<f32>;
    var vh: vec4<f32>;
    var hl: vec4<f32>;
    var hh: vec4<f32>;
    if (positive) {
      vl = vec4<f32>(visiblePositive[vo + x0], visiblePositive[vo + x1], visiblePositive[vo + x2], visiblePositive[vo + x3]);
      vh = vec4<f32>(visiblePositive[vo + x4], visiblePositive[vo + x5], visiblePositive[vo + x6], visiblePositive[vo + x7]);
      hl = vec4<f32>(hiddenPositive[ho + y0], hiddenPositive[ho + y1], hiddenPositive[ho + y2], hiddenPositive[ho + y3]);
      hh = vec4<f32>(hiddenPositive[ho + y4], hiddenPositive[ho + y5], hiddenPositive[ho + y6], hiddenPositive[ho + y7]);
    } else {
      vl = vec4<f32>(visibleNegative[vo + x0], visibleNegative[vo + x1], visibleNegative[vo + x2], visibleNegative[vo + x3]);
      vh = vec4<f32>(visibleNegative[vo + x4], visibleNegative[vo + x5], visibleNegative[vo + x6], visibleNegative[vo + x7]);
      hl = vec4<f32>(hiddenNegative[ho + y0], hiddenNegative[ho + y1], hiddenNegative[ho + y2], hiddenNegative[ho + y3]);
      hh = vec4<f32>(hiddenNegative[ho + y4], hiddenNegative[ho + y5], hiddenNegative[ho + y6], hiddenNegative[ho + y7]);
    }
    c0 += vl.x * hl;
    d0 += vl.x * hh;
    c1 += vl.y * hl;
    d1 += vl.y * hh;
    c2 += vl.z * hl;
    d2 += vl.z * hh;
    c3 += vl.w * hl;
    d3 += vl.w * hh;
    c4 += vh.x * hl;
    d4 += vh.x * hh;
    c5 += vh.y * hl;
    d5 += vh.y * hh;
    c6 += vh.z * hl;
    d6 += vh.z * hh;
    c7 += vh.w * hl;
    d7 += vh.w * hh;
  }
  return array<vec4<f32>, 16>(
    c0,
    d0,
    c1,
    d1,
    c2,
    d2,
    c3,
    d3,
    c4,
    d4,
    c5,
    d5,
    c6,
    d6,
    c7,
    d7,
  );
}

@compute @workgroup_size(8, 8)
fn weightGradientDirect(@builtin(global_invocation_id) id: vec3<u32>) {
  // id.x: block of 8 hidden units (j), id.y: block of 8 visible units (i).
  let j0 = id.x * 8u;
  let i0 = id.y * 8u;
  if (j0 >= params.nh || i0 >= params.nv) {
    return;
  }
  let positive = outerSum(true, params.rowsPositive, i0, j0);
  let negative = outerSum(false, params.rowsNegative, i0, j0);
  for (var a = 0u; a < 8u; a++) {
    let i = i0 + a;
    for (var b = 0u; b < 8u; b++) {
      let j = j0 + b;
      let e = 2u * a + b / 4u;
      if (i < params.nv && j < params.nh) {
        gradient[i * params.nh + j] = positive[e][b % 4u] / f32(params.rowsPositive) - negative[e][b % 4u] / f32(params.rowsNegative);
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
