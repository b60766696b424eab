// `packed` multi-spin-coded checkerboard update (2D, lx a multiple of 32) on a colour-separated working
// copy of the lattice, so that all 32 lanes of a word update in each half-sweep. Needs: threefry,
// dispatch, lattice.
//
// Colour-separated layout (`colours`, only inside a run of packed sweeps; `spins` keeps the row-major
// layout of lattice.wgsl for everything else): row y of colour c (sites with (x + y) % 2 == c) holds its
// n = lx / 2 sites x = 2j + p, p = (c + y) % 2, j = 0 … n − 1, as bits j % 32 of rowWords = ⌈lx / 64⌉
// words. Replica r's colour-c words start at r · 2·ly·rowWords + c · ly·rowWords, row after row. When
// lx ≡ 32 (mod 64) each row's last word holds 16 sites; its 16 high bits are padding and stay 0.
//
// Neighbours of colour-c site j of row y, all of the other colour: (x, y ± 1) is site j of rows y ± 1
// (same word index, same lane); (x − 1, y) and (x + 1, y) are sites j − p and j + 1 − p of row y: the
// word at the same index and that word shifted by one lane (cyclic over the row's n sites).
//
// packColours and unpackColours convert between the two layouts (one invocation per output word); the
// engine runs them once before and once after a stretch of consecutive packed sweeps.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read_write> spins: array<u32>;
@group(0) @binding(2) var<storage, read_write> colours: array<u32>;
@group(0) @binding(3) var<storage, read> tables: array<ReplicaTable>;
@group(0) @binding(4) var<storage, read> counters: IsingCounters;
// The tie list of a half-sweep (see sweepPacked): entries per colour, and the words still tied.
@group(0) @binding(5) var<storage, read_write> tieCounts: array<atomic<u32>, 2>;
@group(0) @binding(6) var<storage, read_write> ties: array<vec2<u32>>;
// A workgroup's tied words and where they start in the list.
var<workgroup> groupTies: atomic<u32>;
var<workgroup> groupBase: u32;

override colour: u32 = 0u;
override heatBath: bool = false;
// Every replica has h = 0 (Metropolis then needs 5 threshold classes instead of 10).
override zeroField: bool = false;
override rngStream: u32 = 0u;
// Tie-list entries reserved per workgroup (one atomic on the count per workgroup; for GPUs, where atomics on one
// address serialise) or per tied word (no barriers; for CPU implementations, where a barrier switches between
// emulated invocations and costs more than the atomics).
override aggregateTies: bool = true;
override refineStream: u32 = 0u;
// Every class's lanes are added to the threshold planes, without the branches that skip the classes whose lanes
// need no bits. For CPU implementations (SwiftShader), which run both sides of a branch whose condition they
// cannot prove uniform; a GPU skips the classes, which are the same for all its lanes (one replica's table).
override branchFreePlanes: bool = false;

const ALWAYS: u32 = 0xffffffffu;

/// Colour-separated words per row and colour.
fn rowWords() -> u32 {
  return (params.lx + 63u) / 64u;
}

/// Bits p, p + 2, …, p + 30 of v (p = 0 or 1) gathered, in order, into bits 16 … 31; bits 0 … 15 are 0. Every
/// shift is left and by a constant, written as a multiply: one vector instruction on CPU implementations of WebGPU,
/// which emulate shifts lane by lane (shaders/README.md), and turned back into a shift by GPU compilers.
fn alternateBitsHigh(v: u32, p: u32) -> u32 {
  // The wanted bits to the odd positions 1, 3, …, 31, then pairs, nibbles, bytes and halves moved up.
  var x = (v * (2u - p)) & 0xaaaaaaaau;
  x = (x | (x * 2u)) & 0xccccccccu;
  x = (x | (x * 4u)) & 0xf0f0f0f0u;
  x = (x | (x * 16u)) & 0xff00ff00u;
  return (x | (x * 256u)) & 0xffff0000u;
}

/// Bits 0 … 15 of x spread to bits 0, 2, 4, … (the inverse of gathering alternate bits), by multiplies as above.
fn spreadBits(v: u32) -> u32 {
  var x = v & 0x0000ffffu;
  x = (x | (x * 256u)) & 0x00ff00ffu;
  x = (x | (x * 16u)) & 0x0f0f0f0fu;
  x = (x | (x * 4u)) & 0x33333333u;
  return (x | (x * 2u)) & 0x55555555u;
}

/// Row-major `spins` → colour-separated `colours`: one invocation per colour word (r, c, y, m), from the
/// row-major words 2m and 2m + 1 of row y (x = 64m … 64m + 63).
@compute @workgroup_size(workgroupSize)
fn packColours(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let rw = rowWords();
  let perColour = params.ly * rw;
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * 2u * perColour) {
    return;
  }
  let r = k / (2u * perColour);
  let i = k % (2u * perColour);
  let c = i / perColour;
  let y = (i % perColour) / rw;
  let m = (i % perColour) % rw;
  let p = (c + y) & 1u;
  let rowMajorWords = params.lx / 32u;
  let row = r * params.words + y * rowMajorWords;
  var packed = alternateBitsHigh(spins[row + 2u * m], p) >> 16u;
  if (2u * m + 1u < rowMajorWords) {
    packed |= alternateBitsHigh(spins[row + 2u * m + 1u], p);
  }
  colours[k] = packed;
}

/// Colour-separated `colours` → row-major `spins`: one invocation per row-major word (r, y, w), whose
/// x = 32w … 32w + 31 are the sites 16w … 16w + 15 of both colours, in half (w % 2) of colour word w / 2.
@compute @workgroup_size(workgroupSize)
fn unpackColours(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.words) {
    return;
  }
  let rw = rowWords();
  let perColour = params.ly * rw;
  let rowMajorWords = params.lx / 32u;
  let r = k / params.words;
  let y = (k % params.words) / rowMajorWords;
  let w = (k % params.words) % rowMajorWords;
  let at = r * 2u * perColour + y * rw + w / 2u;
  let shift = 16u * (w & 1u);
  let black = (colours[at] >> shift) & 0xffffu;
  let white = (colours[at + perColour] >> shift) & 0xffffu;
  // Colour c sits at x parity (c + y) % 2.
  // Shifts by y % 2 or by 1 − y % 2, as multiplies.
  spins[k] = (spreadBits(black) * (1u + (y & 1u))) | (spreadBits(white) * (2u - (y & 1u)));
}

/// A word's class masks and its replica's thresholds: lane b is in class i when bit b of m_i is set, and
/// decides "yes" with probability t_i / 2^32 (Metropolis: class i = s · 5 + up, or with h = 0 the number a
/// of neighbours aligned with the spin, t_a = metropolisThreshold[5 + a]; heat-bath: i = up; unused
/// classes have m_i = 0).
struct Classes {
  m0: u32, m1: u32, m2: u32, m3: u32, m4: u32, m5: u32, m6: u32, m7: u32, m8: u32, m9: u32,
  t0: u32, t1: u32, t2: u32, t3: u32, t4: u32, t5: u32, t6: u32, t7: u32, t8: u32, t9: u32,
}

/// All-ones when t has the bit `bit` set. A compare, not a shift: SwiftShader emulates vector shifts lane by lane.
fn bitMask(t: u32, bit: u32) -> u32 {
  return select(0u, ALWAYS, (t & bit) != 0u);
}

/// Bit plane `b` of the lanes' thresholds: bit b of each lane's t (for the rare refinement). Classes 5 … 9
/// exist only for Metropolis with a field.
fn thresholdPlane(k: Classes, b: u32) -> u32 {
  let bit = 1u << b;
  var plane = (k.m0 & bitMask(k.t0, bit)) | (k.m1 & bitMask(k.t1, bit)) | (k.m2 & bitMask(k.t2, bit)) |
    (k.m3 & bitMask(k.t3, bit)) | (k.m4 & bitMask(k.t4, bit));
  if (!heatBath && !zeroField) {
    plane |= (k.m5 & bitMask(k.t5, bit)) | (k.m6 & bitMask(k.t6, bit)) | (k.m7 & bitMask(k.t7, bit)) |
      (k.m8 & bitMask(k.t8, bit)) | (k.m9 & bitMask(k.t9, bit));
  }
  return plane;
}

/// Bit planes of the lanes' threshold top bytes: plane k holds bit 31 − k of each lane's t.
struct TopPlanes {
  k0: u32, k1: u32, k2: u32, k3: u32, k4: u32, k5: u32, k6: u32, k7: u32,
}

/// Adds the lanes `m` of a class with threshold t to the top-byte planes.
fn addClass(p: TopPlanes, m: u32, t: u32) -> TopPlanes {
  return TopPlanes(
    p.k0 | (m & bitMask(t, 1u << 31u)), p.k1 | (m & bitMask(t, 1u << 30u)), p.k2 | (m & bitMask(t, 1u << 29u)),
    p.k3 | (m & bitMask(t, 1u << 28u)), p.k4 | (m & bitMask(t, 1u << 27u)), p.k5 | (m & bitMask(t, 1u << 26u)),
    p.k6 | (m & bitMask(t, 1u << 25u)), p.k7 | (m & bitMask(t, 1u << 24u)),
  );
}

/// Whether a class's lanes need their threshold bits: not for t = 0 (no bits set) nor for ALWAYS (those
/// lanes are decided apart, by alwaysLanes, so adding them changes nothing). Usually the same for all
/// invocations (one replica's table), so the branches skip whole classes: with h = 0 and J > 0, Metropolis
/// needs 2 of its 5. With branchFreePlanes every class is added.
fn addsClass(t: u32) -> bool {
  return branchFreePlanes || (t != 0u && t != ALWAYS);
}

/// The top-byte planes of a word's thresholds (lanes with t = ALWAYS may be left out).
fn topPlanes(k: Classes) -> TopPlanes {
  var p = TopPlanes(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
  if (addsClass(k.t0)) { p = addClass(p, k.m0, k.t0); }
  if (addsClass(k.t1)) { p = addClass(p, k.m1, k.t1); }
  if (addsClass(k.t2)) { p = addClass(p, k.m2, k.t2); }
  if (addsClass(k.t3)) { p = addClass(p, k.m3, k.t3); }
  if (addsClass(k.t4)) { p = addClass(p, k.m4, k.t4); }
  if (!heatBath && !zeroField) {
    if (addsClass(k.t5)) { p = addClass(p, k.m5, k.t5); }
    if (addsClass(k.t6)) { p = addClass(p, k.m6, k.t6); }
    if (addsClass(k.t7)) { p = addClass(p, k.m7, k.t7); }
    if (addsClass(k.t8)) { p = addClass(p, k.m8, k.t8); }
    if (addsClass(k.t9)) { p = addClass(p, k.m9, k.t9); }
  }
  return p;
}

/// Lanes whose threshold is ALWAYS (p = 1).
fn alwaysLanes(k: Classes) -> u32 {
  return select(0u, k.m0, k.t0 == ALWAYS) | select(0u, k.m1, k.t1 == ALWAYS) |
    select(0u, k.m2, k.t2 == ALWAYS) | select(0u, k.m3, k.t3 == ALWAYS) |
    select(0u, k.m4, k.t4 == ALWAYS) | select(0u, k.m5, k.t5 == ALWAYS) |
    select(0u, k.m6, k.t6 == ALWAYS) | select(0u, k.m7, k.t7 == ALWAYS) |
    select(0u, k.m8, k.t8 == ALWAYS) | select(0u, k.m9, k.t9 == ALWAYS);
}

/// A bit-sliced comparison U < t, most significant bit first, for all 32 lanes at once.
struct Comparison {
  // Lanes already decided U < t.
  below: u32,
  // Lanes whose U and t agree on every bit so far.
  tied: u32,
}

/// The next bit: plane `u` of the lanes' U against plane `t` of their thresholds.
fn compareBit(cmp: Comparison, u: u32, t: u32) -> Comparison {
  return Comparison(cmp.below | (cmp.tied & t & ~u), cmp.tied & ~(t ^ u));
}

/// A colour word with what its update needs: lane b of `classes` is in the class its spin and neighbours
/// select, `valid` masks the padding lanes of a row's half-full last word.
struct Word {
  r: u32,
  wc: u32,
  own: u32,
  s: u32,
  valid: u32,
  classes: Classes,
}

/// Colour-`colour` word k (replica r, row y, word m): its neighbours are all of the other colour, which a
/// half-sweep does not write, so the classes of lanes a half-sweep has not yet changed can be rebuilt later.
///
/// Counting: the four neighbour words are aligned lane by lane with the word, and the number of up
/// neighbours of each lane is summed by bit-sliced adders into three bit planes (p2 p1 p0). Each lane's
/// class (own spin s, up-neighbour count) selects its replica's integer threshold t.
fn colourWord(k: u32) -> Word {
  let rw = rowWords();
  let perColour = params.ly * rw;
  // Two divisions; the cyclic neighbours by selects (SIMD units have no integer division).
  let r = k / perColour;
  let wc = k - r * perColour;
  let y = wc / rw;
  let m = wc - y * rw;
  let base = r * 2u * perColour;
  let own = base + colour * perColour;
  let other = base + (1u - colour) * perColour;
  let s = colours[own + wc];
  let same = colours[other + wc];
  let upWord = colours[other + select(wc - rw, wc + perColour - rw, y == 0u)];
  let downWord = colours[other + select(wc + rw, m, y + 1u == params.ly)];
  // Sites per row and colour in the row's last word (16 or 32), and the valid lanes of this word.
  let lastLanes = params.lx / 2u - 32u * (rw - 1u);
  let last = m + 1u == rw;
  let topLane = select(31u, lastLanes - 1u, last);
  let valid = select(0xffffffffu, 0x0000ffffu, last && lastLanes == 16u);
  // Row parity 0: x − 1 is site j − 1 (lane b − 1; lane 0 from the previous word's top lane, cyclic).
  // Parity 1: x + 1 is site j + 1 (lane b + 1; the top lane from the next word's lane 0, cyclic; padding
  // bits are 0, so the shift brings no stray bit into the top lane).
  let leftward = ((colour + y) & 1u) == 0u;
  let previous = select(wc - 1u, wc + rw - 1u, m == 0u);
  let next = select(wc + 1u, wc + 1u - rw, last);
  let adjacent = colours[other + select(next, previous, leftward)];
  let left = (same << 1u) | ((adjacent >> select(31u, lastLanes - 1u, m == 0u)) & 1u);
  let right = (same >> 1u) | ((adjacent & 1u) << topLane);
  let side = select(right, left, leftward);
  // Bit-sliced sum same + side + up + down into planes (p2 p1 p0).
  let s1 = same ^ side;
  let c1 = same & side;
  let s2 = upWord ^ downWord;
  let c2 = upWord & downWord;
  let p0 = s1 ^ s2;
  let carry = s1 & s2;
  let p1 = c1 ^ c2 ^ carry;
  let p2 = (c1 & c2) | (c1 & carry) | (c2 & carry);
  // Lanes with 0 … 4 up neighbours (at most 4, so p2 excludes p1 and p0).
  let e0 = ~(p0 | p1 | p2);
  let e1 = p0 & ~p1;
  let e2 = p1 & ~p0;
  let e3 = p0 & p1;
  let e4 = p2;
  var cls: Classes;
  if (heatBath) {
    let t = tables[r].heatBathThreshold;
    cls = Classes(e0, e1, e2, e3, e4, 0u, 0u, 0u, 0u, 0u, t[0], t[1], t[2], t[3], t[4], 0u, 0u, 0u, 0u, 0u);
  } else if (zeroField) {
    // h = 0: the threshold depends only on the number of neighbours aligned with the spin (t[s · 5 + up]
    // = t[(1 − s) · 5 + 4 − up], the same float64 value), so 5 classes give every lane its own t.
    let t = tables[r].metropolisThreshold;
    let down = ~s;
    cls = Classes(
      (s & e0) | (down & e4), (s & e1) | (down & e3), (s & e2) | (down & e2), (s & e3) | (down & e1),
      (s & e4) | (down & e0), 0u, 0u, 0u, 0u, 0u, t[5], t[6], t[7], t[8], t[9], 0u, 0u, 0u, 0u, 0u,
    );
  } else {
    let t = tables[r].metropolisThreshold;
    let down = ~s;
    cls = Classes(
      down & e0, down & e1, down & e2, down & e3, down & e4, s & e0, s & e1, s & e2, s & e3, s & e4,
      t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9],
    );
  }
  return Word(r, wc, own + wc, s, valid, cls);
}

/// The seed as Threefry's 128-bit key (words 2 and 3 zero, see threefry.wgsl).
fn rngKey() -> vec4<u32> {
  return vec4<u32>(params.key, 0u, 0u);
}

/// One colour-`colour` word per invocation, updated in place; decides every lane but the rare ties, which
/// it appends to the tie list for resolveTies.
///
/// "Yes" when a uniform 32-bit U < t, so P = t / 2^32 (exact to 2^−32 of the float64 probability; t =
/// ALWAYS means p = 1). Random numbers, bit-sliced: lane b's U has bit 31 − k equal to bit b of plane k.
/// Planes 0 … 7 (U's top byte) are the 8 words of two Threefry-4×32-20 blocks, counters (2·wc + i,
/// firstReplica + r, sweep, rngStream), i = 0, 1, with wc = y · rowWords + m; the comparison runs over the
/// thresholds' bit planes, MSB first. A lane still tied after 8 bits (probability 2^−8; about 1 word in 8
/// has one) keeps its spin here: the word (k, tied lanes) goes on the tie list, and resolveTies draws the
/// further planes (see aggregateTies for how entries are reserved). Keeping that rare
/// path out of this kernel matters: SIMD hardware (GPU warps, SwiftShader's lanes) runs a branch when any of
/// its invocations takes it, so an inline refinement block made nearly every group draw a third block.
@compute @workgroup_size(workgroupSize)
fn sweepPacked(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k == 0u) {
    // The other colour's list was resolved by the dispatch before this one: empty it for its next half-sweep.
    atomicStore(&tieCounts[1u - colour], 0u);
  }
  if (aggregateTies) {
    if (lid == 0u) {
      atomicStore(&groupTies, 0u);
    }
    workgroupBarrier();
  }
  // This invocation's tie-list entry (k, tied lanes; tied = 0: none) and its place among the workgroup's.
  var entry = vec2<u32>(0u, 0u);
  var slot = 0u;
  if (k < params.replicas * params.ly * rowWords()) {
    let w = colourWord(k);
    let replica = w.r + params.firstReplica;
    let a = threefry4x32(vec4<u32>(2u * w.wc, replica, counters.sweep, rngStream), rngKey());
    let b = threefry4x32(vec4<u32>(2u * w.wc + 1u, replica, counters.sweep, rngStream), rngKey());
    let t = topPlanes(w.classes);
    var cmp = Comparison(0u, 0xffffffffu);
    cmp = compareBit(cmp, a.x, t.k0);
    cmp = compareBit(cmp, a.y, t.k1);
    cmp = compareBit(cmp, a.z, t.k2);
    cmp = compareBit(cmp, a.w, t.k3);
    cmp = compareBit(cmp, b.x, t.k4);
    cmp = compareBit(cmp, b.y, t.k5);
    cmp = compareBit(cmp, b.z, t.k6);
    cmp = compareBit(cmp, b.w, t.k7);
    // Lanes with t = ALWAYS compared against 0 above: they are decided here (and never refined).
    let always = alwaysLanes(w.classes);
    let tied = cmp.tied & w.valid & ~always;
    let below = (cmp.below | always) & w.valid;
    if (tied != 0u) {
      if (aggregateTies) {
        entry = vec2<u32>(k, tied);
        slot = atomicAdd(&groupTies, 1u);
      } else {
        ties[atomicAdd(&tieCounts[colour], 1u)] = vec2<u32>(k, tied);
      }
    }
    if (heatBath) {
      // Heat-bath: the new spin is up when below (tied lanes keep theirs until resolved).
      colours[w.own] = below | (w.s & tied);
    } else {
      // Metropolis: a flip when below.
      colours[w.own] = w.s ^ below;
    }
  }
  if (aggregateTies) {
    // One atomic on the list's count per workgroup, not per tied word.
    workgroupBarrier();
    if (lid == 0u) {
      let n = atomicLoad(&groupTies);
      if (n > 0u) {
        groupBase = atomicAdd(&tieCounts[colour], n);
      }
    }
    workgroupBarrier();
    if (entry.y != 0u) {
      ties[groupBase + slot] = entry;
    }
  }
}

/// The half-sweep's tied lanes, after sweepPacked: entry (k, tied) rebuilds word k's classes (the tied lanes'
/// spins and all neighbours are as sweepPacked saw them) and compares further planes 8 + 4q … 11 + 4q from
/// Threefry block (8·wc + q, firstReplica + r, sweep, refineStream), q = 0 … 5, while a lane is still tied.
/// Lanes equal on all 32 bits have U = t: not below. Entries are spread over the dispatch's invocations
/// (grid-stride); each is decided by its own counters, so the order of the list does not matter.
@compute @workgroup_size(workgroupSize)
fn resolveTies(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let count = atomicLoad(&tieCounts[colour]);
  let stride = numWorkgroups.x * numWorkgroups.y * numWorkgroups.z * workgroupSize;
  for (var i = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid; i < count; i += stride) {
    let entry = ties[i];
    let w = colourWord(entry.x);
    let replica = w.r + params.firstReplica;
    var cmp = Comparison(0u, entry.y);
    for (var q = 0u; q < 6u && cmp.tied != 0u; q++) {
      let more = threefry4x32(vec4<u32>(8u * w.wc + q, replica, counters.sweep, refineStream), rngKey());
      let top = 23u - 4u * q;
      cmp = compareBit(cmp, more.x, thresholdPlane(w.classes, top));
      cmp = compareBit(cmp, more.y, thresholdPlane(w.classes, top - 1u));
      cmp = compareBit(cmp, more.z, thresholdPlane(w.classes, top - 2u));
      cmp = compareBit(cmp, more.w, thresholdPlane(w.classes, top - 3u));
    }
    let current = colours[w.own];
    if (heatBath) {
      colours[w.own] = (current & ~entry.y) | cmp.below;
    } else {
      colours[w.own] = current ^ cmp.below;
    }
  }
}
