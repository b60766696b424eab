// Segmented multi-pass reduction: R segments of `length` items → one Acc (sum, sum of squares, min,
// max) per segment. Pass 1 (`reduceElements`) reads raw 32-bit elements; later passes
// (`reducePartials`) fold the previous pass's per-blockId Accs, read as 8 words each from the same
// binding. Each workgroup folds one blockId of `workgroupSize × itemsPerThread` consecutive items of one
// segment: coalesced strided loads, a serial fold per invocation, then the in-workgroup tree.
// Needs: dispatch.wgsl, an accumulator file, reduce-tree.wgsl, a reduce-{workgroup,subgroup}.wgsl.

// (Identifiers avoid `block`: wgsl_reflect 1.6 treats it as a keyword.)
struct ReduceParams {
  // Items per segment in this pass's input.
  length: u32,
  blocksPerSegment: u32,
  // segments × blocksPerSegment: workgroups beyond it (grid rounding) exit at once.
  totalBlocks: u32,
  // First element (pass 1) of segment 0 in `source`, in 32-bit words.
  inputOffset: u32,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read_write> partials: array<Acc>;

override workgroupSize: u32 = 256;
override itemsPerThread: u32 = 16;

fn loadPartial(i: u32) -> Acc {
  let w = 8u * i;
  return Acc(
    vec4<u32>(source[w], source[w + 1u], source[w + 2u], source[w + 3u]),
    vec4<u32>(source[w + 4u], source[w + 5u], source[w + 6u], source[w + 7u]),
  );
}

@compute @workgroup_size(workgroupSize)
fn reduceElements(
  lane: LaneIds,
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
) {
  let blockId = linearWorkgroupIndex(workgroupId, numWorkgroups);
  if (blockId >= params.totalBlocks) {
    return;
  }
  let segment = blockId / params.blocksPerSegment;
  let start = (blockId % params.blocksPerSegment) * workgroupSize * itemsPerThread;
  let end = min(start + workgroupSize * itemsPerThread, params.length);
  let base = params.inputOffset + segment * params.length;
  var acc = accIdentity();
  for (var i = start + lane.lid; i < end; i += workgroupSize) {
    acc = accCombine(acc, accFromElement(source[base + i]));
  }
  let total = reduceWorkgroup(acc, lane);
  if (lane.lid == 0u) {
    partials[blockId] = total;
  }
}

@compute @workgroup_size(workgroupSize)
fn reducePartials(
  lane: LaneIds,
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
) {
  let blockId = linearWorkgroupIndex(workgroupId, numWorkgroups);
  if (blockId >= params.totalBlocks) {
    return;
  }
  let segment = blockId / params.blocksPerSegment;
  let start = (blockId % params.blocksPerSegment) * workgroupSize * itemsPerThread;
  let end = min(start + workgroupSize * itemsPerThread, params.length);
  let base = segment * params.length;
  var acc = accIdentity();
  for (var i = start + lane.lid; i < end; i += workgroupSize) {
    acc = accCombine(acc, loadPartial(base + i));
  }
  let total = reduceWorkgroup(acc, lane);
  if (lane.lid == 0u) {
    partials[blockId] = total;
  }
}
