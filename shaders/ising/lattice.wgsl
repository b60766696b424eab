// Shared declarations of the Ising kernels.
//
// Spin storage (all kernels): 1 bit per spin, bit = 1 for s = +1. Replica r's sites i = y·lx + x
// (row-major) are bits i % 32 of words r·words + i / 32. With lx a multiple of 32 each row starts a
// word, which the packed kernel relies on.

struct IsingParams {
  key: vec2<u32>,
  lx: u32,
  ly: u32,
  // Sites and words per replica.
  sites: u32,
  words: u32,
  replicas: u32,
  // Capacity (records) of the time-series buffers.
  seriesCapacity: u32,
  correlationCapacity: u32,
  // Distances 0 … distances − 1 measured by the correlation kernel.
  distances: u32,
  // Global index of local replica 0: every Philox counter takes firstReplica + r (buffers use local r).
  firstReplica: u32,
}

// Acceptance tables per replica, computed on the host (and used as-is by the CPU oracle, so decisions
// agree bit for bit). Index: up = number of up neighbours (0 … z), s = own spin bit.
struct ReplicaTable {
  // min(1, exp(−β ΔE)) for flipping spin s with `up` up neighbours, at [s · 5 + up] (f32: `simple`).
  metropolis: array<f32, 10>,
  // P(s' = +1) given `up` up neighbours, at [up] (f32: `simple`).
  heatBath: array<f32, 5>,
  pad: f32,
  // The same probabilities as integer thresholds for `packed`: p = t / 2^32 (t = floor(p · 2^32) from the
  // float64 probability), except t = 0xffffffff, which means p = 1 exactly.
  metropolisThreshold: array<u32, 10>,
  heatBathThreshold: array<u32, 5>,
  pad2: u32,
}

// GPU-side counters, advanced by tiny dispatches so many sweeps and measurements fit in one submission.
struct IsingCounters {
  sweep: u32,
  measurement: u32,
  correlation: u32,
  pad: u32,
}

override dims: u32 = 2u;
override workgroupSize: u32 = 64u;
