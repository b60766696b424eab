/**
 * The RBM model types shared by the engine, the model files and the CPU oracle: units, dense and
 * convolutional parameters, and their validation. Conventions: ../../shared/PHYSICS.md ("RBM conventions").
 */

/** Unit values of both layers: 'bernoulli' = {0, 1}, 'ising' = {−1, +1}. */
export type RbmUnits = 'bernoulli' | 'ising';

/** A dense RBM: W [nv × nh] row-major (W[i·nh + j]), visible bias a [nv], hidden bias b [nh]. */
export interface DenseRbm {
  units: RbmUnits;
  nv: number;
  nh: number;
  W: Float64Array;
  a: Float64Array;
  b: Float64Array;
}

/** A convolutional RBM on a periodic Lv×Lv lattice: W [filters·k·k] (W[(f·k + a)·k + b]), tied optional biases. */
export interface ConvRbm {
  units: RbmUnits;
  Lv: number;
  filters: number;
  k: number;
  stride: number;
  W: Float64Array;
  /** Tied visible bias (one for all sites); absent = 0 and not trained. */
  a?: number;
  /** Tied hidden biases, one per filter [filters]; absent = 0 and not trained. */
  b?: Float64Array;
}

/** Either kind of RBM. */
export type Rbm = DenseRbm | ConvRbm;

/** True for a convolutional RBM. */
export function isConvRbm(rbm: Rbm): rbm is ConvRbm {
  return 'Lv' in rbm;
}

/** Number of visible units (Lv² for a conv RBM). */
export function visibleCount(rbm: Rbm): number {
  return isConvRbm(rbm) ? rbm.Lv * rbm.Lv : rbm.nv;
}

/** Number of hidden units (filters·(Lv/stride)² for a conv RBM). */
export function hiddenCount(rbm: Rbm): number {
  return isConvRbm(rbm) ? rbm.filters * (rbm.Lv / rbm.stride) ** 2 : rbm.nh;
}

/** Throws a RangeError unless `value` is a positive safe integer. */
export function positiveInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${what} ${value} is not a positive integer`);
}

/** Throws a RangeError unless `array` has exactly `expected` values. */
export function checkLength(array: ArrayLike<number> | undefined, expected: number, what: string): void {
  if (!array || array.length !== expected) {
    throw new RangeError(`${what} has ${array ? array.length : 'no'} values; expected ${expected}`);
  }
}

/** Throws a RangeError naming the first inconsistent field (units, sizes, array lengths, stride). */
export function checkRbm(rbm: Rbm): void {
  if (rbm.units !== 'bernoulli' && rbm.units !== 'ising') {
    throw new RangeError(`RBM units '${String(rbm.units)}' are neither 'bernoulli' nor 'ising'`);
  }
  if (isConvRbm(rbm)) {
    positiveInteger(rbm.Lv, 'conv RBM lattice size Lv');
    positiveInteger(rbm.filters, 'conv RBM filter count');
    positiveInteger(rbm.k, 'conv RBM filter size k');
    positiveInteger(rbm.stride, 'conv RBM stride');
    if (rbm.Lv % rbm.stride !== 0)
      throw new RangeError(`conv RBM lattice ${rbm.Lv} is not divisible by stride ${rbm.stride}`);
    checkLength(
      rbm.W,
      rbm.filters * rbm.k * rbm.k,
      `conv RBM W (${rbm.filters} filters of ${rbm.k}×${rbm.k})`,
    );
    if (rbm.b !== undefined) checkLength(rbm.b, rbm.filters, `conv RBM hidden bias b (one per filter)`);
    if (rbm.a !== undefined && !Number.isFinite(rbm.a))
      throw new RangeError(`conv RBM visible bias ${rbm.a} is not finite`);
  } else {
    positiveInteger(rbm.nv, 'RBM visible count nv');
    positiveInteger(rbm.nh, 'RBM hidden count nh');
    checkLength(rbm.W, rbm.nv * rbm.nh, `RBM W [${rbm.nv} × ${rbm.nh}]`);
    checkLength(rbm.a, rbm.nv, 'RBM visible bias a');
    checkLength(rbm.b, rbm.nh, 'RBM hidden bias b');
  }
}

/** The visible biases as [nv]: a dense RBM's own `a` (not a copy), a conv RBM's tied bias repeated (zeros when absent). */
export function visibleBiases(rbm: Rbm): Float64Array {
  return isConvRbm(rbm) ? new Float64Array(visibleCount(rbm)).fill(rbm.a ?? 0) : rbm.a;
}

/** The hidden biases as [nh]: a dense RBM's own `b` (not a copy), a conv RBM's per-filter bias repeated (zeros when absent). */
export function hiddenBiases(rbm: Rbm): Float64Array {
  if (!isConvRbm(rbm)) return rbm.b;
  const nh = hiddenCount(rbm);
  const P2 = nh / rbm.filters;
  const b = new Float64Array(nh);
  if (rbm.b) for (let f = 0; f < rbm.filters; f++) b.fill(rbm.b[f]!, f * P2, (f + 1) * P2);
  return b;
}
