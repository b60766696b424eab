// Conditional sampling of one dense RBM layer for a batch, as a tiled, register-blocked matrix product
// fused with bias, activation and the Bernoulli draw (layer-common.wgsl). Needs: wide-math, philox,
// layer-common.
//
//   x[r, j] = bias[j] + Σ_k input[r, k] · W'(k, j)      r < rows (batch), j < units (this layer)
//
// with W' = W (hidden layer: W is [fanIn × units] row-major) or W' = Wᵀ (visible layer: W is
// [units × fanIn], override `transposeWeights`); W and the biases live in one `parameters` buffer.
// Each 16×16 workgroup computes a 64×64 block of x: invocation (tx, ty) owns rows ty + 16·a and columns
// tx + 16·b (a, b < 4), so its writes are coalesced. K advances 16 at a time through workgroup tiles of
// input [64 × 16] and W' [16 × 64], each invocation loading 4 + 4 values and doing 16 multiply-adds per k.
//
// sampleLayerDirect computes the same x without workgroup memory: each invocation owns a 4×4 block and
// reads its operands straight from the storage buffers. On a CPU implementation of WebGPU (SwiftShader)
// workgroup memory is no faster than the buffers and every barrier switches between emulated invocations,
// so this variant is 4–7× faster there; GPUs use the tiled kernel (src/rbm/engine.ts picks).

const BLOCK: u32 = 64u;
const KSTEP: u32 = 16u;

override transposeWeights: bool = false;

var<workgroup> inputTile: array<f32, BLOCK * KSTEP>;
var<workgroup> weightTile: array<f32, KSTEP * BLOCK>;

fn weightAt(k: u32, j: u32) -> f32 {
  if (k >= params.fanIn || j >= params.units) {
    return 0.0;
  }
  if (transposeWeights) {
    return parameters[j * params.fanIn + k];
  }
  return parameters[k * params.units + j];
}

fn inputAt(r: u32, k: u32) -> f32 {
  if (r >= params.rows || k >= params.fanIn) {
    return 0.0;
  }
  return input[r * params.fanIn + k];
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
  var acc: array<vec4<f32>, 4>;
  let steps = (params.fanIn + KSTEP - 1u) / KSTEP;
  for (var s = 0u; s < steps; s++) {
    let k0 = s * KSTEP;
    // 1024 values per tile, 4 per invocation: input tile row-major [64 × 16], weight tile [16 × 64].
    for (var q = 0u; q < 4u; q++) {
      let e = lid + 256u * q;
      inputTile[e] = inputAt(row0 + e / KSTEP, k0 + e % KSTEP);
      if (transposeWeights) {
        // W'(k, j) = W[j, k]: neighbouring invocations read neighbouring k (contiguous in memory).
        weightTile[(e % KSTEP) * BLOCK + e / KSTEP] = weightAt(k0 + e % KSTEP, col0 + e / KSTEP);
      } else {
        weightTile[e] = weightAt(k0 + e / BLOCK, col0 + e % BLOCK);
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < KSTEP; k++) {
      let w = vec4<f32>(
        weightTile[k * BLOCK + tx],
        weightTile[k * BLOCK + tx + 16u],
        weightTile[k * BLOCK + tx + 32u],
        weightTile[k * BLOCK + tx + 48u],
      );
      for (var a = 0u; a < 4u; a++) {
        acc[a] += inputTile[(ty + 16u * a) * KSTEP + k] * w;
      }
    }
    workgroupBarrier();
  }
  for (var a = 0u; a < 4u; a++) {
    let r = row0 + ty + 16u * a;
    for (var b = 0u; b < 4u; b++) {
      let j = col0 + tx + 16u * b;
      if (r < params.rows && j < params.units) {
        writeUnit(r, j, acc[a][b] + parameters[params.biasOffset + j]);
      }
    }
  }
}

/// The 4×4 register block of x owned by one invocation of sampleLayerDirect: rows r0 … r0+3 and units
/// j0 … j0+3, clamped to the last row and unit (the clamped duplicates are computed but not written).
fn directBlock(r0: u32, j0: u32) -> array<vec4<f32>, 4> {
  let lastR = params.rows - 1u;
  let lastJ = params.units - 1u;
  let fanIn = params.fanIn;
  let i0 = min(r0, lastR) * fanIn;
  let i1 = min(r0 + 1u, lastR) * fanIn;
  let i2 = min(r0 + 2u, lastR) * fanIn;
  let i3 = min(r0 + 3u, lastR) * fanIn;
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
  var c0 = vec4<f32>();
  var c1 = vec4<f32>();
  var c2 = vec4<f32>();
  var c3 = vec4<f32>();
  for (var k = 0u; k < fanIn; k++) {
    let o = k * kStride;
    let w = vec4<f32>(parameters[o + w0], parameters[o + w1], parameters[o + w2], parameters[o + w3]);
    c0 += input[i0 + k] * w;
    c1 += input[i1 + k] * w;
    c2 += input[i2 + k] * w;
    c3 += input[i3 + k] * w;
  }
  return array<vec4<f32>, 4>(c0, c1, c2, c3);
}

@compute @workgroup_size(8, 8)
fn sampleLayerDirect(@builtin(global_invocation_id) id: vec3<u32>) {
  // id.x: block of 4 units, id.y: block of 4 rows.
  let j0 = id.x * 4u;
  let r0 = id.y * 4u;
  if (j0 >= params.units || r0 >= params.rows) {
    return;
  }
  let x = directBlock(r0, j0);
  let bias = vec4<f32>(
    parameters[params.biasOffset + min(j0, params.units - 1u)],
    parameters[params.biasOffset + min(j0 + 1u, params.units - 1u)],
    parameters[params.biasOffset + min(j0 + 2u, params.units - 1u)],
    parameters[params.biasOffset + min(j0 + 3u, params.units - 1u)],
  );
  for (var a = 0u; a < 4u; a++) {
    if (r0 + a < params.rows) {
      writeQuad(r0 + a, j0 / 4u, x[a] + bias);
    }
  }
}
