// CD/PCD gradient of a dense RBM, ⟨v h⟩_data − ⟨v h⟩_model averaged over the batch, written into a
// buffer laid out like the parameters: [dW (nv × nh) | da (nv) | db (nh)].
//
// weightGradient: dW[i, j] = (1/P) Σ_r v⁺[r, i]·h⁺[r, j] − (1/Q) Σ_r v⁻[r, i]·h⁻[r, j] (P data rows,
// Q chains: PCD may use a chain count ≠ the batch size), computed as one product over the P + Q stacked
// rows, [V⁺; V⁻]ᵀ · [H⁺/P; −H⁻/Q], through double-buffered workgroup tiles and register blocks (for GPUs).
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
// vec4s per tile row.
const QUADS: u32 = BLOCK / 4u;

// K-steps of the stacked matrices, K-major: element k·QUADS + q holds columns 4q … 4q+3 (visible i0 + …,
// hidden j0 + …) of stacked row r0 + k. Two of each, alternating between K-steps (the next one is filled
// while the current one is read): 2 × 2 × 4 KiB = 16 KiB, WebGPU's default maxComputeWorkgroupStorageSize.
// Both tiles are read along their rows (no transposed access), so they need no padding.
var<workgroup> visibleTile: array<array<vec4<f32>, KSTEP * QUADS>, 2>;
var<workgroup> hiddenTile: array<array<vec4<f32>, KSTEP * QUADS>, 2>;

/// Columns c … c+3 of row r of the stacked visible matrix [V⁺; V⁻] (P data rows, then Q chain rows);
/// zero past nv and past row P + Q. The row decides the buffer: one branch per row, none per element.
fn stackedVisible(r: u32, c: u32) -> vec4<f32> {
  let n = params.nv;
  let p = params.rowsPositive;
  let columns = vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u);
  let x = min(columns, vec4<u32>(n - 1u));
  var v = vec4<f32>();
  if (r < p) {
    let o = r * n;
    v = vec4<f32>(visiblePositive[o + x.x], visiblePositive[o + x.y], visiblePositive[o + x.z], visiblePositive[o + x.w]);
  } else if (r < p + params.rowsNegative) {
    let o = (r - p) * n;
    v = vec4<f32>(visibleNegative[o + x.x], visibleNegative[o + x.y], visibleNegative[o + x.z], visibleNegative[o + x.w]);
  }
  return select(vec4<f32>(), v, columns < vec4<u32>(n));
}

/// The same for the stacked hidden matrix with each half scaled by its weight in the gradient:
/// [H⁺ / P; −H⁻ / Q].
fn stackedHidden(r: u32, c: u32) -> vec4<f32> {
  let n = params.nh;
  let p = params.rowsPositive;
  let columns = vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u);
  let y = min(columns, vec4<u32>(n - 1u));
  var h = vec4<f32>();
  if (r < p) {
    let o = r * n;
    h = vec4<f32>(hiddenPositive[o + y.x], hiddenPositive[o + y.y], hiddenPositive[o + y.z], hiddenPositive[o + y.w]) / f32(p);
  } else if (r < p + params.rowsNegative) {
    let o = (r - p) * n;
    h = vec4<f32>(hiddenNegative[o + y.x], hiddenNegative[o + y.y], hiddenNegative[o + y.z], hiddenNegative[o + y.w]) / -f32(params.rowsNegative);
  }
  return select(vec4<f32>(), h, columns < vec4<u32>(n));
}

/// dW as ONE product over K = P + Q stacked rows, dW = [V⁺; V⁻]ᵀ · [H⁺/P; −H⁻/Q], tiled for GPUs.
/// Each 16×16 workgroup computes a 64×64 block of dW (visible rows i0 …, hidden columns j0 …); invocation
/// (tx, ty) owns visible rows i0 + 4·ty … +3 and hidden columns j0 + 4·tx … +3, one vec4 accumulator per
/// row, fed by one vec4 read of each tile per k (the hidden read is 16 consecutive vec4s across tx, the
/// visible one a broadcast). K advances 16 rows a step; invocation lid stages row lid / 16 of the step,
/// 4 columns of each matrix (rows of a step straddling P take their halves from the two buffers). Double
/// buffered: the next step is read from the buffers into registers before the current tile is used, and
/// stored into the other tile after it, so one barrier per step separates the two.
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
  // The staging slot of this invocation: row kr of a step, columns sc … sc+3.
  let kr = lid / QUADS;
  let sc = 4u * (lid % QUADS);
  let steps = (params.rowsPositive + params.rowsNegative + KSTEP - 1u) / KSTEP;
  visibleTile[0][lid] = stackedVisible(kr, i0 + sc);
  hiddenTile[0][lid] = stackedHidden(kr, j0 + sc);
  workgroupBarrier();
  // Named accumulators (rows 4·ty + 0 … 3), not an array: registers on every implementation.
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var s = 0u; s < steps; s++) {
    let current = s % 2u;
    let more = s + 1u < steps;
    var visibleNext = vec4<f32>();
    var hiddenNext = vec4<f32>();
    if (more) {
      let r = (s + 1u) * KSTEP + kr;
      visibleNext = stackedVisible(r, i0 + sc);
      hiddenNext = stackedHidden(r, j0 + sc);
    }
    for (var k = 0u; k < KSTEP; k++) {
      let v = visibleTile[current][k * QUADS + ty];
      let h = hiddenTile[current][k * QUADS + tx];
      acc0 += v.x * h;
      acc1 += v.y * h;
      acc2 += v.z * h;
      acc3 += v.w * h;
    }
    if (more) {
      // The other tile was last read in step s − 1, before the barrier that ended it.
      visibleTile[1u - current][lid] = visibleNext;
      hiddenTile[1u - current][lid] = hiddenNext;
    }
    workgroupBarrier();
  }
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var a = 0u; a < 4u; a++) {
    let i = i0 + 4u * ty + a;
    for (var b = 0u; b < 4u; b++) {
      let j = j0 + 4u * tx + b;
      if (i < params.nv && j < params.nh) {
        gradient[i * params.nh + j] = acc[a][b];
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
