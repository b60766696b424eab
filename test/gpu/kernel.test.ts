/** The scheduler (src/gpu/kernel.ts): dispatch grids, the per-device program and pipeline caches, one-submit steps. */
import { describe, expect, it, vi } from 'vitest';
import { createStorageBuffer, readBuffer } from '../../src/gpu/buffers.ts';
import { GpuContext } from '../../src/gpu/device.ts';
import {
  Copy,
  Dispatch,
  Program,
  submitStep,
  workgroupGrid,
  type KernelSource,
} from '../../src/gpu/kernel.ts';
import { RandomFill } from '../../src/gpu/random.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { philox4x32 } from '../../src/gpu/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

const SOURCE: KernelSource = {
  label: 'kernel test',
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read> addend: array<u32>;

override workgroupSize: u32 = 64;
override scale: u32 = 1;

@compute @workgroup_size(workgroupSize)
fn addScaled(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&data)) {
    data[id.x] += scale * addend[id.x];
  }
}

@compute @workgroup_size(workgroupSize)
fn clear(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&data)) {
    data[id.x] = 0u + 0u * addend[0];
  }
}
`,
};

describe('workgroupGrid', () => {
  it.each([
    [0, 65535, [0, 1, 1]],
    [1, 65535, [1, 1, 1]],
    [65535, 65535, [65535, 1, 1]],
    [65536, 65535, [65535, 2, 1]],
    [65535 * 65535, 65535, [65535, 65535, 1]],
    [65535 * 65535 + 1, 65535, [65535, 65535, 2]],
    [10, 4, [4, 3, 1]],
    [16, 4, [4, 4, 1]],
    [17, 4, [4, 4, 2]],
    [64, 4, [4, 4, 4]],
  ] as const)('%i workgroups with at most %i per dimension → %o', (total, max, grid) => {
    const got = workgroupGrid(total, max);
    expect(got).toEqual(grid);
    expect(got.every((n) => n <= max)).toBe(true);
    expect(got[0] * got[1] * got[2]).toBeGreaterThanOrEqual(total); // covers every workgroup
  });

  it('rejects counts one dispatch cannot address', () => {
    expect(() => workgroupGrid(65, 4)).toThrow(RangeError);
    expect(() => workgroupGrid(65, 4)).toThrow('65 workgroups exceed 4³');
    expect(() => workgroupGrid(65535 ** 3 + 1, 65535)).toThrow(`${65535 ** 3 + 1} workgroups`);
  });

  it.each([-1, 1.5, Number.NaN, Infinity])('rejects %s, naming it', (bad) => {
    expect(() => workgroupGrid(bad, 65535)).toThrow(RangeError);
    expect(() => workgroupGrid(bad, 65535)).toThrow(`workgroup count ${bad} is not a count`);
  });
});

describe('Program', () => {
  it('is cached per device and source', async () => {
    const { device } = gpu();
    const program = Program.get(device, SOURCE);
    expect(Program.get(device, { ...SOURCE })).toBe(program);
    expect(Program.get(device, { ...SOURCE, label: 'kernel test 2' })).not.toBe(program);
    expect(Program.get(device, { ...SOURCE, code: `${SOURCE.code}\n` })).not.toBe(program);
    const other = await GpuContext.acquire({ log: () => {} });
    try {
      const there = Program.get(other.device, SOURCE);
      expect(there).not.toBe(program);
      expect(there.device).toBe(other.device);
      expect(Program.get(other.device, SOURCE)).toBe(there);
    } finally {
      other.destroy();
    }
  });

  it('caches pipelines by entry point and override constants, in any key order', async () => {
    const { device } = gpu();
    await checked(device, () => {
      const program = Program.get(device, SOURCE);
      const a = program.pipeline('addScaled', { workgroupSize: 32, scale: 3 });
      expect(program.pipeline('addScaled', { scale: 3, workgroupSize: 32 })).toBe(a);
      expect(program.pipeline('addScaled', { workgroupSize: 32, scale: 4 })).not.toBe(a);
      expect(program.pipeline('clear', { workgroupSize: 32, scale: 3 })).not.toBe(a);
      expect(program.pipeline('addScaled')).toBe(program.pipeline('addScaled', {}));
      expect(a.label).toBe('kernel test.addScaled');
    });
  });

  it('rejects unknown entry points and overrides, listing what exists', async () => {
    const { device } = gpu();
    await checked(device, () => {
      const program = Program.get(device, SOURCE);
      expect(() => program.pipeline('main')).toThrow(RangeError);
      expect(() => program.pipeline('main')).toThrow(
        "kernel test has no compute entry point 'main'; it has: addScaled, clear",
      );
      expect(() => program.pipeline('clear', { blockSize: 8 })).toThrow(RangeError);
      expect(() => program.pipeline('clear', { blockSize: 8 })).toThrow(
        "kernel test declares no override 'blockSize'; overrides: workgroupSize, scale",
      );
    });
  });

  it('bindGroup() names missing and unknown bindings', async () => {
    const { device } = gpu();
    await checked(device, () => {
      const program = Program.get(device, SOURCE);
      const buffer = createStorageBuffer(device, 'kernel test data', 64);
      try {
        expect(() => program.bindGroup(0, { data: buffer })).toThrow(RangeError);
        expect(() => program.bindGroup(0, { data: buffer })).toThrow(
          'kernel test group 0: missing addend (bindings: data, addend)',
        );
        expect(() => program.bindGroup(0, { data: buffer, addend: buffer, extra: buffer })).toThrow(
          'kernel test group 0: unknown extra (bindings: data, addend)',
        );
        expect(() => program.bindGroup(0, { dat: buffer, addend: buffer })).toThrow(
          'missing data; unknown dat',
        );
        expect(() => program.bindGroup(1, { data: buffer })).toThrow('kernel test has no bind group 1');
      } finally {
        buffer.destroy();
      }
    });
  });
});

describe('Dispatch', () => {
  it('maps a linear count onto a grid and rejects an explicit grid beyond the limit', async () => {
    const { device } = gpu();
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    await checked(device, () => {
      const program = Program.get(device, SOURCE);
      const buffer = createStorageBuffer(device, 'kernel test data', 64);
      try {
        const options = {
          label: 'kernel test dispatch',
          pipeline: program.pipeline('clear'),
          bindGroups: [program.bindGroup(0, { data: buffer, addend: buffer })],
        };
        expect(new Dispatch(device, { ...options, workgroups: max + 1 }).grid).toEqual([max, 2, 1]);
        expect(new Dispatch(device, { ...options, workgroups: [1, 2, 3] }).grid).toEqual([1, 2, 3]);
        expect(() => new Dispatch(device, { ...options, workgroups: [max + 1, 1, 1] })).toThrow(RangeError);
        expect(() => new Dispatch(device, { ...options, workgroups: [max + 1, 1, 1] })).toThrow(
          `kernel test dispatch: grid ${max + 1}×1×1 exceeds ${max} per dimension`,
        );
      } finally {
        buffer.destroy();
      }
    });
  });
});

describe('submitStep', () => {
  it('encodes dispatches and copies in order into one command buffer and one submit', async () => {
    const { device } = gpu();
    const n = 1000;
    await checked(device, async () => {
      const program = Program.get(device, SOURCE);
      const random = createStorageBuffer(device, 'kernel test random', n * 4);
      const data = createStorageBuffer(device, 'kernel test data', n * 4, new Uint32Array(n).fill(5));
      const copy = createStorageBuffer(
        device,
        'kernel test copy',
        (n + 64) * 4,
        new Uint32Array(n + 64).fill(9),
      );
      const fill = new RandomFill(device, random, { count: n, seed: 31, step: 4 });
      const add = new Dispatch(device, {
        label: 'kernel test addScaled',
        pipeline: program.pipeline('addScaled', { scale: 3 }),
        bindGroups: [program.bindGroup(0, { data, addend: random })],
        workgroups: Math.ceil(n / 64),
      });
      const submit = vi.spyOn(device.queue, 'submit');
      try {
        // data = 5 + 3·random, then data copied into copy[64 …): the copy must see the dispatch's result.
        submitStep(device, 'kernel test step', [fill, add, new Copy(data, 0, copy, 256, n * 4)]);
        expect(submit).toHaveBeenCalledTimes(1);
        expect(submit.mock.calls[0]?.[0]).toHaveLength(1);
        submit.mockRestore();
        const words = new Uint32Array(await readBuffer(device, copy));
        const key = seedKey(31);
        const stream = streamWord(RngPurpose.fill);
        for (let i = 0; i < n; i++) {
          const r = philox4x32([Math.floor(i / 4), 0, 4, stream], key)[i % 4] as number;
          expect(words[64 + i], `word ${i}`).toBe((5 + Math.imul(3, r)) >>> 0);
        }
        expect([...words.subarray(0, 64)].every((w) => w === 9)).toBe(true);
      } finally {
        submit.mockRestore();
        fill.destroy();
        for (const b of [random, data, copy]) b.destroy();
      }
    });
  });
});
