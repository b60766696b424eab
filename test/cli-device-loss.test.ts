/**
 * The CLI when the GPU device is lost mid-run (BLOCKSPIN_TEST_LOSE_DEVICE_AFTER=N destroys the device of
 * the subprocess right after its N-th queue submission): each command stops with a clear message and exit
 * status 75, keeps what it had (results printed, the last checkpoint, a partial data set), and the kept
 * state continues bit-exactly (`rbm train --resume`, `generate --resume`).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npy.ts';
import { cli as runCli, type CliResult } from './helpers/cli.ts';

const LOSE = 'BLOCKSPIN_TEST_LOSE_DEVICE_AFTER';

/** `blockspin ...args`, its device lost after `loseAfter` submissions when given (test/helpers/cli.ts). */
async function cli(args: string[], loseAfter?: number): Promise<CliResult> {
  const env = { ...process.env };
  delete env[LOSE];
  if (loseAfter !== undefined) env[LOSE] = String(loseAfter);
  return runCli(args, env);
}

const LOST = /the GPU device was lost \(destroyed/;

describe('blockspin ising: device lost while measuring', () => {
  // 8×8, 4 replicas: 256 sweeps per submission, each followed by the read-back of its measurements.
  const args = ['ising', '--L', '8', '--T', '2.3', '--replicas', '4', '--therm', '10', '--json'];

  it('prints what was measured, flagged, exit 75; it equals a run asked for that many sweeps', async () => {
    // Submissions: init, thermalisation, then per 256 sweeps: the sweeps and their read-back.
    const lost = await cli([...args, '--sweeps', '2000'], 9);
    expect(lost.code, lost.stderr).toBe(75);
    expect(lost.stderr).toMatch(LOST);
    expect(lost.stderr).toMatch(/printed what the \d+ sweeps measured before it/);
    const json = JSON.parse(lost.stdout) as Record<string, unknown>;
    expect(json.interrupted).toBe(true);
    expect(json.deviceLost).toMatch(LOST);
    const sweeps = json.sweeps as number;
    expect(sweeps % 256).toBe(0);
    expect(sweeps).toBeGreaterThanOrEqual(256);
    expect(sweeps).toBeLessThan(2000);
    expect(json.measurements).toBe(sweeps);
    // The kept measurements are exactly those of an uninterrupted run of `sweeps` sweeps.
    const whole = await cli([...args, '--sweeps', String(sweeps)]);
    expect(whole.code, whole.stderr).toBe(0);
    const ref = JSON.parse(whole.stdout) as Record<string, unknown>;
    expect(ref.interrupted).toBe(false);
    expect(ref.deviceLost).toBeNull();
    for (const key of [
      'energy',
      'absMagnetization',
      'm2',
      'binder',
      'susceptibility',
      'tauInt',
      'correlation',
    ])
      expect(json[key], key).toEqual(ref[key]);
  }, 120_000);

  it('lost while thermalising: nothing to print, a message, exit 75', async () => {
    const lost = await cli([...args, '--sweeps', '100'], 1);
    expect(lost.code, lost.stderr).toBe(75);
    expect(lost.stdout).toBe('');
    expect(lost.stderr).toMatch(/lost \(destroyed.*while thermalising: nothing was measured/);
  }, 60_000);
});

describe('blockspin rbm train: device lost mid-run', () => {
  it('keeps the last checkpoint; --resume ends with the parameters of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-loss-rbm-'));
    let s = 7;
    const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const values = new Uint8Array(120 * 12);
    for (let r = 0; r < 120; r++) {
      for (let i = 0; i < 12; i += 2) values[r * 12 + i] = values[r * 12 + i + 1] = rand() < 0.5 ? 1 : 0;
    }
    const data = join(dir, 'data.npy');
    writeFileSync(data, encodeNpy({ dtype: 'uint8', shape: [120, 12], data: values }));
    const common = ['rbm', 'train', '--data', data, '--hidden', '6', '--batch', '20', '--lr', '0.05'];
    const train = [...common, '--seed', '3', '--epochs', '4', '--json'];
    const full = await cli([...train, '--out', join(dir, 'full')]);
    expect(full.code, full.stderr).toBe(0);

    // About 45 submissions an epoch (updates, finiteness check, monitoring, checkpoint read-backs).
    const out = join(dir, 'lost');
    const lost = await cli([...train, '--out', out], 110);
    expect(lost.code, lost.stderr).toBe(75);
    expect(lost.stderr).toMatch(LOST);
    const m = /the checkpoint in (\S+) holds epoch (\d+); continue bit-exactly with --resume/.exec(
      lost.stderr,
    );
    expect(m, lost.stderr).not.toBeNull();
    const epoch = Number(m![2]);
    expect(epoch).toBeGreaterThanOrEqual(1);
    expect(epoch).toBeLessThan(4);
    const meta = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')) as { epochs: number };
    expect(meta.epochs).toBe(epoch);

    const resumed = await cli([...train, '--out', out, '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const f of ['W.npy', 'a.npy', 'b.npy', 'optimizer.npy']) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(dir, 'full', f))), f).toBe(true);
    }
  }, 180_000);
});

describe('blockspin generate: device lost', () => {
  const args = ['generate', '--L', '8', '--T', '2,3', '--samples', '12', '--chains', '3', '--therm', '20'];
  const more = ['--every', '3', '--seed', '21', '--json'];
  const npys = (d: string): string[] =>
    readdirSync(d).filter((f) => f.endsWith('.npy') && !f.startsWith('resume'));

  it('while sampling: DIR.partial keeps the saved samples; --resume finishes it bit-exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-loss-gen-'));
    // Packed spins: the resumed run reads the kept samples back through numpy.packbits' layout.
    const full = await cli([...args, ...more, '--format', 'packed', '--out', join(dir, 'full')]);
    expect(full.code, full.stderr).toBe(0);

    const out = join(dir, 'lost');
    // Submissions: init, thermalisation, τ (2 × sweeps + read-back), the start snapshot, then per save
    // the sweeps and the snapshot read-back: the 12th is mid-sampling.
    const lost = await cli([...args, ...more, '--format', 'packed', '--out', out], 12);
    expect(lost.code, lost.stderr).toBe(75);
    expect(lost.stderr).toMatch(LOST);
    expect(lost.stderr).toContain(`finish them with generate --resume ${out}.partial`);
    expect(existsSync(out)).toBe(false);
    const meta = JSON.parse(readFileSync(join(`${out}.partial`, 'dataset.json'), 'utf8')) as {
      complete: boolean;
      temperatures: { samples: number }[];
    };
    expect(meta.complete).toBe(false);
    const kept = meta.temperatures.map((t) => t.samples);
    expect(kept.reduce((a, b) => a + b)).toBeGreaterThan(0);
    expect(kept.reduce((a, b) => a + b)).toBeLessThan(24);

    const resumed = await cli(['generate', '--resume', `${out}.partial`, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(npys(out)).toEqual(npys(join(dir, 'full')));
    for (const f of npys(out)) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(dir, 'full', f))), f).toBe(true);
    }
    // Options are the partial set's own: giving one is refused.
    const again = await cli(['generate', '--resume', `${out}.partial`, '--samples', '5']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/drop --samples/);
  }, 180_000);

  it('before sampling: nothing kept; --resume starts over and gives the same data set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-cli-loss-gen0-'));
    const out = join(dir, 'early');
    const lost = await cli([...args, ...more, '--out', out], 2);
    expect(lost.code, lost.stderr).toBe(75);
    expect(lost.stderr).toMatch(/lost before sampling; generate --resume \S+ starts over/);
    const resumed = await cli(['generate', '--resume', `${out}.partial`]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const full = await cli([...args, ...more, '--out', join(dir, 'full')]);
    expect(full.code, full.stderr).toBe(0);
    for (const f of npys(join(dir, 'full'))) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(dir, 'full', f))), f).toBe(true);
    }
  }, 180_000);
});
