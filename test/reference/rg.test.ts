/**
 * The block-spin CPU oracle on hand-worked lattices: which spins each rule keeps or sums, the ties' Philox
 * coin, ring rules, the RBM projector's limits (one large weight = decimation), and the operators' values
 * on simple configurations. The GPU tests (test/rg/) compare the kernels against this oracle.
 */
import { describe, expect, it } from 'vitest';
import { philox4x32 } from '../../src/gpu/philox.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { blockAndMeasure, blockLevel, measureOperators, type ReferenceRule } from '../../src/reference/rg.ts';

const rbm = (k: number, stride: number, W: number[], Lv = 8): ReferenceRule => ({
  rbm: { units: 'ising', Lv, filters: 1, k, stride, W: Float64Array.from(W) },
});

describe('block-spin oracle', () => {
  // 4×4, blocks (row, col): (0,0) sum +2, (0,1) −4, (1,0) 0, (1,1) 0.
  // prettier-ignore
  const spins = Int8Array.from([
    1, 1, -1, -1,
    1, -1, -1, -1,
    1, 1, 1, -1,
    -1, -1, 1, -1,
  ]);

  it('majority 2×2: block sums, ties by the Philox coin of (block, global sample, step, level)', () => {
    const o = {
      dims: 2,
      L: 4,
      batch: 1,
      rule: 'majority',
      seed: 77,
      step: 5,
      level: 2,
      firstSample: 9,
    } as const;
    const out = blockLevel(spins, o);
    const coin = (c: number): number =>
      philox4x32([c, 9, 5, streamWord(RngPurpose.blockSpinTies, 2)], seedKey(77))[0] & 1 ? 1 : -1;
    expect([...out.spins]).toEqual([1, -1, coin(2), coin(3)]);
    expect([...out.ties]).toEqual([0, 0, 1, 1]);
    expect(out.L).toBe(2);
    // Over many ties the coin is fair and depends on the step.
    const ties = new Int8Array(2 * 64 * 64).map((_, i) => (i % 2 ? -1 : 1));
    const a = blockLevel(ties, { ...o, L: 64, batch: 2 });
    const b = blockLevel(ties, { ...o, L: 64, batch: 2, step: 6 });
    const up = a.spins.reduce((n, s) => n + (s === 1 ? 1 : 0), 0);
    expect(Math.abs(up - 1024)).toBeLessThan(4 * Math.sqrt(512)); // 2048 fair coins
    expect(a.spins).not.toEqual(b.spins);
  });

  it('decimation keeps the top-left spin; majority3 sums 3×3 blocks', () => {
    const o = { dims: 2, L: 4, batch: 1, seed: 1, step: 0, level: 1 } as const;
    expect([...blockLevel(spins, { ...o, rule: 'decimation' }).spins]).toEqual([1, -1, 1, 1]);
    // 6×6 with spin = −1 on the first two columns and the bottom-right 3×3 block's diagonal only.
    const six = Int8Array.from({ length: 36 }, (_, i) => {
      const [y, x] = [Math.floor(i / 6), i % 6];
      return x < 2 || (y >= 3 && x >= 3 && y === x) ? -1 : 1;
    });
    // Blocks: (0,0) 6 down 3 up → −1; (0,1) all up; (1,0) −1; (1,1) 3 down 6 up → +1.
    expect([...blockLevel(six, { ...o, L: 6, rule: 'majority3' }).spins]).toEqual([-1, 1, -1, 1]);
  });

  it('rings: decimation keeps the even sites, majority3 the sign of 3 consecutive sites', () => {
    const ring = Int8Array.from([1, -1, -1, 1, -1, 1, 1, 1, -1, -1, -1, 1]);
    const o = { dims: 1, L: 12, batch: 1, seed: 1, step: 0, level: 1 } as const;
    expect([...blockLevel(ring, { ...o, rule: 'decimation' }).spins]).toEqual([1, -1, -1, 1, -1, -1]);
    expect([...blockLevel(ring, { ...o, rule: 'majority3' }).spins]).toEqual([-1, 1, 1, -1]);
  });

  it('RBM projector: one weight of 20 at (0,0) decimates; a zero filter is a fair coin', () => {
    const L = 8;
    let s = 12345;
    const input = Int8Array.from({ length: 3 * L * L }, () =>
      (s = (Math.imul(s, 69069) + 1) >>> 0) >>> 31 ? 1 : -1,
    );
    const o = { dims: 2, L, batch: 3, seed: 4, step: 2, level: 1, firstSample: 1 } as const;
    const decimated = blockLevel(input, { ...o, rule: 'decimation' });
    const projected = blockLevel(input, { ...o, rule: rbm(2, 2, [20, 0, 0, 0]) });
    expect(projected.spins).toEqual(decimated.spins);
    expect(projected.close).toBe(0);
    // W = 0: P(+1) = ½ from the rgProjector stream, word j mod 4 of block ⌊j/4⌋, row firstSample + r.
    const coins = blockLevel(input, { ...o, rule: rbm(2, 2, [0, 0, 0, 0]) });
    const key = seedKey(4);
    const want = Int8Array.from({ length: 3 * 16 }, (_, i) => {
      const [r, j] = [Math.floor(i / 16), i % 16];
      const w = philox4x32([j >>> 2, 1 + r, 2, streamWord(RngPurpose.rgProjector, 1)], key)[j & 3]!;
      return (w >>> 8) * 2 ** -24 < 0.5 ? 1 : -1;
    });
    expect(coins.spins).toEqual(want);
  });

  it('operators of simple lattices', () => {
    const N = 36;
    const up = new Int8Array(N).fill(1);
    expect([...measureOperators(up, 2, 6, 1)]).toEqual([
      2 * N,
      2 * N,
      N,
      2 * N,
      4 * N,
      N,
      2 * N,
      N,
      4 * N,
      2 * N,
      2 * N,
    ]);
    const down = new Int8Array(N).fill(-1);
    expect([...measureOperators(down, 2, 6, 1)]).toEqual([
      2 * N,
      2 * N,
      N,
      2 * N,
      4 * N,
      N,
      2 * N,
      -N,
      -4 * N,
      -2 * N,
      -2 * N,
    ]);
    // One spin down at (1, 4): the knight's moves (4 two-spin terms) lose 16, the corners (4 three-spin) 24.
    const one = up.slice();
    one[1 * 6 + 4] = -1;
    expect([...measureOperators(one, 2, 6, 1)]).toEqual([64, 64, 28, 64, 128, 28, 64, 34, 120, 60, 60]);
    // A ring: nn = −1 + 1 − 1 − 1 − 1 + 1, nnn = −1 − 1 + 1 + 1 − 1 − 1, Σs = 0.
    expect([...measureOperators(Int8Array.from([1, -1, -1, 1, -1, 1]), 1, 6, 1)]).toEqual([-2, -2, 0]);
    // Two samples are measured separately.
    expect([...measureOperators(Int8Array.from([...up, ...down]), 2, 6, 2)].slice(11, 14)).toEqual([
      2 * N,
      2 * N,
      N,
    ]);
  });

  it('blockAndMeasure: sizes and the layout [batch × (levels + 1) × operators]', () => {
    const input = Int8Array.from({ length: 2 * 256 }, (_, i) => (i < 256 ? 1 : -1));
    const run = blockAndMeasure(input, {
      dims: 2,
      L: 16,
      batch: 2,
      levels: 2,
      rule: 'majority',
      seed: 1,
      step: 0,
    });
    expect(run.sizes).toEqual([16, 8, 4]);
    expect(run.operators.length).toBe(2 * 3 * 11);
    // Sample 1 (all down), level 2 (4×4): magnetisation −16.
    expect(run.operators[(1 * 3 + 2) * 11 + 7]).toBe(-16);
    expect(run.operators[(0 * 3 + 1) * 11 + 7]).toBe(64);
  });
});
