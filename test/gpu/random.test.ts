/** RandomFill (shaders/common/random.wgsl) against the TypeScript Philox and Threefry oracles, bit for bit. */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer, readBuffer } from '../../src/gpu/buffers.ts';
import { submitStep } from '../../src/gpu/kernel.ts';
import { RandomFill, type RandomFillOptions } from '../../src/gpu/random.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { philox4x32, unitFloat } from '../../src/gpu/philox.ts';
import { threefry4x32 } from '../../src/gpu/threefry.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

/** Word `index` of a fill as the oracle computes it (raw bits, or the bits of the f32 uniform). */
function expectedWord(options: RandomFillOptions, index: number): number {
  const block = Math.floor(index / 4);
  const counter = [
    block,
    options.replica ?? 0,
    options.step ?? 0,
    streamWord(options.purpose ?? RngPurpose.fill, options.subStream ?? 0),
  ] as const;
  const [k0, k1] = seedKey(options.seed);
  const block4 =
    options.generator === 'threefry' ? threefry4x32(counter, [k0, k1, 0, 0]) : philox4x32(counter, [k0, k1]);
  const word = block4[index % 4] as number;
  if (options.kind !== 'uniform') return word;
  return new Uint32Array(Float32Array.of(unitFloat(word)).buffer)[0] as number;
}

function expectedWords(options: RandomFillOptions, first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => expectedWord(options, first + i));
}

/** Fills a fresh buffer (`extraBytes` of sentinel words after the fill) and reads all of it back. */
async function fillAndRead(
  device: GPUDevice,
  options: RandomFillOptions,
  extraBytes = 0,
): Promise<Uint32Array> {
  const offset = options.offsetBytes ?? 0;
  const size = offset + options.count * 4 + extraBytes;
  const sentinel = new Uint32Array(Math.ceil(size / 4)).fill(0xdeadbeef);
  const output = createStorageBuffer(device, 'random test output', size, sentinel);
  const fill = new RandomFill(device, output, options);
  try {
    submitStep(device, 'random test', [fill]);
    return new Uint32Array(await readBuffer(device, output));
  } finally {
    fill.destroy();
    output.destroy();
  }
}

const STREAMS: RandomFillOptions[] = [
  { count: 4096, seed: 0 },
  { count: 4096, seed: 12345, replica: 3, step: 17, purpose: RngPurpose.isingMetropolis, subStream: 1 },
  {
    count: 4096,
    seed: 0xfedcba9876543210n,
    replica: 0xffffffff,
    step: 0xffffffff,
    purpose: 0xffff,
    subStream: 0xffff,
  },
  {
    count: 4096,
    seed: Number.MAX_SAFE_INTEGER,
    replica: 1,
    step: 2,
    purpose: RngPurpose.rbmHidden,
    subStream: 7,
  },
];

describe('RandomFill', () => {
  for (const kind of ['words', 'uniform'] as const) {
    it.each(STREAMS.map((s, i) => [i, s] as const))(
      `'${kind}' matches the oracle for stream %i`,
      async (_i, stream) => {
        const { device } = gpu();
        const options = { ...stream, kind };
        await checked(device, async () => {
          const got = await fillAndRead(device, options);
          expect([...got]).toEqual(expectedWords(options, 0, options.count));
        });
      },
    );
  }

  it.each(STREAMS.map((s, i) => [i, s] as const))(
    "generator 'threefry' matches its oracle for stream %i (words and uniform)",
    async (_i, stream) => {
      const { device } = gpu();
      for (const kind of ['words', 'uniform'] as const) {
        const options: RandomFillOptions = { ...stream, kind, generator: 'threefry' };
        await checked(device, async () => {
          const got = await fillAndRead(device, options);
          expect([...got]).toEqual(expectedWords(options, 0, options.count));
        });
      }
    },
  );

  it('names a bad generator', () => {
    const { device } = gpu();
    const output = createStorageBuffer(device, 'random bad generator', 64);
    try {
      const bad = { count: 4, seed: 1, generator: 'mt19937' } as unknown as RandomFillOptions;
      expect(() => new RandomFill(device, output, bad)).toThrow(
        /generator 'mt19937' must be 'philox' or 'threefry'/,
      );
    } finally {
      output.destroy();
    }
  });

  it("'uniform' values lie in [0, 1) on the 24-bit grid", async () => {
    const { device } = gpu();
    await checked(device, async () => {
      const got = new Float32Array(
        (await fillAndRead(device, { count: 4096, seed: 9, kind: 'uniform' })).buffer,
      );
      for (const u of got) {
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(1);
        expect(Number.isInteger(u * 2 ** 24)).toBe(true);
      }
    });
  });

  it.each([1, 3, 4097])('writes exactly %i words and nothing after them', async (count) => {
    const { device } = gpu();
    for (const kind of ['words', 'uniform'] as const) {
      const options: RandomFillOptions = { count, seed: 77, step: count, kind };
      await checked(device, async () => {
        const got = await fillAndRead(device, options, 32);
        expect([...got.subarray(0, count)]).toEqual(expectedWords(options, 0, count));
        expect([...got.subarray(count)].every((w) => w === 0xdeadbeef)).toBe(true);
      });
    }
  });

  it('writes at a 256-aligned offsetBytes and leaves the rest of the buffer untouched', async () => {
    const { device } = gpu();
    const options: RandomFillOptions = { count: 1001, seed: 5, replica: 2, offsetBytes: 512 };
    await checked(device, async () => {
      const got = await fillAndRead(device, options, 64);
      expect([...got.subarray(0, 128)].every((w) => w === 0xdeadbeef)).toBe(true);
      expect([...got.subarray(128, 128 + 1001)]).toEqual(expectedWords(options, 0, 1001));
      expect(got.length).toBe(128 + 1001 + 16);
      expect([...got.subarray(128 + 1001)].every((w) => w === 0xdeadbeef)).toBe(true);
    });
  });

  it('maps fills beyond maxComputeWorkgroupsPerDimension onto a 2D grid', async () => {
    const { device } = gpu();
    const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    // 64 invocations per workgroup, 4 words per invocation: the first word of workgroup `maxGroups`.
    const boundary = maxGroups * 64 * 4;
    const count = boundary + 223_041; // 17,000,001 words when the limit is 65535: odd, and past one grid row
    const options: RandomFillOptions = { count, seed: 2024n, replica: 1, step: 9, subStream: 3 };
    await checked(device, async () => {
      const output = createStorageBuffer(device, 'random 2D fill', count * 4 + 256);
      const fill = new RandomFill(device, output, options);
      try {
        submitStep(device, 'random 2D fill', [fill]);
        const windows = [0, boundary - 4096, boundary + 4096 * 7, count - 2000];
        for (const first of windows) {
          const got = new Uint32Array(await readBuffer(device, output, first * 4, 2000 * 4));
          expect([...got], `words ${first}…${first + 1999}`).toEqual(expectedWords(options, first, 2000));
        }
        // Around the boundary word by word, and the words past the fill stay zero.
        const around = new Uint32Array(await readBuffer(device, output, (boundary - 8) * 4, 16 * 4));
        expect([...around]).toEqual(expectedWords(options, boundary - 8, 16));
        const tail = new Uint32Array(await readBuffer(device, output, count * 4, 256));
        expect([...tail].every((w) => w === 0)).toBe(true);
      } finally {
        fill.destroy();
        output.destroy();
      }
    });
  });

  describe('rejects bad inputs with a RangeError naming the value', () => {
    it.each([
      [{ count: 0 }, 'count 0'],
      [{ count: 2.5 }, 'count 2.5'],
      [{ count: -4 }, 'count -4'],
      [{ count: 16, offsetBytes: 100 }, 'offsetBytes 100'],
      [{ count: 16, offsetBytes: -256 }, 'offsetBytes -256'],
      [{ count: 1025 }, '1025 words'],
      [{ count: 1000, offsetBytes: 256 }, 'byte 256'],
      [{ count: 16, seed: -1 }, 'seed -1'],
      [{ count: 16, purpose: 0x10000 }, 'purpose 65536'],
    ] as const)('%o', async (bad, message) => {
      const { device } = gpu();
      await checked(device, () => {
        const output = createStorageBuffer(device, 'random bad-input output', 4096);
        try {
          const options = { seed: 1, ...bad } as RandomFillOptions;
          expect(() => new RandomFill(device, output, options)).toThrow(RangeError);
          expect(() => new RandomFill(device, output, options)).toThrow(message);
        } finally {
          output.destroy();
        }
      });
    });
  });
});
