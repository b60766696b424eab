/**
 * The `blockspin mcrg` contract: the JSON fields, tables on stdout, the result directory, shards merged by
 * `mcrg merge` into exactly the unsplit run, SIGTERM leaving a valid partial (mergeable) result, --data from a
 * generate data set, and bad input refused (naming the value and the limit) before any GPU work.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../src/rbm/model-files.ts';
import { mcrgBlocks, readMcrgResult } from '../src/rg/result-files.ts';
import { cli, interrupted } from './helpers/cli.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-mcrg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** No adapter at all: errors that must come before GPU work still name the value, not the missing adapter. */
const noGpu = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/blockspin-no-gpu.json' };
const small = [
  '--L',
  '16',
  '--levels',
  '2',
  '--replicas',
  '6',
  '--samples',
  '240',
  '--therm',
  '20',
  '--seed',
  '4',
];
const estimate = {
  step: expect.any(Number),
  nc: expect.any(Number),
  value: expect.any(Number),
  err: expect.any(Number),
};

describe('blockspin mcrg', () => {
  it('--json prints the settings, samples, tauInt and yt/yh/lambda tables; --out writes the result', async () => {
    const out = join(dir, 'whole');
    const { code, stdout, stderr } = await cli([
      'mcrg',
      ...small,
      '--block-length',
      '4',
      '--out',
      out,
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      samples: 240,
      complete: true,
      interrupted: false,
      tauInt: expect.any(Number),
      settings: { L: 16, levels: 2, b: 2, blocking: 'majority', algorithm: 'sw', totalReplicas: 6 },
      problem: null,
    });
    for (const key of ['yt', 'yh', 'lambdaEven', 'lambdaOdd']) {
      const list = json[key] as unknown[];
      expect(list.length).toBe(key === 'yt' || key === 'lambdaEven' ? 2 * 7 : 2 * 4);
      for (const e of list) expect(e).toMatchObject(estimate);
    }
    expect((await readdir(out)).sort()).toEqual(
      ['block-cross.npy', 'block-products.npy', 'block-sums.npy', 'block-tags.npy', 'mcrg.json'].sort(),
    );
    // Text output: the two tables.
    const text = await cli(['mcrg', ...small, '--block-length', '4']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/y_t, b = 2/);
    expect(text.stdout).toMatch(/N_c\s+N_r = 1\s+N_r = 2/);
    expect(text.stdout).toMatch(/y_h, b = 2/);
  });

  it('shards 0/2 and 1/2 merged by mcrg merge equal the unsplit run (blocks and estimates)', async () => {
    const whole = join(dir, 'unsplit');
    const a = join(dir, 'shard-0');
    const b = join(dir, 'shard-1');
    const merged = join(dir, 'merged');
    expect((await cli(['mcrg', ...small, '--block-length', '4', '--out', whole, '--json'])).code).toBe(0);
    for (const [i, out] of [
      [0, a],
      [1, b],
    ] as const) {
      const r = await cli([
        'mcrg',
        ...small,
        '--block-length',
        '4',
        '--shard',
        `${i}/2`,
        '--out',
        out,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const m = await cli(['mcrg', 'merge', b, a, '--out', merged, '--json']);
    expect(m.code, m.stderr).toBe(0);
    const u = await cli(['mcrg', 'merge', whole, '--json']);
    const mj = JSON.parse(m.stdout) as Record<string, unknown>;
    const uj = JSON.parse(u.stdout) as Record<string, unknown>;
    expect(mj.yt).toEqual(uj.yt);
    expect(mj.yh).toEqual(uj.yh);
    expect(mcrgBlocks(await readMcrgResult(merged))).toEqual(mcrgBlocks(await readMcrgResult(whole)));
    // The same shard twice, or different settings, are refused.
    const twice = await cli(['mcrg', 'merge', a, a]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/overlap/);
    const other = join(dir, 'other');
    expect(
      (await cli(['mcrg', ...small, '--block-length', '4', '--every', '2', '--shard', '1/2', '--out', other]))
        .code,
    ).toBe(0);
    const differ = await cli(['mcrg', 'merge', a, other]);
    expect(differ.code).toBe(1);
    expect(differ.stderr).toMatch(/settings differ .*every: 1 vs 2/);
  });

  it('SIGTERM while measuring: exit 0, a partial result directory that merge accepts', async () => {
    const out = join(dir, 'partial');
    const res = await interrupted(
      [
        'mcrg',
        '--L',
        '16',
        '--levels',
        '2',
        '--replicas',
        '4',
        '--samples',
        '400000',
        '--therm',
        '0',
        '--block-length',
        '2',
        '--out',
        out,
        '--json',
      ],
      /^blockspin: measure \d+\//m,
      'SIGTERM',
    );
    expect(res.signal, res.stderr).toBeNull();
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(json.interrupted).toBe(true);
    expect(json.complete).toBe(false);
    const result = await readMcrgResult(out);
    expect(result.complete).toBe(false);
    const samples = mcrgBlocks(result).reduce((s, b) => s + b.count, 0);
    expect(samples).toBe(json.samples);
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThan(400000);
    const merged = await cli(['mcrg', 'merge', out, '--json']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ complete: false, samples });
  });

  it('--data analyses a generate data set at one temperature', async () => {
    const set = join(dir, 'set');
    const g = await cli([
      'generate',
      '--L',
      '16',
      '--T',
      '2.269,3',
      '--samples',
      '160',
      '--therm',
      '50',
      '--algo',
      'sw',
      '--out',
      set,
    ]);
    expect(g.code, g.stderr).toBe(0);
    const many = await cli(['mcrg', '--data', set]);
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/holds 2 temperatures .*choose one with --T/);
    const r = await cli([
      'mcrg',
      '--data',
      set,
      '--T',
      '2.269',
      '--levels',
      '2',
      '--block-length',
      '4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as {
      samples: number;
      settings: { L: number; K: number };
      yh: unknown[];
    };
    expect(json.samples).toBe(160);
    expect(json.settings.L).toBe(16);
    expect(json.settings.K).toBeCloseTo(1 / 2.269, 12);
    expect(json.yh.length).toBe(8);
  });

  it('--blocking rbm:DIR: a conv projector with one large weight at (0,0) gives exactly the decimation tables', async () => {
    const model = join(dir, 'decimator');
    const W = new Float64Array(4 * 4);
    W[0] = 20; // P(μ = σ(0,0)) = sigmoid(40) = 1 in f32: the projector keeps the top-left spin
    await saveModel(model, {
      rbm: { units: 'ising', Lv: 16, filters: 1, k: 4, stride: 2, W },
      biases: { visible: false, hidden: false },
    });
    const args = [...small, '--block-length', '4', '--json'];
    const rbm = await cli(['mcrg', ...args, '--blocking', `rbm:${model}`]);
    const dec = await cli(['mcrg', ...args, '--blocking', 'decimation']);
    expect(rbm.code, rbm.stderr).toBe(0);
    expect(dec.code, dec.stderr).toBe(0);
    const r = JSON.parse(rbm.stdout) as { yt: unknown; yh: unknown; settings: { blocking: string } };
    const d = JSON.parse(dec.stdout) as { yt: unknown; yh: unknown };
    expect(r.settings.blocking).toMatch(/^rbm:k4s2:[0-9a-f]{8}$/);
    expect(r.yt).toEqual(d.yt);
    expect(r.yh).toEqual(d.yh);
    // A conv filter (tied biases) trained on another lattice size blocks this one as it is, and says so.
    const other = await cli([
      'mcrg',
      ...['--L', '32', '--levels', '2', '--samples', '160', '--replicas', '16', '--therm', '10'],
      ...['--block-length', '1', '--blocking', `rbm:${model}`, '--json'],
    ]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toContain(`the filter of ${model} (trained on 16²) blocks 32² lattices`);
    expect((JSON.parse(other.stdout) as { settings: { L: number } }).settings.L).toBe(32);
  });

  it('refuses bad input before GPU work, naming the value and the limit', async () => {
    const cases: [string[], RegExp][] = [
      [['mcrg', '--L', '30', '--levels', '3'], /L 30 is not divisible by 2\^3 = 8/],
      [
        ['mcrg', '--L', '32', '--levels', '4'],
        /4 levels of b = 2 leave 2 from L 32; the last lattice must be at least 4/,
      ],
      [['mcrg', '--L', '32', '--dims', '1', '--algo', 'sw'], /'sw' \(Swendsen–Wang\) is 2D only/],
      [['mcrg', '--L', '32', '--K', '0.4', '--T', '2'], /give --K 0.4 or --T 2, not both/],
      [
        ['mcrg', '--L', '32', '--blocking', 'median'],
        /--blocking 'median' must be majority, majority3, decimation or rbm:MODEL_DIR/,
      ],
      [['mcrg', '--L', '32', '--shard', '2/2'], /--shard 2\/2: the index 2 must be in 0 … 1/],
      [
        ['mcrg', '--L', '32', '--replicas', '4', '--shard', '0/5'],
        /shard count 5 must be an integer in 1 … 4/,
      ],
      [['mcrg', '--L', '32', '--samples', '0'], /--samples 0 must be an integer in 1/],
      [['mcrg', '--levels', '2'], /--L is required/],
      [['mcrg', 'merge', join(dir, 'missing')], /missing/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, noGpu);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
