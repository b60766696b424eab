/** The `rbm` CLI contract: train/resume/eval/sample, checkpoints, and bad input refused before GPU work. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../src/io/npy.ts';
import { loadCheckpoint } from '../src/rbm/checkpoint.ts';
import { saveModel } from '../src/rbm/model-files.ts';
import { randomDenseRbm } from '../src/reference/rbm.ts';
import { bin, cli as runCli, type CliResult } from './helpers/cli.ts';

/** `blockspin ...args` to its end (test/helpers/cli.ts). */
const cli = (...args: string[]): Promise<CliResult> => runCli(args);

/** Plain progress lines at every update (stderr is a pipe here). */
const piped = { ...process.env, BLOCKSPIN_PROGRESS_INTERVAL_MS: '0' };

/** 120 samples of 12 binary units with structure (pairs of equal units), as uint8 NPY. */
function dataset(dir: string): string {
  let s = 7;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const values = new Uint8Array(120 * 12);
  for (let r = 0; r < 120; r++) {
    for (let i = 0; i < 12; i += 2) {
      const bit = rand() < 0.5 ? 1 : 0;
      values[r * 12 + i] = bit;
      values[r * 12 + i + 1] = bit;
    }
  }
  const file = join(dir, 'data.npy');
  writeFileSync(file, encodeNpy({ dtype: 'uint8', shape: [120, 12], data: values }));
  return file;
}

/**
 * Trains 1 epoch into DIR/part, resumes it to 3 epochs, and expects the parameters and optimiser state to
 * equal those of the uninterrupted 3-epoch run already in DIR/full, byte for byte.
 */
async function expectResumeEqualsFull(common: string[], dir: string): Promise<void> {
  const part = await cli(...common, '--epochs', '1', '--out', join(dir, 'part'));
  expect(part.code, part.stderr).toBe(0);
  const resumed = await cli(
    ...common,
    '--epochs',
    '3',
    '--out',
    join(dir, 'part'),
    '--resume',
    join(dir, 'part'),
  );
  expect(resumed.code, resumed.stderr).toBe(0);
  for (const f of ['W.npy', 'a.npy', 'b.npy', 'optimizer.npy']) {
    expect(readFileSync(join(dir, 'part', f)).equals(readFileSync(join(dir, 'full', f))), f).toBe(true);
  }
}

describe('blockspin rbm', () => {
  it('train reports progress within an epoch on a piped stderr, and stdout stays JSON lines', async () => {
    // 96 training rows, batch 1: 96 updates in the one epoch, so lines at 32 and 64 updates come before
    // the epoch ends (progress once per epoch would show only 96/96).
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-'));
    const data = dataset(dir);
    const args = ['rbm', 'train', '--data', data, '--hidden', '4', '--batch', '1', '--epochs', '1'];
    const { stdout, stderr } = await runCli([...args, '--out', join(dir, 'run'), '--json'], piped);
    expect(stderr).toMatch(/train 32\/96 updates/);
    expect(stderr).toMatch(/train 64\/96 updates/);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ epoch: 1, updates: 96 });
  });

  it('train → resume equals an uninterrupted run; eval and sample work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-'));
    const data = dataset(dir);
    const common = [
      'rbm',
      'train',
      '--data',
      data,
      '--hidden',
      '6',
      '--batch',
      '20',
      '--lr',
      '0.05',
      // Adam at 0.05 leaves the plateau of small initial weights within these 3 epochs (18 updates).
      '--optimizer',
      'adam',
      '--seed',
      '3',
      '--json',
    ];
    const full = await cli(...common, '--epochs', '3', '--out', join(dir, 'full'));
    expect(full.code, full.stderr).toBe(0);
    const lines = full.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { epoch: number; logLikelihood: { train: number } });
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(lines[2]!.logLikelihood.train).toBeGreaterThan(lines[0]!.logLikelihood.train);
    await expectResumeEqualsFull(common, dir);
    const model = JSON.parse(readFileSync(join(dir, 'full', 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(model).toMatchObject({ format: 'blockspin-rbm', units: 'bernoulli', nv: 12, nh: 6 });
    expect((model.history as unknown[]).length).toBe(3);

    const evaluated = await cli('rbm', 'eval', '--model', join(dir, 'full'), '--data', data, '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const e = JSON.parse(evaluated.stdout) as Record<string, number> & {
      logZ: { method: string; value: number; err: number };
    };
    expect(e.logZ.method).toBe('exact');
    for (const k of ['reconstructionError', 'freeEnergy', 'pseudoLogLikelihood', 'logLikelihood'])
      expect(Number.isFinite(e[k])).toBe(true);
    expect(e.logLikelihood).toBeLessThan(0);

    const out = join(dir, 'samples.npy');
    const sampled = await cli(
      'rbm',
      'sample',
      '--model',
      join(dir, 'full'),
      '--chains',
      '7',
      '--steps',
      '20',
      '--out',
      out,
    );
    expect(sampled.code, sampled.stderr).toBe(0);
    const s = decodeNpy(new Uint8Array(readFileSync(out)));
    expect(s.dtype).toBe('int8');
    expect(s.shape).toEqual([7, 12]);
    expect([...s.data].every((x) => x === 0 || x === 1)).toBe(true);
  });

  it('refuses bad input, mismatched and corrupt checkpoints, with clear messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-bad-'));
    const data = dataset(dir);
    const train = (...extra: string[]): Promise<{ code: number; stderr: string }> =>
      cli(
        'rbm',
        'train',
        '--data',
        data,
        '--epochs',
        '1',
        '--batch',
        '20',
        '--out',
        join(dir, 'm'),
        ...extra,
      );
    expect((await train('--hidden', '0')).stderr).toMatch(/--hidden 0 must be an integer in 1/);
    expect((await train('--hidden', '4', '--lr', '-1')).stderr).toMatch(
      /--lr -1 must be a finite number > 0/,
    );
    expect((await train('--hidden', '4', '--conv', '1:3:2')).stderr).toMatch(
      /--conv needs square samples; the data has nv = 12/,
    );
    expect((await train('--hidden', '4', '--schedule', 'sqrt:0')).stderr).toMatch(
      /--schedule sqrt:0 must be/,
    );
    expect((await train('--hidden', '4', '--batch', '500')).stderr).toMatch(
      /--batch 500 exceeds the 96 training samples/,
    );
    expect((await train('--hidden', '4', '--units', 'ising')).code).toBe(0); // {0,1} data is converted to ±1
    // A non-binary value is named with its position.
    const bad = join(dir, 'bad.npy');
    const values = new Float32Array(10 * 12).fill(1);
    values[3 * 12 + 5] = 0.7;
    writeFileSync(bad, encodeNpy({ dtype: 'float32', shape: [10, 12], data: values }));
    const r = await cli(
      'rbm',
      'train',
      '--data',
      bad,
      '--hidden',
      '3',
      '--out',
      join(dir, 'x'),
      '--batch',
      '2',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/sample 3|unit 5|0\.7/);
    // A truncated NPY is refused.
    writeFileSync(join(dir, 'trunc.npy'), readFileSync(data).subarray(0, 300));
    expect(
      (await cli('rbm', 'train', '--data', join(dir, 'trunc.npy'), '--hidden', '3', '--out', join(dir, 'y')))
        .stderr,
    ).toMatch(/truncated/);
    // --out that holds a run is not overwritten without --resume.
    expect((await train('--hidden', '4')).stderr).toMatch(/exists and is not empty; pass --resume/);
    // Resume with other data: refused.
    const other = join(dir, 'other.npy');
    writeFileSync(other, encodeNpy({ dtype: 'uint8', shape: [100, 12], data: new Uint8Array(1200).fill(1) }));
    const mismatch = await cli(
      'rbm',
      'train',
      '--data',
      other,
      '--epochs',
      '2',
      '--out',
      join(dir, 'm'),
      '--resume',
      join(dir, 'm'),
    );
    expect(mismatch.stderr).toMatch(/was trained on other data/);
    // Corrupt checkpoint: refused.
    writeFileSync(join(dir, 'm', 'optimizer.npy'), new Uint8Array([1, 2, 3]));
    const corrupt = await cli(
      'rbm',
      'train',
      '--data',
      data,
      '--epochs',
      '2',
      '--out',
      join(dir, 'm'),
      '--resume',
      join(dir, 'm'),
    );
    expect(corrupt.code).not.toBe(0);
    expect(corrupt.stderr).toMatch(/optimizer\.npy/);
    expect((await cli('rbm', 'eval', '--model', join(dir, 'nothing'), '--data', data)).stderr).toMatch(
      /nothing/,
    );
  });

  it('Ctrl-C during training leaves a valid checkpoint that resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-int-'));
    const data = dataset(dir);
    const out = join(dir, 'run');
    const child = spawn(process.execPath, [
      bin,
      'rbm',
      'train',
      '--data',
      data,
      '--hidden',
      '5',
      '--batch',
      '4',
      '--epochs',
      '100000',
      '--out',
      out,
      '--json',
    ]);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolveExit) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.split('\n').length > 2 && !child.killed) child.kill('SIGINT'); // after two epochs
      });
      child.on('exit', (c) => resolveExit(c));
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/interrupted/);
    const ckpt = await loadCheckpoint(out);
    expect(ckpt.meta.epochs).toBeGreaterThanOrEqual(2);
    expect(ckpt.meta.updates).toBeGreaterThanOrEqual(2 * 24);
    const resumed = await cli(
      'rbm',
      'train',
      '--data',
      data,
      '--epochs',
      String(ckpt.meta.epochs + 1),
      '--out',
      out,
      '--resume',
      out,
      '--json',
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await loadCheckpoint(out)).meta.epochs).toBe(ckpt.meta.epochs + 1);
  });
});

/** 96 samples of 6×6 binary stripes (horizontal or vertical, either phase, 5 % flipped bits), shape [96, 6, 6]. */
function stripes(dir: string): string {
  let s = 11;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const L = 6;
  const values = new Uint8Array(96 * L * L);
  for (let r = 0; r < 96; r++) {
    const horizontal = rand() < 0.5;
    const phase = rand() < 0.5 ? 1 : 0;
    for (let p = 0; p < L; p++) {
      for (let q = 0; q < L; q++) {
        const bit = ((horizontal ? p : q) + phase) % 2;
        values[r * L * L + p * L + q] = rand() < 0.05 ? 1 - bit : bit;
      }
    }
  }
  const file = join(dir, 'stripes.npy');
  writeFileSync(file, encodeNpy({ dtype: 'uint8', shape: [96, L, L], data: values }));
  return file;
}

describe('blockspin rbm --conv', () => {
  it('refuses a conv geometry that cannot work before training, naming the value and the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-geometry-'));
    const data = stripes(dir);
    const train = (file: string, conv: string): Promise<{ code: number; stderr: string }> =>
      cli(
        'rbm',
        'train',
        '--data',
        file,
        '--conv',
        conv,
        '--batch',
        '4',
        '--holdout',
        '0',
        '--epochs',
        '1',
        '--out',
        join(dir, 'm'),
      );
    const cases: [string, RegExp][] = [
      ['1:7:1', /--conv 1:7:1: filter size k = 7 exceeds the data's 6×6 lattice \(k ≤ Lv = 6/],
      [
        '1:5:4',
        /--conv 1:5:4: stride s = 4 does not divide the data's 6×6 lattice \(Lv = 6\); strides that do and are ≤ k: 1, 2, 3/,
      ],
      ['1:2:3', /--conv 1:2:3: stride s = 3 exceeds the filter size k = 2/],
      ['5000:3:1', /--conv 5000:3:1: F = 5000 filters exceeds the conv engine's limit of 4096/],
    ];
    for (const [conv, message] of cases) {
      const r = await train(data, conv);
      expect(r.code, conv).not.toBe(0);
      expect(r.stderr, conv).toMatch(message);
    }
    // 36 units per sample but 4×9 samples: not a square lattice.
    const oblong = join(dir, 'oblong.npy');
    writeFileSync(oblong, encodeNpy({ dtype: 'uint8', shape: [8, 4, 9], data: new Uint8Array(8 * 36) }));
    expect((await train(oblong, '1:2:1')).stderr).toMatch(
      /--conv needs square samples; the data has nv = 36 \(shape \[4,9\]\)/,
    );
    // 2048 filters on 32×32: the monitor's dense weights would need 8 GiB, more than any adapter allows per buffer.
    const big = join(dir, 'big.npy');
    writeFileSync(big, encodeNpy({ dtype: 'uint8', shape: [8, 32, 32], data: new Uint8Array(8 * 1024) }));
    const r = await train(big, '2048:3:1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /the monitor's dense weights nv 1024 × nh = 2097152 hidden units \(F 2048 × \(Lv 32 \/ s 1\)²\) needs 8\.0\d GiB .*; this adapter allows .* per storage buffer/,
    );
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });

  for (const biases of [true, false]) {
    it(`trains several epochs ${biases ? 'with' : 'without'} biases, resumes bit-exactly, evaluates and samples`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-conv-'));
      const data = stripes(dir);
      const common = [
        'rbm',
        'train',
        '--data',
        data,
        '--conv',
        '1:3:1',
        '--units',
        'ising',
        '--batch',
        '16',
        '--lr',
        '0.01',
        '--seed',
        '5',
        '--json',
        ...(biases ? [] : ['--no-visible-bias', '--no-hidden-bias']),
      ];
      const full = await cli(...common, '--epochs', '3', '--out', join(dir, 'full'));
      expect(full.code, full.stderr).toBe(0);
      expect(
        full.stdout
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { epoch: number }).epoch),
      ).toEqual([1, 2, 3]);
      await expectResumeEqualsFull(common, dir);
      const model = JSON.parse(readFileSync(join(dir, 'full', 'model.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(model).toMatchObject({
        units: 'ising',
        nv: 36,
        nh: 36,
        weights: { kind: 'conv', Lv: 6, filters: 1, k: 3, stride: 1 },
        biases: { visible: biases, hidden: biases },
      });
      const ckpt = await loadCheckpoint(join(dir, 'full'));
      expect(ckpt.meta.epochs).toBe(3);
      const [a, b] = [ckpt.model.rbm, ckpt.model.rbm].map((r) => ('Lv' in r ? r : null));
      expect(a?.a === undefined).toBe(!biases);
      expect(b?.b === undefined).toBe(!biases);

      // 36 visible and 36 hidden units: ln Z by AIS; progress lines on stderr (not a terminal here), stdout
      // only the JSON.
      const evaluated = await runCli(
        [
          'rbm',
          'eval',
          '--model',
          join(dir, 'full'),
          '--data',
          data,
          '--ais-runs',
          '8',
          '--ais-steps',
          '300',
          '--json',
        ],
        piped,
      );
      const e = JSON.parse(evaluated.stdout) as {
        logZ: {
          method: string;
          value: number;
          err: number;
          runs: number;
          steps: number;
          effectiveRuns: number;
        };
        logLikelihood: number;
      };
      expect(e.logZ).toMatchObject({ method: 'ais', runs: 8, steps: 300, base: 'data base rates' });
      expect(e.logZ.err).toBeGreaterThan(0);
      expect(e.logZ.effectiveRuns).toBeGreaterThan(1);
      expect(Number.isFinite(e.logLikelihood)).toBe(true);
      expect(evaluated.stderr).toMatch(/ais 200\/300 β steps/);

      const out = join(dir, 'samples.npy');
      const sampled = await cli(
        'rbm',
        'sample',
        '--model',
        join(dir, 'full'),
        '--chains',
        '5',
        '--steps',
        '10',
        '--out',
        out,
      );
      expect(sampled.code, sampled.stderr).toBe(0);
      const s = decodeNpy(new Uint8Array(readFileSync(out)));
      expect(s.shape).toEqual([5, 6, 6]);
      expect([...s.data].every((x) => x === 1 || x === -1)).toBe(true);
    });
  }
});

describe('blockspin rbm sample --out', () => {
  it('refuses a directory, a missing parent and an existing file (unless --force) before sampling; no temporary file is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-sample-out-'));
    const model = join(dir, 'model');
    await saveModel(model, { rbm: randomDenseRbm('bernoulli', 12, 4, { seed: 1 }) });
    const sample = (out: string, ...extra: string[]): Promise<{ code: number; stderr: string }> =>
      cli('rbm', 'sample', '--model', model, '--chains', '3', '--steps', '2', '--out', out, ...extra);
    const leftovers = (): string[] => readdirSync(dir).filter((e) => e.includes('.tmp'));

    mkdirSync(join(dir, 'adir'));
    const toDir = await sample(join(dir, 'adir'));
    expect(toDir.code).not.toBe(0);
    expect(toDir.stderr).toMatch(/--out .*adir is a directory; give a file name/);
    expect(readdirSync(join(dir, 'adir'))).toEqual([]);

    const missing = await sample(join(dir, 'nowhere', 's.npy'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--out .*s\.npy: its directory .*nowhere does not exist/);

    const file = join(dir, 's.npy');
    writeFileSync(file, 'keep me');
    const existing = await sample(file);
    expect(existing.code).not.toBe(0);
    expect(existing.stderr).toMatch(/--out .*s\.npy exists; use --force to replace it/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const forced = await sample(file, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(decodeNpy(new Uint8Array(readFileSync(file))).shape).toEqual([3, 12]);
    expect(leftovers()).toEqual([]);
  });
});

describe('blockspin rbm train and the u32 random-number counters', () => {
  it('refuses a run of more than 2^32 updates before it starts, naming the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-rbm-counters-'));
    const r = await cli(
      'rbm',
      'train',
      '--data',
      dataset(dir),
      '--hidden',
      '3',
      '--batch',
      '20',
      '--epochs',
      '2000000000',
      '--out',
      join(dir, 'm'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /--epochs 2000000000 × 4 updates per epoch = 8000000000 updates; the random-number step counter is u32 \(at most 4294967296 updates per run\)/,
    );
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });
});
