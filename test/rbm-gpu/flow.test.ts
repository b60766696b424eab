/**
 * The RBM flow (src/rbm/flow.ts): mean-field generations against a float64 CPU oracle of v′ = tanh(W·tanh(Wᵀv + b)
 * + a) ({0,1}: sigmoid), sampled generations deterministic in the seed and with the right one-step statistics,
 * the hook that redraws weights, and bad input refused.
 */
import { describe, expect, it } from 'vitest';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { rbmFlow } from '../../src/rbm/flow.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

/** One mean-field step v → E[h|v] → E[v|h] in float64. */
function meanFieldStep(
  units: 'ising' | 'bernoulli',
  W: Float64Array,
  a: Float64Array,
  b: Float64Array,
  v: Float64Array,
  nv: number,
  nh: number,
): Float64Array {
  const act = units === 'ising' ? Math.tanh : (x: number) => 1 / (1 + Math.exp(-x));
  const h = new Float64Array(nh);
  for (let j = 0; j < nh; j++) {
    let x = b[j]!;
    for (let i = 0; i < nv; i++) x += v[i]! * W[i * nh + j]!;
    h[j] = act(x);
  }
  const out = new Float64Array(nv);
  for (let i = 0; i < nv; i++) {
    let x = a[i]!;
    for (let j = 0; j < nh; j++) x += h[j]! * W[i * nh + j]!;
    out[i] = act(x);
  }
  return out;
}

describe('rbmFlow', () => {
  const gpu = useGpu();
  const nv = 13;
  const nh = 7;
  const rand = lcg(11);
  const W = Float64Array.from({ length: nv * nh }, () => 0.6 * (rand() - 0.5));
  const a = Float64Array.from({ length: nv }, () => 0.4 * (rand() - 0.5));
  const b = Float64Array.from({ length: nh }, () => 0.4 * (rand() - 0.5));

  for (const units of ['ising', 'bernoulli'] as const) {
    it(`mean-field generations match the float64 oracle (${units} units)`, async () => {
      const device = gpu().device;
      const rows = 5;
      const low = units === 'ising' ? -1 : 0;
      const start = Float32Array.from({ length: rows * nv }, () => (rand() < 0.5 ? 1 : low));
      await checked(device, async () => {
        const rbm = new RbmEngine(device, { nv, nh, units, parameters: { W, a, b }, seed: 3 });
        const means: Float32Array[] = [];
        const samples: Float32Array[] = [];
        try {
          const r = await rbmFlow(rbm, start, rows, 6, {
            step: 'mean-field',
            onGeneration: (g, v, m) => {
              samples.push(v);
              means.push(m!);
            },
          });
          expect(r).toEqual({ generations: 6, aborted: false });
        } finally {
          rbm.destroy();
        }
        expect(means).toHaveLength(7);
        expect(Array.from(means[0]!)).toEqual(Array.from(start));
        for (let r = 0; r < rows; r++) {
          let v: Float64Array = Float64Array.from(start.subarray(r * nv, (r + 1) * nv));
          for (let g = 1; g <= 6; g++) {
            v = meanFieldStep(units, W, a, b, v, nv, nh);
            for (let i = 0; i < nv; i++) expect(means[g]![r * nv + i]).toBeCloseTo(v[i]!, 5);
          }
        }
        // The read-out samples are unit values drawn from the means.
        for (const s of samples.slice(1)) for (const x of s) expect([low, 1]).toContain(x);
      });
    });
  }

  it('sampled generations: deterministic in the seed; with W = 0 every spin is +1 with probability sigmoid(2a)', async () => {
    const device = gpu().device;
    const rows = 4000;
    const bias = 0.3;
    const start = new Float32Array(rows * 2).fill(-1);
    await checked(device, async () => {
      const rbm = new RbmEngine(device, {
        nv: 2,
        nh: 3,
        units: 'ising',
        parameters: { W: new Float32Array(6), a: [bias, -bias], b: [0, 0, 0] },
        seed: 3,
      });
      try {
        const run = async (seed: number) => {
          const out: Float32Array[] = [];
          await rbmFlow(rbm, start, rows, 2, { seed, onGeneration: (_, v) => void out.push(v) });
          return out;
        };
        const x = await run(5);
        const y = await run(5);
        const z = await run(6);
        expect(Array.from(x[2]!)).toEqual(Array.from(y[2]!));
        expect(Array.from(x[2]!)).not.toEqual(Array.from(z[2]!));
        const p = 1 / (1 + Math.exp(-2 * bias));
        for (const [site, q] of [
          [0, p],
          [1, 1 - p],
        ] as const) {
          let up = 0;
          for (let r = 0; r < rows; r++) if (x[1]![r * 2 + site] === 1) up++;
          // Binomial: 5 standard deviations (≈ 0.038 at n = 4000) never fails for a correct sampler.
          expect(Math.abs(up / rows - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / rows));
        }
      } finally {
        rbm.destroy();
      }
    });
  });

  it('beforeGeneration runs before each step (a redrawn weight takes effect at once); bad input refused', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: 2, nh: 1, units: 'ising', seed: 1 });
      try {
        const calls: number[] = [];
        const means: Float32Array[] = [];
        await rbmFlow(rbm, [1, 1], 1, 3, {
          step: 'mean-field',
          beforeGeneration: (g) => {
            calls.push(g);
            // Generation g uses visible biases ±g (no weights): its means are tanh(±g).
            rbm.setParameters({ W: [0, 0], a: [g, -g], b: [0] });
          },
          onGeneration: (_, __, m) => void means.push(m!),
        });
        expect(calls).toEqual([1, 2, 3]);
        for (let g = 1; g <= 3; g++) {
          expect(means[g]![0]).toBeCloseTo(Math.tanh(g), 6);
          expect(means[g]![1]).toBeCloseTo(-Math.tanh(g), 6);
        }
        const none = { onGeneration: () => {} };
        await expect(rbmFlow(rbm, [1, 1], 1, 0, none)).rejects.toThrow(
          /generations 0 must be an integer in 1/,
        );
        await expect(rbmFlow(rbm, [1, 1, 1], 1, 2, none)).rejects.toThrow(/3 values; 1 rows × nv 2 = 2/);
        await expect(rbmFlow(rbm, [1, 0], 1, 2, none)).rejects.toThrow(/value 0 at 1 is not -1 or 1/);
        await expect(rbmFlow(rbm, [1, 1], 0, 2, none)).rejects.toThrow(/rows 0 must be an integer/);
        await expect(rbmFlow(rbm, [1, 1], 1, 2, { ...none, step: 'gibbs' as never })).rejects.toThrow(
          /step 'gibbs' must be 'sampled' or 'mean-field'/,
        );
      } finally {
        rbm.destroy();
      }
    });
  });
});
