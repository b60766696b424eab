// Generic dense product for the MLP (src/nn/mlp.ts), with a fused epilogue. Needs: nothing.
//
//   s[i, j] = Σ_k A(i, k) · B(k, j)      i < rows, j < cols, k < inner
//   A(i, k) = a[aOffset + i·aRowStride + k·aColStride],  B(k, j) = b[bOffset + k·bRowStride + j·bColStride]
//
// Strides make one kernel serve all three products of a layer: forward X·W (+ bias, activation), the
// backward input delta dY·Wᵀ (times the activation's derivative) and the weight gradient Xᵀ·dY. The
// result goes to c[cOffset + i·cols + j] after the epilogue (override `epilogue`):
//   0  forward:  c = f(s + b[biasOffset + j])        f per override `activation` (0 identity, 1 relu, 2 tanh)
//   1  backward: c = s · f'(aux[i·cols + j])         f' from the activation's output y: relu 1[y > 0], tanh 1 − y²
//   2  plain:    c = s
// Every sum runs over k in increasing order in one invocation: no atomics, results are deterministic.
//
// multiplyTiled: 16×16 invocations compute a 64×64 block of s through workgroup tiles of A [64 × 16] and
// B [16 × 64]; invocation (tx, ty) owns rows ty + 16·p and columns tx + 16·q (p, q < 4).
// multiplyDirect: no workgroup memory; each invocation owns an 8×8 block and reads its operands straight
// from the buffers, the variant CPU implementations of WebGPU (SwiftShader) need (see shaders/rbm/layer.wgsl).

struct ProductParams {
  rows: u32,
  cols: u32,
  inner: u32,
  aOffset: u32,
  aRowStride: u32,
  aColStride: u32,
  bOffset: u32,
  bRowStride: u32,
  bColStride: u32,
  biasOffset: u32,
  cOffset: u32,
}

@group(0) @binding(0) var<uniform> params: ProductParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
// The activation output whose derivative epilogue 1 applies ([rows × cols]); unused otherwise.
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override epilogue: u32 = 0u;
override activation: u32 = 0u;

const BLOCK: u32 = 64u;
const KSTEP: u32 = 16u;

var<workgroup> aTile: array<f32, BLOCK * KSTEP>;
var<workgroup> bTile: array<f32, KSTEP * BLOCK>;

fn activate(x: f32) -> f32 {
  if (activation == 1u) {
    return max(x, 0.0);
  }
  if (activation == 2u) {
    return tanh(x);
  }
  return x;
}

fn derivative(y: f32) -> f32 {
  if (activation == 1u) {
    return select(0.0, 1.0, y > 0.0);
  }
  if (activation == 2u) {
    return 1.0 - y * y;
  }
  return 1.0;
}

/// Writes element (i, j) of the product (in range) through the epilogue.
fn writeOut(i: u32, j: u32, s: f32) {
  let e = i * params.cols + j;
  if (epilogue == 0u) {
    c[params.cOffset + e] = activate(s + b[params.biasOffset + j]);
  } else if (epilogue == 1u) {
    c[params.cOffset + e] = s * derivative(aux[e]);
  } else {
    c[params.cOffset + e] = s;
  }
}

fn aAt(i: u32, k: u32) -> f32 {
  if (i >= params.rows || k >= params.inner) {
    return 0.0;
  }
  return a[params.aOffset + i * params.aRowStride + k * params.aColStride];
}

fn bAt(k: u32, j: u32) -> f32 {
  if (k >= params.inner || j >= params.cols) {
    return 0.0;
  }
  return b[params.bOffset + k * params.bRowStride + j * params.bColStride];
}

@compute @workgroup_size(16, 16)
fn multiplyTiled(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
) {
  // workgroupId.x: column block, workgroupId.y: row block.
  let col0 = workgroupId.x * BLOCK;
  let row0 = workgroupId.y * BLOCK;
  let tx = local.x;
  let ty = local.y;
  let lid = ty * 16u + tx;
  var acc: array<vec4<f32>, 4>;
  let steps = (params.inner + KSTEP - 1u) / KSTEP;
  for (var s = 0u; s < steps; s++) {
    let k0 = s * KSTEP;
    // 1024 values per tile, 4 per invocation: A tile row-major [64 × 16], B tile [16 × 64].
    for (var q = 0u; q < 4u; q++) {
      let e = lid + 256u * q;
      aTile[e] = aAt(row0 + e / KSTEP, k0 + e % KSTEP);
      bTile[e] = bAt(k0 + e / BLOCK, col0 + e % BLOCK);
    }
    workgroupBarrier();
    for (var k = 0u; k < KSTEP; k++) {
      let w = vec4<f32>(
        bTile[k * BLOCK + tx],
        bTile[k * BLOCK + tx + 16u],
        bTile[k * BLOCK + tx + 32u],
        bTile[k * BLOCK + tx + 48u],
      );
      for (var p = 0u; p < 4u; p++) {
        acc[p] += aTile[(ty + 16u * p) * KSTEP + k] * w;
      }
    }
    workgroupBarrier();
  }
  for (var p = 0u; p < 4u; p++) {
    let i = row0 + ty + 16u * p;
    for (var q = 0u; q < 4u; q++) {
      let j = col0 + tx + 16u * q;
      if (i < params.rows && j < params.cols) {
        writeOut(i, j, acc[p][q]);
      }
    }
  }
}

/// The 8×8 block of s owned by one invocation of multiplyDirect: rows i0 … i0+7 and columns j0 … j0+7,
/// clamped to the last row and column (the clamped duplicates are computed but not written). Element 2p
/// holds columns j0 … j0+3 of row i0 + p, element 2p + 1 columns j0+4 … j0+7. Named variables rather than
/// loop-indexed arrays: SwiftShader keeps the former in registers.
fn directBlock(i0: u32, j0: u32) -> array<vec4<f32>, 16> {
  let lastI = params.rows - 1u;
  let lastJ = params.cols - 1u;
  let ar = params.aRowStride;
  let bc = params.bColStride;
  let a0 = params.aOffset + min(i0, lastI) * ar;
  let a1 = params.aOffset + min(i0 + 1u, lastI) * ar;
  let a2 = params.aOffset + min(i0 + 2u, lastI) * ar;
  let a3 = params.aOffset + min(i0 + 3u, lastI) * ar;
  let a4 = params.aOffset + min(i0 + 4u, lastI) * ar;
  let a5 = params.aOffset + min(i0 + 5u, lastI) * ar;
  let a6 = params.aOffset + min(i0 + 6u, lastI) * ar;
  let a7 = params.aOffset + min(i0 + 7u, lastI) * ar;
  let b0 = params.bOffset + min(j0, lastJ) * bc;
  let b1 = params.bOffset + min(j0 + 1u, lastJ) * bc;
  let b2 = params.bOffset + min(j0 + 2u, lastJ) * bc;
  let b3 = params.bOffset + min(j0 + 3u, lastJ) * bc;
  let b4 = params.bOffset + min(j0 + 4u, lastJ) * bc;
  let b5 = params.bOffset + min(j0 + 5u, lastJ) * bc;
  let b6 = params.bOffset + min(j0 + 6u, lastJ) * bc;
  let b7 = params.bOffset + min(j0 + 7u, lastJ) * bc;
  var c0 = vec4<f32>();
  var d0 = vec4<f32>();
  var c1 = vec4<f32>();
  var d1 = vec4<f32>();
  var c2 = vec4<f32>();
  var d2 = vec4<f32>();
  var c3 = vec4<f32>();
  var d3 = vec4<f32>();
  var c4 = vec4<f32>();
  var d4 = vec4<f32>();
  var c5 = vec4<f32>();
  var d5 = vec4<f32>();
  var c6 = vec4<f32>();
  var d6 = vec4<f32>();
  var c7 = vec4<f32>();
  var d7 = vec4<f32>();
  for (var k = 0u; k < params.inner; k++) {
    let ka = k * params.aColStride;
    let kb = k * params.bRowStride;
    let wl = vec4<f32>(b[kb + b0], b[kb + b1], b[kb + b2], b[kb + b3]);
    let wh = vec4<f32>(b[kb + b4], b[kb + b5], b[kb + b6], b[kb + b7]);
    let x0 = a[a0 + ka];
    c0 += x0 * wl;
    d0 += x0 * wh;
    let x1 = a[a1 + ka];
    c1 += x1 * wl;
    d1 += x1 * wh;
    let x2 = a[a2 + ka];
    c2 += x2 * wl;
    d2 += x2 * wh;
    let x3 = a[a3 + ka];
    c3 += x3 * wl;
    d3 += x3 * wh;
    let x4 = a[a4 + ka];
    c4 += x4 * wl;
    d4 += x4 * wh;
    let x5 = a[a5 + ka];
    c5 += x5 * wl;
    d5 += x5 * wh;
    let x6 = a[a6 + ka];
    c6 += x6 * wl;
    d6 += x6 * wh;
    let x7 = a[a7 + ka];
    c7 += x7 * wl;
    d7 += x7 * wh;
  }
  return array<vec4<f32>, 16>(c0, d0, c1, d1, c2, d2, c3, d3, c4, d4, c5, d5, c6, d6, c7, d7);
}

@compute @workgroup_size(8, 8)
fn multiplyDirect(@builtin(global_invocation_id) id: vec3<u32>) {
  // id.x: block of 8 columns, id.y: block of 8 rows.
  let j0 = id.x * 8u;
  let i0 = id.y * 8u;
  if (j0 >= params.cols || i0 >= params.rows) {
    return;
  }
  let s = directBlock(i0, j0);
  for (var p = 0u; p < 8u; p++) {
    let i = i0 + p;
    if (i < params.rows) {
      for (var q = 0u; q < 8u; q++) {
        let j = j0 + q;
        if (j < params.cols) {
          writeOut(i, j, s[2u * p + q / 4u][q % 4u]);
        }
      }
    }
  }
}
