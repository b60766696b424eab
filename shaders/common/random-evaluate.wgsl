// The generators on explicit (counter, key) pairs, for known-answer tests (needs wide-math, philox, threefry,
// dispatch). Philox takes key.xy; Threefry the whole 128-bit key.

struct RandomCase {
  counter: vec4<u32>,
  key: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> cases: array<RandomCase>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

override workgroupSize: u32 = 64;
override useThreefry: bool = false;

/// Philox4x32-10 (or Threefry-4×32-20) of case i: output[4i … 4i+3].
@compute @workgroup_size(workgroupSize)
fn evaluateGenerator(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (i >= arrayLength(&cases)) {
    return;
  }
  let c = cases[i];
  let r = select(philox4x32(c.counter, c.key.xy), threefry4x32(c.counter, c.key), useThreefry);
  output[4u * i] = r.x;
  output[4u * i + 1u] = r.y;
  output[4u * i + 2u] = r.z;
  output[4u * i + 3u] = r.w;
}
