// Portable in-workgroup reduction: a shared-memory tree of log2(workgroupSize) barrier steps.

struct LaneIds {
  @builtin(local_invocation_index) lid: u32,
}

/// The workgroup's total (valid in every invocation after return).
fn reduceWorkgroup(acc: Acc, lane: LaneIds) -> Acc {
  sharedAcc[lane.lid] = acc;
  treeReduceShared(lane.lid, workgroupSize);
  return sharedAcc[0];
}
