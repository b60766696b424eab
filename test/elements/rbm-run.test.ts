/**
 * The trainer's GPU side without the DOM (src/elements/rbm-run.ts), on Dawn in Node (SwiftShader without a GPU):
 * Ising training data generated on the GPU and stored bit-exactly as NPY, the timed probe, the per-epoch metrics,
 * and checkpoint files that parseCheckpointFiles reads back and that resume a run bit-identically.
 */
import { describe, expect, it } from 'vitest';
import { fingerprint, parseCheckpointFiles, stateCheckpointFiles } from '../../src/rbm/checkpoint.ts';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { epochMetrics } from '../../src/rbm/monitor.ts';
import { freeEnergyMonitored, monitorRows } from '../../src/elements/rbm-options.ts';
import {
  isingTrainingData,
  probeUpdateSeconds,
  trainingDataFromNpy,
  trainingDataNpy,
} from '../../src/elements/rbm-run.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

describe('rbm-run on the GPU', () => {
  it('generates Ising data, stores it bit-exactly, trains, measures and checkpoints a run that resumes bit-identically', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const request = {
        kind: 'ising' as const,
        L: 4,
        temperatures: [1.5, 3.5],
        perT: 16,
        therm: 20,
        every: 1,
        seed: 3,
        algorithm: 'metropolis' as const,
      };
      const data = await isingTrainingData(device, request, 'ising');
      expect([data.n, data.nv, data.shape]).toEqual([32, 16, [4, 4]]);
      expect(data.data.every((x) => x === 1 || x === -1)).toBe(true);
      expect(data.source).toBe('ising L=4 T=1.5,3.5 16/T therm 20 every 1 seed 3');
      // Bit-exact from its seed, and bit-exact through the stored NPY.
      const again = await isingTrainingData(device, request, 'ising');
      expect(fingerprint(again.data)).toBe(fingerprint(data.data));
      const stored = trainingDataFromNpy(trainingDataNpy(data), 'ising', data.source);
      expect([stored.n, stored.shape, fingerprint(stored.data)]).toEqual([
        32,
        [4, 4],
        fingerprint(data.data),
      ]);
      const bernoulli = await isingTrainingData(device, request, 'bernoulli');
      expect(bernoulli.data.every((x, i) => x === (data.data[i] === 1 ? 1 : 0))).toBe(true);

      const options = { nv: 16, nh: 4, units: 'ising' as const, seed: 5 };
      const training = { batch: 8, k: 1, pcd: 4, optimizer: 'adam' as const, lr: 0.01 };
      const probe = await probeUpdateSeconds(device, options, training, { updates: 2, budgetSeconds: 5 });
      expect(probe.updates).toBe(2);
      expect(probe.secondsPerUpdate).toBeGreaterThan(0);

      const rbm = new RbmEngine(device, options);
      const other = new RbmEngine(device, options);
      try {
        rbm.setData(data.data, data.n);
        rbm.configureTraining(training);
        await rbm.trainEpochs(1);
        const metrics = await epochMetrics(rbm, data, stored, 1, 0.01, 0.5, {
          rows: monitorRows(rbm.nv, data.n),
          freeEnergy: freeEnergyMonitored(rbm.nv, rbm.nh),
        });
        expect(metrics.reconstructionError.train).toBeGreaterThanOrEqual(0);
        expect(metrics.freeEnergy?.gap).toBeTypeOf('number');
        expect(metrics.logLikelihood?.train).toBeLessThan(0); // nh = 4: exact ln Z
        const state = await rbm.trainingState();
        const record = {
          seed: 5,
          data: {
            source: data.source,
            n: data.n,
            nv: 16,
            shape: [4, 4],
            fingerprint: fingerprint(data.data),
            holdout: 0,
          },
          history: [metrics],
          settings: { epochsRequested: 2 },
        };
        const files = stateCheckpointFiles(rbm, state, record);
        expect(files.map((f) => f.name).sort()).toEqual(
          ['W.npy', 'a.npy', 'b.npy', 'chains.npy', 'checkpoint.json', 'model.json', 'optimizer.npy'].sort(),
        );
        const loaded = parseCheckpointFiles(Object.fromEntries(files.map((f) => [f.name, f.bytes])));
        expect(loaded.model.training).toMatchObject({ visibleShape: [4, 4], epochsRequested: 2, epochs: 1 });
        expect(loaded.model.history).toHaveLength(1);
        // Resuming from the files continues exactly as the original run.
        other.setData(data.data, data.n);
        other.configureTraining(loaded.meta.training);
        other.restoreTrainingState(loaded.state);
        await rbm.trainEpochs(1);
        await other.trainEpochs(1);
        expect((await other.trainingState()).parameters).toEqual((await rbm.trainingState()).parameters);
      } finally {
        rbm.destroy();
        other.destroy();
      }
    });
  }, 120_000);

  it('generates Swendsen–Wang data (the 128² presets use it at T_c)', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const request = {
        kind: 'ising' as const,
        L: 16,
        temperatures: [2.269],
        perT: 8,
        therm: 20,
        every: 2,
        seed: 1,
        algorithm: 'sw' as const,
        tauSweeps: 20,
      };
      const data = await isingTrainingData(device, request, 'ising');
      expect([data.n, data.nv]).toEqual([8, 256]);
      expect(data.source).toBe('ising L=16 T=2.269 8/T therm 20 every 2 sw seed 1');
    });
  }, 120_000);
});
