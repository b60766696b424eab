/** AIS agrees with the exact ln Z (GPU enumeration) within its spread; ±1/{0,1} conversion leaves LL unchanged. */
import { describe, expect, it } from 'vitest';
import { annealedImportanceSampling, defaultBetas } from '../../src/rbm/ais.ts';
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
