/** GpuTimer (src/gpu/timing.ts): per-pass timestamp queries, resolved in the step's own submission. */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer } from '../../src/gpu/buffers.ts';
import { submitStep } from '../../src/gpu/kernel.ts';
import { RandomFill } from '../../src/gpu/random.ts';
import { GpuTimer, timeStep } from '../../src/gpu/timing.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

describe('GpuTimer', () => {
  it('is null exactly when the device lacks timestamp-query', () => {
    const { device } = gpu();
    const timer = GpuTimer.create(device);
    expect(timer !== null).toBe(device.features.has('timestamp-query'));
    timer?.destroy();
  });

  it('times two passes: two labelled, non-negative, finite durations', async ({ skip }) => {
    const { device } = gpu();
    if (!device.features.has('timestamp-query')) skip('no timestamp-query on this device');
    await checked(device, async () => {
      const timer = GpuTimer.create(device, 4) as GpuTimer;
      const output = createStorageBuffer(device, 'timing output', 4 * 65536);
      const words = new RandomFill(device, output, { count: 65536, seed: 1, kind: 'words' });
      const uniform = new RandomFill(device, output, { count: 65536, seed: 2, kind: 'uniform' });
      try {
        submitStep(device, 'timing test', [words, uniform], timer);
        await device.queue.onSubmittedWorkDone();
        const passes = await timer.read();
        expect(passes.map((p) => p.label)).toEqual(['random fillRandomWords', 'random fillUniform']);
        for (const p of passes) {
          expect(Number.isFinite(p.ms)).toBe(true);
          expect(p.ms).toBeGreaterThanOrEqual(0);
        }
        // Read starts over: nothing recorded since.
        expect(await timer.read()).toEqual([]);
        // The timer can be reused for the next step.
        submitStep(device, 'timing test again', [uniform], timer);
        expect((await timer.read()).map((p) => p.label)).toEqual(['random fillUniform']);
      } finally {
        words.destroy();
        uniform.destroy();
        output.destroy();
        timer.destroy();
      }
    });
  });

  it('stops handing out timestamp writes at capacity', async ({ skip }) => {
    const { device } = gpu();
    if (!device.features.has('timestamp-query')) skip('no timestamp-query on this device');
    await checked(device, () => {
      const timer = GpuTimer.create(device, 1) as GpuTimer;
      try {
        expect(timer.timestampWrites('first')).toMatchObject({
          beginningOfPassWriteIndex: 0,
          endOfPassWriteIndex: 1,
        });
        expect(timer.timestampWrites('second')).toBeUndefined();
      } finally {
        timer.destroy();
      }
    });
  });

  it('timeStep reports the source it used', async () => {
    const { device } = gpu();
    await checked(device, async () => {
      const output = createStorageBuffer(device, 'timing output', 4 * 1024);
      const fill = new RandomFill(device, output, { count: 1024, seed: 3 });
      const timer = GpuTimer.create(device);
      try {
        const withTimer = await timeStep(device, (t) => submitStep(device, 'timed', [fill], t), timer);
        expect(withTimer.source).toBe(timer ? 'timestamp-query' : 'wall-clock');
        expect(withTimer.ms).toBeGreaterThanOrEqual(0);
        const wall = await timeStep(device, (t) => submitStep(device, 'timed', [fill], t), null);
        expect(wall.source).toBe('wall-clock');
        expect(Number.isFinite(wall.ms) && wall.ms >= 0).toBe(true);
      } finally {
        fill.destroy();
        output.destroy();
        timer?.destroy();
      }
    });
  });
});
