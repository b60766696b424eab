// Appends reduced sums to GPU-side time series at the slot named by the GPU counter (advanced by a
// following `advance*` dispatch). Needs: dispatch, lattice.
//
// `sums` holds reduction accumulators (8 words each; word 0 = low word of the exact 64-bit sum, which
// is the exact i32 value since |sum| ≤ 2·sites < 2^31). Records beyond the capacity are dropped; the
// host reads and resets the series before that happens.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read> sums: array<u32>;
@group(0) @binding(2) var<storage, read_write> series: array<i32>;
@group(0) @binding(3) var<storage, read> counters: IsingCounters;

/// series[slot · 2R + j] for j < 2R: bonds of replicas 0 … R−1, then their magnetisations.
@compute @workgroup_size(workgroupSize)
fn recordMeasurement(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  let count = 2u * params.replicas;
  let slot = counters.measurement;
  if (j >= count || slot >= params.seriesCapacity) {
    return;
  }
  series[slot * count + j] = bitcast<i32>(sums[8u * j]);
}

/// series[slot · R·D + r·D + d]: the correlation sums of replica r at distance d.
@compute @workgroup_size(workgroupSize)
fn recordCorrelation(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  let count = params.replicas * params.distances;
  let slot = counters.correlation;
  if (j >= count || slot >= params.correlationCapacity) {
    return;
  }
  series[slot * count + j] = bitcast<i32>(sums[8u * j]);
}
