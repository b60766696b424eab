/**
 * An RBM run stopped mid-epoch (Ctrl-C in `rbm train` saves such a state) and resumed makes exactly the
 * updates of an uninterrupted run: trainEpochs first finishes the epoch it was stopped in.
 */
import { describe, expect, it } from 'vitest';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

describe('RBM training stopped mid-epoch', () => {
  const gpu = useGpu();
  it('abort after 1 epoch + 2 updates, save, restore, 1 epoch == 2 epochs uninterrupted', async () => {
    const device = gpu().device;
    const rand = lcg(5);
    const n = 40;
    const data = Array.from({ length: n * 16 }, () => (rand() < 0.5 ? 1 : 0));
    const training = { batch: 10, lr: 0.05, optimizer: 'adam' as const };
    const make = (): RbmEngine => {
      const rbm = new RbmEngine(device, { nv: 16, nh: 8, seed: 4 });
      rbm.setData(data, n);
      rbm.configureTraining(training);
      return rbm;
    };
    await checked(device, async () => {
      const full = make();
      await full.trainEpochs(2);
      const stopped = make();
      const perEpoch = stopped.batchesPerEpoch;
      let checks = 0;
      // Aborts before update perEpoch + 2 (the signal is read before every update).
      const signal = {
        get aborted() {
          return ++checks > perEpoch + 2;
        },
      } as AbortSignal;
      const r = await stopped.trainEpochs(2, { signal });
      expect(r).toEqual({ epochsDone: 1, aborted: true });
      expect(stopped.updateCount).toBe(perEpoch + 2);
      const state = await stopped.trainingState();
      stopped.destroy();
      const resumed = make();
      resumed.restoreTrainingState(state);
      await resumed.trainEpochs(1);
      expect(resumed.updateCount).toBe(full.updateCount);
      expect(resumed.epochCount).toBe(2);
      const [a, b] = [await full.trainingState(), await resumed.trainingState()];
      expect(Buffer.from(b.parameters.buffer).equals(Buffer.from(a.parameters.buffer))).toBe(true);
      expect(Buffer.from(b.firstMoment.buffer).equals(Buffer.from(a.firstMoment.buffer))).toBe(true);
      full.destroy();
      resumed.destroy();
    });
  });
});
