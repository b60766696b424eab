// Philox on explicit (counter, key) pairs, for known-answer tests (needs wide-math, philox, dispatch).

struct PhiloxCase {
  counter: vec4<u32>,
  key: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> cases: array<PhiloxCase>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

override workgroupSize: u32 = 64;

/// Evaluates Philox on explicit (counter, key) pairs, for known-answer tests: output[4i…4i+3].
@compute @workgroup_size(workgroupSize)
fn evaluatePhilox(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (i >= arrayLength(&cases)) {
    return;
  }
  let r = philox4x32(cases[i].counter, cases[i].key);
  for (var j = 0u; j < 4u; j++) {
    output[4u * i + j] = r[j];
  }
}
