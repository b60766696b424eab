// Conditional sampling of one dense RBM layer for a batch, as a tiled matrix product fused with bias,
// activation and the Bernoulli draw (layer-common.wgsl). Needs: wide-math, philox, layer-common.
//
//   x[r, j] = bias[j] + Σ_k input[r, k] · W'(k, j)      r < rows (batch), j < units (this layer)
//
// with W' = W (hidden layer: W is [fanIn × units] row-major) or W' = Wᵀ (visible layer: W is
// [units × fanIn], override `transposeWeights`); W and the biases live in one `parameters` buffer.
// Each workgroup computes a TILE × TILE block of x, staging TILE × TILE tiles of `input` and of W' in
// workgroup memory (one load per invocation per tile).

override TILE: u32 = 16u;
override transposeWeights: bool = false;

var<workgroup> inputTile: array<f32, TILE * TILE>;
var<workgroup> weightTile: array<f32, TILE * TILE>;

fn weightAt(k: u32, j: u32) -> f32 {
  if (k >= params.fanIn || j >= params.units) {
    return 0.0;
  }
  if (transposeWeights) {
    return parameters[j * params.fanIn + k];
  }
  return parameters[k * params.units + j];
}

@compute @workgroup_size(TILE, TILE)
fn sampleLayer(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
) {
  // workgroupId.x: column tile (units), workgroupId.y: row tile (batch); both grids are small.
  let j = workgroupId.x * TILE + local.x;
  let r = workgroupId.y * TILE + local.y;
  var acc = 0.0;
  let tiles = (params.fanIn + TILE - 1u) / TILE;
  for (var t = 0u; t < tiles; t++) {
    let kIn = t * TILE + local.x;
    let rowIn = workgroupId.y * TILE + local.y;
    inputTile[local.y * TILE + local.x] = select(0.0, input[rowIn * params.fanIn + kIn], rowIn < params.rows && kIn < params.fanIn);
    weightTile[local.y * TILE + local.x] = weightAt(t * TILE + local.y, j);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += inputTile[local.y * TILE + k] * weightTile[k * TILE + local.x];
    }
    workgroupBarrier();
  }
  if (r >= params.rows || j >= params.units) {
    return;
  }
  writeUnit(r, j, acc + parameters[params.biasOffset + j]);
}
