/**
 * Device loss (simulated with device.destroy() mid-run): every pending engine call rejects with
 * DeviceLostError — never resolves as if the work had been done, never hangs — and what was read back
 * before the loss stays available and equals the same stretch of an uninterrupted run.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext, loseDeviceAfterSubmissions } from '../../src/gpu/device.ts';
import { DeviceLostError, whileAlive, workDone } from '../../src/gpu/lost.ts';
import { generateDataset, type Dataset, type DatasetOptions } from '../../src/ising/dataset.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { annealedImportanceSampling } from '../../src/rbm/ais.ts';
import { RbmEngine, type RbmOptions } from '../../src/rbm/engine.ts';
import { RbmMonitor } from '../../src/rbm/monitor.ts';
import { gibbsSample } from '../../src/rbm/sample.ts';

const acquire = (): Promise<GpuContext> => GpuContext.acquire({ log: () => {} });

/** Rejects with the error's name, or resolves 'resolved' (so a test can tell the three outcomes apart). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('device loss', () => {
  it('queue waits and read-backs reject with DeviceLostError, before and after the loss', async () => {
    const gpu = await acquire();
    const { device } = gpu;
    const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ });
    const pendingMap = whileAlive(device, staging.mapAsync(GPUMapMode.READ));
    await pendingMap; // alive: resolves
    staging.unmap();
    const pendingWork = workDone(device);
    const pendingMap2 = whileAlive(device, staging.mapAsync(GPUMapMode.READ));
    device.destroy();
    // Dawn resolves onSubmittedWorkDone on a destroyed device and rejects mapAsync with AbortError.
    expect(await outcome(pendingWork)).toBe('DeviceLostError');
    expect(await outcome(pendingMap2)).toBe('DeviceLostError');
    expect(await outcome(workDone(device))).toBe('DeviceLostError');
    const err = await workDone(device).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).reason).toBe('destroyed');
    expect((err as Error).message).toMatch(/GPU device was lost \(destroyed/);
  });

  it('IsingEngine.run rejects mid-run; the measurements read back so far are kept, bit-exact', async () => {
    const options = { L: 16, replicas: 4, T: 2.3, seed: 11 };
    const run = { sweeps: 400, measureEvery: 1, correlationEvery: 2, sweepsPerSubmit: 10 };
    // The reference: the same run on a device that stays.
    const ref = await acquire();
    const full = new IsingEngine(ref.device, options);
    await full.run(run);
    const fullRaw = (await full.rawSeries()).data.slice();
    const fullCorr = (await full.correlations()).values.slice();
    full.destroy();
    ref.destroy();

    const gpu = await acquire();
    const engine = new IsingEngine(gpu.device, options);
    let progressCalls = 0;
    const result = await outcome(
      engine.run({
        ...run,
        onProgress: () => {
          if (++progressCalls === 5) gpu.destroy(); // after 50 sweeps, 5 submissions read back
        },
      }),
    );
    expect(result).toBe('DeviceLostError');
    const raw = await engine.rawSeries(); // host-side only: no GPU call, no rejection
    expect(raw.records).toBe(50);
    expect(engine.measurementCount).toBe(50);
    expect(Array.from(raw.data)).toEqual(Array.from(fullRaw.subarray(0, raw.data.length)));
    const corr = await engine.correlations();
    expect(corr.records).toBe(25);
    expect(Array.from(corr.values)).toEqual(Array.from(fullCorr.subarray(0, corr.values.length)));
    const series = await engine.series(1);
    expect(series.energy.length).toBe(50);
    // Every later GPU call rejects (or throws) with the typed error.
    expect(await outcome(engine.run({ sweeps: 1, measureEvery: 1 }))).toBe('DeviceLostError');
    expect(await outcome(engine.getSpins())).toBe('DeviceLostError');
    expect(await outcome(engine.snapshot())).toBe('DeviceLostError');
    expect(await outcome(engine.observables())).toBe('DeviceLostError');
    engine.destroy(); // destroying after the loss is fine
  });

  it('IsingEngine: measurements still on the GPU at the loss are counted as lost', async () => {
    const gpu = await acquire();
    const engine = new IsingEngine(gpu.device, { L: 16, replicas: 2, T: 2, seed: 3 });
    // Lose the device with the 3rd submission: its 10 measurements never come back.
    loseDeviceAfterSubmissions(gpu.device, 3);
    const r = await outcome(engine.run({ sweeps: 100, measureEvery: 1, sweepsPerSubmit: 10 }));
    expect(r).toBe('DeviceLostError');
    expect(engine.measurementCount).toBe(10);
    expect(engine.lostMeasurements).toBe(10);
    expect((await engine.rawSeries()).records).toBe(10);
    engine.destroy();
  });

  it('IsingEngine: a read-back pending at the loss rejects with DeviceLostError', async () => {
    const gpu = await acquire();
    const engine = new IsingEngine(gpu.device, { L: 32, replicas: 2, T: 2, seed: 3 });
    const spins = engine.getSpins();
    gpu.destroy();
    expect(await outcome(spins)).toBe('DeviceLostError');
    engine.destroy();
  });

  it.each([
    ['dense', { nv: 16, nh: 8 }],
    ['conv', { conv: { Lv: 8, filters: 2, k: 3, stride: 2 } }],
  ] as [string, RbmOptions][])(
    'RbmEngine (%s): trainEpochs rejects when the device is lost mid-epoch',
    async (_name, shape) => {
      const gpu = await acquire();
      const rbm = new RbmEngine(gpu.device, { ...shape, seed: 5 });
      const n = 40;
      let s = 9;
      const data = Array.from({ length: n * rbm.nv }, () => ((s = (s * 69069 + 1) >>> 0) >>> 31 ? 1 : 0));
      rbm.setData(data, n);
      rbm.configureTraining({ batch: 10, lr: 0.05 });
      await rbm.trainEpochs(1);
      const epochs: number[] = [];
      // An epoch: 4 updates, then the finiteness check (a reduction and its read-back) — 6 submissions;
      // the 8th from here is the 2nd update of epoch 3.
      loseDeviceAfterSubmissions(gpu.device, 8);
      const r = await outcome(rbm.trainEpochs(5, { onEpoch: (e) => void epochs.push(e) }));
      expect(r).toBe('DeviceLostError');
      expect(epochs).toEqual([2]); // epoch 2 finished; epoch 3 was lost
      expect(await outcome(rbm.getParameters())).toBe('DeviceLostError');
      expect(await outcome(rbm.trainingState())).toBe('DeviceLostError');
      expect(await outcome(rbm.trainEpochs(1))).toBe('DeviceLostError');
      expect(() => rbm.step()).toThrow(DeviceLostError);
      rbm.destroy();
    },
  );

  it('RBM samplers and monitors (Gibbs sampling, AIS, free energies) reject when the device is lost', async () => {
    const gpu = await acquire();
    const rbm = new RbmEngine(gpu.device, { nv: 12, nh: 6, seed: 2 });
    loseDeviceAfterSubmissions(gpu.device, 3); // mid-way through the sampling; the others start lost
    expect(await outcome(gibbsSample(rbm, 8, 20))).toBe('DeviceLostError');
    expect(await outcome(annealedImportanceSampling(rbm, { runs: 4, steps: 50 }))).toBe('DeviceLostError');
    expect(await outcome(new RbmMonitor(rbm).meanFreeEnergy(new Float32Array(12), 1))).toBe(
      'DeviceLostError',
    );
    rbm.destroy();
  });

  describe('generateDataset', () => {
    const options: DatasetOptions = {
      L: 8,
      temperatures: [2, 3],
      samples: 12,
      chains: 3,
      therm: 20,
      tauSweeps: 40,
      every: 3,
      seed: 21,
    };
    let full: Dataset;
    const spinsOf = (d: Dataset): number[][] => d.temperatures.map((t) => Array.from(t.spins));

    it('uninterrupted reference', async () => {
      const gpu = await acquire();
      full = await generateDataset(gpu.device, options);
      gpu.destroy();
      expect(full.complete).toBe(true);
      expect(full.resume).toBeNull();
    });

    it('lost while sampling: the samples of the last save are kept; resuming completes the set bit-exactly', async () => {
      const gpu = await acquire();
      let saves = 0;
      const partial = await generateDataset(gpu.device, {
        ...options,
        onProgress: (phase) => {
          if (phase === 'sample' && ++saves === 3) gpu.destroy(); // the 3rd save's read-back fails
        },
      });
      expect(partial.deviceLost).toBeInstanceOf(DeviceLostError);
      expect(partial.complete).toBe(false);
      const taken = partial.temperatures.map((t) => t.samples);
      expect(taken.reduce((a, b) => a + b)).toBeGreaterThan(0);
      expect(taken.some((n, i) => n < full.temperatures[i]!.samples)).toBe(true);
      // What was kept is the start of the uninterrupted data set.
      partial.temperatures.forEach((t, i) =>
        expect(Array.from(t.spins)).toEqual(
          Array.from(full.temperatures[i]!.spins.subarray(0, t.spins.length)),
        ),
      );
      expect(partial.resume).not.toBeNull();
      const again = await acquire();
      const resumed = await generateDataset(again.device, { ...options, resume: partial.resume! });
      again.destroy();
      expect(resumed.complete).toBe(true);
      expect(resumed.deviceLost).toBeNull();
      expect(spinsOf(resumed)).toEqual(spinsOf(full));
      expect(resumed.temperatures.map((t) => t.interval)).toEqual(full.temperatures.map((t) => t.interval));
      expect(resumed.sampleSweeps).toBe(full.sampleSweeps);
    });

    it('lost before sampling: nothing kept, no resume state (a rerun gives the same set)', async () => {
      const gpu = await acquire();
      const partial = await generateDataset(gpu.device, {
        ...options,
        onProgress: (phase) => {
          if (phase === 'thermalise') gpu.destroy();
        },
      });
      expect(partial.deviceLost).toBeInstanceOf(DeviceLostError);
      expect(partial.complete).toBe(false);
      expect(partial.temperatures).toEqual([]);
      expect(partial.resume).toBeNull();
    });

    it('aborted while sampling: resuming from the state where it stopped completes the set bit-exactly', async () => {
      const gpu = await acquire();
      const controller = new AbortController();
      let saves = 0;
      const partial = await generateDataset(gpu.device, {
        ...options,
        signal: controller.signal,
        onProgress: (phase) => {
          if (phase === 'sample' && ++saves === 2) controller.abort();
        },
      });
      expect(partial.complete).toBe(false);
      expect(partial.deviceLost).toBeNull();
      expect(partial.resume!.sampleSweep).toBeLessThan(full.sampleSweeps);
      const again = await generateDataset(gpu.device, { ...options, resume: partial.resume! });
      gpu.destroy();
      expect(again.complete).toBe(true);
      expect(spinsOf(again)).toEqual(spinsOf(full));
    });

    it('a resume state that does not fit the options is refused before any GPU work', async () => {
      const gpu = await acquire();
      let saves = 0;
      const partial = await generateDataset(gpu.device, {
        ...options,
        onProgress: (phase) => {
          if (phase === 'sample' && ++saves === 2) gpu.destroy();
        },
      });
      const state = partial.resume!;
      const other = await acquire();
      await expect(generateDataset(other.device, { ...options, seed: 22, resume: state })).rejects.toThrow(
        /seed 21, expected 22/,
      );
      await expect(generateDataset(other.device, { ...options, every: 50, resume: state })).rejects.toThrow(
        /interval/,
      );
      await expect(
        generateDataset(other.device, {
          ...options,
          resume: { ...state, sampleSweep: state.sampleSweep + 1 },
        }),
      ).rejects.toThrow(/snapshot is at sweep/);
      other.destroy();
    });
  });
});
