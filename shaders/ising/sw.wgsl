// Swendsen–Wang cluster update (2D, zero field, J > 0) for all replicas at once, in four dispatches per
// sweep: swInitLabels, swBonds, swRootFlips, swFlip (then advanceSweep). Needs: wide-math, philox,
// dispatch, lattice.
// The CPU oracle is src/reference/swendsen-wang.ts; this kernel reproduces it bit for bit.
//
// Labels: one u32 per site, labels[r·sites + i], holding a LOCAL site index (a parent pointer). Every
// pointer goes to a smaller index, so each tree's root is its smallest site. Unions are lock-free
// (atomicMin on the larger root), and the forest's trees end as the connected components of the active
// bonds whatever order the unions run in; so the root of a cluster is always its smallest site index and
// the result does not depend on scheduling.
//
// Random numbers, with replica = firstReplica + r (global):
//   bonds: philox((i, replica, sweep, bondStream), key); word 0 for the bond to the right neighbour of
//          site i = y·lx + x, word 1 for the bond below; active iff the spins are equal and word < θ_r,
//          θ_r = ⌊(1 − e^{−2K_r})·2³²⌋ (swThresholds, computed on the host; an exact integer comparison).
//   flips: every site of the cluster with root c flips iff philox((c, replica, sweep, flipStream))[0] is odd.
//          Each root draws once (swRootFlips) into a bit mask laid out like the spins; swFlip looks it up.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read_write> spins: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> swThresholds: array<u32>;
@group(0) @binding(4) var<storage, read> counters: IsingCounters;
// One bit per site, bit i of replica r's words: set iff site i is a root whose cluster flips.
@group(0) @binding(5) var<storage, read_write> flipMask: array<atomic<u32>>;

override bondStream: u32 = 0u;
override flipStream: u32 = 0u;

fn swSpinBit(r: u32, site: u32) -> u32 {
  return (atomicLoad(&spins[r * params.words + site / 32u]) >> (site % 32u)) & 1u;
}

// The root of site a's tree in the replica whose labels start at `base`, halving the path on the way:
// a parent is only ever lowered to one of its ancestors (atomicMin), which keeps every tree connected.
fn findRoot(base: u32, start: u32) -> u32 {
  var a = start;
  loop {
    let p = atomicLoad(&labels[base + a]);
    if (p == a) {
      return a;
    }
    let g = atomicLoad(&labels[base + p]);
    if (g == p) {
      return p;
    }
    atomicMin(&labels[base + a], g);
    a = g;
  }
}

// Joins the trees of sites a and b: the larger root is linked under the smaller. If another invocation
// linked that root first (atomicMin returns its new parent), the union continues from that parent.
fn unite(base: u32, first: u32, second: u32) {
  var a = first;
  var b = second;
  loop {
    a = findRoot(base, a);
    b = findRoot(base, b);
    if (a == b) {
      return;
    }
    if (a < b) {
      let t = a;
      a = b;
      b = t;
    }
    let old = atomicMin(&labels[base + a], b);
    if (old == a) {
      return;
    }
    a = old;
  }
}

// Every site its own cluster: labels[r·sites + i] = i; the flip mask cleared.
@compute @workgroup_size(workgroupSize)
fn swInitLabels(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.sites) {
    return;
  }
  let i = k % params.sites;
  atomicStore(&labels[k], i);
  if (i % 32u == 0u) {
    atomicStore(&flipMask[(k / params.sites) * params.words + i / 32u], 0u);
  }
}

// One invocation per site: draws its right and down bonds and joins the clusters they connect.
@compute @workgroup_size(workgroupSize)
fn swBonds(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.sites) {
    return;
  }
  let r = k / params.sites;
  let i = k % params.sites;
  let x = i % params.lx;
  let y = i / params.lx;
  let right = y * params.lx + select(x + 1u, 0u, x + 1u == params.lx);
  let down = select(y + 1u, 0u, y + 1u == params.ly) * params.lx + x;
  let w = philox4x32(vec4<u32>(i, r + params.firstReplica, counters.sweep, bondStream), params.key);
  let theta = swThresholds[r];
  let s = swSpinBit(r, i);
  let base = r * params.sites;
  if (w.x < theta && swSpinBit(r, right) == s) {
    unite(base, i, right);
  }
  if (w.y < theta && swSpinBit(r, down) == s) {
    unite(base, i, down);
  }
}

// One invocation per site: a root (labels[i] = i once all unions are done) draws its cluster's flip.
@compute @workgroup_size(workgroupSize)
fn swRootFlips(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.sites) {
    return;
  }
  let r = k / params.sites;
  let i = k % params.sites;
  if (atomicLoad(&labels[k]) != i) {
    return;
  }
  let draw = philox4x32(vec4<u32>(i, r + params.firstReplica, counters.sweep, flipStream), params.key);
  if ((draw.x & 1u) == 1u) {
    atomicOr(&flipMask[r * params.words + i / 32u], 1u << (i % 32u));
  }
}

// One invocation per spin word: each site flips iff its cluster's root is marked in the flip mask.
// Consecutive sites usually share a root, so the last root's decision is reused.
@compute @workgroup_size(workgroupSize)
fn swFlip(
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
  let base = r * params.sites;
  let count = min(32u, params.sites - 32u * w);
  var mask = 0u;
  var lastRoot = 0xffffffffu;
  var lastFlip = 0u;
  for (var b = 0u; b < count; b++) {
    let root = findRoot(base, 32u * w + b);
    if (root != lastRoot) {
      lastRoot = root;
      lastFlip = (atomicLoad(&flipMask[r * params.words + root / 32u]) >> (root % 32u)) & 1u;
    }
    mask |= lastFlip << b;
  }
  atomicXor(&spins[k], mask);
}
