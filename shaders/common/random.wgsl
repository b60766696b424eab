// Random-number fills over Philox4x32-10 or Threefry-4×32-20 (needs wide-math.wgsl, philox.wgsl,
// threefry.wgsl, dispatch.wgsl).

struct RandomParams {
  key: vec2<u32>,
  // Counter words y, z, w shared by the whole fill; word x is the block index.
  counterHigh: vec3<u32>,
  // Number of u32 words to produce (4 per Philox block).
  count: u32,
}

@group(0) @binding(0) var<uniform> params: RandomParams;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

override workgroupSize: u32 = 64;
// Threefry-4×32-20 (key: the seed's two words, then two zero words) instead of Philox4x32-10.
override useThreefry: bool = false;

fn blockIndex(workgroupId: vec3<u32>, numWorkgroups: vec3<u32>, lid: u32) -> u32 {
  return linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
}

/// Block b of the fill's generator: counter (b, counterHigh).
fn randomBlock(b: u32) -> vec4<u32> {
  let counter = vec4<u32>(b, params.counterHigh);
  if (useThreefry) {
    return threefry4x32(counter, vec4<u32>(params.key, 0u, 0u));
  }
  return philox4x32(counter, params.key);
}

/// Fills output[0..count) with raw words: block b = randomBlock(b), words 4b…4b+3.
@compute @workgroup_size(workgroupSize)
fn fillRandomWords(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = blockIndex(workgroupId, numWorkgroups, lid);
  if (4u * b >= params.count) {
    return;
  }
  let r = randomBlock(b);
  for (var j = 0u; j < 4u; j++) {
    if (4u * b + j < params.count) {
      output[4u * b + j] = r[j];
    }
  }
}

/// Same stream as fillRandomWords, converted to f32 in [0, 1) (stored as bits in the u32 buffer).
@compute @workgroup_size(workgroupSize)
fn fillUniform(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = blockIndex(workgroupId, numWorkgroups, lid);
  if (4u * b >= params.count) {
    return;
  }
  let u = unitFloat4(randomBlock(b));
  for (var j = 0u; j < 4u; j++) {
    if (4u * b + j < params.count) {
      output[4u * b + j] = bitcast<u32>(u[j]);
    }
  }
}
