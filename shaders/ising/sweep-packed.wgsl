// `packed` multi-spin-coded checkerboard update (2D, lx a multiple of 32): one invocation per 32-spin
// word, reading `source` and writing `destination` (ping-pong: no word is read while another invocation
// writes it). Needs: wide-math, philox, dispatch, lattice.
//
// Neighbour words are aligned with the word by shifts (left/right, with the carry bit from the adjacent
// word) and the number of up neighbours of all 32 spins is counted at once by bit-sliced adders into
// three bit planes. The 16 spins of the active colour then each draw their own uniform number and
// decide independently (Metropolis or heat-bath from the same tables as `simple`).
//
// Random numbers: 4 Philox blocks per word per half-sweep, counter (4·wordInReplica + q, firstReplica + r, sweep,
// rngStream); block q serves the active lanes 4q … 4q + 3 (in active-lane order), one word each.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read_write> destination: array<u32>;
@group(0) @binding(3) var<storage, read> tables: array<ReplicaTable>;
@group(0) @binding(4) var<storage, read> counters: IsingCounters;

override colour: u32 = 0u;
override heatBath: bool = false;
override rngStream: u32 = 0u;

@compute @workgroup_size(workgroupSize)
fn sweepPacked(
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
  let rowWords = params.lx / 32u;
  let y = w / rowWords;
  let wx = w % rowWords;
  let base = r * params.words;
  let row = base + y * rowWords;
  let c = source[row + wx];
  let leftWord = source[row + (wx + rowWords - 1u) % rowWords];
  let rightWord = source[row + (wx + 1u) % rowWords];
  let upWord = source[base + ((y + params.ly - 1u) % params.ly) * rowWords + wx];
  let downWord = source[base + ((y + 1u) % params.ly) * rowWords + wx];
  // Lane b holds x = 32·wx + b: its left neighbour is bit b − 1, its right neighbour bit b + 1.
  let left = (c << 1u) | (leftWord >> 31u);
  let right = (c >> 1u) | (rightWord << 31u);
  // Bit-sliced sum left + right + up + down into planes (p2 p1 p0).
  let s1 = left ^ right;
  let c1 = left & right;
  let s2 = upWord ^ downWord;
  let c2 = upWord & downWord;
  let p0 = s1 ^ s2;
  let carry = s1 & s2;
  let p1 = c1 ^ c2 ^ carry;
  let p2 = (c1 & c2) | (c1 & carry) | (c2 & carry);
  // Active lanes: (b + y) % 2 == colour, i.e. lanes of parity (colour + y) % 2.
  let parity = (colour + y) & 1u;
  var result = c;
  let table = tables[r];
  for (var q = 0u; q < 4u; q++) {
    let u = unitFloat4(philox4x32(vec4<u32>(4u * w + q, r + params.firstReplica, counters.sweep, rngStream), params.key));
    for (var j = 0u; j < 4u; j++) {
      let b = 2u * (4u * q + j) + parity;
      let up = ((p0 >> b) & 1u) | (((p1 >> b) & 1u) << 1u) | (((p2 >> b) & 1u) << 2u);
      let s = (c >> b) & 1u;
      var flip: bool;
      if (heatBath) {
        flip = select(0u, 1u, u[j] < table.heatBath[up]) != s;
      } else {
        flip = u[j] < table.metropolis[s * 5u + up];
      }
      if (flip) {
        result ^= 1u << b;
      }
    }
  }
  destination[row + wx] = result;
}
