/** Philox4x32-10 in WGSL against Random123's known answers and, bit for bit, the TypeScript oracle. */
import { describe, expect, it } from 'vitest';
import { evaluatePhiloxOnGpu } from '../../src/gpu/random.ts';
import { philox4x32, type Counter, type Key } from '../../src/gpu/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { xorshift32 } from '../helpers/words.ts';

const gpu = useGpu();

/** Random123's kat_vectors for philox4x32_10. */
const PHILOX_KAT: { counter: Counter; key: Key; expected: number[] }[] = [
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

describe('philox4x32 on the GPU', () => {
  it('matches the Random123 known-answer vectors', async () => {
    const { device } = gpu();
    await checked(device, async () => {
      const out = await evaluatePhiloxOnGpu(device, PHILOX_KAT);
      PHILOX_KAT.forEach((v, i) =>
        expect([...out.subarray(4 * i, 4 * i + 4)], `vector ${i}`).toEqual(v.expected),
      );
    });
  });

  it('matches the TypeScript reference bit for bit on 2000 pseudo-random (counter, key) pairs', async () => {
    const { device } = gpu();
    const next = xorshift32(0xc0ffee);
    const edges = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
    const cases = Array.from({ length: 2000 }, (_, i) => {
      // The first 100 draw from edge words (carries in the 16-bit-limb multiply), the rest are random.
      const word = (): number => (i < 100 ? (edges[next() % edges.length] as number) : next());
      return { counter: [word(), word(), word(), word()] as Counter, key: [word(), word()] as Key };
    });
    await checked(device, async () => {
      const out = await evaluatePhiloxOnGpu(device, cases);
      expect(out.length).toBe(4 * cases.length);
      let mismatches = 0;
      let first = '';
      cases.forEach((c, i) => {
        const want = philox4x32(c.counter, c.key);
        const got = [...out.subarray(4 * i, 4 * i + 4)];
        if (got.some((w, j) => w !== want[j])) {
          mismatches++;
          first ||= `case ${i}: counter ${c.counter.join(',')} key ${c.key.join(',')}: got ${got} want ${want}`;
        }
      });
      expect(first).toBe('');
      expect(mismatches).toBe(0);
    });
  });
});
