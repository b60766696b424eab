/** RBM sampling kernels vs a CPU computation with the same Philox counters (means and every decision). */
import { describe, expect, it } from 'vitest';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { RbmEngine, type MatmulKernel, type RbmUnits } from '../../src/rbm/engine.ts';
import { philox4x32, unitFloat } from '../../src/gpu/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('RBM conditional sampling kernels', () => {
  const gpu = useGpu();
  // Both dense kernels; the 139×75×67 sizes span several 64-wide blocks of either in every
  // direction, none a multiple of 4.
  const cases: [RbmUnits, boolean, number, number, number, MatmulKernel][] = [];
  for (const matmul of ['tiled', 'direct'] as const) {
    cases.push(
      ['bernoulli', true, 37, 21, 19, matmul],
      ['bernoulli', false, 37, 21, 19, matmul],
      ['ising', true, 40, 17, 33, matmul],
      ['ising', false, 40, 17, 33, matmul],
      ['bernoulli', true, 139, 75, 67, matmul],
      ['ising', false, 139, 75, 67, matmul],
      // Tiled kernel edges: fanIn 70 / 37 (several 16-k steps, the last partial), 3 (under one quad of k).
      ['bernoulli', true, 70, 37, 21, matmul],
      ['ising', false, 70, 37, 21, matmul],
      ['bernoulli', true, 3, 70, 5, matmul],
      ['bernoulli', false, 70, 3, 5, matmul],
    );
  }
  it.each(cases)(
    '%s units, hidden=%s, %i×%i, %i rows, %s kernel: means and samples match the CPU with the same counters',
    async (units, hidden, nv, nh, rows, matmul) => {
      const device = gpu().device;
      await checked(device, async () => {
        const rand = lcg(nv * nh + rows);
        const W = Float32Array.from({ length: nv * nh }, () => (rand() - 0.5) * 1.2);
        const a = Float32Array.from({ length: nv }, () => (rand() - 0.5) * 0.8);
        const b = Float32Array.from({ length: nh }, () => (rand() - 0.5) * 0.8);
        const rbm = new RbmEngine(device, { nv, nh, units, seed: 99, parameters: { W, a, b }, matmul });
        expect(rbm.matmul).toBe(matmul);
        try {
          const fanIn = hidden ? nv : nh;
          const units_ = hidden ? nh : nv;
          const low = units === 'ising' ? -1 : 0;
          const input = Float32Array.from({ length: rows * fanIn }, () => (rand() < 0.5 ? 1 : low));
          const step = 5;
          const { means, samples } = await rbm.conditional(input, rows, { hidden, step });
          const key = seedKey(99);
          const stream = streamWord(hidden ? RngPurpose.rbmHidden : RngPurpose.rbmVisible, 0);
          let checkedDecisions = 0;
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < units_; j++) {
              let x = hidden ? (b[j] as number) : (a[j] as number);
              for (let k = 0; k < fanIn; k++) {
                const w = hidden ? (W[k * nh + j] as number) : (W[j * nh + k] as number);
                x += (input[r * fanIn + k] as number) * w;
              }
              const mean = units === 'ising' ? Math.tanh(x) : sigmoid(x);
              expect(means[r * units_ + j]).toBeCloseTo(mean, 5);
              const p = units === 'ising' ? sigmoid(2 * x) : sigmoid(x);
              const u = unitFloat(philox4x32([j >>> 2, r, step, stream], key)[j & 3] as number);
              if (Math.abs(u - p) > 1e-5) {
                expect(samples[r * units_ + j]).toBe(u < p ? 1 : low);
                checkedDecisions++;
              }
            }
          }
          expect(checkedDecisions).toBeGreaterThan(0.99 * rows * units_);
        } finally {
          rbm.destroy();
        }
      });
    },
  );
});
