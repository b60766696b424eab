/**
 * Sampling kernels, statistically: over many rows with the same input, the frequency of each unit being
 * on matches its conditional probability (sigmoid(x) for {0,1}, sigmoid(2x) for ±1) — a chi-square test
 * over all units, both directions, both unit types, dense and conv.
 */
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../src/stats/index.ts';
import { RbmEngine, type RbmOptions } from '../../src/rbm/engine.ts';
import { denseModel } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg, sigmoid } from './replay.ts';

describe('RBM sampling frequencies (chi-square)', () => {
  const gpu = useGpu();
  const cases: [string, RbmOptions][] = [
    ['dense {0,1} 30×20', { nv: 30, nh: 20 }],
    ['dense ±1 25×18', { nv: 25, nh: 18, units: 'ising' }],
    ['conv ±1 8×8 k=3 s=2', { conv: { Lv: 8, filters: 2, k: 3, stride: 2 }, units: 'ising' }],
  ];
  it.each(cases)('%s: h|v and v|h frequencies match the conditionals (p > 1e-4)', async (_n, opts) => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { ...opts, seed: 21, initScale: 0.3 });
      try {
        const model = await denseModel(rbm);
        const { nv, nh } = rbm;
        const low = rbm.units === 'ising' ? -1 : 0;
        const rand = lcg(nv);
        const rows = 4000;
        for (const hidden of [true, false]) {
          const fanIn = hidden ? nv : nh;
          const units = hidden ? nh : nv;
          const one = Array.from({ length: fanIn }, () => (rand() < 0.5 ? 1 : low));
          const input = Float32Array.from({ length: rows * fanIn }, (_, k) => one[k % fanIn] as number);
          const { samples } = await rbm.conditional(input, rows, { hidden, step: 17 });
          let chi2 = 0;
          let chi2Shifted = 0;
          for (let j = 0; j < units; j++) {
            let x = model[nv * nh + (hidden ? nv + j : j)] as number;
            for (let k = 0; k < fanIn; k++) {
              x += (one[k] as number) * (model[hidden ? k * nh + j : j * nh + k] as number);
            }
            const p = rbm.units === 'ising' ? sigmoid(2 * x) : sigmoid(x);
            let on = 0;
            for (let r = 0; r < rows; r++) if (samples[r * units + j] === 1) on++;
            chi2 += (on - rows * p) ** 2 / (rows * p * (1 - p));
            // The same counts against probabilities off by 0.05 must be rejected (the test has power).
            const q = Math.min(0.99, Math.max(0.01, p + (p < 0.5 ? 0.05 : -0.05)));
            chi2Shifted += (on - rows * q) ** 2 / (rows * q * (1 - q));
          }
          expect(chiSquareSurvival(chi2, units)).toBeGreaterThan(1e-4);
          expect(chiSquareSurvival(chi2Shifted, units)).toBeLessThan(1e-4);
        }
      } finally {
        rbm.destroy();
      }
    });
  });
});
