/** AIS agrees with the exact ln Z (GPU enumeration) within its spread; ±1/{0,1} conversion leaves LL unchanged. */
import { describe, expect, it } from 'vitest';
import {
  AIS_PROGRESS_STEPS,
  annealedImportanceSampling,
  baseRateBiases,
  defaultBetas,
} from '../../src/rbm/ais.ts';
import { RbmEngine, type RbmOptions } from '../../src/rbm/engine.ts';
import { RbmMonitor } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('RBM annealed importance sampling', () => {
  const gpu = useGpu();

  it('defaultBetas has the paper’s shape and ends at 1', () => {
    const b = defaultBetas(1450);
    expect(b.length).toBe(1450);
    expect(b[b.length - 1]).toBe(1);
    expect(b.filter((x) => x <= 0.5).length).toBe(50);
    expect(() => defaultBetas(2)).toThrow(/steps 2/);
  });

  it.each([
    ['dense {0,1} 14×9', { nv: 14, nh: 9, initScale: 0.6 }],
    ['dense ±1 12×10', { nv: 12, nh: 10, units: 'ising', initScale: 0.35 }],
    ['conv ±1 4×4 k=3 s=2', { conv: { Lv: 4, filters: 1, k: 3, stride: 2 }, units: 'ising', initScale: 0.4 }],
  ] as [string, RbmOptions][])('%s: |AIS − exact| < 3·err + 0.02 with err < 0.05', async (_n, opts) => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { ...opts, seed: 13 });
      try {
        const exact = await new RbmMonitor(rbm).logPartition();
        const ais = await annealedImportanceSampling(rbm, { runs: 256, steps: 250 });
        expect(ais.err).toBeLessThan(0.05);
        expect(Math.abs(ais.logZ - exact)).toBeLessThan(3 * ais.err + 0.02);
        expect(ais.lower).toBeLessThanOrEqual(ais.logZ);
        expect(ais.upper).toBeGreaterThan(ais.logZ);
        expect(ais.effectiveRuns).toBeGreaterThan(10);
      } finally {
        rbm.destroy();
      }
    });
  });

  it.each([
    ['dense {0,1} 14×9', { nv: 14, nh: 9, initScale: 0.6 }],
    ['dense ±1 12×10', { nv: 12, nh: 10, units: 'ising', initScale: 0.35 }],
    ['conv ±1 4×4 k=3 s=2', { conv: { Lv: 4, filters: 1, k: 3, stride: 2 }, units: 'ising', initScale: 0.4 }],
  ] as [string, RbmOptions][])(
    '%s with strong visible biases and a base-rate base model: |AIS − exact| < 3·err + 0.02',
    async (_n, opts) => {
      const device = gpu().device;
      await checked(device, async () => {
        const rbm = new RbmEngine(device, { ...opts, seed: 17 });
        try {
          const { nv, units } = rbm;
          const low = units === 'ising' ? -1 : 0;
          // Visible biases far from 0 (tied for conv), and data drawn with matching base rates.
          const bias = (i: number): number => (rbm.conv ? 1.5 : ((i % 5) - 2) * 1.2);
          const { W, b } = await rbm.getParameters();
          rbm.setParameters({ W, b, a: Float32Array.from({ length: nv }, (_, i) => bias(i)) });
          const n = 64;
          let s = 5;
          const rows = Float32Array.from({ length: n * nv }, (_, k) => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            const p = 1 / (1 + Math.exp(-(units === 'ising' ? 2 : 1) * bias(k % nv)));
            return s / 2 ** 32 < p ? 1 : low;
          });
          const base = baseRateBiases(rows, n, nv, units);
          expect(base.length).toBe(nv);
          const exact = await new RbmMonitor(rbm).logPartition();
          const ais = await annealedImportanceSampling(rbm, { runs: 128, steps: 200, baseVisibleBias: base });
          expect(ais.err).toBeLessThan(0.05);
          expect(Math.abs(ais.logZ - exact)).toBeLessThan(3 * ais.err + 0.02);
        } finally {
          rbm.destroy();
        }
      });
    },
  );

  it('baseRateBiases: log-odds of the on-fraction with a pseudo-count; progress every AIS_PROGRESS_STEPS steps', async () => {
    // Unit 0 on in 3 of 4 rows, unit 1 never: p = (3 + 1)/(4 + 2), (0 + 1)/(4 + 2).
    const rows = [1, 0, 1, 0, 1, 0, 0, 0];
    const a = baseRateBiases(rows, 4, 2, 'bernoulli');
    expect(a[0]).toBeCloseTo(Math.log(2), 6);
    expect(a[1]).toBeCloseTo(-Math.log(5), 6);
    const ising = baseRateBiases(
      rows.map((x) => 2 * x - 1),
      4,
      2,
      'ising',
    );
    expect(ising[0]).toBeCloseTo(Math.log(2) / 2, 6);
    expect(() => baseRateBiases(rows, 3, 2, 'bernoulli')).toThrow(/rows has 8 values; expected n = 3/);
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 2, nh: 2 });
    try {
      const calls: [number, number][] = [];
      await annealedImportanceSampling(rbm, {
        runs: 2,
        steps: 2 * AIS_PROGRESS_STEPS + 5,
        onProgress: (d, t) => calls.push([d, t]),
      });
      const total = 2 * AIS_PROGRESS_STEPS + 5;
      expect(calls).toEqual([
        [AIS_PROGRESS_STEPS, total],
        [2 * AIS_PROGRESS_STEPS, total],
        [total, total],
      ]);
      await expect(annealedImportanceSampling(rbm, { baseVisibleBias: [0] })).rejects.toThrow(
        /base visible bias has 1 values; the RBM has nv = 2/,
      );
    } finally {
      rbm.destroy();
    }
  });

  it('rejects bad schedules', async () => {
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 4, nh: 3 });
    try {
      await expect(annealedImportanceSampling(rbm, { betas: [0.5, 0.4, 1] })).rejects.toThrow(/β\[1\] = 0.4/);
      await expect(annealedImportanceSampling(rbm, { betas: [0.5, 0.9] })).rejects.toThrow(/must be 1/);
      await expect(annealedImportanceSampling(rbm, { runs: 1 })).rejects.toThrow(/runs 1/);
    } finally {
      rbm.destroy();
    }
  });
});
