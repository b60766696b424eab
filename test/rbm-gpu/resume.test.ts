/** Resuming from a training state continues bit-identically to an uninterrupted run (same adapter). */
import { describe, expect, it } from 'vitest';
import { RbmEngine, type RbmOptions, type TrainingOptions } from '../../src/rbm/engine.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

describe('RBM training state', () => {
  const gpu = useGpu();
  it.each([
    ['dense CD-2 Adam', { nv: 20, nh: 12 }, { batch: 10, k: 2, optimizer: 'adam', lr: 0.01 }],
    [
      'dense PCD-1 momentum',
      { nv: 20, nh: 12 },
      { batch: 10, k: 1, pcd: 7, optimizer: 'momentum', lr: 0.05 },
    ],
    [
      'conv ±1 CD-1 sqrt schedule',
      { conv: { Lv: 8, filters: 1, k: 4, stride: 2 }, units: 'ising' },
      {
        batch: 5,
        k: 1,
        optimizer: 'adam',
        lr: 1e-3,
        schedule: { kind: 'sqrt', final: 1e-4, decayEpochs: 2 },
      },
    ],
  ] as [string, RbmOptions, TrainingOptions][])(
    '%s: 2 epochs == 1 epoch + restore + 1 epoch',
    async (_n, shape, training) => {
      const device = gpu().device;
      const rand = lcg(77);
      await checked(device, async () => {
        const make = (): RbmEngine => new RbmEngine(device, { ...shape, seed: 9 });
        const a = make();
        const low = a.units === 'ising' ? -1 : 0;
        const n = 40;
        const data = Array.from({ length: n * a.nv }, () => (rand() < 0.5 ? 1 : low));
        const b = make();
        try {
          a.setData(data, n);
          a.configureTraining(training);
          await a.trainEpochs(2);
          b.setData(data, n);
          b.configureTraining(training);
          await b.trainEpochs(1);
          const state = await b.trainingState();
          b.destroy();
          const c = make();
          try {
            c.setData(data, n);
            c.configureTraining(training);
            c.restoreTrainingState(state);
            await c.trainEpochs(1);
            const [sa, sc] = [await a.trainingState(), await c.trainingState()];
            expect(sc.updates).toBe(sa.updates);
            expect(Buffer.from(sc.parameters.buffer).equals(Buffer.from(sa.parameters.buffer))).toBe(true);
            expect(Buffer.from(sc.firstMoment.buffer).equals(Buffer.from(sa.firstMoment.buffer))).toBe(true);
            expect(Buffer.from(sc.chains.buffer).equals(Buffer.from(sa.chains.buffer))).toBe(true);
            // …and training did change the parameters (the comparison is not vacuous).
            expect(Buffer.from(state.parameters.buffer).equals(Buffer.from(sa.parameters.buffer))).toBe(
              false,
            );
            expect(() => c.restoreTrainingState({ ...state, parameters: new Float32Array(3) })).toThrow(
              /has 3 values/,
            );
            const bad = state.parameters.slice();
            bad[0] = Number.NaN;
            expect(() => c.restoreTrainingState({ ...state, parameters: bad })).toThrow(
              /parameters\[0\] = NaN/,
            );
          } finally {
            c.destroy();
          }
        } finally {
          a.destroy();
          b.destroy();
        }
      });
    },
  );
});

describe('RBM divergence', () => {
  const gpu = useGpu();
  it('a learning rate that blows up stops with an error naming the epoch', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: 16, nh: 8, seed: 1, initScale: 1 });
      try {
        const rand = lcg(5);
        rbm.setData(
          Array.from({ length: 32 * 16 }, () => (rand() < 0.5 ? 1 : 0)),
          32,
        );
        rbm.configureTraining({ batch: 8, optimizer: 'momentum', momentum: 0.99, lr: 3e38 });
        const seen: number[] = [];
        await expect(rbm.trainEpochs(5, { onEpoch: (e) => void seen.push(e) })).rejects.toThrow(
          /training diverged: non-finite parameters after epoch \d/,
        );
        expect(await rbm.parametersFinite()).toBe(false);
        expect(seen.every((e) => e < 5)).toBe(true);
      } finally {
        rbm.destroy();
      }
    });
  });
});
