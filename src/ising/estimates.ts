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
