/**
 * CPU oracle (plain f64) of the restricted Boltzmann machine: conditionals, energies, free energies, Gibbs
 * sampling from explicit uniforms, CD-k / PCD gradients, exact partition functions and likelihoods by
 * enumeration, pseudo-likelihood, reconstruction error, annealed importance sampling and the KL divergence.
 *
 * Conventions (docs PHYSICS.md, "RBM conventions"); the GPU engine follows them exactly:
 * - Units are 'bernoulli' ({0, 1}) or 'ising' (±1), the same for both layers. "On" means 1 or +1.
 * - Dense weights W are [nv × nh] row-major, W[i·nh + j]; visible bias a [nv], hidden bias b [nh].
 *   E(v, h) = −a·v − b·h − vᵀWh. The hidden input is x_j = b_j + Σ_i v_i W_ij, the visible input
 *   y_i = a_i + Σ_j W_ij h_j. P(on) = sigmoid(x) for {0,1}, sigmoid(2x) for ±1; the mean is sigmoid(x),
 *   resp. tanh(x). F(v) = −a·v − Σ_j φ(x_j), φ = softplus for {0,1}, ln 2cosh for ±1.
 * - Convolutional weights: periodic Lv×Lv visible lattice (site p·Lv + q), F filters of k×k, stride s,
 *   P = Lv/s; hidden j = f·P² + I·P + J with x_j = b_f + Σ_{a,b<k} W[f][a][b]·v[((sI+a) mod Lv)·Lv + (sJ+b) mod Lv].
 *   The visible input is the transposed convolution. Biases are optional and tied (one per filter, one for
 *   every site); absent means zero. A conv RBM is exactly the dense RBM `toDenseRbm(conv)`.
 * - Batches are flat arrays of C configurations, configuration c at [c·n, (c+1)·n).
 * - A unit is sampled on iff u < P(on) for its uniform u ∈ [0, 1).
 */
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import {
  checkLength,
  checkRbm,
  positiveInteger,
  hiddenBiases,
  hiddenCount,
  isConvRbm,
  visibleBiases,
  visibleCount,
  type ConvRbm,
  type DenseRbm,
  type Rbm,
  type RbmUnits,
} from '../rbm/model.ts';

export * from '../rbm/model.ts';
export { philoxUniforms } from '../gpu/philox.ts';

/**
 * A log-likelihood gradient (ascent direction), averaged per sample. Dense: dW [nv·nh], da [nv], db [nh].
 * Conv: dW [filters·k·k] summed over positions, da [1] (tied, summed over sites), db [filters] (summed over
 * positions); da and db are computed even when the model has no biases (the trainer then ignores them).
 */
export interface RbmGradient {
  dW: Float64Array;
  da: Float64Array;
  db: Float64Array;
}

/**
 * Uniforms in [0, 1) for sampling: an array consumed in the documented order (its length must be exact), or
 * a function called once per uniform in that order.
 */
export type UniformSource = ArrayLike<number> | (() => number);

/** Largest layer that exact enumeration accepts (2^20 states). */
export const MAX_ENUMERATED_UNITS = 20;

/** Largest dense matrix (nv·nh entries) built from a conv RBM for the exact / pseudo-likelihood oracles. */
export const MAX_DENSE_ENTRIES = 2 ** 25;

// ---------------------------------------------------------------------------------------------- scalars

/** Logistic function 1/(1 + e^−x), without overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** softplus(x) = ln(1 + e^x), without overflow. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** ln 2cosh(x) = ln(e^x + e^−x), without overflow. */
export function logTwoCosh(x: number): number {
  const y = Math.abs(x);
  return y + Math.log1p(Math.exp(-2 * y));
}

/** P(unit on | input x): sigmoid(x) for {0,1}, sigmoid(2x) for ±1. */
export function onProbability(units: RbmUnits, x: number): number {
  return units === 'ising' ? sigmoid(2 * x) : sigmoid(x);
}

/** E[unit | input x]: sigmoid(x) for {0,1}, tanh(x) for ±1. */
export function unitMean(units: RbmUnits, x: number): number {
  return units === 'ising' ? Math.tanh(x) : sigmoid(x);
}

/** ln Σ_{u ∈ unit values} e^{u x}: softplus(x) for {0,1}, ln 2cosh(x) for ±1. */
export function unitLogSum(units: RbmUnits, x: number): number {
  return units === 'ising' ? logTwoCosh(x) : softplus(x);
}

/** The "off" value of a unit: 0 for {0,1}, −1 for ±1. */
export function offValue(units: RbmUnits): number {
  return units === 'ising' ? -1 : 0;
}

/** Number of configurations in a flat batch of `length` values of `size` units each. */
function batchCount(length: number, size: number, what: string): number {
  if (length === 0 || length % size !== 0) {
    throw new RangeError(`${what} has ${length} values; expected a positive multiple of ${size}`);
  }
  return length / size;
}

const siteTables = new Map<string, Int32Array>();

/**
 * The visible site under each filter tap: table[(pos·k + a)·k + b] = ((s·I + a) mod Lv)·Lv + (s·J + b) mod Lv,
 * pos = I·P + J. Memoised per geometry.
 */
export function convSites(Lv: number, k: number, stride: number): Int32Array {
  const key = `${Lv},${k},${stride}`;
  let table = siteTables.get(key);
  if (!table) {
    const P = Lv / stride;
    table = new Int32Array(P * P * k * k);
    for (let I = 0; I < P; I++) {
      for (let J = 0; J < P; J++) {
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            table[((I * P + J) * k + a) * k + b] = ((stride * I + a) % Lv) * Lv + ((stride * J + b) % Lv);
          }
        }
      }
    }
    siteTables.set(key, table);
  }
  return table;
}

/** The dense weights [nv × nh] of a conv RBM (tied copies; taps that wrap onto the same site add up). */
export function convToDense(conv: ConvRbm): Float64Array {
  checkRbm(conv);
  const nv = visibleCount(conv);
  const nh = hiddenCount(conv);
  if (nv * nh > MAX_DENSE_ENTRIES) {
    throw new RangeError(
      `dense form of the conv RBM has ${nv}×${nh} = ${nv * nh} weights; the limit is ${MAX_DENSE_ENTRIES}`,
    );
  }
  const { k, filters } = conv;
  const kk = k * k;
  const P2 = nh / filters;
  const sites = convSites(conv.Lv, k, conv.stride);
  const W = new Float64Array(nv * nh);
  for (let f = 0; f < filters; f++) {
    for (let pos = 0; pos < P2; pos++) {
      const j = f * P2 + pos;
      for (let e = 0; e < kk; e++) W[sites[pos * kk + e]! * nh + j]! += conv.W[f * kk + e]!;
    }
  }
  return W;
}

/** The dense RBM equal to `rbm` (a copy for a dense one; tied weights and expanded biases for a conv one). */
export function toDenseRbm(rbm: Rbm): DenseRbm {
  checkRbm(rbm);
  if (!isConvRbm(rbm)) {
    return { units: rbm.units, nv: rbm.nv, nh: rbm.nh, W: rbm.W.slice(), a: rbm.a.slice(), b: rbm.b.slice() };
  }
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const P2 = nh / rbm.filters;
  const b = new Float64Array(nh);
  if (rbm.b) for (let f = 0; f < rbm.filters; f++) b.fill(rbm.b[f]!, f * P2, (f + 1) * P2);
  return { units: rbm.units, nv, nh, W: convToDense(rbm), a: new Float64Array(nv).fill(rbm.a ?? 0), b };
}

// ---------------------------------------------------------------------------------------- conditionals

/** Hidden inputs x = b + Wᵀv for one visible configuration or a batch ([C·nv] → [C·nh]). */
export function hiddenInput(rbm: Rbm, v: ArrayLike<number>): Float64Array {
  checkRbm(rbm);
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const C = batchCount(v.length, nv, 'visible configuration(s)');
  const x = new Float64Array(C * nh);
  if (isConvRbm(rbm)) {
    const { k, filters, W } = rbm;
    const kk = k * k;
    const P2 = nh / filters;
    const sites = convSites(rbm.Lv, k, rbm.stride);
    for (let c = 0; c < C; c++) {
      const vo = c * nv;
      for (let f = 0; f < filters; f++) {
        const bf = rbm.b ? rbm.b[f]! : 0;
        for (let pos = 0; pos < P2; pos++) {
          let sum = bf;
          const so = pos * kk;
          const wo = f * kk;
          for (let e = 0; e < kk; e++) sum += W[wo + e]! * v[vo + sites[so + e]!]!;
          x[c * nh + f * P2 + pos] = sum;
        }
      }
    }
  } else {
    const { W, b } = rbm;
    for (let c = 0; c < C; c++) {
      const xo = c * nh;
      x.set(b, xo);
      for (let i = 0; i < nv; i++) {
        const vi = v[c * nv + i]!;
        if (vi === 0) continue;
        const row = i * nh;
        for (let j = 0; j < nh; j++) x[xo + j]! += vi * W[row + j]!;
      }
    }
  }
  return x;
}

/** Visible inputs y = a + W h for one hidden configuration or a batch ([C·nh] → [C·nv]; conv: transposed convolution). */
export function visibleInput(rbm: Rbm, h: ArrayLike<number>): Float64Array {
  checkRbm(rbm);
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const C = batchCount(h.length, nh, 'hidden configuration(s)');
  const y = new Float64Array(C * nv);
  if (isConvRbm(rbm)) {
    const { k, filters, W } = rbm;
    const kk = k * k;
    const P2 = nh / filters;
    const sites = convSites(rbm.Lv, k, rbm.stride);
    y.fill(rbm.a ?? 0);
    for (let c = 0; c < C; c++) {
      const yo = c * nv;
      for (let f = 0; f < filters; f++) {
        for (let pos = 0; pos < P2; pos++) {
          const hj = h[c * nh + f * P2 + pos]!;
          if (hj === 0) continue;
          const so = pos * kk;
          const wo = f * kk;
          for (let e = 0; e < kk; e++) y[yo + sites[so + e]!]! += W[wo + e]! * hj;
        }
      }
    }
  } else {
    const { W, a } = rbm;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < nv; i++) {
        let sum = a[i]!;
        const row = i * nh;
        for (let j = 0; j < nh; j++) sum += W[row + j]! * h[c * nh + j]!;
        y[c * nv + i] = sum;
      }
    }
  }
  return y;
}

function mapUnits(x: Float64Array, fn: (x: number) => number): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = fn(x[i]!);
  return x;
}

/** P(h_j on | v) for one configuration or a batch: sigmoid(x) ({0,1}) or sigmoid(2x) (±1). */
export function hiddenProbabilities(rbm: Rbm, v: ArrayLike<number>): Float64Array {
  return mapUnits(hiddenInput(rbm, v), (x) => onProbability(rbm.units, x));
}

/** P(v_i on | h) for one configuration or a batch. */
export function visibleProbabilities(rbm: Rbm, h: ArrayLike<number>): Float64Array {
  return mapUnits(visibleInput(rbm, h), (x) => onProbability(rbm.units, x));
}

/** E[h | v]: sigmoid(x) for {0,1}, tanh(x) for ±1. */
export function hiddenMeans(rbm: Rbm, v: ArrayLike<number>): Float64Array {
  return mapUnits(hiddenInput(rbm, v), (x) => unitMean(rbm.units, x));
}

/** E[v | h]: sigmoid(y) for {0,1}, tanh(y) for ±1. */
export function visibleMeans(rbm: Rbm, h: ArrayLike<number>): Float64Array {
  return mapUnits(visibleInput(rbm, h), (x) => unitMean(rbm.units, x));
}

function checkUniform(u: number, index: number): number {
  if (!(u >= 0 && u < 1)) throw new RangeError(`uniform ${u} at index ${index} is not in [0, 1)`);
  return u;
}

function sampleFrom(units: RbmUnits, p: Float64Array, u: ArrayLike<number>, what: string): Float64Array {
  checkLength(u, p.length, `uniforms for ${what}`);
  const off = offValue(units);
  for (let i = 0; i < p.length; i++) p[i] = checkUniform(u[i]!, i) < p[i]! ? 1 : off;
  return p;
}

/** Samples h given v (one configuration or a batch) with explicit uniforms: h_j on iff u_j < P(h_j on | v). */
export function sampleHidden(rbm: Rbm, v: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  return sampleFrom(rbm.units, hiddenProbabilities(rbm, v), u, 'the hidden layer');
}

/** Samples v given h (one configuration or a batch) with explicit uniforms: v_i on iff u_i < P(v_i on | h). */
export function sampleVisible(rbm: Rbm, h: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  return sampleFrom(rbm.units, visibleProbabilities(rbm, h), u, 'the visible layer');
}

// ------------------------------------------------------------------------------------------- energies

/** E(v, h) = −a·v − b·h − vᵀWh for one configuration of each layer. */
export function energy(rbm: Rbm, v: ArrayLike<number>, h: ArrayLike<number>): number {
  checkLength(v, visibleCount(rbm), 'visible configuration');
  checkLength(h, hiddenCount(rbm), 'hidden configuration');
  const a = visibleBiases(rbm);
  const x = hiddenInput(rbm, v); // b_j + (Wᵀv)_j, so b·h + vᵀWh = Σ_j h_j x_j
  let e = 0;
  for (let i = 0; i < a.length; i++) e -= a[i]! * v[i]!;
  for (let j = 0; j < x.length; j++) e -= h[j]! * x[j]!;
  return e;
}

/** F(v) = −ln Σ_h e^{−E(v,h)} = −a·v − Σ_j φ(x_j) (φ = softplus or ln 2cosh) for one visible configuration. */
export function freeEnergy(rbm: Rbm, v: ArrayLike<number>): number {
  checkLength(v, visibleCount(rbm), 'visible configuration');
  return freeEnergies(rbm, v)[0]!;
}

/** F(v) of every configuration of a batch [C·nv] → [C]. */
export function freeEnergies(rbm: Rbm, v: ArrayLike<number>): Float64Array {
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const x = hiddenInput(rbm, v);
  const a = visibleBiases(rbm);
  const C = x.length / nh;
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let f = 0;
    for (let i = 0; i < nv; i++) f -= a[i]! * v[c * nv + i]!;
    for (let j = 0; j < nh; j++) f -= unitLogSum(rbm.units, x[c * nh + j]!);
    out[c] = f;
  }
  return out;
}

/** The hidden free energy F(h) = −ln Σ_v e^{−E(v,h)} = −b·h − Σ_i φ(y_i) for one hidden configuration. */
export function hiddenFreeEnergy(rbm: Rbm, h: ArrayLike<number>): number {
  checkLength(h, hiddenCount(rbm), 'hidden configuration');
  const y = visibleInput(rbm, h);
  const b = hiddenBiases(rbm);
  let f = 0;
  for (let j = 0; j < b.length; j++) f -= b[j]! * h[j]!;
  for (let i = 0; i < y.length; i++) f -= unitLogSum(rbm.units, y[i]!);
  return f;
}

// ------------------------------------------------------------------------------------------ sampling

/** Reads a UniformSource in order, checking the array length up front and every value's range. */
class UniformReader {
  private index = 0;
  constructor(
    private readonly source: UniformSource,
    need: number,
    what: string,
  ) {
    if (typeof source !== 'function' && source.length !== need) {
      throw new RangeError(`uniforms array has ${source.length} values; ${what} needs exactly ${need}`);
    }
  }
  next(): number {
    const i = this.index++;
    return checkUniform(typeof this.source === 'function' ? this.source() : this.source[i]!, i);
  }
}

/** Sizes and counter layout of a Gibbs-uniform array. */
export interface GibbsUniformShape {
  chains: number;
  nv: number;
  nh: number;
  /** Gibbs steps (v → h → v). */
  steps: number;
  /** 'step' layout: counter step word of the first Gibbs step; 'substream' layout: the (update) step word. Default 0. */
  firstStep?: number;
  /**
   * 'step' (default): Gibbs step t uses step word firstStep + t and sub-stream `subStream` for both layers.
   * 'substream': the step word is firstStep for every Gibbs step; step t's hidden draw uses sub-stream
   * subStream + t and its visible draw subStream + t + 1 (one sub-stream per Gibbs layer, as a fused
   * CD-k update that numbers its layers g = 0 … k does).
   */
  layout?: 'step' | 'substream';
}

/**
 * The canonical uniforms of `steps` Gibbs steps in the order the oracle consumes them (see `gibbsSteps`):
 * for each step t, hidden [chains·nh] then visible [chains·nv]. Unit j of chain c draws word j mod 4 of
 * philox4x32((⌊j/4⌋, c, stepWord, streamWord(rbmHidden | rbmVisible, sub)), seedKey(seed)) → unitFloat, with
 * stepWord and sub given by `shape.layout`. A GPU sampler drawing with the same counters makes the same
 * decisions (up to f32 rounding of P near u).
 */
export function gibbsUniforms(seed: number | bigint, shape: GibbsUniformShape, subStream = 0): Float32Array {
  const { chains, nv, nh, steps } = shape;
  const first = shape.firstStep ?? 0;
  const bySubstream = shape.layout === 'substream';
  for (const [n, what] of [
    [chains, 'chains'],
    [nv, 'nv'],
    [nh, 'nh'],
  ] as const) {
    positiveInteger(n, `Gibbs uniforms: ${what}`);
  }
  if (!Number.isSafeInteger(steps) || steps < 0)
    throw new RangeError(`Gibbs uniforms: steps ${steps} is not a count`);
  const key = seedKey(seed);
  const out = new Float32Array(steps * chains * (nh + nv));
  let o = 0;
  for (let t = 0; t < steps; t++) {
    const step = bySubstream ? first : first + t;
    const hs = streamWord(RngPurpose.rbmHidden, bySubstream ? subStream + t : subStream);
    const vs = streamWord(RngPurpose.rbmVisible, bySubstream ? subStream + t + 1 : subStream);
    for (let c = 0; c < chains; c++)
      for (let j = 0; j < nh; j++)
        out[o++] = unitFloat(philox4x32([j >>> 2, c, step, hs], key)[j & 3] as number);
    for (let c = 0; c < chains; c++)
      for (let i = 0; i < nv; i++)
        out[o++] = unitFloat(philox4x32([i >>> 2, c, step, vs], key)[i & 3] as number);
  }
  return out;
}

/**
 * Runs k Gibbs steps v → h → v on each chain of a batch [C·nv] and returns the final visible batch.
 * Step t consumes C·nh hidden uniforms (chain-major, index c·nh + j) and then C·nv visible uniforms
 * (c·nv + i): k·C·(nh + nv) in all. 'mean-field' replaces every sample by its mean (deterministic).
 */
export function gibbsSteps(
  rbm: Rbm,
  v0: ArrayLike<number>,
  k: number,
  uniforms: UniformSource | 'mean-field',
): Float64Array {
  checkRbm(rbm);
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const C = batchCount(v0.length, nv, 'chain batch');
  if (!Number.isSafeInteger(k) || k < 0)
    throw new RangeError(`Gibbs step count ${k} is not a non-negative integer`);
  let v: Float64Array = Float64Array.from(v0);
  if (uniforms === 'mean-field') {
    for (let t = 0; t < k; t++) v = visibleMeans(rbm, hiddenMeans(rbm, v));
    return v;
  }
  const reader = new UniformReader(
    uniforms,
    k * C * (nh + nv),
    `${k} Gibbs steps of ${C} chains × (${nh} hidden + ${nv} visible)`,
  );
  const off = offValue(rbm.units);
  for (let t = 0; t < k; t++) {
    const h = hiddenProbabilities(rbm, v);
    for (let j = 0; j < h.length; j++) h[j] = reader.next() < h[j]! ? 1 : off;
    v = visibleProbabilities(rbm, h);
    for (let i = 0; i < v.length; i++) v[i] = reader.next() < v[i]! ? 1 : off;
  }
  return v;
}

// ------------------------------------------------------------------------------------------ gradients

/** A zero gradient shaped for `rbm` (conv: dW [F·k·k], da [1], db [F]). */
export function zeroGradient(rbm: Rbm): RbmGradient {
  if (isConvRbm(rbm)) {
    return {
      dW: new Float64Array(rbm.filters * rbm.k * rbm.k),
      da: new Float64Array(1),
      db: new Float64Array(rbm.filters),
    };
  }
  return {
    dW: new Float64Array(rbm.nv * rbm.nh),
    da: new Float64Array(rbm.nv),
    db: new Float64Array(rbm.nh),
  };
}

/** g += w · (v ⊗ h, v, h) for one pair, folded into the parameter shape (conv: summed over positions/sites). */
function addOuter(
  rbm: Rbm,
  g: RbmGradient,
  v: ArrayLike<number>,
  vo: number,
  h: ArrayLike<number>,
  ho: number,
  w: number,
): void {
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  if (isConvRbm(rbm)) {
    const { k, filters } = rbm;
    const kk = k * k;
    const P2 = nh / filters;
    const sites = convSites(rbm.Lv, k, rbm.stride);
    let sv = 0;
    for (let i = 0; i < nv; i++) sv += v[vo + i]!;
    g.da[0]! += w * sv;
    for (let f = 0; f < filters; f++) {
      let sh = 0;
      for (let pos = 0; pos < P2; pos++) {
        const hj = h[ho + f * P2 + pos]!;
        sh += hj;
        if (hj === 0) continue;
        const whj = w * hj;
        const so = pos * kk;
        for (let e = 0; e < kk; e++) g.dW[f * kk + e]! += whj * v[vo + sites[so + e]!]!;
      }
      g.db[f]! += w * sh;
    }
    return;
  }
  for (let i = 0; i < nv; i++) {
    const wvi = w * v[vo + i]!;
    g.da[i]! += wvi;
    if (wvi === 0) continue;
    const row = i * nh;
    for (let j = 0; j < nh; j++) g.dW[row + j]! += wvi * h[ho + j]!;
  }
  for (let j = 0; j < nh; j++) g.db[j]! += w * h[ho + j]!;
}

/** g += sign · ⟨(v ⊗ E[h|v], v, E[h|v])⟩ averaged over a batch. */
function addBatchStatistics(rbm: Rbm, g: RbmGradient, v: ArrayLike<number>, sign: number): void {
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const mu = hiddenMeans(rbm, v);
  const C = v.length / nv;
  for (let c = 0; c < C; c++) addOuter(rbm, g, v, c * nv, mu, c * nh, sign / C);
}

/**
 * CD-k gradient ⟨v h⟩_data − ⟨v h⟩_model (and ⟨v⟩, ⟨h⟩ likewise), averaged per sample; ascend it.
 * Data term: each batch configuration v⁰ with its hidden MEANS E[h|v⁰]. Model term: the chain started at
 * v⁰ after k Gibbs steps (`gibbsSteps`: hidden SAMPLED, visible SAMPLED each step, uniforms in that order)
 * gives v^k, paired with its hidden MEANS E[h|v^k]. 'mean-field' uses means throughout the chain.
 */
export function cdGradient(
  rbm: Rbm,
  batch: ArrayLike<number>,
  k: number,
  uniforms: UniformSource | 'mean-field',
): RbmGradient {
  positiveInteger(k, 'CD step count k');
  const vk = gibbsSteps(rbm, batch, k, uniforms);
  const g = zeroGradient(rbm);
  addBatchStatistics(rbm, g, batch, 1);
  addBatchStatistics(rbm, g, vk, -1);
  return g;
}

/**
 * PCD gradient: data term from `batch` as in `cdGradient`; model term from the persistent `chains` [C·nv]
 * advanced k Gibbs steps (uniforms: k·C·(nh + nv), same order), averaged over the C chains. Returns the
 * gradient and the advanced chains (the input is not modified).
 */
export function pcdGradient(
  rbm: Rbm,
  batch: ArrayLike<number>,
  chains: ArrayLike<number>,
  k: number,
  uniforms: UniformSource | 'mean-field',
): RbmGradient & { chains: Float64Array } {
  positiveInteger(k, 'PCD step count k');
  const next = gibbsSteps(rbm, chains, k, uniforms);
  const g = zeroGradient(rbm);
  addBatchStatistics(rbm, g, batch, 1);
  addBatchStatistics(rbm, g, next, -1);
  return { ...g, chains: next };
}

// ------------------------------------------------------------------------------------------ exact

/** ln Σ e^{x} accumulated one term at a time. */
class LogSumExp {
  private max = -Infinity;
  private sum = 0;
  add(x: number): void {
    if (x <= this.max) {
      this.sum += Math.exp(x - this.max);
    } else {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    }
  }
  get value(): number {
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum);
  }
}

/**
 * Visits all 2^n states of one layer of a dense RBM in Gray-code order. `code` has bit u set iff unit u is on;
 * `input` is the other layer's input (x = b + Wᵀv when enumerating v, y = a + W h when enumerating h),
 * updated incrementally and recomputed every 1024 states to bound rounding drift; `logWeight` is
 * −F(state) (the other layer summed out).
 */
function enumerateLayer(
  d: DenseRbm,
  layer: 'visible' | 'hidden',
  visit: (code: number, state: Float64Array, input: Float64Array, logWeight: number) => void,
): void {
  const { nv, nh, W, units } = d;
  const n = layer === 'visible' ? nv : nh;
  if (n > MAX_ENUMERATED_UNITS) {
    throw new RangeError(
      `enumerating the ${layer} layer: 2^${n} states; the limit is 2^${MAX_ENUMERATED_UNITS}`,
    );
  }
  const bias = layer === 'visible' ? d.a : d.b;
  const off = offValue(units);
  const state = new Float64Array(n).fill(off);
  const fresh = (): Float64Array => (layer === 'visible' ? hiddenInput(d, state) : visibleInput(d, state));
  let input = fresh();
  let code = 0;
  const total = 2 ** n;
  for (let t = 0; ;) {
    let lw = 0;
    for (let u = 0; u < n; u++) lw += bias[u]! * state[u]!;
    for (let m = 0; m < input.length; m++) lw += unitLogSum(units, input[m]!);
    visit(code, state, input, lw);
    if (++t === total) break;
    const u = 31 - Math.clz32(t & -t); // Gray code: flip the lowest set bit of t
    code ^= 1 << u;
    const old = state[u]!;
    state[u] = old === off ? 1 : off;
    if ((t & 1023) === 0) {
      input = fresh();
    } else {
      const delta = state[u]! - old;
      if (layer === 'visible') {
        for (let j = 0; j < nh; j++) input[j]! += delta * W[u * nh + j]!;
      } else {
        for (let i = 0; i < nv; i++) input[i]! += delta * W[i * nh + u]!;
      }
    }
  }
}

function denseForOracle(rbm: Rbm): DenseRbm {
  checkRbm(rbm);
  return isConvRbm(rbm) ? toDenseRbm(rbm) : rbm;
}

function smallerLayer(d: DenseRbm, what: string): 'visible' | 'hidden' {
  const n = Math.min(d.nv, d.nh);
  if (n > MAX_ENUMERATED_UNITS) {
    throw new RangeError(
      `${what} enumerates the smaller layer: ${d.nv} visible and ${d.nh} hidden units give 2^${n} states; the limit is ${MAX_ENUMERATED_UNITS} units`,
    );
  }
  return d.nh <= d.nv ? 'hidden' : 'visible';
}

/** ln Z exactly: log-sum-exp over the smaller layer's 2^n states (n ≤ 20) of minus its free energy. */
export function logPartitionExact(rbm: Rbm): number {
  const d = denseForOracle(rbm);
  const lse = new LogSumExp();
  enumerateLayer(d, smallerLayer(d, 'logPartitionExact'), (_c, _s, _i, lw) => lse.add(lw));
  return lse.value;
}

/** Mean log-likelihood per sample in nats, (1/n) Σ_s [−F(v_s)] − ln Z; ln Z is computed exactly unless given. */
export function logLikelihood(rbm: Rbm, data: ArrayLike<number>, logZ = logPartitionExact(rbm)): number {
  const f = freeEnergies(rbm, data);
  let sum = 0;
  for (let c = 0; c < f.length; c++) sum -= f[c]!;
  return sum / f.length - logZ;
}

/**
 * The exact log-likelihood gradient (data term with hidden means, minus the model expectation by
 * enumerating the smaller layer: Σ_v p(v) v⊗E[h|v] or Σ_h p(h) E[v|h]⊗h), averaged per sample; the k → ∞
 * limit of `cdGradient`. Shapes as `RbmGradient`.
 */
export function exactGradient(rbm: Rbm, data: ArrayLike<number>): RbmGradient {
  const d = denseForOracle(rbm);
  const layer = smallerLayer(d, 'exactGradient');
  const logZ = logPartitionExact(d);
  const g = zeroGradient(rbm);
  addBatchStatistics(rbm, g, data, 1);
  enumerateLayer(d, layer, (_code, state, input, lw) => {
    const p = Math.exp(lw - logZ);
    const other = mapUnits(input.slice(), (x) => unitMean(d.units, x));
    if (layer === 'visible') addOuter(rbm, g, state, 0, other, 0, -p);
    else addOuter(rbm, g, other, 0, state, 0, -p);
  });
  return g;
}

/**
 * Pseudo-log-likelihood, exact over all units: (1/n) Σ_s Σ_i ln P(v_i | v_{−i}) with
 * P(v_i | v_{−i}) = sigmoid(F(v with unit i flipped) − F(v)), in nats per sample (a sum over the nv units,
 * not a per-unit average). Cost O(n·nv·nh); a conv RBM is expanded to dense form first.
 */
export function pseudoLogLikelihood(rbm: Rbm, data: ArrayLike<number>): number {
  const d = denseForOracle(rbm);
  const { nv, nh, W, a, units } = d;
  const x = hiddenInput(d, data);
  const C = x.length / nh;
  const off = offValue(units);
  let total = 0;
  for (let c = 0; c < C; c++) {
    const xc = x.subarray(c * nh, (c + 1) * nh);
    let sumPhi = 0;
    for (let j = 0; j < nh; j++) sumPhi += unitLogSum(units, xc[j]!);
    for (let i = 0; i < nv; i++) {
      const vi = data[c * nv + i]!;
      const delta = (vi === off ? 1 : off) - vi;
      // F(v') − F(v) = −a_i δ − Σ_j [φ(x_j + δ W_ij) − φ(x_j)]
      let flipped = 0;
      for (let j = 0; j < nh; j++) flipped += unitLogSum(units, xc[j]! + delta * W[i * nh + j]!);
      const dF = -a[i]! * delta - (flipped - sumPhi);
      total -= softplus(-dF); // ln sigmoid(dF)
    }
  }
  return total / C;
}

/**
 * Reconstruction error: the fraction of visible units that differ after one Gibbs step v → h → v′.
 * With uniforms (C·(nh + nv), the order of `gibbsSteps` with k = 1) h and v′ are sampled. With
 * 'mean-field' h = E[h|v] and the result is the expected mismatch fraction mean_i P(v′_i ≠ v_i | h),
 * on the same [0, 1] scale.
 */
export function reconstructionError(
  rbm: Rbm,
  data: ArrayLike<number>,
  uniforms: UniformSource | 'mean-field',
): number {
  checkRbm(rbm);
  const off = offValue(rbm.units);
  let mismatch = 0;
  if (uniforms === 'mean-field') {
    const p = visibleProbabilities(rbm, hiddenMeans(rbm, data));
    for (let i = 0; i < p.length; i++) mismatch += data[i] === off ? p[i]! : 1 - p[i]!;
  } else {
    const v1 = gibbsSteps(rbm, data, 1, uniforms);
    for (let i = 0; i < v1.length; i++) if (v1[i] !== data[i]) mismatch++;
  }
  return mismatch / data.length;
}

// ------------------------------------------------------------------------------------------ AIS

/** Options of `ais`. */
export interface AisOptions {
  /** Inverse temperatures β_0 = 0 < … < β_K = 1 (non-decreasing), or K for K + 1 evenly spaced values. */
  betas: number | ArrayLike<number>;
  /** Independent AIS runs (chains). */
  runs: number;
  /** Philox seed; uniforms come from streams rbmAis/subStream (see `ais`). */
  seed: number | bigint;
  /** Visible biases of the base model (default zeros); e.g. `baseRateBiases(data)`. */
  baseVisibleBias?: ArrayLike<number>;
  /** Sub-stream of the rbmAis purpose; default 0 (uses 3 consecutive sub-streams from it). */
  subStream?: number;
}

/** Result of `ais`. */
export interface AisResult {
  /** ln Ẑ = ln Z_A + ln mean_r w_r. */
  logZ: number;
  /** Delta-method standard error of ln Ẑ: sd(w)/(√runs · mean(w)). */
  stderr: number;
  /** ln(r̂ − 3σ_r̂) + ln Z_A (−∞ when r̂ ≤ 3σ_r̂), as Salakhutdinov & Murray report. */
  logZLow: number;
  /** ln(r̂ + 3σ_r̂) + ln Z_A. */
  logZHigh: number;
  /** ln Z of the base model: Σ_i φ(a_A,i) + nh ln 2. */
  logZBase: number;
  /** ln w_r of every run. */
  logWeights: Float64Array;
  runs: number;
  /** (Σ w)² / Σ w², between 1 and runs. */
  effectiveSampleSize: number;
}

/** K + 1 evenly spaced inverse temperatures 0, 1/K, …, 1. */
export function linearBetas(K: number): Float64Array {
  positiveInteger(K, 'AIS interval count K');
  return Float64Array.from({ length: K + 1 }, (_, k) => k / K);
}

/**
 * Maximum-likelihood visible biases of the independent-unit "base-rate" model of the data, with a pseudo-count
 * (default 1 per value): a_i = ln(p_i/(1 − p_i)) for {0,1}, ½ ln(p_i/(1 − p_i)) for ±1, p_i = P(v_i on).
 */
export function baseRateBiases(
  data: ArrayLike<number>,
  nv: number,
  units: RbmUnits,
  pseudoCount = 1,
): Float64Array {
  const C = batchCount(data.length, nv, 'data');
  if (!(pseudoCount >= 0)) throw new RangeError(`pseudo-count ${pseudoCount} is negative`);
  const on = new Float64Array(nv);
  for (let c = 0; c < C; c++) for (let i = 0; i < nv; i++) if (data[c * nv + i] === 1) on[i]!++;
  return on.map((n) => {
    const p = (n + pseudoCount) / (C + 2 * pseudoCount);
    const logit = Math.log(p) - Math.log1p(-p);
    return units === 'ising' ? logit / 2 : logit;
  });
}

/**
 * Annealed importance sampling of ln Z (Salakhutdinov & Murray 2008). Intermediate models
 * p*_β(v) = exp(((1−β) a_A + β a)·v) Π_j Σ_{h_j} e^{β h_j x_j(v)}: β = 0 is the base model (visible biases
 * a_A, free hiddens), β = 1 the RBM. Per run: v ~ base; for k = 1 … K: ln w += ln p*_{β_k}(v) − ln p*_{β_{k−1}}(v),
 * then (k < K) one Gibbs step at β_k: h ~ P(h | v; β_k x), v ~ P(v | h; (1−β_k) a_A + β_k(a + W h)).
 * Uniforms: unit u of run r at step k draws word 0 of philox4x32((u, r, k, streamWord(rbmAis, sub + layer)))
 * with layer 0 = base sample (k = 0), 1 = hidden, 2 = visible. Biased low in ln Z for few runs; a conv RBM
 * is expanded to dense form.
 */
export function ais(rbm: Rbm, options: AisOptions): AisResult {
  const d = denseForOracle(rbm);
  const { nv, nh, W, a, b, units } = d;
  positiveInteger(options.runs, 'AIS run count');
  const betas =
    typeof options.betas === 'number' ? linearBetas(options.betas) : Float64Array.from(options.betas);
  if (betas.length < 2)
    throw new RangeError(`AIS needs at least 2 inverse temperatures; got ${betas.length}`);
  if (betas[0] !== 0 || betas[betas.length - 1] !== 1) {
    throw new RangeError(
      `AIS inverse temperatures must run from 0 to 1; got ${betas[0]} … ${betas[betas.length - 1]}`,
    );
  }
  for (let k = 1; k < betas.length; k++) {
    if (!(betas[k]! >= betas[k - 1]!))
      throw new RangeError(`AIS inverse temperature ${betas[k]} at index ${k} is below ${betas[k - 1]}`);
  }
  const aA = options.baseVisibleBias ? Float64Array.from(options.baseVisibleBias) : new Float64Array(nv);
  checkLength(aA, nv, 'AIS base visible bias');
  const key = seedKey(options.seed);
  const sub = options.subStream ?? 0;
  const streams = [0, 1, 2].map((l) => streamWord(RngPurpose.rbmAis, sub + l)) as [number, number, number];
  const uniform = (u: number, r: number, k: number, layer: 0 | 1 | 2): number =>
    unitFloat(philox4x32([u, r, k, streams[layer]], key)[0]);
  const off = offValue(units);
  const K = betas.length - 1;
  const logWeights = new Float64Array(options.runs);
  const v = new Float64Array(nv);
  const h = new Float64Array(nh);
  const x = new Float64Array(nh);
  // ln p*_β(v) given x = b + Wᵀv.
  const logStar = (beta: number): number => {
    let s = 0;
    for (let i = 0; i < nv; i++) s += ((1 - beta) * aA[i]! + beta * a[i]!) * v[i]!;
    for (let j = 0; j < nh; j++) s += unitLogSum(units, beta * x[j]!);
    return s;
  };
  const computeX = (): void => {
    x.set(b);
    for (let i = 0; i < nv; i++) {
      const vi = v[i]!;
      if (vi !== 0) for (let j = 0; j < nh; j++) x[j]! += vi * W[i * nh + j]!;
    }
  };
  for (let r = 0; r < options.runs; r++) {
    for (let i = 0; i < nv; i++) v[i] = uniform(i, r, 0, 0) < onProbability(units, aA[i]!) ? 1 : off;
    let lw = 0;
    for (let k = 1; k <= K; k++) {
      computeX();
      lw += logStar(betas[k]!) - logStar(betas[k - 1]!);
      if (k === K) break;
      const beta = betas[k]!;
      for (let j = 0; j < nh; j++) h[j] = uniform(j, r, k, 1) < onProbability(units, beta * x[j]!) ? 1 : off;
      for (let i = 0; i < nv; i++) {
        let y = a[i]!;
        for (let j = 0; j < nh; j++) y += W[i * nh + j]! * h[j]!;
        v[i] = uniform(i, r, k, 2) < onProbability(units, (1 - beta) * aA[i]! + beta * y) ? 1 : off;
      }
    }
    logWeights[r] = lw;
  }
  let logZBase = nh * Math.LN2;
  for (let i = 0; i < nv; i++) logZBase += unitLogSum(units, aA[i]!);
  const M = options.runs;
  let max = -Infinity;
  for (const lw of logWeights) max = Math.max(max, lw);
  let mean = 0;
  let sumSq = 0;
  for (const lw of logWeights) {
    const w = Math.exp(lw - max);
    mean += w / M;
    sumSq += w * w;
  }
  let variance = 0;
  for (const lw of logWeights) variance += (Math.exp(lw - max) - mean) ** 2;
  variance = M > 1 ? variance / (M - 1) : 0;
  const sigmaR = Math.sqrt(variance / M); // standard error of the mean weight (scaled by e^−max)
  const logR = max + Math.log(mean);
  return {
    logZ: logZBase + logR,
    stderr: sigmaR / mean,
    logZLow: logZBase + max + (mean - 3 * sigmaR > 0 ? Math.log(mean - 3 * sigmaR) : -Infinity),
    logZHigh: logZBase + max + Math.log(mean + 3 * sigmaR),
    logZBase,
    logWeights,
    runs: M,
    effectiveSampleSize: (mean * M) ** 2 / sumSq,
  };
}

// ------------------------------------------------------------------------------------------ distributions

/** Code of a visible configuration: bit i set iff unit i is on (1 / +1); nv ≤ 20. */
export function stateCode(v: ArrayLike<number>, offset = 0, nv = v.length - offset): number {
  if (nv > MAX_ENUMERATED_UNITS)
    throw new RangeError(`state codes need nv ≤ ${MAX_ENUMERATED_UNITS}; got ${nv}`);
  let code = 0;
  for (let i = 0; i < nv; i++) if (v[offset + i] === 1) code |= 1 << i;
  return code;
}

/** The empirical distribution of a data batch over the 2^nv visible states, indexed by `stateCode`. */
export function empiricalDistribution(data: ArrayLike<number>, nv: number): Float64Array {
  if (nv > MAX_ENUMERATED_UNITS)
    throw new RangeError(
      `empirical distribution over 2^${nv} states; the limit is 2^${MAX_ENUMERATED_UNITS}`,
    );
  const C = batchCount(data.length, nv, 'data');
  const p = new Float64Array(2 ** nv);
  for (let c = 0; c < C; c++) p[stateCode(data, c * nv, nv)]! += 1 / C;
  return p;
}

/**
 * KL(p_data ‖ p_model) = Σ_v p(v) [ln p(v) + F(v) + ln Z] in nats, exactly; `pData` has 2^nv entries indexed
 * by `stateCode` (nv ≤ 20), non-negative and summing to 1 (within 1e-9).
 */
export function klDivergence(pData: ArrayLike<number>, rbm: Rbm, logZ = logPartitionExact(rbm)): number {
  checkRbm(rbm);
  const nv = visibleCount(rbm);
  if (nv > MAX_ENUMERATED_UNITS)
    throw new RangeError(
      `klDivergence enumerates 2^${nv} visible states; the limit is 2^${MAX_ENUMERATED_UNITS}`,
    );
  checkLength(pData, 2 ** nv, `p_data over 2^${nv} visible states`);
  let total = 0;
  for (let c = 0; c < pData.length; c++) {
    const p = pData[c]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p_data[${c}] = ${p} is not a probability`);
    total += p;
  }
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`p_data sums to ${total}; expected 1 (within 1e-9)`);
  const off = offValue(rbm.units);
  const v = new Float64Array(nv);
  let kl = 0;
  for (let c = 0; c < pData.length; c++) {
    const p = pData[c]!;
    if (p === 0) continue;
    for (let i = 0; i < nv; i++) v[i] = (c >> i) & 1 ? 1 : off;
    kl += p * (Math.log(p) + freeEnergy(rbm, v) + logZ);
  }
  return kl;
}

// ------------------------------------------------------------------------------------------ random models

/** Scales of random initial parameters (uniform in ±scale). */
export interface RandomRbmOptions {
  seed?: number | bigint;
  weightScale?: number;
  biasScale?: number;
}

function randomArray(n: number, scale: number, key: [number, number], tensor: number): Float64Array {
  const stream = streamWord(RngPurpose.rbmInit, tensor);
  return Float64Array.from(
    { length: n },
    (_, i) => scale * (2 * unitFloat(philox4x32([i, 0, 0, stream], key)[0]) - 1),
  );
}

/**
 * A dense RBM with parameters uniform in ±scale: element n of tensor t (0 = W, 1 = a, 2 = b) from word 0 of
 * philox4x32((n, 0, 0, streamWord(rbmInit, t)), seedKey(seed)) as scale·(2u − 1).
 */
export function randomDenseRbm(
  units: RbmUnits,
  nv: number,
  nh: number,
  options: RandomRbmOptions = {},
): DenseRbm {
  const key = seedKey(options.seed ?? 1);
  const ws = options.weightScale ?? 0.1;
  const bs = options.biasScale ?? 0.1;
  positiveInteger(nv, 'RBM visible count nv');
  positiveInteger(nh, 'RBM hidden count nh');
  const rbm: DenseRbm = {
    units,
    nv,
    nh,
    W: randomArray(nv * nh, ws, key, 0),
    a: randomArray(nv, bs, key, 1),
    b: randomArray(nh, bs, key, 2),
  };
  checkRbm(rbm);
  return rbm;
}

/** A conv RBM with random filters (and, when `biases`, random tied biases), drawn as in `randomDenseRbm`. */
export function randomConvRbm(
  units: RbmUnits,
  geometry: { Lv: number; filters: number; k: number; stride: number },
  options: RandomRbmOptions & { biases?: boolean } = {},
): ConvRbm {
  const key = seedKey(options.seed ?? 1);
  const ws = options.weightScale ?? 0.1;
  const bs = options.biasScale ?? 0.1;
  const { Lv, filters, k, stride } = geometry;
  positiveInteger(filters, 'conv RBM filter count');
  positiveInteger(k, 'conv RBM filter size k');
  const rbm: ConvRbm = { units, Lv, filters, k, stride, W: randomArray(filters * k * k, ws, key, 0) };
  if (options.biases) {
    rbm.a = randomArray(1, bs, key, 1)[0]!;
    rbm.b = randomArray(filters, bs, key, 2);
  }
  checkRbm(rbm);
  return rbm;
}
