/**
 * The MCRG panel's settings and live analysis (demo/components/mcrg-settings.ts), without a browser: every bad
 * setting is named with its value and limit before any GPU work; the live analysis shows "needs ≥ 10 blocks"
 * until there are enough jackknife bins, then exactly analyseMcrg of the τ_int-sized bins (checked on exact 1D
 * ring samples, whose T = tanh 2K is known); the table cells are coloured by their distance in errors.
 */
import { describe, expect, it } from 'vitest';
import {
  EXACT_YT,
  MCRG_DEFAULTS,
  MAX_STORED_BLOCKS,
  analyseLive,
  bandOf,
  demoBlockLength,
  exponentTable,
  nextChunk,
  parseMcrgForm,
  type McrgForm,
} from '../../demo/components/mcrg-settings.ts';
import { analyseMcrg } from '../../src/rg/mcrg.ts';
import { jackknifeBins } from '../../src/rg/run.ts';
import { McrgAccumulator, layout1d, operatorMaxAbs, type OperatorTauTable } from '../../src/rg/statistics.ts';
import { ringRun } from '../rg/ring-sampler.ts';

function problemsOf(change: Partial<McrgForm>): { field: string; message: string }[] {
  const parsed = parseMcrgForm({ ...MCRG_DEFAULTS, ...change });
  return 'problems' in parsed ? parsed.problems : [];
}

describe('parseMcrgForm', () => {
  it('takes the defaults: 32² at K_c, majority, 3 levels, 64 Swendsen–Wang replicas', () => {
    const parsed = parseMcrgForm(MCRG_DEFAULTS);
    expect(parsed).toEqual({
      options: {
        L: 32,
        K: 0.5 * Math.log1p(Math.SQRT2),
        blocking: 'majority',
        levels: 3,
        algorithm: 'sw',
        replicas: 64,
        samples: 32000,
        every: 1,
        therm: 200,
        seed: 1,
        blockLength: 8,
      },
    });
  });

  it.each([
    [
      { L: '16' },
      'geometry',
      '3 levels of b = 2 leave 2 from L 16; the last lattice must be at least 4 (smaller makes the distance-2 operators coincide with others): at most 2 levels',
    ],
    [
      { blocking: 'majority3' as const },
      'geometry',
      'L 32 is not divisible by 3^3 = 27 for 3 levels of b = 3',
    ],
    [{ levels: '0' }, 'levels', 'levels = 0 must be an integer in 1 … 8'],
    [{ K: '-0.4' }, 'K', 'K = -0.4 must be a number > 0'],
    [{ K: '' }, 'K', 'K = (empty) must be a number > 0'],
    [{ replicas: '1000' }, 'replicas', 'replicas = 1000 must be an integer in 1 … 256'],
    [{ samples: '2.5' }, 'samples', 'samples = 2.5 must be an integer in 1 … 100,000,000'],
    [
      { samples: '7000000', replicas: '64' },
      'samples',
      'samples = 7000000 over 64 replicas is 109375 measurements per replica; the demo keeps at most 100,000',
    ],
    [{ every: '0' }, 'every', 'every = 0 must be an integer in 1 … 1,000'],
    [{ therm: '' }, 'therm', 'therm = (empty) must be an integer in 0 … 1,000,000'],
    [{ seed: '-1' }, 'seed', 'seed = -1 must be an integer in 0 … 4,294,967,295'],
  ])('names %j: %s', (change, field, message) => {
    const problems = problemsOf(change);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.field).toBe(field);
    expect(problems[0]?.message).toContain(message);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ K: 'x', replicas: '0', seed: 'y' }).map((p) => p.field)).toEqual([
      'K',
      'replicas',
      'seed',
    ]);
  });

  it('takes majority3 on 54² and a T-derived K', () => {
    const parsed = parseMcrgForm({ ...MCRG_DEFAULTS, L: '54', blocking: 'majority3', levels: '2', K: '0.4' });
    expect('options' in parsed && parsed.options).toMatchObject({ L: 54, levels: 2, K: 0.4 });
  });
});

describe('demoBlockLength', () => {
  it('keeps at most MAX_STORED_BLOCKS blocks over all replicas, and blocks within a replica', () => {
    expect(demoBlockLength(500, 64)).toBe(8);
    expect(demoBlockLength(3, 256)).toBe(1);
    expect(demoBlockLength(10, 4096)).toBe(10);
    for (const [m, r] of [
      [100_000, 256],
      [777, 13],
      [1, 1],
    ] as const) {
      const length = demoBlockLength(m, r);
      expect(Math.ceil(m / length) * r).toBeLessThanOrEqual(Math.max(MAX_STORED_BLOCKS, r));
      expect(length).toBeLessThanOrEqual(m);
    }
  });
});

describe('nextChunk', () => {
  it('scales the chunk toward the target time, at most doubling, within 1 … max', () => {
    expect(nextChunk(4, 300, 150)).toBe(2);
    expect(nextChunk(4, 10, 150)).toBe(8);
    expect(nextChunk(4, 0, 150)).toBe(8);
    expect(nextChunk(1, 10_000, 150)).toBe(1);
    expect(nextChunk(200, 1, 150, 256)).toBe(256);
  });
});

describe('exponentTable', () => {
  it('lays y out by N_c (rows) and N_r (columns) with value(err) cells banded by the distance in errors', () => {
    const entries = [
      { step: 1, nc: 1, value: 0.89, err: 0.03 },
      { step: 2, nc: 1, value: 0.95, err: 0.04 },
      { step: 1, nc: 2, value: 1.0001, err: 0.0011, imag: 0.01 },
    ];
    const table = exponentTable(entries, 2, 2, EXACT_YT);
    expect(table.steps).toEqual([1, 2]);
    expect(table.rows.map((r) => r.nc)).toEqual([1, 2]);
    const [a, b] = table.rows[0]!.cells;
    expect(a).toMatchObject({ text: '0.89(3)', band: 'far' });
    expect(a!.z).toBeCloseTo(0.11 / 0.03, 12);
    expect(b).toMatchObject({ text: '0.95(4)', band: 'z2' });
    expect(table.rows[1]!.cells[0]).toMatchObject({ text: '1.0001(11)*', band: 'z1', imag: 0.01 });
    expect(table.rows[1]!.cells[1]).toBeNull();
  });

  it('bands at 1, 2 and 3 errors; none without an error', () => {
    expect([0, 1, 1.5, 2, 2.5, 3, 3.01, null].map(bandOf)).toEqual([
      'z1',
      'z1',
      'z2',
      'z2',
      'z3',
      'z3',
      'far',
      'none',
    ]);
    expect(exponentTable([{ step: 1, nc: 1, value: 1, err: 0 }], 1, 1, 1).rows[0]!.cells[0]).toMatchObject({
      z: null,
      band: 'none',
    });
  });
});

/** Blocks of an exact ring run at coupling K (1D decimation, 2 levels). */
function ringBlocks(K: number, replicas: number, measurements: number, blockLength: number) {
  const layout = layout1d(2);
  const acc = new McrgAccumulator({ layout, blockLength, maxAbs: operatorMaxAbs(1, 32), replicas });
  ringRun({ K, L: 32, levels: 2, seed: 7, firstReplica: 0, replicas, measurements }).forEach((v, m) =>
    acc.add(v, m),
  );
  return { layout, blocks: acc.blocks() };
}

/** A τ_int table whose largest τ_int is `tau` (all analyseLive reads). */
function tauTable(tau: number): OperatorTauTable {
  return {
    tau: [],
    max: { tauInt: tau, tauIntError: 0.1, level: 0, operator: 0, name: 'nearest neighbour' },
    converged: true,
    n: 100,
  };
}

describe('analyseLive', () => {
  it('needs ≥ 10 bins: whole replicas while τ_int is unknown, ⌈10 τ_int⌉ measurements once it is', () => {
    const { layout, blocks } = ringBlocks(0.5, 4, 20, 2);
    expect(analyseLive(blocks, null, { layout, b: 2 }, 20)).toEqual({
      kind: 'needs',
      bins: 4,
      message: 'needs ≥ 10 blocks: 4 so far (bins of ≥ 20 measurements)',
    });
    // τ_int = 0.75: bins of 8 measurements, 3 per replica (8, 8, 4): 12 ≥ 10.
    const live = analyseLive(blocks, tauTable(0.75), { layout, b: 2 }, 20);
    expect(live.kind).toBe('tables');
    expect(live.kind === 'tables' && [live.bins, live.binLength]).toEqual([12, 8]);
    // τ_int = 1.5: bins of 15 (and the remaining 5): 8 < 10.
    expect(analyseLive(blocks, tauTable(1.5), { layout, b: 2 }, 20)).toMatchObject({
      kind: 'needs',
      bins: 8,
      message: 'needs ≥ 10 blocks: 8 so far (bins of ≥ 15 measurements = 10 τ_int)',
    });
    expect(analyseLive([], null, { layout, b: 2 }, 0)).toMatchObject({ kind: 'needs', bins: 0 });
  });

  it('is analyseMcrg of the τ_int-sized bins; on exact ring samples λ_even = tanh 2K within errors', () => {
    const K = 0.5;
    const { layout, blocks } = ringBlocks(K, 16, 60, 5);
    const live = analyseLive(blocks, tauTable(0.5), { layout, b: 2 }, 60);
    if (live.kind !== 'tables') throw new Error(`expected tables, got ${JSON.stringify(live)}`);
    expect(live.binLength).toBe(5);
    expect(live.bins).toBe(16 * 12);
    const direct = analyseMcrg(jackknifeBins(blocks, 5), { layout, b: 2, maxJackknifeBlocks: 64 });
    expect(live.analysis).toEqual(direct);
    expect(live.analysis.jackknifeBlocks).toBe(64);
    const lambda = live.analysis.lambdaEven.find((e) => e.step === 1 && e.nc === 1)!;
    expect(Math.abs(lambda.value - Math.tanh(2 * K))).toBeLessThan(4 * lambda.err);
    expect(lambda.err).toBeLessThan(0.05);
  });

  it('returns an analysis error instead of throwing (the run goes on)', () => {
    const { layout, blocks } = ringBlocks(0.5, 12, 2, 1);
    // At K = 0.5 on 2 measurements per replica the operators vary; wreck one block's count to force an error.
    const broken = blocks.map((b, i) => (i === 0 ? { ...b, count: Number.NaN } : b));
    const live = analyseLive(broken, null, { layout, b: 2 }, 2);
    expect(live.kind).toBe('error');
    expect(live.kind === 'error' && live.message.length).toBeGreaterThan(0);
  });
});
