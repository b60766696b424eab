/**
 * The MCRG analysis against the exact 1D ring (PHYSICS.md): decimation b = 2 maps K → K′ = ½ ln cosh 2K exactly,
 * so with the nearest-neighbour operator T = tanh 2K and with Σs λ = 1 + tanh 2K; a sampler 5 % off in K is
 * caught. Then the jackknife against the spread of independent runs, and the bad-input errors.
 */
import { describe, expect, it } from 'vitest';
import {
  analyseMcrg,
  connectedMatrices,
  formatMcrgTable,
  formatValueError,
  type McrgAnalysis,
  type McrgEstimate,
} from '../../src/rg/mcrg.ts';
import { McrgAccumulator, layout1d, operatorMaxAbs, type McrgBlock } from '../../src/rg/statistics.ts';
import { ringRun, type RingRun } from './ring-sampler.ts';

const LEVELS = 2;

/** Blocks of an exact ring run (L = 16, two decimations to 4 spins). */
function ringBlocks(
  run: Partial<RingRun> & { K: number },
  blockLength: number,
  transform?: (values: Int32Array) => void,
): McrgBlock[] {
  const full: RingRun = {
    L: 16,
    levels: LEVELS,
    seed: 1,
    firstReplica: 0,
    replicas: 16,
    measurements: 1000,
    ...run,
  };
  const acc = new McrgAccumulator({
    layout: layout1d(full.levels),
    blockLength,
    maxAbs: operatorMaxAbs(1, full.L),
    replicas: full.replicas,
    firstReplica: full.firstReplica,
  });
  ringRun(full).forEach((values, m) => {
    transform?.(values);
    acc.add(values, m);
  });
  return acc.blocks();
}

function entry(list: McrgEstimate[], step: number, nc: number): McrgEstimate {
  const e = list.find((x) => x.step === step && x.nc === nc);
  if (!e) throw new Error(`no entry for step ${step}, nc ${nc}`);
  return e;
}

/** Distances in jackknife errors of T (N_c = 1) and λ_odd from their exact values at K, for steps 1 and 2. */
function distances(a: McrgAnalysis, K: number): number[] {
  const K1 = 0.5 * Math.log(Math.cosh(2 * K));
  return [
    [entry(a.lambdaEven, 1, 1), Math.tanh(2 * K)],
    [entry(a.lambdaOdd, 1, 1), 1 + Math.tanh(2 * K)],
    [entry(a.lambdaEven, 2, 1), Math.tanh(2 * K1)],
    [entry(a.lambdaOdd, 2, 1), 1 + Math.tanh(2 * K1)],
  ].map(([e, exact]) => Math.abs((e as McrgEstimate).value - (exact as number)) / (e as McrgEstimate).err);
}

describe('MCRG on the exact 1D ring (decimation b = 2)', () => {
  const layout = layout1d(LEVELS);
  // 16 replicas × 10⁴ independent samples; errors ~0.0015 (T at K = 1) … 0.0006 (λ_odd at K = 1).
  const samples = { replicas: 16, measurements: 10000 };

  for (const K of [0.5, 1]) {
    it(`K = ${K}: T = tanh 2K and λ_odd = 1 + tanh 2K within 3 errors; a sampler at 1.05 K is far off`, () => {
      const a = analyseMcrg(ringBlocks({ K, ...samples }, 500), { layout, b: 2 });
      expect(a.samples).toBe(160000);
      expect(a.blocks).toBe(320);
      const d = distances(a, K);
      for (const x of d) expect(x).toBeLessThan(3);
      // y = ln λ / ln 2 carries the same information.
      expect(entry(a.yt, 1, 1).value).toBeCloseTo(
        Math.log(entry(a.lambdaEven, 1, 1).value) / Math.log(2),
        12,
      );
      expect(entry(a.yt, 1, 1).err).toBeGreaterThan(0);

      // Negative control: the same analysis of samples drawn at 1.05 K, compared with the exact values at K.
      const wrong = analyseMcrg(ringBlocks({ K: 1.05 * K, ...samples, seed: 2 }, 500), { layout, b: 2 });
      const dw = distances(wrong, K);
      // Step 1 odd: 0.02 (K = 0.5) or 0.0064 (K = 1) away, expected ≈ 12 and 11 errors.
      expect(dw[1]).toBeGreaterThan(6);
      // Step 1 even: expected ≈ 8 (K = 0.5) and 4.4 (K = 1) errors.
      expect(dw[0]).toBeGreaterThan(K === 0.5 ? 5 : 3);
      expect(Math.max(...dw)).toBeGreaterThan(6);
    });
  }

  it('the jackknife error of T matches the spread over independent repetitions (factor 2)', () => {
    const K = 1;
    const t: number[] = [];
    const h: number[] = [];
    const tErr: number[] = [];
    const hErr: number[] = [];
    for (let rep = 0; rep < 16; rep++) {
      const a = analyseMcrg(ringBlocks({ K, seed: 100 + rep, replicas: 8, measurements: 500 }, 50), {
        layout,
        b: 2,
      });
      t.push(entry(a.lambdaEven, 1, 1).value);
      tErr.push(entry(a.lambdaEven, 1, 1).err);
      h.push(entry(a.lambdaOdd, 1, 1).value);
      hErr.push(entry(a.lambdaOdd, 1, 1).err);
    }
    const sd = (x: number[]): number => {
      const mean = x.reduce((s, v) => s + v, 0) / x.length;
      return Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / (x.length - 1));
    };
    const mean = (x: number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
    const ratioT = mean(tErr) / sd(t);
    const ratioH = mean(hErr) / sd(h);
    expect(ratioT).toBeGreaterThan(0.5);
    expect(ratioT).toBeLessThan(2);
    expect(ratioH).toBeGreaterThan(0.5);
    expect(ratioH).toBeLessThan(2);
  });

  it('groups consecutive blocks when asked for fewer jackknife blocks: same estimate, a similar error', () => {
    const blocks = ringBlocks({ K: 0.5, replicas: 8, measurements: 2000 }, 25); // 640 blocks
    const all = analyseMcrg(blocks, { layout, b: 2 });
    const grouped = analyseMcrg(blocks, { layout, b: 2, maxJackknifeBlocks: 40 });
    expect(all.jackknifeBlocks).toBe(640);
    expect(grouped.jackknifeBlocks).toBe(40);
    expect(grouped.blocks).toBe(640);
    const [x, y] = [entry(all.lambdaEven, 1, 1), entry(grouped.lambdaEven, 1, 1)];
    expect(y.value).toBeCloseTo(x.value, 12);
    expect(y.err / x.err).toBeGreaterThan(0.6);
    expect(y.err / x.err).toBeLessThan(1.6);
    expect(() => analyseMcrg(blocks, { layout, b: 2, maxJackknifeBlocks: 5 })).toThrow(
      /maxJackknifeBlocks 5 must be an integer ≥ minBlocks = 10/,
    );
  });

  it('weighs blocks by their counts: the estimate is that of the pooled sums, whatever the block length', () => {
    const run = { K: 0.7, replicas: 4, measurements: 1003 };
    const short = analyseMcrg(ringBlocks(run, 10), { layout, b: 2 });
    const long = analyseMcrg(ringBlocks(run, 97), { layout, b: 2 });
    expect(short.samples).toBe(4012);
    const blocks = ringBlocks(run, 97);
    expect(new Set(blocks.map((b) => b.count))).toEqual(new Set([97, 33])); // 1003 = 10·97 + 33
    const T = connectedMatrices(blocks, layout, 1, 'even', 1).T.get(0, 0);
    expect(entry(long.lambdaEven, 1, 1).value).toBeCloseTo(T, 12);
    expect(entry(short.lambdaEven, 1, 1).value).toBeCloseTo(T, 12);
    expect(short.blockLength).toBe(10);
    expect(long.blockLength).toBe(97);
  });
});

describe('MCRG bad input', () => {
  const layout = layout1d(LEVELS);
  const blocks = ringBlocks({ K: 1, replicas: 4, measurements: 100 }, 10);

  it('refuses too few blocks, naming the count and the minimum', () => {
    expect(() => analyseMcrg(blocks.slice(0, 9), { layout, b: 2 })).toThrow(/9 blocks .*at least 10/);
    expect(() => analyseMcrg(blocks, { layout, b: 2, minBlocks: 41 })).toThrow(/40 blocks .*at least 41/);
  });

  it('refuses b < 2 or a fractional b', () => {
    expect(() => analyseMcrg(blocks, { layout, b: 1 })).toThrow(/b = 1 must be an integer ≥ 2/);
    expect(() => analyseMcrg(blocks, { layout, b: 2.5 })).toThrow(/b = 2.5/);
  });

  it('names an operator without variance: the next-nearest neighbour on a ring of 2 spins', () => {
    // L = 8 decimated twice is a ring of 2, where Σ s_i s_{i+2} = 2 always.
    const tiny = ringBlocks({ K: 1, L: 8, replicas: 4, measurements: 100 }, 10);
    expect(() => analyseMcrg(tiny, { layout, b: 2 })).toThrow(
      /level 2 \(even sector\) is singular: even operator 2 \(next-nearest neighbour\) has no variance/,
    );
  });

  it('names two operators that coincide: on a ring of 3 spins the next-nearest neighbour is the nearest', () => {
    // L = 12 decimated twice is a ring of 3, where s_i s_{i+2} = s_i s_{i−1}.
    const three = ringBlocks({ K: 1, L: 12, replicas: 4, measurements: 100 }, 10);
    expect(() => analyseMcrg(three, { layout, b: 2 })).toThrow(
      /level 2 \(even sector\) is singular or nearly so: condition number .* exceeds 1e\+10; .* the combination −?1\.000·even operator 1 \(nearest neighbour\) [+−] 1\.000·even operator 2 \(next-nearest neighbour\)/,
    );
  });

  it('names two operators that coincide (a copy)', () => {
    // The next-nearest operator replaced by a copy of the nearest-neighbour one at every level.
    const copy = ringBlocks({ K: 1, replicas: 4, measurements: 100 }, 10, (v) => {
      for (let i = 0; i < v.length; i += 3) v[i + 1] = v[i] as number;
    });
    expect(() => analyseMcrg(copy, { layout, b: 2 })).toThrow(
      /level 1 \(even sector\) is singular or nearly so.*even operator 1 \(nearest neighbour\).*even operator 2 \(next-nearest neighbour\)/,
    );
  });

  it('says y is undefined when the leading eigenvalue is ≤ 0', () => {
    // S⁽¹⁾ → −S⁽¹⁾ leaves A⁽¹⁾ alone and flips B⁽¹⁾, so T = −tanh 2K at step 1.
    const flipped = ringBlocks({ K: 1, replicas: 4, measurements: 100 }, 10, (v) => {
      for (let r = 0; r < v.length; r += 3 * (LEVELS + 1))
        for (let a = 3; a < 6; a++) v[r + a] = -(v[r + a] as number);
    });
    expect(() => analyseMcrg(flipped, { layout, b: 2 })).toThrow(
      /step 1, even sector, N_c = 1: the leading eigenvalue of T is -0\.9\d+ .*undefined/,
    );
  });

  it('refuses blocks that do not fit the layout', () => {
    expect(() => analyseMcrg(blocks, { layout: layout1d(3), b: 2 })).toThrow(
      /sums has 9 values; .* needs 12/,
    );
    const bad = blocks.map((b, i) => (i === 3 ? { ...b, count: 0 } : b));
    expect(() => analyseMcrg(bad, { layout, b: 2 })).toThrow(/block 3 .*count = 0 must be an integer ≥ 1/);
    const nan = blocks.map((b, i) =>
      i === 4 ? { ...b, sums: b.sums.map((x, j) => (j === 2 ? NaN : x)) } : b,
    );
    expect(() => analyseMcrg(nan, { layout, b: 2 })).toThrow(/block 4 .*sums\[2\] = NaN is not finite/);
    // Bins joined from several blocks may hold sums beyond 2^53: the analysis accepts them.
    const scaled = blocks.map((b) => ({
      ...b,
      products: b.products.map((x) => x * 2 ** 50),
      sums: b.sums.map((x) => x * 2 ** 25),
      cross: b.cross.map((x) => x * 2 ** 50),
    }));
    expect(entry(analyseMcrg(scaled, { layout, b: 2 }).lambdaEven, 1, 1).value).toBeCloseTo(
      entry(analyseMcrg(blocks, { layout, b: 2 }).lambdaEven, 1, 1).value,
      10,
    );
  });
});

describe('MCRG tables', () => {
  it('formats value(err) with the error’s leading digit (two when it is a 1)', () => {
    expect(formatValueError(0.96712, 0.0031)).toBe('0.967(3)');
    expect(formatValueError(1.00012, 0.0011)).toBe('1.0001(11)');
    expect(formatValueError(0.9041, 0.00096)).toBe('0.9041(10)');
    expect(formatValueError(123.4, 12)).toBe('123(12)');
    expect(formatValueError(1234, 300)).toBe('1234(300)');
    expect(formatValueError(0.5, 0)).toBe('0.500000');
  });

  it('lays a table out like Chung & Kao’s Table 1: rows N_c, columns N_r', () => {
    const yt: McrgEstimate[] = [
      { step: 1, nc: 1, value: 0.904, err: 0.001 },
      { step: 1, nc: 2, value: 0.966, err: 0.002 },
      { step: 2, nc: 1, value: 0.953, err: 0.002 },
      { step: 2, nc: 2, value: 0.998, err: 0.002, imag: 0.01 },
    ];
    expect(formatMcrgTable(yt, { title: 'y_t', exact: 1 }).split('\n')).toEqual([
      'y_t (exact 1)',
      'N_c  N_r = 1     N_r = 2',
      '1    0.9040(10)  0.953(2)',
      '2    0.966(2)    0.998(2)*',
      '* N_r = 2, N_c = 2: imaginary part 0.0100',
    ]);
  });
});
