/**
 * Error analysis for Monte Carlo data: autocorrelation times, τ_int-corrected means, binning, the jackknife, and
 * the Ising estimators the engine reports (E, |m|, m², m⁴, U4, χ, C) with their error bars.
 */

import {
  Autocovariance,
  checkSeries,
  chooseBlocks,
  errorFromTau,
  windowedTauInt,
  type WindowOptions,
} from './autocorrelation.ts';
import { blockMeans, jackknife, type JackknifeResult } from './jackknife.ts';

export * from './autocorrelation.ts';
export * from './jackknife.ts';
export * from './chi-square.ts';

/** A mean with its one-standard-deviation error. */
export interface Estimate {
  mean: number;
  err: number;
}

/**
 * Mean of values[from … to) and its standard error sd/√n for independent values (0 for one value; NaN for none).
 * For correlated series use the autocorrelation or jackknife estimators instead.
 */
export function meanError(values: ArrayLike<number>, from = 0, to = values.length): Estimate {
  const n = to - from;
  if (n <= 0) return { mean: NaN, err: NaN };
  let s = 0;
  for (let i = from; i < to; i++) s += values[i]!;
  const mean = s / n;
  if (n < 2) return { mean, err: 0 };
  let v = 0;
  for (let i = from; i < to; i++) v += (values[i]! - mean) ** 2;
  return { mean, err: Math.sqrt(v / (n - 1) / n) };
}

/** A jackknife estimate: mean = f(all means); bias is the jackknife bias estimate, reported, not subtracted. */
export interface NonlinearEstimate extends Estimate {
  bias: number;
}

/** One time series, or one per independent replica (all of equal length). */
export type SeriesOrReplicas = ArrayLike<number> | readonly ArrayLike<number>[];

/** Time series of one Ising run, one sample per measurement (optionally for R independent replicas). */
export interface IsingSeries extends WindowOptions {
  /** Energy per spin e = E/N of each sample (or one such series per replica). */
  e: SeriesOrReplicas;
  /** Magnetisation per spin m = M/N of each sample, signed (or one such series per replica). */
  m: SeriesOrReplicas;
  /** Inverse temperature β = K (J = 1). */
  beta: number;
  /** Number of spins. */
  N: number;
  /** Most jackknife blocks (default 32); fewer are used when τ_int asks for longer blocks. */
  blocks?: number;
  /** Fewest jackknife blocks, used even when they are shorter than minBlockTau·τ_int (default 8). */
  minBlocks?: number;
  /** Wanted jackknife block length in units of the largest τ_int (default 4). */
  minBlockTau?: number;
}

/** Everything the engine reports for one Ising run. */
export interface IsingEstimates {
  /** ⟨e⟩, error from τ_int. */
  energy: Estimate;
  /** ⟨|m|⟩, error from τ_int. */
  absMagnetization: Estimate;
  /** ⟨m²⟩, error from τ_int. */
  m2: Estimate;
  /** ⟨m⁴⟩, error from τ_int. */
  m4: Estimate;
  /** U4 = 1 − ⟨m⁴⟩/(3⟨m²⟩²), jackknife. */
  binder: NonlinearEstimate;
  /** χ = βN(⟨m²⟩ − ⟨|m|⟩²) per spin, jackknife. */
  susceptibility: NonlinearEstimate;
  /** C = β²N(⟨e²⟩ − ⟨e⟩²) per spin, jackknife. */
  specificHeat: NonlinearEstimate;
  /** τ_int (in samples) of each primary series; `max` sized the jackknife blocks. */
  tauInt: {
    energy: number;
    absMagnetization: number;
    m2: number;
    m4: number;
    energySquared: number;
    max: number;
  };
  /** How the jackknife blocks were cut. */
  blocking: {
    blocks: number;
    blockSize: number;
    /** False when the series was shorter than minBlocks·minBlockTau·τ_int: χ, C, U4 errors are then too small. */
    wellBlocked: boolean;
    /** False when some τ_int window did not converge (series too short for its τ_int). */
    converged: boolean;
  };
  /** Samples per replica (the caller knows R; it is not repeated here). */
  n: number;
}

/** Binder cumulant U4 = 1 − ⟨m⁴⟩/(3⟨m²⟩²) with jackknife error, from per-block means of m² and m⁴. */
export function binderCumulant(m2Blocks: ArrayLike<number>, m4Blocks: ArrayLike<number>): JackknifeResult {
  if (m2Blocks.length !== m4Blocks.length) {
    throw new RangeError(`${m2Blocks.length} m² blocks but ${m4Blocks.length} m⁴ blocks; they must match`);
  }
  const blocks: number[][] = [];
  for (let k = 0; k < m2Blocks.length; k++) blocks.push([m2Blocks[k] as number, m4Blocks[k] as number]);
  return jackknife(blocks, (x) => 1 - (x[1] as number) / (3 * (x[0] as number) ** 2));
}

/**
 * Ising observables with error bars from one run's energy and magnetisation series. Means of e, |m|, m², m⁴ use
 * the τ_int error; U4, χ and C use the jackknife over contiguous blocks. The block count starts at `blocks`
 * (default 32) and is reduced so that each block holds ≥ minBlockTau (4) × the largest τ_int of the primary
 * series; it never goes below minBlocks (8). When the series is too short for that (n < 8·4·τ_int), 8 shorter
 * blocks are used, `blocking.wellBlocked` is false and the nonlinear errors are underestimated: run longer or
 * thin less. Leading samples beyond a whole number of blocks are left out of the jackknife.
 *
 * With R independent replicas (e and m given as arrays of equal-length series), the primary series are the
 * per-measurement replica averages of e, e², |m|, m², m⁴: ⟨e²⟩ − ⟨e⟩² still measures the fluctuations within a
 * replica, the τ_int are those of one replica, and the errors shrink as 1/√R.
 */
export function isingEstimators(input: IsingSeries): IsingEstimates {
  const { beta, N } = input;
  const eReplicas = asReplicas(input.e);
  const mReplicas = asReplicas(input.m);
  const replicas = eReplicas.length;
  if (mReplicas.length !== replicas) {
    throw new RangeError(
      `${mReplicas.length} magnetisation replicas but ${replicas} energy replicas; they must match`,
    );
  }
  const n = checkSeries(eReplicas[0] as ArrayLike<number>, replicas > 1 ? 'e[0]' : 'energy series e', 2);
  eReplicas.forEach((series, r) => {
    const name = replicas > 1 ? `e[${r}]` : 'energy series e';
    if (series.length !== n) throw new RangeError(`${name} has ${series.length} samples; e[0] has ${n}`);
    checkSeries(series, name, 2);
  });
  mReplicas.forEach((series, r) => {
    const name = replicas > 1 ? `m[${r}]` : 'magnetisation series m';
    if (series.length !== n)
      throw new RangeError(`${name} has ${series.length} samples; energy series has ${n}`);
    checkSeries(series, name, 2);
  });
  if (!Number.isFinite(beta) || beta < 0) throw new RangeError(`beta = ${beta} must be finite and ≥ 0`);
  if (!Number.isInteger(N) || N < 1) throw new RangeError(`spin count N = ${N} must be an integer ≥ 1`);
  const windowOptions: WindowOptions = { c: input.c, maxWindow: input.maxWindow };

  // Replica averages per measurement of e, |m|, m², m⁴.
  const eBar = new Float64Array(n);
  const absBar = new Float64Array(n);
  const m2Bar = new Float64Array(n);
  const m4Bar = new Float64Array(n);
  for (let r = 0; r < replicas; r++) {
    const e = eReplicas[r] as ArrayLike<number>;
    const m = mReplicas[r] as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      const x = m[i] as number;
      eBar[i] = (eBar[i] as number) + (e[i] as number) / replicas;
      absBar[i] = (absBar[i] as number) + Math.abs(x) / replicas;
      m2Bar[i] = (m2Bar[i] as number) + (x * x) / replicas;
      m4Bar[i] = (m4Bar[i] as number) + (x * x * x * x) / replicas;
    }
  }
  const eAcov = new Autocovariance(eBar, 'energy series e');
  const absAcov = new Autocovariance(absBar, '|m|');
  const m2Acov = new Autocovariance(m2Bar, 'm²');
  const m4Acov = new Autocovariance(m4Bar, 'm⁴');

  // Variances are shift-invariant: centre e and |m| before squaring so ⟨x²⟩ − ⟨x⟩² does not cancel digits.
  const eShift = eAcov.mean;
  const absShift = absAcov.mean;
  const eC = new Float64Array(n);
  const eC2 = new Float64Array(n);
  const absC = new Float64Array(n);
  const absC2 = new Float64Array(n);
  for (let r = 0; r < replicas; r++) {
    const e = eReplicas[r] as ArrayLike<number>;
    const m = mReplicas[r] as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      const de = (e[i] as number) - eShift;
      const dm = Math.abs(m[i] as number) - absShift;
      eC[i] = (eC[i] as number) + de / replicas;
      eC2[i] = (eC2[i] as number) + (de * de) / replicas;
      absC[i] = (absC[i] as number) + dm / replicas;
      absC2[i] = (absC2[i] as number) + (dm * dm) / replicas;
    }
  }
  const eSqAcov = new Autocovariance(eC2, '(e − ⟨e⟩)²');

  const tE = windowedTauInt(eAcov, windowOptions);
  const tAbs = windowedTauInt(absAcov, windowOptions);
  const tM2 = windowedTauInt(m2Acov, windowOptions);
  const tM4 = windowedTauInt(m4Acov, windowOptions);
  const tESq = windowedTauInt(eSqAcov, windowOptions);
  const all = [tE, tAbs, tM2, tM4, tESq];
  const tauMax = Math.max(...all.map((t) => t.tauInt));

  const choice = chooseBlocks(n, tauMax, {
    maxBlocks: input.blocks ?? 32,
    minBlocks: input.minBlocks,
    minBlockTau: input.minBlockTau,
  });
  // Columns: 0 e−⟨e⟩, 1 (e−⟨e⟩)², 2 |m|−⟨|m|⟩, 3 (|m|−⟨|m|⟩)², 4 m², 5 m⁴ (each a replica average).
  const blocks = blockMeans([eC, eC2, absC, absC2, m2Bar, m4Bar], choice.blocks);
  const nonlinear = (f: (x: Float64Array) => number): NonlinearEstimate => {
    const r = jackknife(blocks, f);
    return { mean: r.value, err: r.err, bias: r.bias };
  };
  const get = (x: Float64Array, j: number): number => x[j] as number;

  return {
    energy: { mean: eAcov.mean, err: errorFromTau(eAcov, tE.tauInt) },
    absMagnetization: { mean: absAcov.mean, err: errorFromTau(absAcov, tAbs.tauInt) },
    m2: { mean: m2Acov.mean, err: errorFromTau(m2Acov, tM2.tauInt) },
    m4: { mean: m4Acov.mean, err: errorFromTau(m4Acov, tM4.tauInt) },
    binder: nonlinear((x) => 1 - get(x, 5) / (3 * get(x, 4) ** 2)),
    susceptibility: nonlinear((x) => beta * N * (get(x, 3) - get(x, 2) ** 2)),
    specificHeat: nonlinear((x) => beta * beta * N * (get(x, 1) - get(x, 0) ** 2)),
    tauInt: {
      energy: tE.tauInt,
      absMagnetization: tAbs.tauInt,
      m2: tM2.tauInt,
      m4: tM4.tauInt,
      energySquared: tESq.tauInt,
      max: tauMax,
    },
    blocking: {
      blocks: choice.blocks,
      blockSize: choice.blockSize,
      wellBlocked: choice.wellBlocked,
      converged: all.every((t) => t.converged),
    },
    n,
  };
}

/** A single series as [series]; an array of replica series as is (at least one). */
function asReplicas(x: SeriesOrReplicas): ArrayLike<number>[] {
  if (x.length > 0 && typeof x[0] !== 'number') {
    return Array.from(x as readonly ArrayLike<number>[]);
  }
  return [x as ArrayLike<number>];
}
