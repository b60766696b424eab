// Subgroup fast path (needs `enable subgroups;` at the top of the module): a shuffle-down tree inside
// each subgroup, then a shared-memory tree over one slot per subgroup (log2(workgroupSize/subgroupSize)
// barrier steps instead of log2(workgroupSize)).
//
// Subgroup k's total goes to slot k only when subgroups cover contiguous, aligned ranges of
// local_invocation_index; WebGPU does not promise that, so each workgroup checks it and falls back to
// the portable tree if any subgroup is laid out otherwise. Either way the order of combination is fixed,
// so results are reproducible on a given adapter.

struct LaneIds {
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sgLane: u32,
  @builtin(subgroup_size) sgSize: u32,
}

var<workgroup> irregularLayout: atomic<u32>;
var<workgroup> fallbackNeeded: u32;
var<workgroup> subgroupWidth: u32;

fn accShuffleDown(x: Acc, delta: u32) -> Acc {
  return Acc(subgroupShuffleDown(x.a, delta), subgroupShuffleDown(x.b, delta));
}

/// The workgroup's total (valid in every invocation after return).
fn reduceWorkgroup(acc: Acc, lane: LaneIds) -> Acc {
  // Subgroup builtins count as non-uniform; broadcast invocation 0's size to get a uniform loop bound.
  if (lane.lid == 0u) {
    subgroupWidth = lane.sgSize;
  }
  let width = workgroupUniformLoad(&subgroupWidth);
  // Lane 0 of each subgroup ends with the subgroup's total; other lanes hold partial sums.
  var x = acc;
  for (var delta = width / 2u; delta > 0u; delta >>= 1u) {
    x = accCombine(x, accShuffleDown(x, delta));
  }
  let first = subgroupMin(lane.lid);
  let last = subgroupMax(lane.lid);
  if (lane.sgSize != width || first % width != 0u || last != first + width - 1u) {
    atomicOr(&irregularLayout, 1u);
  }
  workgroupBarrier();
  if (lane.lid == 0u) {
    fallbackNeeded = atomicLoad(&irregularLayout);
  }
  if (workgroupUniformLoad(&fallbackNeeded) != 0u) {
    sharedAcc[lane.lid] = acc;
    treeReduceShared(lane.lid, workgroupSize);
    return sharedAcc[0];
  }
  if (lane.sgLane == 0u) {
    sharedAcc[first / width] = x;
  }
  treeReduceShared(lane.lid, workgroupSize / width);
  return sharedAcc[0];
}
