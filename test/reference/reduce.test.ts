/** The reduction oracle itself: exact integer sums against plain BigInt loops, compensated f32 sums. */
import { describe, expect, it } from 'vitest';
import { reduceReference } from '../../src/reference/reduce.ts';
import { randomWords } from '../helpers/words.ts';

/** Plain BigInt statistics: slow, obviously right. */
function naive(values: ArrayLike<number>): { sum: bigint; sumSquares: bigint; min: number; max: number } {
  let sum = 0n;
  let sumSquares = 0n;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    sum += BigInt(x);
    sumSquares += BigInt(x) * BigInt(x);
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return { sum, sumSquares, min, max };
}

describe('reduceReference on integers', () => {
  it('matches a BigInt loop on random u32 and i32 words', () => {
    const u = randomWords(5000, 7);
    const i = new Int32Array(u.buffer);
    for (const data of [u, i]) {
      const [r] = reduceReference(data);
      const n = naive(data);
      expect(r?.exactSum).toBe(n.sum);
      expect(r?.exactSumSquares).toBe(n.sumSquares);
      expect(r?.sum).toBe(Number(n.sum));
      expect(r?.sumSquares).toBe(Number(n.sumSquares));
      expect(r?.min).toBe(n.min);
      expect(r?.max).toBe(n.max);
    }
  });

  it('stays exact across its 2^20-element f64 chunks with extreme values', () => {
    const n = (1 << 20) + 3;
    const u = new Uint32Array(n).fill(0xffffffff);
    const [ru] = reduceReference(u);
    expect(ru?.exactSum).toBe(BigInt(n) * 0xffffffffn);
    expect(ru?.exactSumSquares).toBe(BigInt(n) * 0xffffffffn ** 2n);
    expect(ru?.exactSumSquares).toBeGreaterThan(2n ** 84n);
    const i = new Int32Array(n).fill(-(2 ** 31));
    const [ri] = reduceReference(i);
    expect(ri?.exactSum).toBe(BigInt(n) * -(2n ** 31n));
    expect(ri?.exactSumSquares).toBe(BigInt(n) * 2n ** 62n);
    expect(ri?.min).toBe(-(2 ** 31));
    expect(ri?.max).toBe(-(2 ** 31));
  });

  it('splits segments and honours inputOffset', () => {
    const data = Int32Array.from([100, 1, -2, 3, 4, -5, 6, 200]);
    const r = reduceReference(data, { segments: 3, length: 2, inputOffset: 1 });
    expect(r.map((s) => s.exactSum)).toEqual([-1n, 7n, 1n]);
    expect(r.map((s) => s.exactSumSquares)).toEqual([5n, 25n, 61n]);
    expect(r.map((s) => [s.min, s.max])).toEqual([
      [-2, 1],
      [3, 4],
      [-5, 6],
    ]);
    // Default length: the 7 elements after the offset split evenly (3 each; the last one is left out).
    expect(reduceReference(data, { segments: 2, inputOffset: 1 }).map((s) => s.exactSum)).toEqual([2n, 5n]);
  });
});

describe('reduceReference on f32', () => {
  it('sums exactly where a naive f64 sum loses the small terms', () => {
    // 2^60 + 1 + 1 − 2^60 = 2 exactly; a left-to-right f64 sum returns 0.
    const data = Float32Array.from([2 ** 60, 1, 1, -(2 ** 60)]);
    expect(data.reduce((s, x) => s + x, 0)).toBe(0);
    const [r] = reduceReference(data);
    expect(r?.sum).toBe(2);
    expect(r?.sumSquares).toBe(2 ** 121 + 2);
    expect(r?.min).toBe(-(2 ** 60));
    expect(r?.max).toBe(2 ** 60);
    expect(r?.exactSum).toBeUndefined();
  });

  it('agrees with exact rational arithmetic on random f32 values', () => {
    // Every f32 here is a multiple of 2^-40, so the exact sum is a BigInt in units of 2^-40.
    const raw = randomWords(20_000, 99);
    const data = new Float32Array(raw.length);
    raw.forEach((w, k) => (data[k] = Math.fround(((w % 2 ** 20) - 2 ** 19) * 2 ** -(w >>> 28))));
    let exact = 0n;
    for (const x of data) exact += BigInt(x * 2 ** 40);
    const [r] = reduceReference(data);
    expect(r?.sum).toBe(Number(exact) / 2 ** 40);
  });

  it('reports an infinite sum rather than NaN when an element is infinite', () => {
    const [r] = reduceReference(Float32Array.from([1, Infinity, 2]));
    expect(r?.sum).toBe(Infinity);
    expect(r?.max).toBe(Infinity);
  });
});

describe('reduceReference input checks', () => {
  const data = new Uint32Array(10);
  it.each([
    [{ length: 0 }, 'length 0'],
    [{ length: 2.5 }, 'length 2.5'],
    [{ segments: 0 }, 'count 0'],
    [{ inputOffset: -1 }, 'offset -1'],
    [{ segments: 3, length: 4 }, 'need 12'],
    [{ length: 5, inputOffset: 6 }, 'need 11'],
  ])('rejects %o', (options, message) => {
    expect(() => reduceReference(data, options)).toThrow(RangeError);
    expect(() => reduceReference(data, options)).toThrow(message);
  });
});
