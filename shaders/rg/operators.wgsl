// The MCRG operators of one level: one workgroup per sample sums, over every anchor site (periodic wrap),
// products of spins at offsets (row, column) from the anchor (PHYSICS.md, "Monte Carlo renormalization
// group" and "Odd operators"), in i32 — exact: |sum| ≤ 4·sites < 2^31 (the host checks the lattice size).
// Each invocation folds the anchors lid, lid + workgroupSize, …, then a shared-memory tree adds the
// invocations' sums in a fixed order (common/reduce-tree.wgsl's treeReduceShared over an array accumulator).
// Needs: dispatch, reduce-tree (it declares sharedAcc of this file's Acc).
//
// 2D, s_ab = s at (y + a, x + b), 11 operators: even
//   0 s00 s01 + s00 s10                        1 s00 s11 + s01 s10               2 s00 s01 s10 s11
//   3 s00 s02 + s00 s20                        4 s00 s12 + s01 s20 + s00 s21 + s02 s10
//   5 s01 s10 s12 s21                          6 s00 s22 + s02 s20
// odd
//   7 s00        8 s00 s01 s10 + s00 s01 s11 + s00 s10 s11 + s01 s10 s11
//   9 s00 s01 s02 + s00 s10 s20                10 s00 s11 s22 + s02 s11 s20
// Ring, 3 operators: 0 s_i s_{i+1}, 1 s_i s_{i+2}, 2 s_i.
// Output: operators[outputOffset + r·sampleStride + k] for operator k of sample r.

struct OperatorParams {
  batch: u32,
  side: u32,
  outputOffset: u32,
  sampleStride: u32,
}

@group(0) @binding(0) var<uniform> params: OperatorParams;
@group(0) @binding(1) var<storage, read> spins: array<f32>;
@group(0) @binding(2) var<storage, read_write> operators: array<i32>;

// A power of two (the tree halves it).
override workgroupSize: u32 = 64u;

const maxOperators = 11u;

// The accumulator of the shared tree (reduce-tree.wgsl): every operator's partial sum, added exactly in i32.
alias Acc = array<i32, maxOperators>;

fn accCombine(a: Acc, b: Acc) -> Acc {
  var c = a;
  for (var k = 0u; k < maxOperators; k++) {
    c[k] += b[k];
  }
  return c;
}

fn spinAt(base: u32, y: u32, x: u32) -> i32 {
  let L = params.side;
  return i32(spins[base + (y % L) * L + x % L]);
}

/// The 11 operator terms of the anchor (y, x) of the lattice starting at `base`.
fn anchorTerms2d(base: u32, y: u32, x: u32) -> array<i32, maxOperators> {
  let s00 = spinAt(base, y, x);
  let s01 = spinAt(base, y, x + 1u);
  let s02 = spinAt(base, y, x + 2u);
  let s10 = spinAt(base, y + 1u, x);
  let s11 = spinAt(base, y + 1u, x + 1u);
  let s12 = spinAt(base, y + 1u, x + 2u);
  let s20 = spinAt(base, y + 2u, x);
  let s21 = spinAt(base, y + 2u, x + 1u);
  let s22 = spinAt(base, y + 2u, x + 2u);
  return array<i32, maxOperators>(
    s00 * s01 + s00 * s10,
    s00 * s11 + s01 * s10,
    s00 * s01 * s10 * s11,
    s00 * s02 + s00 * s20,
    s00 * s12 + s01 * s20 + s00 * s21 + s02 * s10,
    s01 * s10 * s12 * s21,
    s00 * s22 + s02 * s20,
    s00,
    s00 * s01 * s10 + s00 * s01 * s11 + s00 * s10 * s11 + s01 * s10 * s11,
    s00 * s01 * s02 + s00 * s10 * s20,
    s00 * s11 * s22 + s02 * s11 * s20,
  );
}

/// The 3 ring terms of site i (the rest 0).
fn anchorTerms1d(base: u32, i: u32) -> array<i32, maxOperators> {
  let L = params.side;
  let s0 = i32(spins[base + i]);
  let s1 = i32(spins[base + (i + 1u) % L]);
  let s2 = i32(spins[base + (i + 2u) % L]);
  var t = array<i32, maxOperators>();
  t[0] = s0 * s1;
  t[1] = s0 * s2;
  t[2] = s0;
  return t;
}

/// Adds the workgroup's sums (fixed tree order) and writes the `count` totals of sample r.
fn reduceAndWrite(acc: Acc, lid: u32, r: u32, count: u32) {
  sharedAcc[lid] = acc;
  treeReduceShared(lid, workgroupSize);
  if (lid < count) {
    operators[params.outputOffset + r * params.sampleStride + lid] = sharedAcc[0][lid];
  }
}

@compute @workgroup_size(workgroupSize)
fn measureOperators2d(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Workgroup-uniform: the whole workgroup returns together (barriers follow).
  let r = linearWorkgroupIndex(workgroupId, numWorkgroups);
  if (r >= params.batch) {
    return;
  }
  let L = params.side;
  let base = r * L * L;
  var acc = array<i32, maxOperators>();
  for (var site = lid; site < L * L; site += workgroupSize) {
    let t = anchorTerms2d(base, site / L, site % L);
    for (var k = 0u; k < maxOperators; k++) {
      acc[k] += t[k];
    }
  }
  reduceAndWrite(acc, lid, r, 11u);
}

@compute @workgroup_size(workgroupSize)
fn measureOperators1d(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = linearWorkgroupIndex(workgroupId, numWorkgroups);
  if (r >= params.batch) {
    return;
  }
  let L = params.side;
  let base = r * L;
  var acc = array<i32, maxOperators>();
  for (var i = lid; i < L; i += workgroupSize) {
    let t = anchorTerms1d(base, i);
    for (var k = 0u; k < 3u; k++) {
      acc[k] += t[k];
    }
  }
  reduceAndWrite(acc, lid, r, 3u);
}
