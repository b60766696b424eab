/**
 * Learning works: trained on exact samples of a periodic 1D Ising ring (N = 10, K = 0.5), an RBM with one
 * ±1 hidden unit per bond (which can represent the ring exactly, PHYSICS.md) raises the exact
 * log-likelihood and ends with KL(data‖model), computed exactly over all 2^10 states, below 0.05 nats.
 */
import { describe, expect, it } from 'vitest';
import { RbmEngine, type TrainingOptions } from '../../src/rbm/engine.ts';
import { RbmMonitor } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

const N = 10;
const K = 0.5;

/** Exact Boltzmann probabilities of the ring's 2^N states (state bit i = spin i up). */
function ringDistribution(): { states: number[][]; p: Float64Array } {
  const states = Array.from({ length: 2 ** N }, (_, s) =>
    Array.from({ length: N }, (_, i) => ((s >> i) & 1 ? 1 : -1)),
  );
  const w = states.map((v) => Math.exp(K * v.reduce((e, si, i) => e + si * (v[(i + 1) % N] as number), 0)));
  const z = w.reduce((a, b) => a + b, 0);
  return { states, p: Float64Array.from(w, (x) => x / z) };
}

describe('RBM learning', () => {
  const gpu = useGpu();
  it.each([
    ['CD-1', { k: 1 }],
    ['PCD-1, 100 chains', { k: 1, pcd: 100, lr: 0.1 }],
  ] as [string, Partial<TrainingOptions>][])(
    '%s on exact ring samples: log-likelihood rises, KL(data‖model) < 0.05 nats',
    async (_name, opts) => {
      const device = gpu().device;
      const { states, p } = ringDistribution();
      const cdf = Float64Array.from(p);
      for (let i = 1; i < cdf.length; i++) cdf[i] = (cdf[i] as number) + (cdf[i - 1] as number);
      const rand = lcg(2024);
      const n = 8000;
      const data: number[] = [];
      for (let k = 0; k < n; k++) {
        const u = rand();
        let s = 0;
        while ((cdf[s] as number) < u && s < cdf.length - 1) s++;
        data.push(...(states[s] as number[]));
      }
      const all = Float32Array.from(states.flat());
      const entropy = -p.reduce((h, x) => h + x * Math.log(x), 0);
      await checked(device, async () => {
        const rbm = new RbmEngine(device, { nv: N, nh: N, units: 'ising', seed: 11, initScale: 0.05 });
        const monitor = new RbmMonitor(rbm);
        try {
          const kl = async (): Promise<{ kl: number; ll: number }> => {
            const lnZ = await monitor.logPartition();
            const f = await monitor.freeEnergies(all, states.length);
            let cross = 0;
            for (let s = 0; s < states.length; s++) cross += (p[s] as number) * (-(f[s] as number) - lnZ);
            const sample = Float32Array.from(data.slice(0, 1000 * N));
            return { kl: -entropy - cross, ll: await monitor.logLikelihood(sample, 1000, lnZ) };
          };
          const before = await kl();
          rbm.setData(data, n);
          // SGD with an exponentially decaying rate anneals the stochastic-gradient noise (KL ≈ 0.015–0.03 here).
          rbm.configureTraining({
            batch: 100,
            optimizer: 'sgd',
            lr: 0.15,
            schedule: { kind: 'exponential', gamma: 0.8 },
            ...opts,
          });
          await rbm.trainEpochs(12);
          const after = await kl();
          expect(after.ll).toBeGreaterThan(before.ll + 0.3);
          expect(before.kl).toBeGreaterThan(0.3); // the starting point is far from the data
          expect(after.kl).toBeLessThan(0.05);
          expect(after.kl).toBeGreaterThan(0);
        } finally {
          rbm.destroy();
        }
      });
    },
  );
});
