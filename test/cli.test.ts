/** The CLI contract: `blockspin info --json` prints one JSON object; every command has --help; bad input fails clearly. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../bin/blockspin.js');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 120_000 });
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

  it('rejects an unknown option and names it', async () => {
    const { code, stderr } = await cli('info', '--bogus');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown option '--bogus'/);
  });

  it('rejects a bad benchmark size, naming the value and the limit', async () => {
    const { code, stderr } = await cli('bench', 'reduce', '--sizes', '1024,-5');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/-5 must be an integer in 1 … 268435456/);
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
