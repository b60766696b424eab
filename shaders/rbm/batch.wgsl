// Minibatch gather: expands bit-packed binary samples into a [rows × nv] f32 batch in the units' own
// values (1/0 or +1/−1), or copies real-valued samples (f32 bits, e.g. a lower layer's hidden means in a
// stacked RBM) with gatherBatchReal. Needs: wide-math, philox, dispatch.
//
// Sample order: each epoch uses a fresh pseudo-random permutation π_e of 0 … n−1, a 4-round Feistel
// network F over the domain [0, D), D = 2^(2·halfBits) the smallest power of 4 ≥ max(n, 4), with
// Philox(right half, round, epoch, rngStream) as round function, cycle-walked until the value falls below n
// (a bijection, computed per index on the GPU: no sort, no host round trip). Batch row r of batch index q
// reads sample π_e(q·rows + r) when `shuffle` is 1, sample q·rows + r otherwise. CPU oracle:
// src/reference/shuffle.ts (bit-exact); halfBits from feistelHalfBits (src/rbm/shuffle.ts).

struct BatchParams {
  key: vec2<u32>,
  samples: u32,
  nv: u32,
  wordsPerSample: u32,
  rows: u32,
  batchIndex: u32,
  epoch: u32,
  rngStream: u32,
  shuffle: u32,
  // Half the Feistel domain's bits (domain = 2^(2·halfBits) ≥ samples).
  halfBits: u32,
}

@group(0) @binding(0) var<uniform> params: BatchParams;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> batch: array<f32>;
// The sample index of each batch row (written by permuteBatch, read by gatherBatch).
@group(0) @binding(3) var<storage, read_write> rowSample: array<u32>;

override isingUnits: bool = false;
override workgroupSize: u32 = 64u;

fn feistel(x: u32) -> u32 {
  let mask = (1u << params.halfBits) - 1u;
  var left = x >> params.halfBits;
  var right = x & mask;
  for (var round = 0u; round < 4u; round++) {
    let f = philox4x32(vec4<u32>(right, round, params.epoch, params.rngStream), params.key).x & mask;
    let next = left ^ f;
    left = right;
    right = next;
  }
  return (left << params.halfBits) | right;
}

/// π_e(i) for i < samples: cycle-walks the Feistel permutation F of [0, D) until it lands below `samples`.
/// The walk always ends below `samples`, and the loop bound can never stop it early: F is a bijection, so
/// the orbit F(i), F²(i), … returns to i < samples, and before it does it meets at most D − samples
/// distinct values ≥ samples; hence some F^m(i) < samples with m ≤ D − samples + 1, and the loop (which
/// leaves at the first value below samples) runs at most D − samples < bound times. The bound only keeps
/// the loop's termination evident to the compiler. Expected walk: D / samples < 4 applications.
fn permute(i: u32) -> u32 {
  // D − 1 (2^32 − 1 when halfBits = 16: the shift wraps to 0); bound = D − samples + 1.
  let domainMax = ((1u << params.halfBits) << params.halfBits) - 1u;
  let bound = domainMax - params.samples + 2u;
  var x = feistel(i);
  for (var walked = 0u; x >= params.samples && walked < bound; walked++) {
    x = feistel(x);
  }
  return x;
}

@compute @workgroup_size(workgroupSize)
fn permuteBatch(@builtin(global_invocation_id) id: vec3<u32>) {
  let r = id.x;
  if (r >= params.rows) {
    return;
  }
  let position = params.batchIndex * params.rows + r;
  rowSample[r] = select(position, permute(position), params.shuffle != 0u);
}

@compute @workgroup_size(workgroupSize)
fn gatherBatch(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (t >= params.rows * params.nv) {
    return;
  }
  let r = t / params.nv;
  let i = t % params.nv;
  let bit = (data[rowSample[r] * params.wordsPerSample + i / 32u] >> (i % 32u)) & 1u;
  batch[t] = select(select(0.0, -1.0, isingUnits), 1.0, bit == 1u);
}

/// Real-valued data: `data` holds f32 bits, nv per sample (wordsPerSample = nv).
@compute @workgroup_size(workgroupSize)
fn gatherBatchReal(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (t >= params.rows * params.nv) {
    return;
  }
  let r = t / params.nv;
  let i = t % params.nv;
  batch[t] = bitcast<f32>(data[rowSample[r] * params.wordsPerSample + i]);
}
