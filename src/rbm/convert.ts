/**
 * ±1 ↔ {0,1} conversion of dense RBM parameters and of data (PHYSICS.md, "RBM conventions").
 *
 * With s = 2v − 1 and σ = 2h − 1 the ±1 energy becomes
 *   −E±(s, σ) = (2a − 2W·1)·v + (2b − 2Wᵀ1)·h + 4 vᵀWh + (ΣW − Σa − Σb) = −E01(v, h) + C,
 * so W01 = 4W, a01 = 2a − 2Σ_j W, b01 = 2b − 2Σ_i W, and the two models define the same distribution over
 * corresponding states. Their normalisers differ by the constant: ln Z± = ln Z01 + C with
 * C = ΣW − Σa − Σb (the ±1 parameters), and F±(s(v)) = F01(v) − C.
 */
import { checkRbm, type DenseRbm, type RbmUnits } from './model.ts';

/** The {0,1} RBM equivalent to a ±1 RBM: W01 = 4W, a01 = 2a − 2Σ_j W_ij, b01 = 2b − 2Σ_i W_ij. */
export function isingToBernoulliRbm(rbm: DenseRbm): DenseRbm {
  checkRbm(rbm);
  if (rbm.units !== 'ising')
    throw new RangeError(`isingToBernoulliRbm needs units 'ising'; got '${rbm.units}'`);
  const { nv, nh, W } = rbm;
  const a = new Float64Array(nv);
  const b = new Float64Array(nh);
  for (let i = 0; i < nv; i++) {
    let row = 0;
    for (let j = 0; j < nh; j++) {
      row += W[i * nh + j]!;
      b[j]! += W[i * nh + j]!;
    }
    a[i] = 2 * rbm.a[i]! - 2 * row;
  }
  for (let j = 0; j < nh; j++) b[j] = 2 * rbm.b[j]! - 2 * b[j]!;
  return { units: 'bernoulli', nv, nh, W: W.map((w) => 4 * w), a, b };
}

/** The ±1 RBM equivalent to a {0,1} RBM: W = W01/4, a = a01/2 + Σ_j W01_ij/4, b = b01/2 + Σ_i W01_ij/4. */
export function bernoulliToIsingRbm(rbm: DenseRbm): DenseRbm {
  checkRbm(rbm);
  if (rbm.units !== 'bernoulli')
    throw new RangeError(`bernoulliToIsingRbm needs units 'bernoulli'; got '${rbm.units}'`);
  const { nv, nh } = rbm;
  const W = rbm.W.map((w) => w / 4);
  const a = new Float64Array(nv);
  const b = new Float64Array(nh);
  for (let i = 0; i < nv; i++) {
    let row = 0;
    for (let j = 0; j < nh; j++) {
      row += W[i * nh + j]!;
      b[j]! += W[i * nh + j]!;
    }
    a[i] = rbm.a[i]! / 2 + row;
  }
  for (let j = 0; j < nh; j++) b[j] = rbm.b[j]! / 2 + b[j]!;
  return { units: 'ising', nv, nh, W, a, b };
}

/** The equivalent RBM in `units` (a copy when it already has them). */
export function convertRbm(rbm: DenseRbm, units: RbmUnits): DenseRbm {
  if (rbm.units === units) {
    checkRbm(rbm);
    return { ...rbm, W: rbm.W.slice(), a: rbm.a.slice(), b: rbm.b.slice() };
  }
  return units === 'bernoulli' ? isingToBernoulliRbm(rbm) : bernoulliToIsingRbm(rbm);
}

/** ln Z± − ln Z01 = ΣW − Σa − Σb for a ±1 RBM and its {0,1} equivalent (also F01(v) − F±(s(v))). */
export function conversionLogZOffset(isingRbm: DenseRbm): number {
  checkRbm(isingRbm);
  if (isingRbm.units !== 'ising')
    throw new RangeError(`conversionLogZOffset takes the ±1 model; got units '${isingRbm.units}'`);
  let c = 0;
  for (const w of isingRbm.W) c += w;
  for (const x of isingRbm.a) c -= x;
  for (const x of isingRbm.b) c -= x;
  return c;
}

/**
 * Converts data between unit conventions (v = (s + 1)/2, s = 2v − 1) into a new Float32Array; every value must
 * be one of the source units' two values (a RangeError names the first that is not, with its index).
 */
export function convertData(data: ArrayLike<number>, from: RbmUnits, to: RbmUnits): Float32Array {
  const fromOff = from === 'ising' ? -1 : 0;
  const toOff = to === 'ising' ? -1 : 0;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x === 1) out[i] = 1;
    else if (x === fromOff) out[i] = toOff;
    else throw new RangeError(`value ${x} at index ${i} is not a ${from} unit value (${fromOff} or 1)`);
  }
  return out;
}
