/** Threefry-4×32 against Random123's known answers, host and WGSL, and the two bit for bit. */
import { describe, expect, it } from 'vitest';
import { evaluateThreefryOnGpu } from '../../src/gpu/random.ts';
import { threefry4x32, type ThreefryCounter, type ThreefryKey } from '../../src/gpu/threefry.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { xorshift32 } from '../helpers/words.ts';

const gpu = useGpu();

const PI_COUNTER: ThreefryCounter = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
const PI_KEY: ThreefryKey = [0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89];
const ZERO = [0, 0, 0, 0] as const;
const ONES = [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff] as const;

/** Random123's kat_vectors for threefry4x32 (rounds, counter, key, expected). */
const KAT: { rounds: number; counter: ThreefryCounter; key: ThreefryKey; expected: number[] }[] = [
  { rounds: 13, counter: ZERO, key: ZERO, expected: [0x531c7e4f, 0x39491ee5, 0x2c855a92, 0x3d6abf9a] },
  { rounds: 13, counter: ONES, key: ONES, expected: [0xc4189358, 0x1c9cc83a, 0xd5881c67, 0x6a0a89e0] },
  {
    rounds: 13,
    counter: PI_COUNTER,
    key: PI_KEY,
    expected: [0x4aa71d8f, 0x734738c2, 0x431fc6a8, 0xae6debf1],
  },
  { rounds: 20, counter: ZERO, key: ZERO, expected: [0x9c6ca96a, 0xe17eae66, 0xfc10ecd4, 0x5256a7d8] },
  { rounds: 20, counter: ONES, key: ONES, expected: [0x2a881696, 0x57012287, 0xf6c7446e, 0xa16a6732] },
  {
    rounds: 20,
    counter: PI_COUNTER,
    key: PI_KEY,
    expected: [0x59cd1dbb, 0xb8879579, 0x86b5d00c, 0xac8b6d84],
  },
];

describe('threefry4x32 (TypeScript reference)', () => {
  it('matches the Random123 known-answer vectors at 13 and 20 rounds', () => {
    for (const v of KAT) {
      expect(threefry4x32(v.counter, v.key, v.rounds), `${v.rounds} rounds`).toEqual(v.expected);
    }
  });

  it('names a bad round count', () => {
    expect(() => threefry4x32(ZERO, ZERO, 73)).toThrow(/rounds 73 is not an integer in 0 … 72/);
    expect(() => threefry4x32(ZERO, ZERO, 2.5)).toThrow(/rounds 2.5/);
  });
});

// Rotations as shifts (the GPU shape) and in float arithmetic (the shape for CPU implementations of WebGPU).
describe.each([false, true])('threefry4x32 on the GPU, float rotations %s', (floatRotations) => {
  it('matches the Random123 known-answer vectors (20 rounds)', async () => {
    const { device } = gpu();
    const twenty = KAT.filter((v) => v.rounds === 20);
    await checked(device, async () => {
      const out = await evaluateThreefryOnGpu(device, twenty, { floatRotations });
      twenty.forEach((v, i) =>
        expect([...out.subarray(4 * i, 4 * i + 4)], `vector ${i}`).toEqual(v.expected),
      );
    });
  });

  it('matches the TypeScript reference bit for bit on 2000 pseudo-random (counter, key) pairs', async () => {
    const { device } = gpu();
    const next = xorshift32(0x7f3e);
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const cases = Array.from({ length: 2000 }, (_, i) => {
      // The first 100 draw from edge words (carries in the additions), the rest are random.
      const word = (): number => (i < 100 ? (edges[next() % edges.length] as number) : next());
      return {
        counter: [word(), word(), word(), word()] as ThreefryCounter,
        key: [word(), word(), word(), word()] as ThreefryKey,
      };
    });
    await checked(device, async () => {
      const out = await evaluateThreefryOnGpu(device, cases, { floatRotations });
      expect(out.length).toBe(4 * cases.length);
      const bad = cases.findIndex((c, i) => {
        const want = threefry4x32(c.counter, c.key);
        return want.some((w, j) => out[4 * i + j] !== w);
      });
      expect(bad, bad >= 0 ? `case ${bad}: ${cases[bad]!.counter} / ${cases[bad]!.key}` : '').toBe(-1);
    });
  });
});
