// Initial spins, one invocation per storage word. Needs: wide-math, philox, dispatch, lattice.
// Random start: bit 4q + j of word w is the top bit of word j of Philox draw
// (8·w + q, firstReplica + r, 0, rngStream), q = 0 … 7. Bits past the last site stay 0.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read_write> spins: array<u32>;

// 0: random, 1: all up, 2: all down.
override initMode: u32 = 0u;
override rngStream: u32 = 0u;

@compute @workgroup_size(workgroupSize)
fn initSpins(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.words) {
    return;
  }
  let r = k / params.words;
  let w = k % params.words;
  var bits = 0u;
  if (initMode == 0u) {
    for (var q = 0u; q < 8u; q++) {
      let draw = philox4x32(vec4<u32>(8u * w + q, r + params.firstReplica, 0u, rngStream), params.key);
      let top = (draw >> vec4<u32>(31u)) << (vec4<u32>(0u, 1u, 2u, 3u) + vec4<u32>(4u * q));
      bits |= top.x | top.y | top.z | top.w;
    }
  } else if (initMode == 1u) {
    bits = 0xffffffffu;
  }
  let validBits = min(32u, params.sites - 32u * w);
  if (validBits < 32u) {
    bits &= (1u << validBits) - 1u;
  }
  spins[k] = bits;
}
