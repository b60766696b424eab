// Conditional sampling of a convolutional (translation-invariant) RBM layer, one invocation per row and
// quad of units 4q … 4q+3 (which share one Philox block, layer-common.wgsl). Needs: wide-math, philox, dispatch, layer-common.
//
// Visible: Lv×Lv periodic lattice, site p·Lv + q. Hidden unit j = f·side² + I·side + J (filter f,
// position I, J; side = Lv / stride). Filter W[f, a, b] (index f·k² + a·k + b) is anchored at the
// top-left of its patch (Chung & Kao):
//   hidden:  x[f, I, J] = b[j] + Σ_{a,b<k} W[f, a, b] · v[(s·I + a) mod Lv, (s·J + b) mod Lv]
//   visible: x[p, q]    = a[i] + Σ_f Σ_{a,b} W[f, a, b] · h[f, I, J] over the (I, J) with
//            s·I + a ≡ p and s·J + b ≡ q (mod Lv) — the transposed convolution.

override workgroupSize: u32 = 64u;

fn filterWeight(f: u32, a: u32, b: u32) -> f32 {
  return parameters[(f * params.kernelSize + a) * params.kernelSize + b];
}

/// x of hidden unit j of row r, without the beta factor.
fn hiddenInput(r: u32, j: u32) -> f32 {
  let positions = params.side * params.side;
  let f = j / positions;
  let I = (j % positions) / params.side;
  let J = j % params.side;
  var x = parameters[params.biasOffset + j];
  for (var a = 0u; a < params.kernelSize; a++) {
    let p = (params.stride * I + a) % params.lv;
    for (var b = 0u; b < params.kernelSize; b++) {
      let q = (params.stride * J + b) % params.lv;
      x += filterWeight(f, a, b) * input[r * params.fanIn + p * params.lv + q];
    }
  }
  return x;
}

/// x of visible unit i of row r, without the beta factor.
fn visibleInput(r: u32, i: u32) -> f32 {
  let p = i / params.lv;
  let q = i % params.lv;
  let positions = params.side * params.side;
  var x = parameters[params.biasOffset + i];
  // s·I ≡ p − a (mod Lv) needs a ≡ p (mod s) (the stride divides Lv): only those a and b contribute.
  for (var a = p % params.stride; a < params.kernelSize; a += params.stride) {
    let I = ((p + params.lv - a % params.lv) % params.lv) / params.stride;
    for (var b = q % params.stride; b < params.kernelSize; b += params.stride) {
      let J = ((q + params.lv - b % params.lv) % params.lv) / params.stride;
      let h = r * params.fanIn + I * params.side + J;
      for (var f = 0u; f < params.filters; f++) {
        x += filterWeight(f, a, b) * input[h + f * positions];
      }
    }
  }
  return x;
}

/// x of unit j of row r in the hidden or the visible layer.
fn unitInput(r: u32, j: u32, hidden: bool) -> f32 {
  if (hidden) {
    return hiddenInput(r, j);
  }
  return visibleInput(r, j);
}

/// Samples this invocation's row and quad of units 4q … 4q+3 (the last quad clamped to the last unit).
fn sampleQuad(workgroupId: vec3<u32>, numWorkgroups: vec3<u32>, lid: u32, hidden: bool) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  let quads = (params.units + 3u) / 4u;
  if (t >= params.rows * quads) {
    return;
  }
  let r = t / quads;
  let q = t % quads;
  let last = params.units - 1u;
  let j0 = 4u * q;
  let x = vec4<f32>(
    unitInput(r, j0, hidden),
    unitInput(r, min(j0 + 1u, last), hidden),
    unitInput(r, min(j0 + 2u, last), hidden),
    unitInput(r, min(j0 + 3u, last), hidden),
  );
  writeQuad(r, q, x);
}

@compute @workgroup_size(workgroupSize)
fn sampleHiddenConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  sampleQuad(workgroupId, numWorkgroups, lid, true);
}

@compute @workgroup_size(workgroupSize)
fn sampleVisibleConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  sampleQuad(workgroupId, numWorkgroups, lid, false);
}
