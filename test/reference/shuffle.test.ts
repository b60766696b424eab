/** The minibatch shuffle's CPU oracle: a bijection of 0 … n−1 per epoch, keyed, and a guarded cycle walk. */
import { describe, expect, it } from 'vitest';
import { seedKey } from '../../src/gpu/rng.ts';
import { cycleWalk, feistel, shufflePermutation } from '../../src/reference/shuffle.ts';
import { feistelHalfBits } from '../../src/rbm/shuffle.ts';

const key = seedKey(7);

describe('minibatch shuffle oracle', () => {
  it('feistelHalfBits: the smallest power of 4 ≥ max(n, 4)', () => {
    for (const n of [
      1,
      2,
      3,
      4,
      5,
      16,
      17,
      1000,
      1024,
      1025,
      2 ** 20,
      2 ** 20 + 1,
      2 ** 31 + 1,
      0xffffffff,
    ]) {
      const h = feistelHalfBits(n);
      expect(4 ** h, `n = ${n}`).toBeGreaterThanOrEqual(Math.max(n, 4));
      if (h > 1) expect(4 ** (h - 1), `n = ${n}`).toBeLessThan(n);
    }
    expect(() => feistelHalfBits(0)).toThrow(/sample count 0 must be an integer in 1 … 4294967295/);
    expect(() => feistelHalfBits(2 ** 32)).toThrow(/u32/);
  });

  it('the Feistel network is a bijection of its domain', () => {
    for (const halfBits of [1, 2, 5]) {
      const D = 4 ** halfBits;
      const image = Array.from({ length: D }, (_, x) => feistel(x, halfBits, { key, epoch: 3 }));
      expect(new Set(image).size).toBe(D);
      expect(Math.max(...image)).toBe(D - 1);
    }
  });

  it('π_e is a permutation of 0 … n−1 for each epoch, different between epochs and keys', () => {
    for (const n of [1, 2, 3, 5, 97, 1000, 1024, 4099]) {
      const seen: string[] = [];
      for (const epoch of [0, 1, 2, 12345]) {
        const p = shufflePermutation(n, { key, epoch });
        expect(
          [...p].sort((a, b) => a - b),
          `n = ${n}, epoch ${epoch}`,
        ).toEqual(Array.from({ length: n }, (_, i) => i));
        seen.push(p.join());
      }
      if (n >= 5) expect(new Set(seen).size, `n = ${n}`).toBe(4);
    }
    expect(shufflePermutation(97, { key: seedKey(8), epoch: 0 }).join()).not.toBe(
      shufflePermutation(97, { key, epoch: 0 }).join(),
    );
  });

  it('the cycle walk throws instead of returning an index ≥ n when the map is not a bijection', () => {
    expect(cycleWalk(0, 3, 8, (x) => (x + 1) % 8)).toBe(1);
    expect(cycleWalk(2, 3, 8, (x) => (x + 1) % 8)).toBe(0); // 3 … 7 walked over: 6 = D − n + 1 steps
    expect(() => cycleWalk(0, 3, 8, (x) => (x === 0 ? 5 : 6))).toThrow(
      /cycle walk from 0 found no value below 3 in 6 steps over a domain of 8: not a bijection/,
    );
  });
});
