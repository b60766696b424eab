// Observables, per storage word, reduced afterwards per replica by the segmented reduction.
// Needs: dispatch, lattice.
//
// measureWords writes, for word k = r·words + w, the sum over its sites of
//   bonds: s·s(x+1, y) + s·s(x, y+1) (2D) or s·s(x+1) (1D)   → partials[k]
//   magnetisation: Σ s                                        → partials[replicas·words + k]
// so that E = −J·bonds − h·M per replica. On an L = 2 axis the right and left neighbours coincide and
// the bond is counted twice, as the update kernels do.
//
// measureCorrelation writes, for (r, d, y), Σ_x s(x, y)·[s(x + d, y) + s(x, y + d)] (2D; 1D: first term)
// → correlationPartials[(r·distances + d)·ly + y].

@group(0) @binding(0) var<uniform> params: IsingParams;
@group(0) @binding(1) var<storage, read> spins: array<u32>;
@group(0) @binding(2) var<storage, read_write> partials: array<i32>;

// True when lx is a multiple of 32 (rows start at word boundaries): word-parallel bond counts.
override alignedRows: bool = false;
// True (2D) when lx < 32 divides 32 and the replica fills whole words (sites a multiple of 32): each word then
// holds 32 / lx whole rows, and bond counts are word-parallel too.
override wholeRows: bool = false;

fn bit(r: u32, site: u32) -> u32 {
  return (spins[r * params.words + site / 32u] >> (site % 32u)) & 1u;
}

fn product(a: u32, b: u32) -> i32 {
  return select(-1, 1, a == b);
}

@compute @workgroup_size(workgroupSize)
fn measureWords(
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
  let c = spins[k];
  let validBits = min(32u, params.sites - 32u * w);
  let mask = select((1u << validBits) - 1u, 0xffffffffu, validBits == 32u);
  let magnetisation = 2 * i32(countOneBits(c & mask)) - i32(validBits);
  var bonds = 0;
  if (alignedRows) {
    // Anti-aligned pairs are the set bits of c XOR neighbour: bonds = 32 − 2·popcount per direction.
    let rowWords = params.lx / 32u;
    let y = w / rowWords;
    let wx = w % rowWords;
    let base = r * params.words;
    let rightWord = spins[base + y * rowWords + (wx + 1u) % rowWords];
    let right = (c >> 1u) | (rightWord << 31u);
    bonds = 32 - 2 * i32(countOneBits(c ^ right));
    if (dims == 2u) {
      let down = spins[base + ((y + 1u) % params.ly) * rowWords + wx];
      bonds += 32 - 2 * i32(countOneBits(c ^ down));
    }
  } else if (wholeRows) {
    // Right neighbours: shift by one within each row, the first column rotated into the last.
    var lastColumn = 0u;
    for (var b = params.lx - 1u; b < 32u; b += params.lx) {
      lastColumn |= 1u << b;
    }
    let right = ((c >> 1u) & ~lastColumn) | ((c << (params.lx - 1u)) & lastColumn);
    bonds = 32 - 2 * i32(countOneBits(c ^ right));
    // Down neighbours: lx bits on, the rows below the word's last row coming from the next word (row 0 after
    // the replica's last word).
    let next = spins[r * params.words + (w + 1u) % params.words];
    let down = (c >> params.lx) | (next << (32u - params.lx));
    bonds += 32 - 2 * i32(countOneBits(c ^ down));
  } else {
    for (var b = 0u; b < validBits; b++) {
      let site = 32u * w + b;
      let x = site % params.lx;
      let y = site / params.lx;
      let s = (c >> b) & 1u;
      bonds += product(s, bit(r, y * params.lx + (x + 1u) % params.lx));
      if (dims == 2u) {
        bonds += product(s, bit(r, ((y + 1u) % params.ly) * params.lx + x));
      }
    }
  }
  partials[k] = bonds;
  partials[params.replicas * params.words + k] = magnetisation;
}

@compute @workgroup_size(workgroupSize)
fn measureCorrelation(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let k = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (k >= params.replicas * params.distances * params.ly) {
    return;
  }
  let y = k % params.ly;
  let d = (k / params.ly) % params.distances;
  let r = k / (params.ly * params.distances);
  var sum = 0;
  for (var x = 0u; x < params.lx; x++) {
    let s = bit(r, y * params.lx + x);
    sum += product(s, bit(r, y * params.lx + (x + d) % params.lx));
    if (dims == 2u) {
      sum += product(s, bit(r, ((y + d) % params.ly) * params.lx + x));
    }
  }
  partials[k] = sum;
}
