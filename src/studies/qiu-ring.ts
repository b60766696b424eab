/**
 * The 1D-ring analysis of the Qiu study (shared/papers/qiu-2022-rg-and-rbm.md §5.2), all plain f64 on the CPU:
 * hidden units ordered by the site of their strongest weight, their sign-corrected correlation function with
 * errors, the fit of an effective coupling, how decimation-like each hidden unit's weights are, exact decimation
 * applied to data, and the exact RBM of the ring (one ±1 hidden unit per bond) with its log-likelihood.
 */
import { ringCorrelation } from '../exact/ising.ts';
import { meanError } from '../stats/index.ts';

/** Mean and one standard error of a list (sd/√n; 0 for fewer than two values). */
export const meanErr = meanError;

/**
 * For each hidden unit j of a dense W [nv × nh] (row-major), the visible site of its largest |w_ij| and that
 * weight's sign; `order` lists the hidden units sorted by that site (ties by unit index), as Qiu sorts them.
 */
export function hiddenOrder(
  W: ArrayLike<number>,
  nv: number,
  nh: number,
): { site: Int32Array; sign: Int8Array; order: number[] } {
  const site = new Int32Array(nh);
  const sign = new Int8Array(nh);
  for (let j = 0; j < nh; j++) {
    let best = -1;
    let bestAbs = -1;
    for (let i = 0; i < nv; i++) {
      const a = Math.abs(W[i * nh + j]!);
      if (a > bestAbs) {
        bestAbs = a;
        best = i;
      }
    }
    site[j] = best;
    sign[j] = W[best * nh + j]! < 0 ? -1 : 1;
  }
  const order = Array.from({ length: nh }, (_, j) => j).sort((a, b) => site[a]! - site[b]! || a - b);
  return { site, sign, order };
}

/**
 * Translation-averaged correlation of the ordered, sign-corrected hidden spins σ_k = sign_k (2h_k − 1) on a ring
 * of nh units: for each configuration n, c_n(x) = (1/nh) Σ_k σ_k σ_{k+x}; returns the mean over configurations
 * and its standard error (the configurations are independent), x = 0 … maxDistance.
 */
export function hiddenCorrelation(
  H: ArrayLike<number>,
  rows: number,
  nh: number,
  order: readonly number[],
  sign: ArrayLike<number>,
  maxDistance: number,
): { mean: number[]; err: number[] } {
  const per = Array.from({ length: maxDistance + 1 }, () => new Float64Array(rows));
  const sigma = new Float64Array(nh);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < nh; k++) {
      const j = order[k]!;
      sigma[k] = sign[j]! * (2 * H[n * nh + j]! - 1);
    }
    for (let x = 0; x <= maxDistance; x++) {
      let s = 0;
      for (let k = 0; k < nh; k++) s += sigma[k]! * sigma[(k + x) % nh]!;
      per[x]![n] = s / nh;
    }
  }
  const stats = per.map((p) => meanErr(p));
  return { mean: stats.map((s) => s.mean), err: stats.map((s) => s.err) };
}

/** χ² of a measured correlation against the exact M-ring at coupling K over x = 1 … (x = 0 is 1 by definition); points with zero error are skipped. */
export function correlationChi2(
  mean: readonly number[],
  err: readonly number[],
  K: number,
  M: number,
): { chi2: number; dof: number } {
  let chi2 = 0;
  let dof = 0;
  for (let x = 1; x < mean.length; x++) {
    if (!(err[x]! > 0)) continue;
    chi2 += ((mean[x]! - ringCorrelation(K, M, x)) / err[x]!) ** 2;
    dof++;
  }
  return { chi2, dof };
}

/**
 * Least-squares effective coupling: the K in [0.01, 5] minimising correlationChi2 (golden section), with its
 * error from the curvature, σ_K = √(2 / χ²″(K)).
 */
export function fitCoupling(
  mean: readonly number[],
  err: readonly number[],
  M: number,
): { K: number; err: number; chi2: number; dof: number } {
  const f = (K: number): number => correlationChi2(mean, err, K, M).chi2;
  let lo = 0.01;
  let hi = 5;
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = f(b);
    }
  }
  const K = (lo + hi) / 2;
  const h = 1e-4;
  const curvature = (f(K + h) - 2 * f(K) + f(K - h)) / (h * h);
  const { chi2, dof } = correlationChi2(mean, err, K, M);
  return { K, err: curvature > 0 ? Math.sqrt(2 / curvature) : NaN, chi2, dof: dof - 1 };
}

/**
 * How decimation-like each hidden unit is: the largest share of its weight mass Σ_i |w_ij| that sits on two
 * neighbouring visible sites (i, i+1 mod nv) — 1 for a unit coupled only to one bond, like the exact RBM of the
 * ring; 2/nv for uniform weights.
 */
export function decimationMass(W: ArrayLike<number>, nv: number, nh: number): Float64Array {
  const out = new Float64Array(nh);
  for (let j = 0; j < nh; j++) {
    let total = 0;
    let best = 0;
    for (let i = 0; i < nv; i++) {
      const a = Math.abs(W[i * nh + j]!);
      total += a;
      best = Math.max(best, a + Math.abs(W[((i + 1) % nv) * nh + j]!));
    }
    out[j] = total > 0 ? best / total : 0;
  }
  return out;
}

/**
 * Exact decimation applied to ±1 rings [rows × N]: keep the even spins, resample each odd spin from
 * P(s | a, b) = e^{K s (a + b)} / (2 cosh K(a + b)); returns the fraction of spins wrong per configuration.
 */
export function decimateAndReconstruct(
  spins: Int8Array,
  rows: number,
  N: number,
  K: number,
  uniform: () => number,
): Float64Array {
  const out = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    let wrong = 0;
    for (let i = 1; i < N; i += 2) {
      const field = spins[n * N + i - 1]! + spins[n * N + ((i + 1) % N)]!;
      const pUp = 1 / (1 + Math.exp(-2 * K * field));
      const s = uniform() < pUp ? 1 : -1;
      if (s !== spins[n * N + i]) wrong++;
    }
    out[n] = wrong / N;
  }
  return out;
}

/** The weight of the exact RBM of a ring at coupling K (PHYSICS.md): w = ½ arccosh(e^{2K}). */
export function exactRingWeight(K: number): number {
  return 0.5 * Math.acosh(Math.exp(2 * K));
}

/** Its dense W [N × N] (visible × hidden): hidden unit j couples to spins j and j+1 (mod N) with weight w. */
export function exactRingRbmWeights(K: number, N: number): Float32Array {
  const w = exactRingWeight(K);
  const W = new Float32Array(N * N);
  for (let j = 0; j < N; j++) {
    W[j * N + j] = w;
    W[((j + 1) % N) * N + j] = w;
  }
  return W;
}

/** ln Z of that RBM (±1 units, no biases) by the 2×2 transfer matrix [[2cosh 2w, 2], [2, 2cosh 2w]]. */
export function exactRingRbmLogZ(K: number, N: number): number {
  const c = 2 * Math.cosh(2 * exactRingWeight(K));
  return N * Math.log(c + 2) + Math.log1p(((c - 2) / (c + 2)) ** N);
}

/** ln 2cosh x, stable for any x. */
export function logTwoCosh(x: number): number {
  const a = Math.abs(x);
  return a + Math.log1p(Math.exp(-2 * a));
}

/**
 * Exact check by enumeration (N ≤ 20): Σ_v p_ring(v) ln p_rbm(v) for the exact RBM, with ln Z_rbm also by
 * enumeration, beside its transfer-matrix value; equals −S when the RBM is exact.
 */
export function exactRbmLogLikelihood(
  K: number,
  N: number,
): { logLikelihood: number; logZ: number; logZTransfer: number } {
  if (!Number.isInteger(N) || N < 2 || N > 20)
    throw new RangeError(`enumerated ring N = ${N} must be an integer in 2 … 20`);
  const w = exactRingWeight(K);
  const states = 2 ** N;
  const free = new Float64Array(states); // Σ_j ln 2cosh(w (s_j + s_{j+1}))
  const bonds = new Float64Array(states); // Σ s_j s_{j+1}
  for (let c = 0; c < states; c++) {
    let f = 0;
    let b = 0;
    for (let j = 0; j < N; j++) {
      const s = (c >> j) & 1 ? 1 : -1;
      const t = (c >> ((j + 1) % N)) & 1 ? 1 : -1;
      f += logTwoCosh(w * (s + t));
      b += s * t;
    }
    free[c] = f;
    bonds[c] = b;
  }
  const logSum = (x: Float64Array): number => {
    let m = -Infinity;
    for (const v of x) m = Math.max(m, v);
    let s = 0;
    for (const v of x) s += Math.exp(v - m);
    return m + Math.log(s);
  };
  const logZ = logSum(free);
  const ringLog = bonds.map((b) => K * b);
  const logZRing = logSum(ringLog);
  let ll = 0;
  for (let c = 0; c < states; c++) ll += Math.exp(ringLog[c]! - logZRing) * (free[c]! - logZ);
  return { logLikelihood: ll, logZ, logZTransfer: exactRingRbmLogZ(K, N) };
}
