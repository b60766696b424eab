import { describe, expect, it } from 'vitest';
import { MAX_PI_SAMPLES, estimatePi } from '../../src/gpu/pi.ts';
import { countInsideReference } from '../../src/reference/pi.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('estimatePi (Monte Carlo π)', () => {
  const gpu = useGpu();

  // Odd sizes take one point from the last block; sizes not a multiple of 16 blocks leave a short
  // last invocation; 10^5 spans several reduction workgroups.
  const cases: [number, number | bigint][] = [
    [1, 0],
    [2, 0],
    [10_000, 1],
    [10_001, 2],
    [33_333, 0xdeadbeef],
    [100_000, 2n ** 64n - 1n],
  ];
  it.each(cases)('counts exactly what the CPU oracle counts (%i points, seed %s)', async (samples, seed) => {
    const { device } = gpu();
    const result = await checked(device, () => estimatePi(device, { samples, seed }));
    const inside = countInsideReference(samples, seed);
    expect(result.samples).toBe(samples);
    expect(result.inside).toBe(inside);
    const p = inside / samples;
    expect(result.estimate).toBe(4 * p);
    expect(result.standardError).toBeCloseTo(4 * Math.sqrt((p * (1 - p)) / samples), 15);
  });

  it('gives different counts for different seeds and the same count for the same seed', async () => {
    const { device } = gpu();
    const run = (seed: number): Promise<number> =>
      checked(device, async () => (await estimatePi(device, { samples: 20_000, seed })).inside);
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('estimates π within 5 standard errors on 2^22 points', async () => {
    const { device } = gpu();
    const { estimate, standardError } = await checked(device, () =>
      estimatePi(device, { samples: 2 ** 22, seed: 20240501 }),
    );
    expect(standardError).toBeGreaterThan(0);
    expect(standardError).toBeLessThan(0.002);
    expect(Math.abs(estimate - Math.PI)).toBeLessThan(5 * standardError);
  });

  it('rejects bad sample counts and seeds, naming the value and the limit', async () => {
    const { device } = gpu();
    for (const samples of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_PI_SAMPLES + 1]) {
      await expect(estimatePi(device, { samples, seed: 1 })).rejects.toThrow(
        new RegExp(
          `^samples ${String(samples).replace('.', '\\.')} must be an integer in 1 … ${MAX_PI_SAMPLES}`,
        ),
      );
    }
    await expect(estimatePi(device, { samples: '10' as unknown as number, seed: 1 })).rejects.toThrow(
      RangeError,
    );
    await expect(estimatePi(device, { samples: 10, seed: -1 })).rejects.toThrow(/seed -1/);
    await expect(estimatePi(device, { samples: 10, seed: 2n ** 64n })).rejects.toThrow(
      /seed 18446744073709551616/,
    );
    await expect(estimatePi(device, { samples: 10, seed: 0.5 })).rejects.toThrow(RangeError);
  });
});
