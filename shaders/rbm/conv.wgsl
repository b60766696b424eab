// Conditional sampling of a convolutional (translation-invariant) RBM layer, one invocation per
// (row, unit). Needs: wide-math, philox, dispatch, layer-common.
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

@compute @workgroup_size(workgroupSize)
fn sampleHiddenConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (t >= params.rows * params.units) {
    return;
  }
  let r = t / params.units;
  let j = t % params.units;
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
  writeUnit(r, j, x);
}

@compute @workgroup_size(workgroupSize)
fn sampleVisibleConv(
  @builtin(workgroup_id) workgroupId: vec3<u32>,
  @builtin(num_workgroups) numWorkgroups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = linearWorkgroupIndex(workgroupId, numWorkgroups) * workgroupSize + lid;
  if (t >= params.rows * params.units) {
    return;
  }
  let r = t / params.units;
  let i = t % params.units;
  let p = i / params.lv;
  let q = i % params.lv;
  let positions = params.side * params.side;
  var x = parameters[params.biasOffset + i];
  for (var a = 0u; a < params.kernelSize; a++) {
    // s·I ≡ p − a (mod Lv): a contribution only when that residue is a multiple of the stride.
    let dp = (p + params.lv - a % params.lv) % params.lv;
    if (dp % params.stride != 0u) {
      continue;
    }
    let I = dp / params.stride;
    for (var b = 0u; b < params.kernelSize; b++) {
      let dq = (q + params.lv - b % params.lv) % params.lv;
      if (dq % params.stride != 0u) {
        continue;
      }
      let J = dq / params.stride;
      for (var f = 0u; f < params.filters; f++) {
        x += filterWeight(f, a, b) * input[r * params.fanIn + f * positions + I * params.side + J];
      }
    }
  }
  writeUnit(r, i, x);
}
