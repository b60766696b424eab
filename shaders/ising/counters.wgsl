// Advances the GPU-side counters between dispatches of one submission (one invocation each).
// Needs: lattice (IsingCounters).

@group(0) @binding(0) var<storage, read_write> counters: IsingCounters;

@compute @workgroup_size(1)
fn advanceSweep() {
  counters.sweep += 1u;
}

@compute @workgroup_size(1)
fn advanceMeasurement() {
  counters.measurement += 1u;
}

@compute @workgroup_size(1)
fn advanceCorrelation() {
  counters.correlation += 1u;
}
