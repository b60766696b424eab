// Shared part of the RBM layer kernels (dense: layer.wgsl, convolutional: conv.wgsl): parameters,
// bindings, and the epilogue that turns a unit's input x into its mean and its Bernoulli sample.
//
// Outputs: means[r, j] = E[unit | input] (sigmoid(x) for {0,1}, tanh(x) for ±1 units) and
// samples[r, j] = 1 (or +1) iff u < P(unit = 1 / +1), else 0 (or −1), where P = sigmoid(x) for {0,1}
// and sigmoid(2x) for ±1 (PHYSICS.md), and u = unitFloat(word j mod 4 of Philox(⌊j/4⌋, r, step, rngStream)):
// four neighbouring units share one Philox block, each using its own word (no number is used twice).
// Needs: wide-math, philox.

struct LayerParams {
  key: vec2<u32>,
  rows: u32,
  units: u32,
  fanIn: u32,
  step: u32,
  rngStream: u32,
  // 1: write samples (0: means only).
  sample: u32,
  // Where this layer's bias starts in `parameters` (the weights start at 0).
  biasOffset: u32,
  // Convolutional geometry (conv.wgsl only): Lv×Lv periodic visible lattice, F filters of k×k, stride s,
  // side = Lv / s hidden positions per axis.
  lv: u32,
  filters: u32,
  kernelSize: u32,
  stride: u32,
  side: u32,
  // Inverse temperature of the layer (AIS): x → beta·x; 1 for training and sampling.
  beta: f32,
  // Added to the row in the Philox counter: the global index of row 0 when a batch is one shard of a larger
  // run (the RG projector, src/rg/blocking.ts); 0 everywhere else.
  rowOffset: u32,
}

@group(0) @binding(0) var<uniform> params: LayerParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
// [weights | a (nv) | b (nh)], see src/rbm/engine.ts.
@group(0) @binding(2) var<storage, read> parameters: array<f32>;
@group(0) @binding(3) var<storage, read_write> means: array<f32>;
@group(0) @binding(4) var<storage, read_write> samples: array<f32>;

override isingUnits: bool = false;
// AIS: write the raw input x (before beta) to `means` and draw nothing.
override outputInput: bool = false;

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

/// Writes the mean and (when params.sample is set) the sample of unit j of row r with input beta·x, given
/// its uniform number u (unused without sampling).
fn writeUnitWith(r: u32, j: u32, input: f32, u: f32) {
  let i = r * params.units + j;
  if (outputInput) {
    means[i] = input;
    return;
  }
  let x = params.beta * input;
  if (isingUnits) {
    means[i] = tanh(x);
  } else {
    means[i] = sigmoid(x);
  }
  if (params.sample != 0u) {
    let p = select(sigmoid(x), sigmoid(2.0 * x), isingUnits);
    samples[i] = select(select(0.0, -1.0, isingUnits), 1.0, u < p);
  }
}

/// The Philox block of units 4q … 4q+3 of row r (word j mod 4 belongs to unit j).
fn unitWords(r: u32, q: u32) -> vec4<u32> {
  return philox4x32(vec4<u32>(q, params.rowOffset + r, params.step, params.rngStream), params.key);
}

/// Units 4q … 4q+3 of row r (those below params.units) with inputs x: one Philox block for all four.
fn writeQuad(r: u32, q: u32, x: vec4<f32>) {
  var u = vec4<f32>();
  if (params.sample != 0u && !outputInput) {
    u = unitFloat4(unitWords(r, q));
  }
  for (var b = 0u; b < 4u; b++) {
    let j = 4u * q + b;
    if (j < params.units) {
      writeUnitWith(r, j, x[b], u[b]);
    }
  }
}
