// Conditional sampling of one RBM layer for a batch, as a tiled matrix product fused with bias,
// activation and the Bernoulli draw. Needs: wide-math, philox, dispatch.
//
//   x[r, j] = bias[j] + Σ_k input[r, k] · W'(k, j)      r < rows (batch), j < units (this layer)
//
// with W' = W (hidden layer: W is [fanIn × units] row-major) or W' = Wᵀ (visible layer: W is
// [units × fanIn], override `transposeWeights`); W and the biases live in one `parameters` buffer. Each workgroup computes a TILE × TILE block of x,
// staging TILE × TILE tiles of `input` and of W' in workgroup memory (one load per invocation per tile).
//
// Outputs: means[r, j] = E[unit | input] (sigmoid(x) for {0,1}, tanh(x) for ±1 units) and
// samples[r, j] = 1 (or +1) iff u < P(unit = 1 / +1), else 0 (or −1), where P = sigmoid(x) for {0,1}
// and sigmoid(2x) for ±1 (PHYSICS.md), and u = unitFloat(Philox(j, r, step, rngStream).x).

struct LayerParams {
  key: vec2<u32>,
  rows: u32,
  units: u32,
  fanIn: u32,
  step: u32,
  rngStream: u32,
  // 1: write samples (0: means only).
  sample: u32,
  // Where this layer's bias starts in `parameters` (W starts at 0).
  biasOffset: u32,
}

@group(0) @binding(0) var<uniform> params: LayerParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
// [W (nv·nh, row-major [nv × nh]) | a (nv) | b (nh)], see src/rbm/layout.ts.
@group(0) @binding(2) var<storage, read> parameters: array<f32>;
@group(0) @binding(3) var<storage, read_write> means: array<f32>;
@group(0) @binding(4) var<storage, read_write> samples: array<f32>;

override TILE: u32 = 16u;
override transposeWeights: bool = false;
override isingUnits: bool = false;

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

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
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
  let x = acc + parameters[params.biasOffset + j];
  let i = r * params.units + j;
  if (isingUnits) {
    means[i] = tanh(x);
  } else {
    means[i] = sigmoid(x);
  }
  if (params.sample != 0u) {
    let p = select(sigmoid(x), sigmoid(2.0 * x), isingUnits);
    let u = unitFloat(philox4x32(vec4<u32>(j, r, params.step, params.rngStream), params.key).x);
    samples[i] = select(select(0.0, -1.0, isingUnits), 1.0, u < p);
  }
}
