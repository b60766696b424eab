// Level 0 of a block-spin run from the Ising engine's bit-packed spins (bit 1 = +1; sample r's site i is bit
// i mod 32 of word r·words + ⌊i/32⌋): one invocation per (sample, site) writes the f32 ±1 spin.
// Needs: dispatch.

struct UnpackParams {
  batch: u32,
  sites: u32,
  // u32 words per sample in the packed buffer.
  words: u32,
}

@group(0) @binding(0) var<uniform> params: UnpackParams;
@group(0) @binding(1) var<storage, read> packed: array<u32>;
@group(0) @binding(2) var<storage, read_write> spins: array<f32>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn unpackSpins(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  let r = t / params.sites;
  let i = t % params.sites;
  if (r >= params.batch) {
    return;
  }
  let bit = (packed[r * params.words + i / 32u] >> (i % 32u)) & 1u;
  spins[t] = select(-1.0, 1.0, bit == 1u);
}
