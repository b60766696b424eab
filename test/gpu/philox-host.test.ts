/** The TypeScript Philox4x32-10 oracle against Random123's known answers, and the host-side RNG helpers. */
import { describe, expect, it } from 'vitest';
import { philox4x32, unitFloat, type Counter, type Key } from '../../src/gpu/philox.ts';
import { seedKey, streamWord } from '../../src/gpu/rng.ts';
import { xorshift32 } from '../helpers/words.ts';

/** Random123's kat_vectors for philox4x32_10 (counter, key → output). */
const PHILOX_KAT: { counter: Counter; key: Key; expected: [number, number, number, number] }[] = [
  { counter: [0, 0, 0, 0], key: [0, 0], expected: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    expected: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    expected: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

/** An independent Philox4x32-10 in BigInt arithmetic (no 16-bit limb tricks), to cross-check mulHi. */
function philoxBigInt(counter: Counter, key: Key): number[] {
  const mask = 0xffffffffn;
  let c = counter.map((x) => BigInt(x >>> 0));
  let k = key.map((x) => BigInt(x >>> 0));
  for (let round = 0; round < 10; round++) {
    const p0 = 0xd2511f53n * (c[0] as bigint);
    const p1 = 0xcd9e8d57n * (c[2] as bigint);
    c = [
      ((p1 >> 32n) ^ (c[1] as bigint) ^ (k[0] as bigint)) & mask,
      p1 & mask,
      ((p0 >> 32n) ^ (c[3] as bigint) ^ (k[1] as bigint)) & mask,
      p0 & mask,
    ];
    k = [((k[0] as bigint) + 0x9e3779b9n) & mask, ((k[1] as bigint) + 0xbb67ae85n) & mask];
  }
  return c.map(Number);
}

describe('philox4x32 (TypeScript reference)', () => {
  it.each(PHILOX_KAT.map((v, i) => [i, v] as const))('matches Random123 known-answer vector %i', (_i, v) => {
    expect(philox4x32(v.counter, v.key)).toEqual(v.expected);
  });

  it('agrees with a BigInt implementation on 2000 pseudo-random (counter, key) pairs', () => {
    const next = xorshift32(0x5eed);
    // Edge words first: the 16-bit-limb multiply is most fragile at 0, 2^16 ± 1 and 2^32 − 1.
    const edges = [0, 1, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    for (let i = 0; i < 2000; i++) {
      const word = (): number => (i < 200 ? (edges[next() % edges.length] as number) : next());
      const counter: Counter = [word(), word(), word(), word()];
      const key: Key = [word(), word()];
      expect(philox4x32(counter, key), `counter ${counter.join(',')} key ${key.join(',')}`).toEqual(
        philoxBigInt(counter, key),
      );
    }
  });

  it('reduces its inputs modulo 2^32 (negative numbers are read as their u32 bits)', () => {
    expect(philox4x32([-1, -1, -1, -1], [-1, -1])).toEqual(PHILOX_KAT[1]?.expected);
  });
});

describe('unitFloat', () => {
  it('maps 0 to 0 and 2^32 − 1 to the largest f32 below 1', () => {
    expect(unitFloat(0)).toBe(0);
    expect(unitFloat(0xffffffff)).toBeLessThan(1);
    expect(unitFloat(0xffffffff)).toBe(1 - 2 ** -24);
  });

  it('lands exactly on the 24-bit grid (f32-representable, the top 24 bits of the word)', () => {
    const next = xorshift32(42);
    for (let i = 0; i < 10_000; i++) {
      const x = next();
      const u = unitFloat(x);
      expect(u * 2 ** 24).toBe(x >>> 8);
      expect(Math.fround(u)).toBe(u);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
    // The low 8 bits never matter.
    expect(unitFloat(0x123456ff)).toBe(unitFloat(0x12345600));
  });
});

describe('seedKey', () => {
  it('splits a seed into (lo, hi) words', () => {
    expect(seedKey(0)).toEqual([0, 0]);
    expect(seedKey(1)).toEqual([1, 0]);
    expect(seedKey(2 ** 32)).toEqual([0, 1]);
    expect(seedKey(Number.MAX_SAFE_INTEGER)).toEqual([0xffffffff, 0x1fffff]);
    expect(seedKey(0x123456789abcdef0n)).toEqual([0x9abcdef0, 0x12345678]);
    expect(seedKey(2n ** 64n - 1n)).toEqual([0xffffffff, 0xffffffff]);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 53])('rejects the number %s, naming it', (seed) => {
    expect(() => seedKey(seed)).toThrow(RangeError);
    expect(() => seedKey(seed)).toThrow(String(seed));
  });

  it.each([-1n, 2n ** 64n])('rejects the bigint %s, naming it', (seed) => {
    expect(() => seedKey(seed)).toThrow(RangeError);
    expect(() => seedKey(seed)).toThrow(String(seed));
  });
});

describe('streamWord', () => {
  it('packs (purpose << 16) | subStream as an unsigned word', () => {
    expect(streamWord(0)).toBe(0);
    expect(streamWord(1, 2)).toBe(0x00010002);
    expect(streamWord(0x0101, 0xbeef)).toBe(0x0101beef);
    expect(streamWord(0xffff, 0xffff)).toBe(0xffffffff);
  });

  it.each([-1, 65536, 1.5, Number.NaN])('rejects purpose %s, naming it', (purpose) => {
    expect(() => streamWord(purpose)).toThrow(RangeError);
    expect(() => streamWord(purpose)).toThrow(`purpose ${purpose}`);
  });

  it.each([-1, 65536, 2.5])('rejects sub-stream %s, naming it', (sub) => {
    expect(() => streamWord(1, sub)).toThrow(RangeError);
    expect(() => streamWord(1, sub)).toThrow(`sub-stream ${sub}`);
  });
});
