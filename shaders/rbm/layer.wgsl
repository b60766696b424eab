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
