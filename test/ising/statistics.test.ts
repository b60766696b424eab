/**
 * Error bars are honest: 64 independent replicas of a 16×16 lattice at T_c, each analysed alone as if it were a
 * separate run (its own series, its own isingEstimators). The spread of the 64 means is the true error of one
 * run; the reported errors must match it within a factor 1.5. At T_c τ_int(E) is several sweeps, so the naive
 * error √(s²/n) that ignores autocorrelation is too small by √(2τ_int) and must fail the same check.
 */
import { describe, expect, it } from 'vitest';
import { IsingEngine } from '../../src/ising/engine.ts';
import { T_C } from '../../src/exact/ising.ts';
import { isingEstimators, type IsingEstimates } from '../../src/stats/index.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function meanAndSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return { mean, sd };
}

/** √(s²/n): the error bar of uncorrelated samples. */
function naiveError(x: Float64Array): number {
  const { sd } = meanAndSd(Array.from(x));
  return sd / Math.sqrt(x.length);
}

describe('error bars of isingEstimators on engine data', () => {
  const gpu = useGpu();

  it('16×16 at T_c, 64 independent runs: reported errors of ⟨e⟩ and ⟨|m|⟩ match the spread of the means', async () => {
    const device = gpu().device;
    const runs = 64;
    const L = 16;
    const sweeps = 2000;
    const { perRun, naive } = await checked(device, async () => {
      const engine = new IsingEngine(device, { L, T: T_C, replicas: runs, seed: 31337 });
      try {
        // Equilibration bias is common to all runs and does not enter their spread; 300 sweeps are plenty.
        await engine.run({ sweeps: 300 });
        engine.clearMeasurements();
        await engine.run({ sweeps, measureEvery: 1 });
        const perRun: IsingEstimates[] = [];
        const naive = { energy: [] as number[], absMagnetization: [] as number[] };
        for (let r = 0; r < runs; r++) {
          const { energy, magnetization } = await engine.series(r);
          expect(energy.length).toBe(sweeps);
          perRun.push(isingEstimators({ e: energy, m: magnetization, beta: 1 / T_C, N: L * L }));
          naive.energy.push(naiveError(energy));
          naive.absMagnetization.push(naiveError(magnetization.map(Math.abs)));
        }
        return { perRun, naive };
      } finally {
        engine.destroy();
      }
    });

    for (const key of ['energy', 'absMagnetization'] as const) {
      const spread = meanAndSd(perRun.map((est) => est[key].mean)).sd; // the true error of one run (±9%)
      const reported = meanAndSd(perRun.map((est) => est[key].err)).mean;
      const naiveMean = meanAndSd(naive[key]).mean;
      const tau = meanAndSd(perRun.map((est) => est.tauInt[key])).mean;
      const what = `${key}: spread of means ${spread}, mean reported error ${reported}, naive ${naiveMean}, τ_int ${tau}`;
      expect(reported / spread, what).toBeGreaterThan(1 / 1.5);
      expect(reported / spread, what).toBeLessThan(1.5);
      // Autocorrelation matters here: ignoring τ_int would fail the factor-1.5 test.
      expect(tau, what).toBeGreaterThan(2);
      expect(spread / naiveMean, what).toBeGreaterThan(1.5 * 1.2);
    }
    // Every run converged its τ_int window (2000 sweeps ≫ 6·τ_int).
    expect(perRun.every((est) => est.blocking.converged)).toBe(true);
  });
});
