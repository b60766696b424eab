// Shared-memory tree over `sharedAcc` (portable path, and the fallback of the subgroup path).
// Needs an accumulator file (Acc, accCombine) and the `workgroupSize` override (a power of two).

var<workgroup> sharedAcc: array<Acc, workgroupSize>;

/// Folds sharedAcc[0 … count) into sharedAcc[0]; `count` must be workgroup-uniform and a power of two.
/// Callers store their values before calling; all invocations of the workgroup must call it.
fn treeReduceShared(lid: u32, count: u32) {
  workgroupBarrier();
  for (var stride = count / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      sharedAcc[lid] = accCombine(sharedAcc[lid], sharedAcc[lid + stride]);
    }
    workgroupBarrier();
  }
}
