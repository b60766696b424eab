/**
 * The CLI contract: `blockspin info --json` prints one JSON object; every command has --help; bad input fails
 * clearly (the error and one line pointing to --help); progress goes to stderr, also when it is a pipe, and
 * never to stdout; computing commands' JSON carries a compact adapter summary.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatDuration, progressInterval, progressLines } from '../src/cli/progress.ts';
import { encodeNpy } from '../src/io/npy.ts';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../bin/blockspin.js');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith(process.env, ...args);
}

async function cliWith(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // execFile pipes stderr: the CLI sees no terminal, as in a log file or CI.
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 120_000, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('blockspin CLI', () => {
  it('info --json prints the adapter with vendor, architecture, limits and features', async () => {
    const { code, stdout } = await cli('info', '--json');
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as Record<string, unknown>;
    expect(typeof info.vendor).toBe('string');
    expect(typeof info.architecture).toBe('string');
    expect(`${String(info.vendor)}${String(info.architecture)}`.length).toBeGreaterThan(0);
    expect(info.backend).toBe('dawn');
    const limits = info.limits as Record<string, number>;
    expect(limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(Array.isArray(info.features)).toBe(true);
    expect(Array.isArray(info.enabledFeatures)).toBe(true);
  });

  it('info prints a readable summary', async () => {
    const { code, stdout } = await cli('info');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^adapter\s+\S/m);
    expect(stdout).toMatch(/maxStorageBufferBindingSize/);
  });

  it.each([[], ['info'], ['bench'], ['bench', 'reduce'], ['bench', 'random']])(
    '%j --help',
    async (...args) => {
      const { code, stdout } = await cli(...(args as string[]), '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: blockspin/);
    },
  );

  it('rejects an unknown option and names it, with one line pointing to --help (not the whole help)', async () => {
    const { code, stderr } = await cli('info', '--bogus');
    expect(code).not.toBe(0);
    expect(stderr).toBe("error: unknown option '--bogus'\nrun 'blockspin info --help' for usage\n");
  });

  it('rejects a bad benchmark size, naming the value and the limit', async () => {
    const { code, stderr } = await cli('bench', 'reduce', '--sizes', '1024,-5');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/-5 must be an integer in 1 … 268435456/);
    expect(stderr).toMatch(/^run 'blockspin bench reduce --help' for usage$/m);
    expect(stderr).not.toMatch(/Usage:/);
  });

  it('an unknown command points to the top-level --help', async () => {
    const { code, stderr } = await cli('isnig');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown command 'isnig'/);
    expect(stderr).toMatch(/^run 'blockspin --help' for usage$/m);
    expect(stderr).not.toMatch(/Usage:/);
  });

  it('ising --json with stderr piped: progress lines on stderr, pure JSON on stdout, a compact adapter', async () => {
    const env = { ...process.env, BLOCKSPIN_PROGRESS_INTERVAL_MS: '0' };
    // The engine reports after each submission (at most 256 sweeps at a time): several thermalise lines.
    const args = ['ising', '--L', '8', '--T', '2.5', '--replicas', '2', '--therm', '2000', '--sweeps', '300'];
    const { code, stdout, stderr } = await cliWith(env, ...args, '--json');
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as { sweeps: number; adapter: Record<string, unknown> };
    expect(json.sweeps).toBe(300);
    const lines = stderr.split('\n').filter((l) => /^blockspin: (thermalise|measure) /.test(l));
    expect(lines[0]).toMatch(/^blockspin: thermalise \d+\/2000 sweeps \(\d+\.\d%\)$/);
    expect(lines[1]).toMatch(
      /^blockspin: thermalise \d+\/2000 sweeps \(\d+\.\d%\), [\d.]+ sweeps\/s, ETA \S.*$/,
    );
    expect(lines.some((l) => /^blockspin: measure \d+\/300 sweeps/.test(l))).toBe(true);
    expect(stdout).not.toMatch(/blockspin: /);
    // The full adapter report (every limit) is `info --json`; a run's JSON names the adapter in a few fields.
    expect(Object.keys(json.adapter).sort()).toEqual(
      [
        'architecture',
        'backend',
        'description',
        'enabledFeatures',
        'maxBufferSize',
        'maxStorageBufferBindingSize',
        'software',
        'vendor',
      ].sort(),
    );
    expect(json.adapter.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(JSON.stringify(json.adapter, null, 2).split('\n').length).toBeLessThan(20);
  });

  it('rbm eval shows AIS progress on a piped stderr; stdout stays one JSON object', async () => {
    // 24 visible × 24 hidden units: beyond exact enumeration, so eval estimates ln Z by AIS.
    const dir = await mkdtemp(join(tmpdir(), 'blockspin-cli-'));
    try {
      const data = join(dir, 'data.npy');
      const bits = Uint8Array.from({ length: 64 * 24 }, (_, i) => (i * 2654435761) >>> 31);
      await writeFile(data, encodeNpy({ dtype: 'uint8', shape: [64, 24], data: bits }));
      const model = join(dir, 'model');
      const train = await cli(
        'rbm',
        'train',
        '--data',
        data,
        '--hidden',
        '24',
        '--epochs',
        '1',
        '--batch',
        '8',
        '--out',
        model,
      );
      expect(train.code, train.stderr).toBe(0);
      const env = { ...process.env, BLOCKSPIN_PROGRESS_INTERVAL_MS: '0' };
      const args = ['--model', model, '--data', data, '--ais-runs', '4', '--ais-steps', '200', '--json'];
      const { code, stdout, stderr } = await cliWith(env, 'rbm', 'eval', ...args);
      expect(code, stderr).toBe(0);
      expect((JSON.parse(stdout) as { logZ: { method: string } }).logZ.method).toBe('ais');
      expect(stderr).toMatch(/^blockspin: ais \d+\/\d+ β steps/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad BLOCKSPIN_PROGRESS_INTERVAL_MS is refused, naming the value', () => {
    expect(progressInterval({})).toBe(3000);
    expect(progressInterval({ BLOCKSPIN_PROGRESS_INTERVAL_MS: '250' })).toBe(250);
    expect(() => progressInterval({ BLOCKSPIN_PROGRESS_INTERVAL_MS: 'soon' })).toThrow(
      /BLOCKSPIN_PROGRESS_INTERVAL_MS=soon must be an integer number of milliseconds/,
    );
  });

  it('bench reduce --json reports GPU and peer figures from one run', async () => {
    const { code, stdout } = await cli('bench', 'reduce', '--sizes', '4096', '--repeats', '2', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      adapter: { vendor: string };
      results: { elementsPerNs: number; type: string }[];
      peer: { results: { elementsPerNs: number }[] };
    };
    expect(report.results.length).toBeGreaterThan(0);
    for (const r of report.results) expect(r.elementsPerNs).toBeGreaterThan(0);
    expect(report.peer.results.length).toBeGreaterThan(0);
  });
});

describe('plain progress lines (stderr not a terminal)', () => {
  it('writes one line at each phase change and at most one per interval, with rate and ETA', () => {
    let t = 0;
    const out: string[] = [];
    const p = progressLines(
      'sweeps',
      (l) => out.push(l),
      3000,
      () => t,
    );
    p.update('thermalise', 0, 1000); // phase start
    t = 1000;
    p.update('thermalise', 100, 1000); // within the interval: silent
    t = 3000;
    p.update('thermalise', 300, 1000); // 3 s later: 100 sweeps/s, 7 s to go
    t = 4000;
    p.update('thermalise', 400, 1000); // silent
    p.update('measure', 0, 5000); // phase change: at once
    t = 5000;
    p.update('measure', 250, 5000); // silent
    t = 7000;
    p.update('measure', 750, 5000); // 250 sweeps/s: 4250 to go, 17 s
    p.stop();
    expect(out).toEqual([
      'blockspin: thermalise 0/1000 sweeps (0.0%)\n',
      'blockspin: thermalise 300/1000 sweeps (30.0%), 100 sweeps/s, ETA 7 s\n',
      'blockspin: measure 0/5000 sweeps (0.0%)\n',
      'blockspin: measure 750/5000 sweeps (15.0%), 250 sweeps/s, ETA 17 s\n',
    ]);
  });

  it('formats an ETA for a log line', () => {
    expect(formatDuration(7.4)).toBe('7 s');
    expect(formatDuration(245)).toBe('4m 05s');
    expect(formatDuration(7380)).toBe('2h 03m');
    expect(formatDuration(Infinity)).toBe('?');
  });
});
