/** The RBM engine refuses runs that would wrap its u32 random-number counters (update index, conditional step). */
import { describe, expect, it } from 'vitest';
import { MAX_UPDATES, RbmEngine } from '../../src/rbm/engine.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('RBM random-number counters', () => {
  const gpu = useGpu();

  it('training stops at 2^32 updates: refused before the run, never wrapped', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: 6, nh: 3, seed: 2 });
      try {
        const rows = Float32Array.from({ length: 8 * 6 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
        rbm.setData(rows, 8);
        rbm.configureTraining({ batch: 2, lr: 0.01 }); // 4 updates per epoch
        const state = await rbm.trainingState();
        expect(MAX_UPDATES).toBe(4294967296);

        rbm.restoreTrainingState({ ...state, updates: MAX_UPDATES - 3 });
        await expect(rbm.trainEpochs(1)).rejects.toThrow(
          /1 epochs of 4 updates after 4294967293 would make 4294967297 updates; the random-number step counter is u32 \(at most 4294967296 updates per run\)/,
        );
        expect(rbm.updateCount).toBe(MAX_UPDATES - 3); // nothing ran

        rbm.restoreTrainingState({ ...state, updates: MAX_UPDATES - 4 });
        await rbm.trainEpochs(1); // the last four step words, 2^32 − 4 … 2^32 − 1
        expect(rbm.updateCount).toBe(MAX_UPDATES);
        expect(() => rbm.step()).toThrow(/update 4294967297 would wrap the u32 random-number step counter/);
        expect(() => rbm.restoreTrainingState({ ...state, updates: MAX_UPDATES + 1 })).toThrow(
          /state has 4294967297 updates; the random-number step counter is u32/,
        );
        await expect(
          rbm.conditional(new Float32Array(6), 1, { hidden: true, step: 2 ** 32 }),
        ).rejects.toThrow(/step 4294967296 must be an integer in 0 … 4294967295/);
      } finally {
        rbm.destroy();
      }
    });
  });
});
