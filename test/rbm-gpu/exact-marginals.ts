/**
 * Exact visible statistics of a small RBM by enumerating its hidden states (shared by the sampler and
 * training-quality tests): P(h) ∝ exp(−F(h)) with F the hidden free energy, P(v_i = on) = Σ_h P(h) P(v_i = on | h),
 * and the covariance of the on-indicators (the visible units are independent given h).
 */
import {
  hiddenFreeEnergy,
  hiddenProbabilities,
  visibleProbabilities,
  type DenseRbm,
} from '../../src/reference/rbm.ts';

/** Largest hidden layer enumerated here (2^16 states). */
const MAX_HIDDEN = 16;

export function configurations(n: number, low: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) =>
    Array.from({ length: n }, (_, i) => ((s >> i) & 1 ? 1 : low)),
  );
}

/** Probability of configuration x under independent units with on-probabilities p. */
function product(p: Float64Array, x: number[]): number {
  return x.reduce((q, xi, i) => q * (xi === 1 ? (p[i] as number) : 1 - (p[i] as number)), 1);
}

export interface Exact {
  /** Equilibrium P(v_i = on). */
  p: Float64Array;
  /** Equilibrium covariance of the on-indicators [nv × nv]. */
  cov: Float64Array;
  /** P(v_i = on) after t Gibbs steps from the uniform start, t = 1 … steps (index t − 1). */
  afterSteps: Float64Array[];
}

/**
 * Everything exact, by enumeration of the 2^nh hidden states (and, for the transient over `steps` Gibbs steps from
 * the uniform start, of the 2^nv visible states; `steps` 0 skips it).
 */
export function exact(m: DenseRbm, steps: number): Exact {
  if (m.nh > MAX_HIDDEN) throw new RangeError(`nh ${m.nh} is too many to enumerate here (≤ ${MAX_HIDDEN})`);
  const low = m.units === 'ising' ? -1 : 0;
  const H = configurations(m.nh, low);
  const pv = H.map((h) => visibleProbabilities(m, h));
  const f = H.map((h) => -hiddenFreeEnergy(m, h));
  const top = Math.max(...f);
  const w = f.map((x) => Math.exp(x - top));
  const z = w.reduce((s, x) => s + x, 0);
  const ph = w.map((x) => x / z);
  const nv = m.nv;
  const marginals = (dist: number[]): Float64Array => {
    const out = new Float64Array(nv);
    dist.forEach((q, k) => {
      for (let i = 0; i < nv; i++) out[i] = (out[i] as number) + q * (pv[k]![i] as number);
    });
    return out;
  };
  const p = marginals(ph);
  const cov = new Float64Array(nv * nv);
  ph.forEach((q, k) => {
    const v = pv[k] as Float64Array;
    for (let i = 0; i < nv; i++)
      for (let j = 0; j < nv; j++)
        if (i !== j) cov[i * nv + j] = (cov[i * nv + j] as number) + q * v[i]! * v[j]!;
  });
  for (let i = 0; i < nv; i++)
    for (let j = 0; j < nv; j++)
      cov[i * nv + j] = i === j ? p[i]! * (1 - p[i]!) : (cov[i * nv + j] as number) - p[i]! * p[j]!;
  const afterSteps: Float64Array[] = [];
  if (steps === 0) return { p, cov, afterSteps };
  // The transient (needs 2^nv visible states): the start is uniform in v, then h | v, v | h, … (the sampler's order).
  if (nv > MAX_HIDDEN)
    throw new RangeError(`nv ${nv} is too many to enumerate the transient (≤ ${MAX_HIDDEN})`);
  const V = configurations(nv, low);
  const toVisible = H.map((_, k) => V.map((v) => product(pv[k] as Float64Array, v)));
  const toHidden = V.map((v) => {
    const q = hiddenProbabilities(m, v);
    return H.map((h) => product(q, h));
  });
  let dist = H.map((_, k) => toHidden.reduce((s, row) => s + (row[k] as number), 0) / V.length);
  for (let t = 1; t <= steps; t++) {
    afterSteps.push(marginals(dist));
    const visible = V.map((_, s) => dist.reduce((acc, q, k) => acc + q * (toVisible[k]![s] as number), 0));
    dist = H.map((_, k) => visible.reduce((acc, q, s) => acc + q * (toHidden[s]![k] as number), 0));
  }
  return { p, cov, afterSteps };
}
