/**
 * Segmented reductions (src/gpu/reduce.ts) against the CPU oracle (src/reference/reduce.ts): integers
 * exactly, f32 within 1e-6 relative, on the subgroup path and the portable path.
 */
import { describe, expect, it } from 'vitest';
import { createBuffer } from '../../src/gpu/buffers.ts';
import { SegmentedReduction, type ReductionOptions, type ReductionResult } from '../../src/gpu/reduce.ts';
import { reduceReference } from '../../src/reference/reduce.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { randomWords } from '../helpers/words.ts';

type Data = Uint32Array | Int32Array | Float32Array;
type Options = Omit<ReductionOptions, 'type' | 'length'> & { length?: number };

const gpu = useGpu();

/**
 * f32 values of random sign (positive with probability 0.6, so the mean is about +14) and log-uniform
 * magnitudes in 1e-3 … 1e3: many cancellations, a sum far from zero so a relative error means something.
 */
function mixedFloats(n: number, seed: number): Float32Array {
  const w = randomWords(2 * n, seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const magnitude = 10 ** (6 * ((w[2 * i] as number) / 2 ** 32) - 3);
    out[i] = (w[2 * i + 1] as number) < 0.6 * 2 ** 32 ? magnitude : -magnitude;
  }
  return out;
}

function dataOf(type: 'u32' | 'i32' | 'f32', n: number, seed: number): Data {
  if (type === 'f32') return mixedFloats(n, seed);
  const words = randomWords(n, seed);
  return type === 'i32' ? new Int32Array(words.buffer) : words;
}

/** Uploads `data`, reduces it on the GPU once, destroys what it made. */
async function reduceOnGpu(
  device: GPUDevice,
  data: Data,
  options: Options,
): Promise<{ results: ReductionResult[]; passCount: number; subgroups: boolean }> {
  const type = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
  const segments = options.segments ?? 1;
  const length = options.length ?? Math.floor((data.length - (options.inputOffset ?? 0)) / segments);
  const input = createBuffer(device, {
    label: 'reduce test input',
    size: data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    contents: data,
  });
  let reduction: SegmentedReduction | undefined;
  try {
    reduction = new SegmentedReduction(device, input, { ...options, type, length, segments });
    const results = await reduction.run();
    return { results, passCount: reduction.passCount, subgroups: reduction.subgroups };
  } finally {
    reduction?.destroy();
    input.destroy();
  }
}

/** Checks GPU results against the oracle: integers exactly, f32 sums within 1e-6 relative. */
function expectMatchesOracle(got: ReductionResult[], data: Data, options: Options): void {
  const want = reduceReference(data, options);
  expect(got.length).toBe(want.length);
  if (!(data instanceof Float32Array)) {
    expect(got).toEqual(want);
    return;
  }
  const segments = options.segments ?? 1;
  const offset = options.inputOffset ?? 0;
  const length = options.length ?? Math.floor((data.length - offset) / segments);
  got.forEach((g, r) => {
    const w = want[r] as ReductionResult;
    const what = `segment ${r}`;
    expect(g.min, `${what} min`).toBe(w.min);
    expect(g.max, `${what} max`).toBe(w.max);
    expect(g.exactSum).toBeUndefined();
    // 1e-6 relative; for sums that cancel to almost nothing, 1e-9 of Σ|x| (f32 pairs carry ~48 bits).
    let sumAbs = 0;
    for (let i = offset + r * length; i < offset + (r + 1) * length; i++)
      sumAbs += Math.abs(data[i] as number);
    expect(Math.abs(g.sum - w.sum), `${what} sum ${g.sum} vs ${w.sum}`).toBeLessThanOrEqual(
      Math.max(1e-6 * Math.abs(w.sum), 1e-9 * sumAbs),
    );
    expect(Math.abs(g.sumSquares - w.sumSquares), `${what} sum of squares`).toBeLessThanOrEqual(
      1e-6 * w.sumSquares,
    );
  });
}

const TYPES = ['u32', 'i32', 'f32'] as const;
const LENGTHS = [1, 255, 257, 65537];
const SEGMENTED: [segments: number, length: number][] = [
  [7, 1000],
  [3, 65537],
  [1000, 3],
];

/** Elements of each extreme case: the 96-bit sum of squares passes 2^64; the u32 sum passes 2^53. */
function extremeCases(): [string, Uint32Array | Int32Array][] {
  const alternating = new Int32Array(65537);
  alternating.forEach((_, i) => (alternating[i] = i % 2 ? 2 ** 31 - 1 : -(2 ** 31)));
  return [
    ['i32 -2^31 ×65537', new Int32Array(65537).fill(-(2 ** 31))],
    ['i32 2^31-1 ×65537', new Int32Array(65537).fill(2 ** 31 - 1)],
    ['i32 alternating -2^31, 2^31-1', alternating],
    ['u32 0xffffffff ×3000001', new Uint32Array(3_000_001).fill(0xffffffff)],
  ];
}

/** Passes SegmentedReduction records for `length` items per segment with `chunk` items per workgroup. */
function expectedPasses(length: number, chunk: number): number {
  let passes = 0;
  let n = length;
  do {
    n = Math.ceil(n / chunk);
    passes++;
  } while (n > 1);
  return passes;
}

/** Runs every case on `device` with each of `paths`; checks the oracle and, for integers, path agreement. */
function describeCases(device: () => GPUDevice, paths: () => boolean[]): void {
  async function each(data: Data, options: Options): Promise<void> {
    const runs: ReductionResult[][] = [];
    for (const subgroups of paths()) {
      const run = await checked(device(), () => reduceOnGpu(device(), data, { ...options, subgroups }));
      expect(run.subgroups).toBe(subgroups);
      expectMatchesOracle(run.results, data, options);
      runs.push(run.results);
    }
    if (!(data instanceof Float32Array)) for (const r of runs) expect(r).toEqual(runs[0]);
  }

  for (const type of TYPES) {
    it(`${type}: lengths ${LENGTHS.join(', ')}`, async () => {
      for (const n of LENGTHS) await each(dataOf(type, n, n), {});
    });

    it(`${type}: segmented ${SEGMENTED.map(([r, n]) => `${r}×${n}`).join(', ')}`, async () => {
      for (const [segments, length] of SEGMENTED) {
        await each(dataOf(type, segments * length, segments + length), { segments, length });
      }
    });

    it(`${type}: inputOffset`, async () => {
      const data = dataOf(type, 70_000, 3);
      await each(data, { inputOffset: 13, segments: 5, length: 1000 });
      await each(data, { inputOffset: 4099, length: 65537 });
    });

    it(`${type}: forced multi-pass with workgroupSize 4, itemsPerThread 1`, async () => {
      const data = dataOf(type, 1000, 11);
      for (const [segments, length, inputOffset] of [
        [1, 17, 0],
        [1, 257, 0],
        [3, 257, 5],
        [2, 333, 0],
      ] as const) {
        const options = { segments, length, inputOffset, workgroupSize: 4, itemsPerThread: 1 };
        const passes = expectedPasses(length, 4);
        expect(passes).toBeGreaterThanOrEqual(3);
        for (const subgroups of paths()) {
          const run = await checked(device(), () => reduceOnGpu(device(), data, { ...options, subgroups }));
          expect(run.passCount, `${segments}×${length}`).toBe(passes);
          expectMatchesOracle(run.results, data, options);
        }
      }
    });
  }

  it('u32 sum of squares: a carry through an all-ones middle word', async () => {
    // x² = 0xffffff8e_00000cb1 and y² = 0x71_fffffe39: the low words carry into high words that sum
    // to 0xffffffff, so the carry must ripple on into bit 64 (x² + y² = 2^64 + 0xaea).
    const pairs = new Uint32Array(128).map((_, i) => (i % 2 ? 699733 : 4294967239));
    const [want] = reduceReference(pairs, { length: 2 });
    expect(want?.exactSumSquares).toBe(2n ** 64n + 0xaean);
    await each(pairs, { segments: 64, length: 2 });
    await each(pairs, { segments: 64, length: 2, workgroupSize: 4, itemsPerThread: 1 });
  });

  it('extreme integers exactly (sum of squares beyond 2^64, u32 sum beyond 2^53)', async () => {
    for (const [name, data] of extremeCases()) {
      const [want] = reduceReference(data);
      expect(want?.exactSumSquares, name).toBeGreaterThan(2n ** 64n);
      if (data instanceof Uint32Array) expect(want?.exactSum, name).toBeGreaterThan(2n ** 53n);
      await each(data, {});
      await each(data, { workgroupSize: 4, itemsPerThread: 1, length: 4097 });
    }
  });
}

describe('SegmentedReduction on the default device', () => {
  const paths = (): boolean[] => (gpu().device.features.has('subgroups') ? [true, false] : [false]);
  describeCases(() => gpu().device, paths);

  it('f32: 10^7 mixed-sign terms within 1e-6 relative of the f64 sum', async () => {
    const data = mixedFloats(10_000_000, 2718);
    const [want] = reduceReference(data);
    // The data must make the check meaningful: heavy cancellation, but a sum well away from zero.
    expect(Math.abs(want?.sum as number)).toBeGreaterThan(1e7);
    for (const subgroups of paths()) {
      const { device } = gpu();
      const { results } = await checked(device, () => reduceOnGpu(device, data, { subgroups }));
      const [got] = results;
      expect(
        Math.abs((got?.sum as number) - (want?.sum as number)) / Math.abs(want?.sum as number),
      ).toBeLessThan(1e-6);
      expect(
        Math.abs((got?.sumSquares as number) - (want?.sumSquares as number)) / (want?.sumSquares as number),
      ).toBeLessThan(1e-6);
      expect(got?.min).toBe(want?.min);
      expect(got?.max).toBe(want?.max);
    }
  });

  it('f32: compensation keeps small terms a plain f32 sum would drop', async () => {
    // 2^40 + 65536 ones − 2^40: every 1 is below half an ulp of 2^40 in f32, yet the sum is exactly 65536.
    const data = new Float32Array(65538).fill(1);
    data[0] = 2 ** 40;
    data[65537] = -(2 ** 40);
    for (const subgroups of paths()) {
      const { device } = gpu();
      const { results } = await checked(device, () => reduceOnGpu(device, data, { subgroups }));
      expect(results[0]?.sum).toBe(65536);
      expect(results[0]?.sumSquares).toBe(reduceReference(data)[0]?.sumSquares); // 2^81 (+ 65536, lost in f64)
    }
  });

  describe('rejects bad inputs with a RangeError naming the value', () => {
    it.each([
      [{ length: 0 }, 'segment length 0'],
      [{ length: 2.5 }, 'segment length 2.5'],
      [{ length: 64, segments: 0 }, 'segment count 0'],
      [{ length: 64, inputOffset: -1 }, 'input offset -1'],
      [{ length: 300 }, 'need 1200 bytes'],
      [{ length: 100, segments: 2, inputOffset: 57 }, 'need 1028 bytes'],
      [{ length: 64, workgroupSize: 48 }, 'workgroup size 48'],
      [{ length: 64, workgroupSize: 2 }, 'workgroup size 2'],
      [{ length: 64, itemsPerThread: 0 }, 'items per thread 0'],
    ] as const)('%o', async (bad, message) => {
      const { device } = gpu();
      await checked(device, () => {
        const input = createBuffer(device, { label: 'bad input', size: 1024, usage: GPUBufferUsage.STORAGE });
        try {
          const options = { type: 'u32', ...bad } as ReductionOptions;
          expect(() => new SegmentedReduction(device, input, options)).toThrow(RangeError);
          expect(() => new SegmentedReduction(device, input, options)).toThrow(message);
        } finally {
          input.destroy();
        }
      });
    });

    it('a workgroup size above the device limit, and an unknown element type', async () => {
      const { device } = gpu();
      const tooBig = 2 * device.limits.maxComputeInvocationsPerWorkgroup;
      await checked(device, () => {
        const input = createBuffer(device, { label: 'bad input', size: 1024, usage: GPUBufferUsage.STORAGE });
        try {
          const big = { type: 'u32', length: 64, workgroupSize: tooBig } as const;
          expect(() => new SegmentedReduction(device, input, big)).toThrow(RangeError);
          expect(() => new SegmentedReduction(device, input, big)).toThrow(`workgroup size ${tooBig}`);
          const f64 = { type: 'f64', length: 64 } as unknown as ReductionOptions;
          expect(() => new SegmentedReduction(device, input, f64)).toThrow(RangeError);
          expect(() => new SegmentedReduction(device, input, f64)).toThrow("'f64'");
        } finally {
          input.destroy();
        }
      });
    });
  });
});

describe('SegmentedReduction on a device without subgroups (portable path)', () => {
  const portable = useGpu({ disableFeatures: ['subgroups'] });
  const device = (): GPUDevice => portable().device;

  it('the device really lacks subgroups and defaults to the portable path', async () => {
    expect(device().features.has('subgroups')).toBe(false);
    const run = await checked(device(), () => reduceOnGpu(device(), Uint32Array.of(1, 2, 3), {}));
    expect(run.subgroups).toBe(false);
    expect(run.results[0]?.exactSum).toBe(6n);
  });

  it('rejects subgroups: true, naming the feature', async () => {
    await checked(device(), () => {
      const input = createBuffer(device(), { label: 'bad input', size: 1024, usage: GPUBufferUsage.STORAGE });
      try {
        const options: ReductionOptions = { type: 'f32', length: 16, subgroups: true };
        expect(() => new SegmentedReduction(device(), input, options)).toThrow(RangeError);
        expect(() => new SegmentedReduction(device(), input, options)).toThrow('subgroups');
      } finally {
        input.destroy();
      }
    });
  });

  describeCases(device, () => [false]);

  it('integer results are identical to the default device’s', async () => {
    for (const [name, data] of [...extremeCases(), ['random i32', dataOf('i32', 65537, 5)] as const]) {
      const options: Options = { segments: 7, length: Math.floor(data.length / 7) };
      const here = await checked(device(), () => reduceOnGpu(device(), data, options));
      const there = await checked(gpu().device, () => reduceOnGpu(gpu().device, data, options));
      expect(here.results, name).toEqual(there.results);
    }
  });
});
