/** Stacked RBMs: each layer trains on the layer below's hidden means or samples; layer 1 learns. */
import { describe, expect, it } from 'vitest';
import { trainDbn } from '../../src/rbm/dbn.ts';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { RbmMonitor } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

describe('stacked RBMs (DBN)', () => {
  const gpu = useGpu();
  it.each(['means', 'samples'] as const)('16-8-4 stack, propagating %s', async (propagate) => {
    const device = gpu().device;
    const rand = lcg(31);
    const n = 400;
    const nv = 16;
    // Two prototypes with 10 % noise.
    const data = Array.from({ length: n * nv }, (_, k) => {
      const proto = Math.floor(k / nv) % 2 === 0 ? k % nv < 8 : k % nv >= 8;
      return rand() < 0.9 === proto ? 1 : 0;
    });
    await checked(device, async () => {
      const training = { batch: 20, k: 1, optimizer: 'adam' as const, lr: 0.02 };
      const dbn = await trainDbn(device, data, n, nv, {
        seed: 4,
        layers: [
          { hidden: 8, training, epochs: 4, propagate },
          { hidden: 4, training, epochs: 3 },
        ],
      });
      const untrained = new RbmEngine(device, { nv, nh: 8, seed: 4 });
      try {
        expect(dbn.aborted).toBe(false);
        expect(dbn.layers.map((l) => [l.nv, l.nh])).toEqual([
          [16, 8],
          [8, 4],
        ]);
        expect(dbn.inputs.map((x) => x.length)).toEqual([n * 16, n * 8]);
        // Layer 2's data is layer 1's output for the data.
        const second = dbn.inputs[1] as Float32Array;
        if (propagate === 'samples') expect([...second].every((x) => x === 0 || x === 1)).toBe(true);
        else {
          expect([...second].some((x) => x > 0 && x < 1)).toBe(true);
          const again = await dbn.layers[0]!.conditional(dbn.inputs[0]!.subarray(0, 10 * nv), 10, {
            hidden: true,
          });
          expect(Array.from(second.subarray(0, 10 * 8))).toEqual(Array.from(again.means));
        }
        // Layer 1 learned: its exact log-likelihood beats the untrained model's by a clear margin.
        const rows = Float32Array.from(data.slice(0, 200 * nv));
        const ll = await new RbmMonitor(dbn.layers[0]!).logLikelihood(rows, 200);
        const ll0 = await new RbmMonitor(untrained).logLikelihood(rows, 200);
        expect(ll).toBeGreaterThan(ll0 + 1);
        expect(dbn.layers[1]!.updateCount).toBe(3 * (n / 20));
      } finally {
        untrained.destroy();
        for (const l of dbn.layers) l.destroy();
      }
    });
  });

  it('real-valued data outside the units’ range is refused', async () => {
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 3, nh: 2 });
    try {
      expect(() => rbm.setData([0.5, 1.2, 0], 1, { realValued: true })).toThrow(
        /value 1.2 at sample 0, unit 1 is outside \[0, 1\]/,
      );
    } finally {
      rbm.destroy();
    }
  });
});
