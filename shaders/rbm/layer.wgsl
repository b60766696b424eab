// Conditional sampling of one dense RBM layer for a batch, as a tiled, register-blocked matrix product
// fused with bias, activation and the Bernoulli draw (layer-common.wgsl). Needs: wide-math, philox,
// layer-common.
//
//   x[r, j] = bias[j] + Σ_k input[r, k] · W'(k, j)      r < rows (batch), j < units (this layer)
//
// with W' = W (hidden layer: W is [fanIn × units] row-major) or W' = Wᵀ (visible layer: W is
// [units × fanIn], override `transposeWeights`); W and the biases live in one `parameters` buffer.
// Each 16×16 workgroup computes a 64×64 block of x: invocation (tx, ty) owns rows ty + 16·a (a < 4) and
// the 4 neighbouring columns 4·tx … 4·tx + 3, so one Philox block serves its 4 units of a row (writeQuad)
// and its writes are 16-byte runs. K advances 16 at a time through workgroup tiles of input [64 × 16] and
// W' [16 × 64], both held as vec4s: per 4 k an invocation reads 4 vec4s of W' (16 consecutive vec4s across
// tx) and one vec4 of input per row (a broadcast across tx) for 64 multiply-adds. Each invocation stages one
// vec4 of each tile per step, and the next step's two vec4s are read from the buffers before the current
// tile is multiplied (double buffering in registers). The W' tile's rows are padded to 17 vec4s so that the
// transposed staging (for W' = Wᵀ neighbouring invocations store neighbouring k) spreads a quarter-warp's
// 16-byte stores over all banks instead of one group of 4 banks.
//
// sampleLayerDirect computes the same x without workgroup memory: each invocation owns an 8×8 block and
// reads its operands straight from the storage buffers. On a CPU implementation of WebGPU (SwiftShader)
// workgroup memory is no faster than the buffers and every barrier switches between emulated invocations,
// so this variant is 5–10× faster there; GPUs use the tiled kernel (src/rbm/engine.ts picks).

const BLOCK: u32 = 64u;
const KSTEP: u32 = 16u;
// vec4s per row of the W' tile (4 units each) and of the input tile (4 k each).
const QUADS: u32 = BLOCK / 4u;
const KQUADS: u32 = KSTEP / 4u;

override transposeWeights: bool = false;

// Input tile [64 rows × 16 k], row-major in vec4s: element r·KQUADS + q holds k0 + 4q … +3 of row row0 + r.
var<workgroup> inputTile: array<vec4<f32>, BLOCK * KQUADS>;
// W' tile [16 k × 64 units] in vec4s of 4 neighbouring units; its rows are padded to WSTRIDE = 17 vec4s
// (68 words, see above).
const WSTRIDE: u32 = QUADS + 1u;
var<workgroup> weightTile: array<vec4<f32>, KSTEP * WSTRIDE>;

const LANES = vec4<u32>(0u, 1u, 2u, 3u);

/// input[r, k … k+3], zero past the rows and fanIn.
fn inputQuad(r: u32, k: u32) -> vec4<f32> {
  if (r >= params.rows) {
    return vec4<f32>();
  }
  let n = params.fanIn;
  let ks = vec4<u32>(k) + LANES;
  let c = min(ks, vec4<u32>(n - 1u));
  let o = r * n;
  let x = vec4<f32>(input[o + c.x], input[o + c.y], input[o + c.z], input[o + c.w]);
  return select(vec4<f32>(), x, ks < vec4<u32>(n));
}

/// W'(k, j … j+3), zero past fanIn and the units.
fn weightQuad(k: u32, j: u32) -> vec4<f32> {
  if (k >= params.fanIn) {
    return vec4<f32>();
  }
  let js = vec4<u32>(j) + LANES;
  let c = min(js, vec4<u32>(params.units - 1u));
  var w: vec4<f32>;
  if (transposeWeights) {
    let n = params.fanIn;
    w = vec4<f32>(parameters[c.x * n + k], parameters[c.y * n + k], parameters[c.z * n + k], parameters[c.w * n + k]);
  } else {
    let o = k * params.units;
    w = vec4<f32>(parameters[o + c.x], parameters[o + c.y], parameters[o + c.z], parameters[o + c.w]);
  }
  return select(vec4<f32>(), w, js < vec4<u32>(params.units));
}

/// acc + x.x·w0 + x.y·w1 + x.z·w2 + x.w·w3, added in that order (4 steps of k into one row's 4 units).
fn accumulateQuad(acc: vec4<f32>, x: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
  return acc + x.x * w0 + x.y * w1 + x.z * w2 + x.w * w3;
}

@compute @workgroup_size(16, 16)
fn sampleLayer(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
) {
  // workgroupId.x: column block (units), workgroupId.y: row block (batch).
  let col0 = workgroupId.x * BLOCK;
  let row0 = workgroupId.y * BLOCK;
  let tx = local.x;
  let ty = local.y;
  let lid = ty * 16u + tx;
  // Staging slots of this invocation: input row lid / 4, k-quad lid % 4; W' row wk, unit quad wq (for
  // W' = Wᵀ neighbouring invocations take neighbouring k, contiguous in W; otherwise neighbouring units).
  let inputRow = row0 + lid / KQUADS;
  let inputK = 4u * (lid % KQUADS);
  var wk = lid / QUADS;
  var wq = lid % QUADS;
  if (transposeWeights) {
    wk = lid % KSTEP;
    wq = lid / KSTEP;
  }
  let weightSlot = wk * WSTRIDE + wq;
  let steps = (params.fanIn + KSTEP - 1u) / KSTEP;
  // Double buffering in registers: step s + 1 is read from the buffers while step s is multiplied.
  var inputNext = inputQuad(inputRow, inputK);
  var weightNext = weightQuad(wk, col0 + 4u * wq);
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var s = 0u; s < steps; s++) {
    inputTile[lid] = inputNext;
    weightTile[weightSlot] = weightNext;
    workgroupBarrier();
    if (s + 1u < steps) {
      let k0 = (s + 1u) * KSTEP;
      inputNext = inputQuad(inputRow, k0 + inputK);
      weightNext = weightQuad(k0 + wk, col0 + 4u * wq);
    }
    for (var q = 0u; q < KQUADS; q++) {
      let o = 4u * q * WSTRIDE + tx;
      let w0 = weightTile[o];
      let w1 = weightTile[o + WSTRIDE];
      let w2 = weightTile[o + 2u * WSTRIDE];
      let w3 = weightTile[o + 3u * WSTRIDE];
      acc0 = accumulateQuad(acc0, inputTile[ty * KQUADS + q], w0, w1, w2, w3);
      acc1 = accumulateQuad(acc1, inputTile[(ty + 16u) * KQUADS + q], w0, w1, w2, w3);
      acc2 = accumulateQuad(acc2, inputTile[(ty + 32u) * KQUADS + q], w0, w1, w2, w3);
      acc3 = accumulateQuad(acc3, inputTile[(ty + 48u) * KQUADS + q], w0, w1, w2, w3);
    }
    workgroupBarrier();
  }
  let j0 = col0 + 4u * tx;
  if (j0 >= params.units) {
    return;
  }
  let bias = biasQuad(j0);
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var a = 0u; a < 4u; a++) {
    let r = row0 + ty + 16u * a;
    if (r < params.rows) {
      writeQuad(r, j0 / 4u, acc[a] + bias);
    }
  }
}

/// The 8×8 register block of x owned by one invocation of sampleLayerDirect: rows r0 … r0+7 and units
/// j0 … j0+7, clamped to the last row and unit (the clamped duplicates are computed but not written).
/// Element 2a holds units j0 … j0+3 of row r0 + a, element 2a + 1 units j0+4 … j0+7. Written out by
/// hand: SwiftShader keeps named variables in registers but not loop-indexed arrays (3× slower).
fn directBlock(r0: u32, j0: u32) -> array<vec4<f32>, 16> {
  let lastR = params.rows - 1u;
  let lastJ = params.units - 1u;
  let fanIn = params.fanIn;
  let i0 = min(r0, lastR) * fanIn;
  let i1 = min(r0 + 1u, lastR) * fanIn;
  let i2 = min(r0 + 2u, lastR) * fanIn;
  let i3 = min(r0 + 3u, lastR) * fanIn;
  let i4 = min(r0 + 4u, lastR) * fanIn;
  let i5 = min(r0 + 5u, lastR) * fanIn;
  let i6 = min(r0 + 6u, lastR) * fanIn;
  let i7 = min(r0 + 7u, lastR) * fanIn;
  // W'(k, j) = parameters[k · kStride + j · jStride].
  var kStride = params.units;
  var jStride = 1u;
  if (transposeWeights) {
    kStride = 1u;
    jStride = fanIn;
  }
  let w0 = min(j0, lastJ) * jStride;
  let w1 = min(j0 + 1u, lastJ) * jStride;
  let w2 = min(j0 + 2u, lastJ) * jStride;
  let w3 = min(j0 + 3u, lastJ) * jStride;
  let w4 = min(j0 + 4u, lastJ) * jStride;
  let w5 = min(j0 + 5u, lastJ) * jStride;
  let w6 = min(j0 + 6u, lastJ) * jStride;
  let w7 = min(j0 + 7u, lastJ) * jStride;
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
  for (var k = 0u; k < fanIn; k++) {
    let o = k * kStride;
    let wl = vec4<f32>(parameters[o + w0], parameters[o + w1], parameters[o + w2], parameters[o + w3]);
    let wh = vec4<f32>(parameters[o + w4], parameters[o + w5], parameters[o + w6], parameters[o + w7]);
    let x0 = input[i0 + k];
    c0 += x0 * wl;
    d0 += x0 * wh;
    let x1 = input[i1 + k];
    c1 += x1 * wl;
    d1 += x1 * wh;
    let x2 = input[i2 + k];
    c2 += x2 * wl;
    d2 += x2 * wh;
    let x3 = input[i3 + k];
    c3 += x3 * wl;
    d3 += x3 * wh;
    let x4 = input[i4 + k];
    c4 += x4 * wl;
    d4 += x4 * wh;
    let x5 = input[i5 + k];
    c5 += x5 * wl;
    d5 += x5 * wh;
    let x6 = input[i6 + k];
    c6 += x6 * wl;
    d6 += x6 * wh;
    let x7 = input[i7 + k];
    c7 += x7 * wl;
    d7 += x7 * wh;
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

/// The bias of units j0 … j0+3 (clamped to the last unit).
fn biasQuad(j0: u32) -> vec4<f32> {
  let last = params.units - 1u;
  let o = params.biasOffset;
  return vec4<f32>(
    parameters[o + min(j0, last)],
    parameters[o + min(j0 + 1u, last)],
    parameters[o + min(j0 + 2u, last)],
    parameters[o + min(j0 + 3u, last)],
  );
}

@compute @workgroup_size(8, 8)
fn sampleLayerDirect(@builtin(global_invocation_id) id: vec3<u32>) {
  // id.x: block of 8 units, id.y: block of 8 rows.
  let j0 = id.x * 8u;
  let r0 = id.y * 8u;
  if (j0 >= params.units || r0 >= params.rows) {
    return;
  }
  let x = directBlock(r0, j0);
  let low = biasQuad(j0);
  let high = biasQuad(j0 + 4u);
  for (var a = 0u; a < 8u; a++) {
    if (r0 + a < params.rows) {
      writeQuad(r0 + a, j0 / 4u, x[2u * a] + low);
      if (j0 + 4u < params.units) {
        writeQuad(r0 + a, j0 / 4u + 1u, x[2u * a + 1u] + high);
      }
    }
  }
}
