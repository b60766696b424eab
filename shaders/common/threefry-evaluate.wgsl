// Threefry on explicit (counter, key) pairs, for known-answer tests (needs threefry, dispatch).

struct ThreefryCase {
  counter: vec4<u32>,
  key: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> cases: array<ThreefryCase>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

override workgroupSize: u32 = 64;

/// Evaluates Threefry-4×32-20 on explicit (counter, key) pairs: output[4i … 4i+3].
@compute @workgroup_size(workgroupSize)
fn evaluateThreefry(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (i >= arrayLength(&cases)) {
    return;
  }
  let r = threefry4x32(cases[i].counter, cases[i].key);
  output[4u * i] = r.x;
  output[4u * i + 1u] = r.y;
  output[4u * i + 2u] = r.z;
  output[4u * i + 3u] = r.w;
}
