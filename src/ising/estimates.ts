/** Observables with error bars from an Ising run: the estimators of src/stats over R replicas, plus G(r). */
import { isingEstimators, meanWithError, type Estimate, type IsingEstimates } from '../stats/index.ts';

export interface IsingRunInput {
  /** Energy per spin, one series per replica (equal lengths). */
  energy: Float64Array[];
  /** Magnetisation per spin, one series per replica. */
  magnetization: Float64Array[];
  beta: number;
  N: number;
  replicas: number;
  /** From IsingEngine.correlations(). */
  correlations?: { records: number; distances: number; values: Float64Array };
}

export interface IsingRunEstimates extends Omit<IsingEstimates, 'tauInt'> {
  tauInt: IsingEstimates['tauInt'];
  /** G(r) = ⟨s_i s_{i+r}⟩ (averaged over sites, both axes and replicas), error from τ_int. */
  correlation: { r: number; mean: number; err: number }[];
}

/**
 * Replicas are independent: the per-measurement replica averages of e, |m|, m², m⁴ and e² are the primary
 * series (same τ_int as one replica, R times less variance), which src/stats turns into means with τ_int
 * errors and jackknife errors for U4, χ and C.
 */
export function isingRunEstimates(input: IsingRunInput): IsingRunEstimates {
  const estimates = isingEstimators({
    e: input.energy,
    m: input.magnetization,
    beta: input.beta,
    N: input.N,
  });
  const correlation: { r: number; mean: number; err: number }[] = [];
  const c = input.correlations;
  if (c && c.records >= 2) {
    for (let d = 0; d < c.distances; d++) {
      const series = new Float64Array(c.records);
      for (let t = 0; t < c.records; t++) {
        let s = 0;
        for (let r = 0; r < input.replicas; r++)
          s += c.values[(t * input.replicas + r) * c.distances + d] as number;
        series[t] = s / input.replicas;
      }
      const est: Estimate = d === 0 ? { mean: 1, err: 0 } : meanWithError(series);
      correlation.push({ r: d, mean: est.mean, err: est.err });
    }
  }
  return { ...estimates, correlation };
}

/** How far the replica farthest from the others lies, in units of a replica's typical error. */
export interface ReplicaAgreement {
  /** The observable compared: ⟨|m|⟩ (a replica stuck in a stripe or domain state shows there first). */
  observable: 'absMagnetization';
  /** z above which replicas are said to disagree. */
  threshold: number;
  /** False when some replica's z exceeds the threshold. */
  agree: boolean;
  /** The median over replicas of ⟨|m|⟩, of its τ_int-corrected error (the typical error) and of τ_int(|m|). */
  median: { mean: number; err: number; tauInt: number };
  /** Measurements per replica. */
  measurements: number;
  /**
   * Whether the series are long enough to judge: at least REPLICA_AGREEMENT_TAUS × the median τ_int. Shorter
   * ones are reported (z included) but never said to disagree.
   */
  checked: boolean;
  /** The replica farthest from the median: its ⟨|m|⟩ ± error and z = |mean − median| / typical error. */
  worst: { replica: number; mean: number; err: number; z: number };
  /** A sentence for stderr when the replicas disagree, else null. */
  warning: string | null;
}

/**
 * z of the worst replica above which replicas are said to disagree. Measured on 120 healthy runs (8², 16², 32²;
 * T = 1.5 and 2.0 from ordered starts, 2.269, 2.6 and 3.5 from random ones; 50 … 2000 measured sweeps; 8 … 64
 * replicas; 3 seeds each): those long enough to judge gave z ≤ 6.5 (shorter ones up to 18, hence
 * REPLICA_AGREEMENT_TAUS). Replicas stuck in stripe states (32², T = 1.5, random start, 200 + 400 sweeps) gave
 * z = 1250 … 1730.
 */
export const REPLICA_AGREEMENT_Z = 20;

/**
 * Series shorter than this many τ_int (the median over replicas, at least 1 sweep) are not judged: τ_int and
 * the errors from it are then underestimated, and one long excursion of a small lattice looks like a stuck
 * replica.
 */
export const REPLICA_AGREEMENT_TAUS = 100;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Compares replicas run at the same couplings. Each replica's ⟨|m|⟩ gets a τ_int-corrected error; the
 * replicas' median ⟨|m|⟩ is the reference and their median error the scale, so z_r = |⟨|m|⟩_r − median| /
 * median error. Medians keep the check working when several replicas are stuck, and a stuck replica (its
 * domain walls drift, so its own error is large) is still measured against the error of a healthy one.
 * |m| moves in steps of 2/N, so the scale is at least the resolution 1/(N·√n): replicas frozen in
 * different states (low T) still give a finite z.
 *
 * @example
 * const check = replicaAgreement(series.map((s) => s.magnetization), N);
 * if (check && !check.agree) console.warn(check.warning);
 */
export function replicaAgreement(
  magnetization: readonly ArrayLike<number>[],
  N: number,
  { threshold = REPLICA_AGREEMENT_Z, noun = 'replica' }: { threshold?: number; noun?: string } = {},
): ReplicaAgreement | null {
  const R = magnetization.length;
  if (R < 2) return null;
  let n = Infinity;
  const stats = magnetization.map((m, r) => {
    const abs = Float64Array.from(m, Math.abs);
    if (abs.length < 2) {
      throw new RangeError(`replica ${r} has ${abs.length} measurement(s); at least 2 are needed`);
    }
    n = Math.min(n, abs.length);
    return meanWithError(abs);
  });
  const centre = {
    mean: median(stats.map((x) => x.mean)),
    err: Math.max(median(stats.map((x) => x.err)), 1 / (N * Math.sqrt(n))),
    tauInt: median(stats.map((x) => x.tauInt)),
  };
  const checked = n >= REPLICA_AGREEMENT_TAUS * Math.max(centre.tauInt, 1);
  let worst = { replica: -1, mean: 0, err: 0, z: -1 };
  stats.forEach((x, r) => {
    const z = Math.abs(x.mean - centre.mean) / centre.err;
    if (z > worst.z) worst = { replica: r, mean: x.mean, err: x.err, z };
  });
  const agree = !checked || worst.z <= threshold;
  const fixed = (x: number, e: number): string =>
    x.toFixed(Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(e)))));
  const warning = agree
    ? null
    : `${noun}s disagree: ${noun} ${worst.replica} has ⟨|m|⟩ = ${fixed(worst.mean, worst.err)} ± ` +
      `${worst.err.toPrecision(2)}; the median of the ${R} ${noun}s is ${fixed(centre.mean, centre.err)} with a ` +
      `typical error of ${centre.err.toPrecision(2)} (${worst.z.toFixed(1)} errors apart; a healthy run stays ` +
      `below ${threshold}). A ${noun} may be stuck (below T_c, e.g. in a stripe state from a random start): ` +
      `start ordered (--init up), thermalise longer (--therm), or look at the ${noun}s one by one.`;
  return {
    observable: 'absMagnetization',
    threshold,
    agree,
    median: centre,
    measurements: n,
    checked,
    worst,
    warning,
  };
}
