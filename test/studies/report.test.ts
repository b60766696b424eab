/**
 * Report directories from a study's output: report.json holds every REPORTS.md field with checked results
 * (stable names, finite values, z consistent with the source), report.md a header, the body, the results table
 * and the figures, a partial report says so at its top, and the directory is written atomically (an existing
 * one refused unless forced).
 */
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../src/io/npy.ts';
import {
  checkResults,
  formatJson,
  formatValueErr,
  formatZ,
  gitCommit,
  parseReportJson,
  ReportFormatError,
  reportFiles,
  reportJson,
  reportMarkdown,
  writeReport,
  type ReportMeta,
} from '../../src/studies/report.ts';
import type { ResultEntry } from '../../src/studies/study.ts';
import { fakeOutput } from './fake-study.ts';

const meta: ReportMeta = {
  study: 'fake',
  title: 'A fake study',
  source: 'nobody',
  preset: 'test',
  seed: 3,
  adapter: { vendor: 'google', architecture: 'swiftshader', description: '', software: true },
  blockspin: '0.1.0',
  commit: 'abc123',
  command: 'blockspin reproduce fake --preset test',
  startedAt: '2026-01-02T03:04:05.000Z',
  finishedAt: '2026-01-02T03:04:07.500Z',
};

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reportJson', () => {
  it('holds every REPORTS.md field, the results with z filled in and the names of the files', () => {
    const output = fakeOutput(3, 2, 2);
    const { z: _z, ...withoutZ } = output.results[0]!;
    const json = reportJson({ ...output, results: [withoutZ, output.results[1]!] }, meta);
    expect(json).toMatchObject({
      format: 'blockspin-report',
      version: 1,
      study: 'fake',
      preset: 'test',
      seed: 3,
      complete: true,
      stopped: null,
      settings: { seed: 3, steps: 2, nested: { levels: [32, 16, 8] } },
      adapter: { vendor: 'google', architecture: 'swiftshader' },
      blockspin: '0.1.0',
      commit: 'abc123',
      command: 'blockspin reproduce fake --preset test',
      wallSeconds: 2.5,
      stages: [{ stage: 'work', seconds: 0.25 }],
      figures: ['yt-vs-nc', 'filters'],
      arrays: ['arrays/filter.npy'],
      files: ['model/notes.txt'],
    });
    // 1.003 against 1.0001(11), err 0.002: z = 0.0029 / √(0.002² + 0.0011²).
    expect(json.results[0]).toEqual({
      name: 'yt.fake.n1.c7',
      value: 1.003,
      err: 0.002,
      unit: '',
      method: '2 steps, fake',
      source: { value: 1.0001, err: 0.0011, where: 'Table 1, N_r = 1, N_c = 7' },
      z: (1.003 - 1.0001) / Math.hypot(0.002, 0.0011),
    });
    expect(json.results[1]).toEqual({
      name: 'steps.done',
      value: 2,
      err: 0,
      unit: 'steps',
      method: 'counted',
    });
  });

  it('a partial run says why it stopped', () => {
    const json = reportJson(fakeOutput(3, 1, 2), { ...meta, stopped: 'interrupted by Ctrl-C or SIGTERM' });
    expect(json.complete).toBe(false);
    expect(json.stopped).toBe('interrupted by Ctrl-C or SIGTERM');
  });

  it('refuses settings that JSON cannot hold and times out of order', () => {
    const output = fakeOutput(3, 2, 2);
    expect(() => reportJson({ ...output, settings: { a: { b: [1, NaN] } } }, meta)).toThrow(
      /settings\.a\.b\[1\] is NaN/,
    );
    expect(() => reportJson(output, { ...meta, finishedAt: '2026-01-01T00:00:00Z' })).toThrow(
      /finishedAt .* is before startedAt/,
    );
  });
});

describe('checkResults', () => {
  const ok: ResultEntry = { name: 'yt.learned.n1.c7', value: 1, err: 0.1, unit: '', method: 'jackknife' };
  it.each([
    [{ name: 'yt..c7' }, /result 0 'yt\.\.c7': a result name must be dotted identifiers/],
    [{ name: '1yt' }, /a result name must be dotted identifiers/],
    [{ name: 'yt learned' }, /a result name must be dotted identifiers/],
    [{ value: Infinity }, /result 0 'yt.learned.n1.c7' value is Infinity/],
    [{ err: NaN }, /err is NaN; it must be a finite number ≥ 0/],
    [{ err: -0.1 }, /err is -0.1; it must be a finite number ≥ 0/],
    [{ method: ' ' }, /method must say how/],
    [{ z: 1 }, /z 1 is given without a source/],
    [{ source: { value: 1, err: 0.1, where: 'x' }, z: 2 }, /z 2 disagrees with .* = 0/],
    [
      { err: 0, source: { value: 2, err: 0, where: 'x' } },
      /z is -Infinity \(err and source.err are both 0\)/,
    ],
    [{ source: { value: 1, err: 0.1, where: '' } }, /source\.where must say where/],
  ] as [Partial<ResultEntry>, RegExp][])('refuses %o', (change, message) => {
    expect(() => checkResults([{ ...ok, ...change }])).toThrow(message);
  });

  it('refuses a name given twice and accepts a consistent z', () => {
    expect(() => checkResults([ok, ok])).toThrow(/appears twice/);
    const source = { value: 0.8, err: 0.3, where: 'Fig. 2' };
    expect(checkResults([{ ...ok, source, z: 0.2 / Math.hypot(0.1, 0.3) }])[0]!.z).toBeCloseTo(0.632, 3);
  });
});

describe('reportMarkdown', () => {
  it('has the header, the body, the results table with value ± err, source and z, and the figures', () => {
    const md = reportMarkdown(fakeOutput(3, 2, 2), meta);
    expect(md).toMatch(/^# A fake study\n/);
    expect(md).not.toMatch(/Partial/i);
    expect(md).toContain('| study | `fake` |');
    expect(md).toContain('| preset | `test` |');
    expect(md).toContain('| status | complete |');
    expect(md).toContain('| adapter | google / swiftshader, software (CPU) |');
    expect(md).toContain('| blockspin | 0.1.0, commit `abc123` |');
    expect(md).toContain('| stages | work 0.3 s |');
    expect(md).toContain('A fake study body | with a pipe.');
    expect(md).toContain(
      '| `yt.fake.n1.c7` | 1.0030 ± 0.0020 |  | 1.0001 ± 0.0011 (Table 1, N_r = 1, N_c = 7) | 1.3 | 2 steps, fake |',
    );
    expect(md).toContain('| `steps.done` | 2 ± 0 | steps | — | — | counted |');
    expect(md).toContain('![y_t against N_c](figures/yt-vs-nc.svg)');
    expect(md).toContain('![Filters](figures/filters.svg)');
    expect(md).toContain('- `arrays/filter.npy`: float32 [4 × 4]');
  });

  it('a partial report says so in bold at the top and in the status row', () => {
    const md = reportMarkdown(fakeOutput(3, 1, 2), {
      ...meta,
      stopped: 'the GPU device was lost (destroyed)',
    });
    const lines = md.split('\n');
    expect(lines[2]).toMatch(
      /^\*\*Partial report: the run stopped before the end \(the GPU device was lost \(destroyed\)\)\..*"complete": false.*\*\*$/,
    );
    expect(md).toContain('| status | **partial** (the GPU device was lost (destroyed)) |');
  });
});

describe('formatValueErr', () => {
  it('rounds the error to two significant figures and the value to the same place', () => {
    expect(formatValueErr(1.000123, 0.00114)).toBe('1.0001 ± 0.0011');
    expect(formatValueErr(0.96712, 0.0031)).toBe('0.9671 ± 0.0031');
    expect(formatValueErr(1234.5, 56)).toBe('1235 ± 56');
    expect(formatValueErr(2, 0)).toBe('2 ± 0');
    expect(formatZ(-0.03)).toBe('0.0');
    expect(formatZ(-1.26)).toBe('-1.3');
  });
});

describe('formatJson', () => {
  it('reads back as JSON.stringify does, with containers of plain values on one line', () => {
    const value = {
      title: 'fan',
      empty: {},
      none: [],
      data: {
        values: [
          { x: 0, y: 0.1 + 0.2, series: 'a "quoted" name' },
          { x: 1, y: -1e-300, series: null },
        ],
      },
      layer: [{ mark: { type: 'rule', strokeDash: [6, 4] }, skipped: undefined }, 3, 'text', [[1], []]],
    };
    const text = formatJson(value);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
    const lines = text.split('\n');
    expect(lines).toContain('      {"x":0,"y":0.30000000000000004,"series":"a \\"quoted\\" name"},');
    expect(lines).toContain('        "strokeDash": [6,4]');
    expect(lines).toContain('  "empty": {},');
    expect(text).not.toContain('skipped');
    expect(formatJson([1, 'a'])).toBe('[1,"a"]');
    expect(formatJson(null)).toBe('null');
  });
});

describe('reportFiles and writeReport', () => {
  it('builds every file: report.json, report.md, figures as SVG + spec, arrays as NPY, extra files', async () => {
    const files = await reportFiles(fakeOutput(3, 2, 2), meta);
    expect(files.map((f) => f.name)).toEqual([
      'report.json',
      'report.md',
      'figures/yt-vs-nc.svg',
      'figures/yt-vs-nc.json',
      'figures/filters.svg',
      'figures/filters.json',
      'arrays/filter.npy',
      'model/notes.txt',
    ]);
    const byName = new Map(files.map((f) => [f.name, f.bytes]));
    const text = (name: string): string => new TextDecoder().decode(byName.get(name));
    expect(JSON.parse(text('report.json'))).toEqual(reportJson(fakeOutput(3, 2, 2), meta));
    expect(text('figures/yt-vs-nc.svg')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(JSON.parse(text('figures/yt-vs-nc.json'))).toMatchObject({ layer: expect.any(Array) });
    expect(decodeNpy(byName.get('arrays/filter.npy')!)).toMatchObject({ dtype: 'float32', shape: [4, 4] });
  });

  it('refuses names that collide or leave the directory', async () => {
    const output = fakeOutput(3, 2, 2);
    const bytes = new Uint8Array(1);
    await expect(reportFiles({ ...output, files: [{ name: 'report.md', bytes }] }, meta)).rejects.toThrow(
      /'report.md' would be written twice/,
    );
    await expect(reportFiles({ ...output, files: [{ name: '../x', bytes }] }, meta)).rejects.toThrow(
      /extra file '..\/x' must be a relative path/,
    );
    await expect(reportFiles({ ...output, files: [{ name: 'arrays', bytes }] }, meta)).rejects.toThrow(
      /'arrays' is also the folder of 'arrays\/filter.npy'/,
    );
  });

  it('writes the directory with its subfolders; refuses an existing non-empty one unless forced', async () => {
    const out = join(dir, 'fake-test');
    await writeReport(out, fakeOutput(3, 2, 2), meta);
    expect((await readdir(out)).sort()).toEqual(['arrays', 'figures', 'model', 'report.json', 'report.md']);
    expect((await readdir(join(out, 'figures'))).sort()).toEqual([
      'filters.json',
      'filters.svg',
      'yt-vs-nc.json',
      'yt-vs-nc.svg',
    ]);
    await expect(writeReport(out, fakeOutput(4, 2, 2), meta)).rejects.toThrow(
      new RegExp(`report directory ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} exists and is not empty`),
    );
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))).toMatchObject({ seed: 3 });
    await writeReport(out, fakeOutput(4, 2, 2), { ...meta, seed: 4 }, { force: true });
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8'))).toMatchObject({ seed: 4 });
    // Nothing left beside it (no temporary or old copies).
    expect((await readdir(dir)).filter((n) => n.startsWith('fake-test'))).toEqual(['fake-test']);
  });

  it('a bad result writes nothing', async () => {
    const out = join(dir, 'bad');
    const output = fakeOutput(3, 2, 2);
    output.results[1]!.value = NaN;
    await expect(writeReport(out, output, meta)).rejects.toThrow(/'steps.done' value is NaN/);
    expect((await readdir(dir)).filter((n) => n.startsWith('bad'))).toEqual([]);
  });
});

describe('gitCommit', () => {
  it('reads HEAD through a branch ref, packed refs and a detached HEAD; null without .git', async () => {
    const repo = join(dir, 'repo');
    const hash = 'a'.repeat(40);
    await mkdir(join(repo, '.git', 'refs', 'heads'), { recursive: true });
    await writeFile(join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(repo, '.git', 'refs', 'heads', 'main'), `${hash}\n`);
    expect(await gitCommit(repo)).toBe(hash);
    await rm(join(repo, '.git', 'refs', 'heads', 'main'));
    await writeFile(join(repo, '.git', 'packed-refs'), `# pack-refs\n${'b'.repeat(40)} refs/heads/main\n`);
    expect(await gitCommit(repo)).toBe('b'.repeat(40));
    await writeFile(join(repo, '.git', 'HEAD'), `${'c'.repeat(40)}\n`);
    expect(await gitCommit(repo)).toBe('c'.repeat(40));
    expect(await gitCommit(join(dir, 'nowhere'))).toBeNull();
    // This checkout: the commit git would name.
    expect(await gitCommit()).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('parseReportJson', () => {
  it('reads back what reportJson wrote, and the committed reports', async () => {
    const json = reportJson(fakeOutput(3, 2, 2), meta);
    expect(parseReportJson(JSON.stringify(json))).toEqual(json);
    for (const study of ['chung-kao', 'qiu', 'mehta-schwab', 'rbm-flow']) {
      const text = await readFile(
        join(import.meta.dirname, `../../docs/reports/${study}/report.json`),
        'utf8',
      );
      const report = parseReportJson(text);
      expect(report.study).toBe(study);
      expect(report.results.length).toBeGreaterThan(0);
    }
  });

  it('names the field that is wrong', () => {
    const good = reportJson(fakeOutput(3, 2, 2), meta) as unknown as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>): string => JSON.stringify({ ...good, ...patch });
    expect(() => parseReportJson('{')).toThrow(/not JSON/);
    expect(() => parseReportJson('[]')).toThrow(/must hold an object/);
    expect(() => parseReportJson(bad({ format: 'other' }))).toThrow(
      /format is "other"; expected 'blockspin-report'/,
    );
    expect(() => parseReportJson(bad({ version: 99 }))).toThrow(/version 99 is not one this blockspin reads/);
    expect(() => parseReportJson(bad({ study: 3 }))).toThrow(/field 'study' is 3; it must be a string/);
    expect(() => parseReportJson(bad({ complete: undefined }))).toThrow(/field 'complete' is missing/);
    expect(() => parseReportJson(bad({ stages: [{ stage: 1 }] }))).toThrow(/stages\[0\]/);
    expect(() => parseReportJson(bad({ figures: [3] }))).toThrow(/figures\[0\] must be a string/);
    const results = [{ name: 'a b', value: 1, err: 0, unit: '', method: 'm' }];
    expect(() => parseReportJson(bad({ results }))).toThrow(ReportFormatError);
    expect(() => parseReportJson(bad({ results }))).toThrow(/results: result 0 'a b'/);
  });
});
