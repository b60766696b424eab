/**
 * GPU buffer leaks: 1000 create/use/destroy cycles of each engine and kernel object that owns buffers
 * leave none alive. Buffers are counted through a wrapper around device.createBuffer and each buffer's
 * destroy, on the real device. Sizes are tiny so the cycles are cheap; each cycle also does the work
 * that allocates lazily (training buffers, the finiteness check, read-back staging buffers).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { estimatePi } from '../../src/gpu/pi.ts';
import { evaluatePhiloxOnGpu, RandomFill } from '../../src/gpu/random.ts';
import { annealedImportanceSampling } from '../../src/rbm/ais.ts';
import { gibbsSample } from '../../src/rbm/sample.ts';
import { createStorageBuffer } from '../../src/gpu/buffers.ts';
import { reduceArray, SegmentedReduction } from '../../src/gpu/reduce.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { RbmEngine, type RbmOptions } from '../../src/rbm/engine.ts';
import { RbmMonitor } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const CYCLES = 1000;

/** Counts live buffers of `device`: created through createBuffer and not yet destroyed. */
function trackBuffers(device: GPUDevice): {
  live: Map<GPUBuffer, string>;
  created: () => number;
  restore: () => void;
} {
  const live = new Map<GPUBuffer, string>();
  let created = 0;
  const create = device.createBuffer;
  device.createBuffer = function (descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = create.call(device, descriptor);
    created++;
    live.set(buffer, descriptor.label ?? '(no label)');
    const destroy = buffer.destroy;
    buffer.destroy = (): undefined => {
      live.delete(buffer);
      destroy.call(buffer);
      return undefined;
    };
    return buffer;
  };
  return {
    live,
    created: () => created,
    restore: () => {
      device.createBuffer = create;
    },
  };
}

function labels(live: Map<GPUBuffer, string>): string[] {
  return [...new Set(live.values())];
}

describe(`GPU buffers after ${CYCLES} create/destroy cycles`, () => {
  const gpu = useGpu();
  let tracker: ReturnType<typeof trackBuffers>;
  beforeEach(() => {
    tracker = trackBuffers(gpu().device);
  });
  afterEach(() => tracker.restore());

  /** Runs `cycle` CYCLES times; every buffer created is destroyed again, and buffers were created. */
  async function expectNoLeak(
    cycle: (i: number) => Promise<void> | void,
    perCycleAtLeast: number,
  ): Promise<void> {
    const device = gpu().device;
    await checked(device, async () => {
      for (let i = 0; i < CYCLES; i++) {
        await cycle(i);
        if (tracker.live.size > 0) {
          throw new Error(
            `cycle ${i} left ${tracker.live.size} buffer(s) alive: ${labels(tracker.live).join(', ')}`,
          );
        }
      }
      await device.queue.onSubmittedWorkDone();
    });
    expect(labels(tracker.live)).toEqual([]);
    expect(tracker.created()).toBeGreaterThanOrEqual(CYCLES * perCycleAtLeast); // the wrapper saw them
  }

  it('IsingEngine (simple and packed kernels, with a measured run, a read-back and a snapshot)', async () => {
    const device = gpu().device;
    await expectNoLeak(async (i) => {
      const engine = new IsingEngine(device, {
        L: 32,
        Ly: 2,
        replicas: 2,
        T: 2.3,
        seed: i,
        kernel: i % 2 ? 'packed' : 'simple',
      });
      await engine.run({ sweeps: 1, measureEvery: 1, correlationEvery: 1 });
      await engine.series(0);
      if (i % 10 === 0) {
        const snap = await engine.snapshot();
        IsingEngine.fromSnapshot(device, snap).destroy();
        await engine.observables();
      }
      engine.destroy();
    }, 8);
  }, 300_000);

  it.each([
    ['dense', { nv: 8, nh: 4 }],
    ['conv', { conv: { Lv: 4, filters: 1, k: 2, stride: 2 } }],
  ] as [string, RbmOptions][])(
    'RbmEngine %s (data, CD and PCD training, an update, the finiteness check, RbmMonitor)',
    async (_name, shape) => {
      const device = gpu().device;
      const n = 8;
      await expectNoLeak(async (i) => {
        const rbm = new RbmEngine(device, { ...shape, seed: i });
        const data = Array.from({ length: n * rbm.nv }, (_, k) => ((k * 7 + i) % 3 === 0 ? 1 : 0));
        rbm.setData(data, n);
        rbm.configureTraining({ batch: 4, lr: 0.01, pcd: i % 2 ? 4 : 0 });
        rbm.configureTraining({ batch: 4, lr: 0.01 }); // reconfiguring frees the previous training
        rbm.step();
        await rbm.parametersFinite();
        if (i % 10 === 0) {
          const monitor = new RbmMonitor(rbm);
          await monitor.meanFreeEnergy(Float32Array.from(data), n);
          await rbm.conditional(Float32Array.from(data.slice(0, rbm.nv)), 1, { hidden: true });
        }
        rbm.destroy();
      }, 10);
    },
    300_000,
  );

  it('a rejected RbmEngine option frees what the constructor had allocated', async () => {
    const device = gpu().device;
    await expectNoLeak(() => {
      expect(() => new RbmEngine(device, { nv: 4, nh: 2, parameters: { W: [1, 2, 3] } })).toThrow(RangeError);
    }, 4);
  });

  it('SegmentedReduction and RandomFill', async () => {
    const device = gpu().device;
    await expectNoLeak(async (i) => {
      const input = createStorageBuffer(device, 'leak test input', 4096 * 4);
      const fill = new RandomFill(device, input, { count: 4096, seed: i });
      const reduction = new SegmentedReduction(device, input, { type: 'u32', length: 1024, segments: 4 });
      const other = new SegmentedReduction(device, input, { type: 'f32', length: 4096, itemsPerThread: 1 });
      if (i % 10 === 0) await reduction.run();
      fill.destroy();
      reduction.destroy();
      other.destroy();
      input.destroy();
    }, 6);
  }, 300_000);

  it('calls that allocate for themselves: Gibbs sampling, AIS, reduceArray, estimatePi, evaluatePhiloxOnGpu', async () => {
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 6, nh: 3, seed: 1 });
    const before = tracker.live.size; // the engine's own buffers stay alive across the cycles
    await checked(device, async () => {
      for (let i = 0; i < CYCLES; i++) {
        await gibbsSample(rbm, 2, 1);
        await annealedImportanceSampling(rbm, { runs: 2, betas: [0.5, 1] });
        await reduceArray(device, new Uint32Array([i, 1, 2, 3]));
        if (i % 10 === 0) {
          await estimatePi(device, { samples: 64, seed: i });
          await evaluatePhiloxOnGpu(device, [{ counter: [i, 0, 0, 0], key: [1, 2] }]);
        }
        if (tracker.live.size !== before) {
          throw new Error(
            `cycle ${i} left ${tracker.live.size - before} buffer(s) alive: ${labels(tracker.live).join(', ')}`,
          );
        }
      }
    });
    rbm.destroy();
    expect(labels(tracker.live)).toEqual([]);
    expect(tracker.created()).toBeGreaterThanOrEqual(CYCLES * 10);
  }, 300_000);
});
