// `packed` multi-spin-coded checkerboard update (2D, lx a multiple of 32): one invocation per 32-spin
// word, reading `source` and writing `destination` (ping-pong: no word is read while another invocation
// writes it). Needs: wide-math, philox, dispatch, lattice.
//
// Neighbour words are aligned with the word by shifts (left/right, with the carry bit from the adjacent
// word) and the number of up neighbours of all 32 spins is counted at once by bit-sliced adders into
// three bit planes. The 16 spins of the active colour then decide independently (Metropolis or
// heat-bath) against the integer thresholds of their replica's table: "yes" when a uniform 32-bit U is
// below the threshold t (P = t / 2^32, exact to 2^−32 of the float64 probability).
//
// Random numbers: one Philox block per word per half-sweep, counter (wordInReplica, firstReplica + r,
// sweep, rngStream); active lane j (in active-lane order, 0 … 15) takes byte j % 4 of word j / 4 as the
// top 8 bits of its U. Only when that byte equals the threshold's top byte (probability 2^−8) does the
// lane need U's low 24 bits: the top 24 bits of word 0 of its own block, counter (16 · wordInReplica + j,
// firstReplica + r, sweep, refineStream). The threshold 0xffffffff means p = 1 and needs no bits.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read_write> destination: array<u32>;
@group(0) @binding(3) var<storage, read> tables: array<ReplicaTable>;
@group(0) @binding(4) var<storage, read> counters: IsingCounters;

override colour: u32 = 0u;
override heatBath: bool = false;
override rngStream: u32 = 0u;
override refineStream: u32 = 0u;

const ALWAYS: u32 = 0xffffffffu;

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
  let bits = philox4x32(vec4<u32>(w, r + params.firstReplica, counters.sweep, rngStream), params.key);
  // Lanes whose random byte tied with their threshold's top byte: decided after the loop, so that the second
  // Philox block stays out of the hot loop (1 word in ~20 has a tie).
  var ties = 0u;
  for (var q = 0u; q < 4u; q++) {
    let word = bits[q];
    for (var i = 0u; i < 4u; i++) {
      let j = 4u * q + i;
      let b = 2u * j + parity;
      let s = (c >> b) & 1u;
      let t = laneThreshold(r, s, upCount(p0, p1, p2, b));
      let top = (word >> (8u * i)) & 0xffu;
      if (t == ALWAYS) {
        result ^= flipBit(true, s) << b;
      } else if (top != (t >> 24u)) {
        result ^= flipBit(top < (t >> 24u), s) << b;
      } else {
        ties |= 1u << j;
      }
    }
  }
  while (ties != 0u) {
    let j = firstTrailingBit(ties);
    ties &= ties - 1u;
    let b = 2u * j + parity;
    let s = (c >> b) & 1u;
    let t = laneThreshold(r, s, upCount(p0, p1, p2, b));
    let low = philox4x32(
      vec4<u32>(16u * w + j, r + params.firstReplica, counters.sweep, refineStream),
      params.key,
    ).x >> 8u;
    result ^= flipBit(low < (t & 0xffffffu), s) << b;
  }
  destination[row + wx] = result;
}

/// Number of up neighbours of lane b from the bit-sliced planes.
fn upCount(p0: u32, p1: u32, p2: u32, b: u32) -> u32 {
  return ((p0 >> b) & 1u) | (((p1 >> b) & 1u) << 1u) | (((p2 >> b) & 1u) << 2u);
}

/// The threshold of a spin s with `up` up neighbours in replica r's table.
fn laneThreshold(r: u32, s: u32, up: u32) -> u32 {
  if (heatBath) {
    return tables[r].heatBathThreshold[up];
  }
  return tables[r].metropolisThreshold[s * 5u + up];
}

/// 1 when the spin flips, given whether its U was below the threshold: Metropolis flips when below;
/// heat-bath sets the spin up when below, a flip when that differs from s.
fn flipBit(below: bool, s: u32) -> u32 {
  if (heatBath) {
    return select(0u, 1u, below) ^ s;
  }
  return select(0u, 1u, below);
}
