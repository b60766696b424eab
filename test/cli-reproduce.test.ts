/**
 * `blockspin reproduce` end to end with a small fake study (test/studies/fake-study.ts, registered through
 * BLOCKSPIN_TEST_STUDY): the report directory and --json, the summary, SIGINT and a lost device each leaving a
 * clearly partial report, and bad input (unknown study or preset, an existing directory) refused before GPU work.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReportDir } from '../src/cli/reproduce.ts';
import { cli, interrupted } from './helpers/cli.ts';

const fake = resolve(import.meta.dirname, 'studies/fake-study.ts');
// `interrupted` passes process.env on: register the fake there too.
process.env.BLOCKSPIN_TEST_STUDY = fake;
const env = { ...process.env, BLOCKSPIN_TEST_STUDY: fake };
/** No adapter at all: the errors that must come before GPU work still name the value. */
const noGpu = { ...env, VK_ICD_FILENAMES: '/nonexistent/blockspin-no-gpu.json' };

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-reproduce-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(out: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Record<string, unknown>;
}

describe('blockspin reproduce', () => {
  it('runs the study, writes the report directory and prints report.json with --json', async () => {
    const out = join(dir, 'whole');
    const { code, stdout, stderr } = await cli(
      ['reproduce', 'fake', '--preset', 'test', '--out', out, '--json'],
      env,
    );
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json).toEqual(await report(out));
    expect(json).toMatchObject({
      format: 'blockspin-report',
      study: 'fake',
      preset: 'test',
      seed: 3,
      complete: true,
      stopped: null,
      settings: { seed: 3, steps: 2 },
      adapter: { vendor: expect.any(String), software: expect.any(Boolean) },
      blockspin: '0.1.0',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      command: `blockspin reproduce fake --preset test --out ${out} --json`,
      figures: ['yt-vs-nc', 'filters'],
    });
    expect((json.results as { name: string }[]).map((r) => r.name)).toEqual(['yt.fake.n1.c7', 'steps.done']);
    expect((await readdir(join(out, 'figures'))).sort()).toEqual([
      'filters.json',
      'filters.svg',
      'yt-vs-nc.json',
      'yt-vs-nc.svg',
    ]);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/^# A fake study\n\n\| \|/);
  });

  it('--seed replaces the preset seed; the summary shows the compared results with z', async () => {
    const out = join(dir, 'seeded');
    const { code, stdout, stderr } = await cli(
      ['reproduce', 'fake', '--preset', 'quick', '--seed', '5', '--out', out],
      env,
    );
    expect(code, stderr).toBe(0);
    // Seed 5: 1.005(2) against 1.0001(11).
    expect(stdout).toMatch(/^fake \(quick, seed 5\): complete, \d+ s; report in /);
    expect(stdout).toContain(
      `yt.fake.n1.c7  1.0050 ± 0.0020  1.0001 ± 0.0011 (Table 1, N_r = 1, N_c = 7)  z = ${((1.005 - 1.0001) / Math.hypot(0.002, 0.0011)).toFixed(1)}`,
    );
    expect(stdout).not.toContain('steps.done'); // not compared with a source: in report.md only
    expect(await report(out)).toMatchObject({ seed: 5, settings: { seed: 5, steps: 3 } });
  });

  it('--set overrides preset options by path, is recorded in report.json, report.md and the run file, and resumes as it was', async () => {
    const out = join(dir, 'overridden');
    const { code, stdout, stderr } = await cli(
      ['reproduce', 'fake', '--preset', 'test', '--set', 'steps=4', '--out', out, '--json'],
      env,
    );
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ preset: 'test', overrides: ['steps=4'], settings: { steps: 4 } });
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain(
      '| preset | `test`, overridden: `steps=4` |',
    );
    expect(JSON.parse(await readFile(join(out, 'checkpoints/run.json'), 'utf8'))).toMatchObject({
      overrides: ['steps=4'],
    });
    // Resuming keeps the overrides; another --set is refused.
    const again = await cli(['reproduce', 'fake', '--resume', out, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ overrides: ['steps=4'], settings: { steps: 4 } });
    const other = await cli(['reproduce', 'fake', '--resume', out, '--set', 'steps=5'], noGpu);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('is a run with --set steps=4; --set steps=5 differs');
    // Bad overrides are refused before GPU work, naming the path or the value.
    const refused = [
      [['--set', 'stps=4'], "'stps' is not an option; the top level has seed, steps"],
      [['--set', 'steps=many'], "steps is a number; 'many' is not"],
      [['--set', 'steps'], 'must have the form PATH=VALUE'],
      [['--set', 'steps=0'], 'steps 0 must be an integer ≥ 1'],
    ] as const;
    for (const [args, message] of refused) {
      const r = await cli(
        ['reproduce', 'fake', '--preset', 'test', '--out', join(dir, 'bad-set'), ...args],
        noGpu,
      );
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
      expect(existsSync(join(dir, 'bad-set')), 'nothing written').toBe(false);
    }
  });

  it('Ctrl-C writes a partial report (complete false, said at the top of report.md), exit 130', async () => {
    const out = join(dir, 'interrupted');
    const run = await interrupted(
      ['reproduce', 'fake', '--preset', 'standard', '--out', out],
      /work \d+\/200000 steps/,
    );
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toMatch(/PARTIAL \(interrupted by Ctrl-C or SIGTERM\)/);
    const json = await report(out);
    expect(json).toMatchObject({ complete: false, stopped: 'interrupted by Ctrl-C or SIGTERM' });
    const done = (json.results as { name: string; value: number }[]).find((r) => r.name === 'steps.done')!;
    expect(done.value).toBeGreaterThan(0);
    expect(done.value).toBeLessThan(200_000);
    expect((await readFile(join(out, 'report.md'), 'utf8')).split('\n')[2]).toMatch(/^\*\*Partial report/);
    // The checkpoints stay in the partial report, to resume from.
    expect(JSON.parse(await readFile(join(out, 'checkpoints/run.json'), 'utf8'))).toMatchObject({
      study: 'fake',
      preset: 'standard',
      seed: 3,
    });
    expect(Number(await readFile(join(out, 'checkpoints/work/done.txt'), 'utf8'))).toBe(done.value);
  });

  it('--resume DIR continues from its checkpoints with its preset and seed, and refuses another run', async () => {
    const out = join(dir, 'resume');
    await mkdir(join(out, 'checkpoints/work'), { recursive: true });
    const run = { format: 'blockspin-study-run', version: 1, study: 'fake', preset: 'quick', seed: 5 };
    await writeFile(join(out, 'checkpoints/run.json'), JSON.stringify(run));
    await writeFile(join(out, 'checkpoints/work/done.txt'), '2');
    const { code, stdout, stderr } = await cli(['reproduce', 'fake', '--resume', out, '--json'], env);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as { complete: boolean; preset: string; seed: number; settings: object };
    expect(json).toMatchObject({ complete: true, preset: 'quick', seed: 5 });
    expect(json.settings).toMatchObject({ resumedFrom: 2, steps: 3 });
    expect(await readFile(join(out, 'checkpoints/work/done.txt'), 'utf8')).toBe('3');
    expect(await report(out)).toEqual(json);
    // Another study, preset or seed than the checkpoints', --force, or no checkpoints at all: refused.
    const refused = [
      [['reproduce', 'chung-kao', '--resume', out], `--resume ${out} holds a run of 'fake', not 'chung-kao'`],
      [['reproduce', 'fake', '--resume', out, '--preset', 'test'], `is a 'quick' run; --preset test differs`],
      [['reproduce', 'fake', '--resume', out, '--seed', '4'], 'is a run with seed 5; --seed 4 differs'],
      [['reproduce', 'fake', '--resume', out, '--force'], '--force (start over) contradicts it'],
      [['reproduce', 'fake', '--resume', join(dir, 'nothing')], 'no checkpoints/run.json there'],
    ] as const;
    for (const [args, message] of refused) {
      const r = await cli([...args], noGpu);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
    // A new run into the directory is refused, pointing at --resume.
    const again = await cli(['reproduce', 'fake', '--out', out], noGpu);
    expect(again.stderr).toContain(`use --force to replace it, or --resume ${out} to continue its run`);
  });

  it('a lost device writes a partial report naming the loss, exit 75', async () => {
    const out = join(dir, 'lost');
    const { code, stdout, stderr } = await cli(
      ['reproduce', 'fake', '--preset', 'standard', '--out', out, '--json'],
      { ...env, BLOCKSPIN_TEST_LOSE_DEVICE_AFTER: '5' },
    );
    expect(code, stderr).toBe(75);
    expect(stderr).toMatch(/the GPU device was lost \(destroyed.*; wrote the partial report/);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      complete: false,
      stopped: expect.stringMatching(/the GPU device was lost/),
    });
    const done = (json.results as { name: string; value: number }[]).find((r) => r.name === 'steps.done')!;
    expect(done.value).toBeLessThanOrEqual(5);
    expect(await report(out)).toEqual(json);
  });

  it('refuses an unknown study or preset and an existing directory before GPU work, naming them', async () => {
    const unknown = await cli(['reproduce', 'nope', '--preset', 'test'], noGpu);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /unknown study 'nope'; the studies are: chung-kao, fake, mehta-schwab, qiu, rbm-flow$/m,
    );
    const preset = await cli(['reproduce', 'fake', '--preset', 'huge'], noGpu);
    expect(preset.code).not.toBe(0);
    expect(preset.stderr).toMatch(/--preset 'huge' must be one of test, quick, standard, paper/);
    const seed = await cli(['reproduce', 'fake', '--seed', '-1'], noGpu);
    expect(seed.code).not.toBe(0);
    expect(seed.stderr).toMatch(/--seed -1 must be an integer/);
    const taken = join(dir, 'taken');
    await mkdir(taken);
    await writeFile(join(taken, 'keep.txt'), 'mine');
    const exists = await cli(['reproduce', 'fake', '--preset', 'test', '--out', taken], noGpu);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain(
      `report directory ${taken} exists and is not empty (1 entries); use --force`,
    );
    expect(await readdir(taken)).toEqual(['keep.txt']);
    expect(existsSync(join(dir, 'reports'))).toBe(false);
  });

  it('writes to reports/NAME-PRESET by default', () => {
    expect(defaultReportDir('chung-kao', 'quick')).toBe('reports/chung-kao-quick');
  });
});
