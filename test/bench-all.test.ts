/**
 * `blockspin bench all` at its smallest size through the CLI (SwiftShader in CI): bench.json and bench.md are
 * written, every figure is finite and positive, and each suite and kernel the GPU session needs is there. The
 * CuPy peer runs on NumPy when Python has it; without Python the section is skipped with a note.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatBenchAll, type BenchAllReport, type BenchFigure } from '../bench/all.ts';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../bin/blockspin.js');

describe('blockspin bench all', () => {
  it('--size smoke writes bench.json and bench.md with finite figures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blockspin-bench-all-'));
    try {
      const args = ['bench', 'all', '--size', 'smoke', '--seconds', '40', '--out', dir, '--json'];
      const only = ['--only', 'ising,cupy,sw,rbm,reduce,random'];
      const { stdout } = await run(process.execPath, [bin, ...args, ...only], { timeout: 110_000 });
      const printed = JSON.parse(stdout) as BenchAllReport;
      const saved = JSON.parse(await readFile(join(dir, 'bench.json'), 'utf8')) as BenchAllReport;
      expect(saved).toEqual(printed);
      expect(saved.complete).toBe(true);
      expect(saved.size).toBe('smoke');
      for (const f of [...saved.figures, ...saved.peers]) {
        expect(Number.isFinite(f.value) && f.value > 0, `${f.suite} ${f.kernel} ${f.size}`).toBe(true);
      }
      const kernels = new Set(saved.figures.map((f) => `${f.suite} ${f.kernel}`));
      for (const k of [
        'ising packed metropolis',
        'ising simple metropolis',
        'ising packed sw',
        'rbm dense tiled',
        'rbm dense direct',
        'rbm conv (conv kernels)',
        'reduce reduce (workgroup tree)',
        'random philox uniform',
        'random threefry words',
      ]) {
        expect(kernels, k).toContain(k);
      }
      expect(saved.figures.filter((f) => f.kernel === 'packed metropolis').map((f) => f.size)).toContain(
        'L=64',
      );
      const cupy = saved.sections.find((s) => s.name === 'cupy');
      if (cupy?.status === 'done') {
        expect(saved.peers.some((p) => p.suite === 'ising' && p.key === 'metropolis L=64')).toBe(true);
      } else {
        expect(cupy?.note, 'a skipped peer says why').toBeTruthy();
      }
      const md = await readFile(join(dir, 'bench.md'), 'utf8');
      expect(md).toContain('| suite | kernel | size | blockspin | unit |');
      expect(md).toMatch(/^\| ising \| packed metropolis \| L=64 \| [0-9.e-]+ \| flips\/ns \|/m);
      expect(md).toMatch(/^\| rbm \| dense tiled \|/m);
      expect(md).not.toMatch(/NaN|Infinity/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('bench.md gives each figure its ratio against the peer figures of the same key', () => {
    const figure = (runtime: string, value: number): BenchFigure => ({
      suite: 'ising',
      runtime,
      kernel: 'packed metropolis',
      size: 'L=1024',
      key: 'metropolis L=1024',
      value,
      unit: 'flips/ns',
      ms: 1,
      timing: 'timestamp-query',
      seconds: 1,
    });
    const report = {
      tool: 'blockspin bench all',
      version: '0',
      size: 'full',
      budgetSeconds: 10,
      startedAt: 'a',
      updatedAt: 'b',
      complete: true,
      adapter: { vendor: 'v', architecture: 'a', device: '', software: false, backend: 'dawn' },
      host: { node: 'v20', platform: 'linux-x64', cpu: 'cpu', cpus: 1 },
      sections: [],
      figures: [figure('blockspin', 300)],
      peers: [figure('CuPy', 100), { ...figure('CuPy', 5), key: 'metropolis L=2048', size: 'L=2048' }],
      notes: [],
    } as unknown as BenchAllReport;
    const md = formatBenchAll(report);
    expect(md).toMatch(
      /\| ising \| packed metropolis \| L=1024 \| 300\.0 \| flips\/ns \| CuPy \| 100\.0 \| 3\.00× \|/,
    );
    // A peer figure without a blockspin counterpart is listed on its own.
    expect(md).toMatch(/\| CuPy \| ising \| packed metropolis \| L=2048 \| 5\.000 \|/);
  });
});
