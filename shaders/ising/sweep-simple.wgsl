// `simple` checkerboard update: one invocation per spin of the active colour, for all replicas.
// Needs: wide-math, philox, dispatch, lattice. Metropolis or heat-bath (override `heatBath`).
//
// Colour c (override) holds the sites with (x + y) % 2 == c (2D) or x % 2 == c (1D ring). Neighbours
// are of the other colour and do not change during the half-sweep; several invocations share a storage
// word, so bits are read with atomicLoad and flipped with atomicXor.
//
// Random numbers: one Philox block per spin per half-sweep, counter (site, replica, sweep, rngStream)
// with rngStream = streamWord(purpose, colour) set by the host and replica = firstReplica + r (global);
// word 0 is used.

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read_write> spins: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> tables: array<ReplicaTable>;
@group(0) @binding(3) var<storage, read> counters: IsingCounters;

override colour: u32 = 0u;
override heatBath: bool = false;
override rngStream: u32 = 0u;

fn spinBit(r: u32, site: u32) -> u32 {
  return (atomicLoad(&spins[r * params.words + site / 32u]) >> (site % 32u)) & 1u;
}

@compute @workgroup_size(workgroupSize)
fn sweepSimple(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let halfSites = params.sites / 2u;
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * halfSites) {
    return;
  }
  let r = k / halfSites;
  let j = k % halfSites;
  var x: u32;
  var y = 0u;
  if (dims == 2u) {
    let half = params.lx / 2u;
    y = j / half;
    x = 2u * (j % half) + ((y + colour) & 1u);
  } else {
    x = 2u * j + colour;
  }
  let row = y * params.lx;
  let xl = select(x - 1u, params.lx - 1u, x == 0u);
  let xr = select(x + 1u, 0u, x + 1u == params.lx);
  var up = spinBit(r, row + xl) + spinBit(r, row + xr);
  if (dims == 2u) {
    let yu = select(y - 1u, params.ly - 1u, y == 0u);
    let yd = select(y + 1u, 0u, y + 1u == params.ly);
    up += spinBit(r, yu * params.lx + x) + spinBit(r, yd * params.lx + x);
  }
  let site = row + x;
  let s = spinBit(r, site);
  let u = unitFloat(philox4x32(vec4<u32>(site, r + params.firstReplica, counters.sweep, rngStream), params.key).x);
  var flip: bool;
  if (heatBath) {
    flip = select(0u, 1u, u < tables[r].heatBath[up]) != s;
  } else {
    flip = u < tables[r].metropolis[s * 5u + up];
  }
  if (flip) {
    atomicXor(&spins[r * params.words + site / 32u], 1u << (site % 32u));
  }
}
