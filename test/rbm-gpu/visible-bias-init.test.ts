/**
 * RbmOptions.visibleBiasInit: 'log-odds' (default) sets a_i = ln(p_i/(1 − p_i)) ({0,1}) or ½ ln(p_i/(1 − p_i))
 * (±1) from the data given to setData, p_i clipped to [1e-3, 1 − 1e-3]; one tied value for a conv RBM; never
 * over explicit parameters, restored state, 'zero', or a model without visible biases.
 */
import { describe, expect, it } from 'vitest';
import { LOG_ODDS_CLIP, logOddsBias, RbmEngine, type RbmOptions } from '../../src/rbm/engine.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('RBM visible-bias initialisation from the data', () => {
  const gpu = useGpu();

  it('logOddsBias: logit for {0,1}, atanh(2p − 1) for ±1, clipped', () => {
    expect(logOddsBias('bernoulli', 0.25)).toBeCloseTo(Math.log(1 / 3), 12);
    expect(logOddsBias('ising', 0.25)).toBeCloseTo(Math.atanh(-0.5), 12);
    expect(logOddsBias('bernoulli', 0)).toBeCloseTo(Math.log(LOG_ODDS_CLIP / (1 - LOG_ODDS_CLIP)), 12);
    expect(logOddsBias('bernoulli', 1)).toBeCloseTo(-Math.log(LOG_ODDS_CLIP / (1 - LOG_ODDS_CLIP)), 12);
  });

  it.each([
    ['dense {0,1}', { nv: 4, nh: 3 }, [0.25, 0.5, 0, 1]],
    ['dense ±1', { nv: 4, nh: 3, units: 'ising' }, [0.25, 0.5, 0, 1]],
  ] as [string, RbmOptions, number[]][])('%s: a from the on-fractions at setData', async (_n, opts, p) => {
    const device = gpu().device;
    await checked(device, async () => {
      const low = opts.units === 'ising' ? -1 : 0;
      // 4 samples: unit i is on in round(4·p_i) of them.
      const rows = Array.from({ length: 16 }, (_, k) => (k >> 2 < 4 * (p[k % 4] as number) ? 1 : low));
      const units = opts.units ?? 'bernoulli';
      const made: RbmEngine[] = [];
      const make = (o: RbmOptions): RbmEngine => {
        const r = new RbmEngine(device, { ...opts, seed: 2, ...o });
        made.push(r);
        return r;
      };
      try {
        const rbm = make({});
        expect(rbm.visibleBiasInit).toBe('log-odds');
        rbm.setData(rows, 4);
        const a = (await rbm.getParameters()).a;
        p.forEach((q, i) => expect(a[i]).toBeCloseTo(logOddsBias(units, q), 5));
        // The weights are the seed's, untouched: equal to a 'zero' engine's.
        const zero = make({ visibleBiasInit: 'zero' });
        zero.setData(rows, 4);
        expect((await zero.getParameters()).a.every((x) => x === 0)).toBe(true);
        expect(Array.from((await zero.getParameters()).W)).toEqual(Array.from((await rbm.getParameters()).W));
        // Explicit parameters win; so does a restored state; no visible bias, no init.
        const explicit = make({ parameters: { W: new Float32Array(12), a: [0.5, 0.5, 0.5, 0.5] } });
        explicit.setData(rows, 4);
        expect(Array.from((await explicit.getParameters()).a)).toEqual([0.5, 0.5, 0.5, 0.5]);
        const none = make({ visibleBias: false });
        expect(none.visibleBiasInit).toBe('zero');
        none.setData(rows, 4);
        expect((await none.getParameters()).a.every((x) => x === 0)).toBe(true);
        const restored = make({});
        restored.setData(rows, 4);
        restored.configureTraining({ batch: 2, lr: 0.1 });
        const state = await zero.trainingState();
        restored.restoreTrainingState(state);
        restored.setData(rows, 4);
        expect((await restored.getParameters()).a.every((x) => x === 0)).toBe(true);
      } finally {
        for (const r of made) r.destroy();
      }
    });
  });

  it('conv: one tied visible bias from all sites', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { conv: { Lv: 4, filters: 1, k: 2, stride: 2 }, seed: 3 });
      try {
        const rows = Array.from({ length: 2 * 16 }, (_, k) => (k % 4 === 0 ? 1 : 0)); // a quarter on
        rbm.setData(rows, 2);
        const a = (await rbm.getParameters()).a;
        expect(a.every((x) => x === a[0])).toBe(true);
        expect(a[0]).toBeCloseTo(Math.log(1 / 3), 5);
      } finally {
        rbm.destroy();
      }
    });
  });
});
