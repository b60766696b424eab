/**
 * Data sets: generateDataset's shapes, values and sampling intervals; the NPY files and dataset.json written by
 * datasetFiles + writeDataset (int8 and packbits formats, read back here and, when available, by numpy);
 * checkOutputDirectory's refusals; and an interrupted generation, which must land in DIR.partial, never DIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkOutputDirectory,
  datasetFileName,
  datasetFiles,
  writeDataset,
} from '../../src/io/dataset-files.ts';
import { decodeNpy } from '../../src/io/npy.ts';
import { generateDataset, type Dataset, type DatasetOptions } from '../../src/ising/dataset.ts';
import { kaufman } from '../../src/exact/ising.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const PYTHON = '/usr/bin/python3';
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const L = 8;
const options: DatasetOptions = {
  L,
  temperatures: [1.5, 2.269, 3.5],
  samples: 24,
  every: 3,
  therm: 200,
  tauSweeps: 200,
  chains: 4,
  seed: 5,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-dataset-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The metadata file of a written data set. */
async function readMeta(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(path, 'dataset.json'), 'utf8')) as Record<string, unknown>;
}

/** numpy.unpackbits(a, axis=-1)[..., :L] * 2 − 1, written out. */
function unpack(bytes: Uint8Array, rows: number, Lx: number): Int8Array {
  const rowBytes = Math.ceil(Lx / 8);
  const out = new Int8Array(rows * Lx);
  for (let row = 0; row < rows; row++) {
    for (let x = 0; x < Lx; x++) {
      const byte = bytes[row * rowBytes + (x >> 3)] as number;
      out[row * Lx + x] = (byte >> (7 - (x & 7))) & 1 ? 1 : -1;
    }
  }
  return out;
}

describe('generateDataset and its files', () => {
  const gpu = useGpu();
  let dataset: Dataset;

  beforeAll(async () => {
    const device = gpu().device;
    const phases = new Set<string>();
    dataset = await checked(device, () =>
      generateDataset(device, { ...options, onProgress: (p) => phases.add(p) }),
    );
    expect([...phases]).toEqual(['thermalise', 'tau', 'sample']);
  });

  it('has the asked shapes, ±1 spins, intervals ≥ every and ≥ 2τ_int, finite τ_int', () => {
    expect(dataset.complete).toBe(true);
    expect(dataset).toMatchObject({ L, Ly: L, chains: 4, therm: 200, tauSweeps: 200, seed: '5' });
    expect(dataset.algorithm).toBe('metropolis');
    expect(dataset.kernel).toBe('simple');
    expect(dataset.temperatures.map((t) => t.T)).toEqual(options.temperatures);
    for (const t of dataset.temperatures) {
      expect(t.samples).toBe(24);
      expect(t.spins).toBeInstanceOf(Int8Array);
      expect(t.spins.length).toBe(24 * L * L);
      expect(t.spins.every((s) => s === 1 || s === -1)).toBe(true);
      expect(Number.isInteger(t.interval)).toBe(true);
      expect(t.interval).toBeGreaterThanOrEqual(Math.max(1, options.every as number));
      for (const tau of [t.tauInt.energy, t.tauInt.absMagnetization]) {
        expect(Number.isFinite(tau)).toBe(true);
        expect(tau).toBeGreaterThan(0);
        expect(t.interval).toBeGreaterThanOrEqual(Math.ceil(2 * tau));
      }
      // Distinct configurations (not the same state saved repeatedly).
      const rows = new Set<string>();
      for (let k = 0; k < t.samples; k++) rows.add(t.spins.subarray(k * L * L, (k + 1) * L * L).join(''));
      expect(rows.size).toBeGreaterThan(t.samples / 2);
    }
    // The sampling phase lasted (longest interval) × samples per chain.
    expect(dataset.sampleSweeps).toBe(Math.max(...dataset.temperatures.map((t) => t.interval)) * 6);
    // τ_int is largest near T_c.
    const [cold, critical, hot] = dataset.temperatures;
    expect(critical!.tauInt.energy).toBeGreaterThan(hot!.tauInt.energy);
    // Physics, roughly (24 samples): ordered when cold, disordered when hot, energies near Kaufman's.
    const absM = (t: (typeof dataset.temperatures)[number]): number => {
      let total = 0;
      for (let k = 0; k < t.samples; k++) {
        let m = 0;
        for (let i = 0; i < L * L; i++) m += t.spins[k * L * L + i] as number;
        total += Math.abs(m) / (L * L);
      }
      return total / t.samples;
    };
    expect(absM(cold!)).toBeGreaterThan(0.9);
    expect(absM(hot!)).toBeLessThan(0.5);
    for (const t of dataset.temperatures) {
      let e = 0;
      for (let k = 0; k < t.samples; k++) {
        const s = (x: number, y: number): number =>
          t.spins[k * L * L + ((y + L) % L) * L + ((x + L) % L)] as number;
        for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) e -= s(x, y) * (s(x + 1, y) + s(x, y + 1));
      }
      expect(Math.abs(e / (t.samples * L * L) - kaufman(1 / t.T, L, L).energyPerSpin)).toBeLessThan(0.15);
    }
  });

  it('int8 files: NPY [samples, L, L] equal to the spins; dataset.json describes them', async () => {
    const files = datasetFiles(dataset, {
      format: 'int8',
      adapter: { vendor: 'test' },
      command: 'test',
      version: '0.1.0',
    });
    const names = files.map((f) => f.name);
    expect(names).toEqual([...options.temperatures.map((T) => datasetFileName(L, L, T)), 'dataset.json']);
    const out = join(dir, 'int8');
    await checkOutputDirectory(out);
    expect(await writeDataset(out, files, dataset.complete)).toBe(out);
    expect((await readdir(out)).sort()).toEqual([...names].sort());
    for (const t of dataset.temperatures) {
      const npy = decodeNpy(new Uint8Array(await readFile(join(out, datasetFileName(L, L, t.T)))));
      expect(npy.dtype).toBe('int8');
      expect(npy.shape).toEqual([24, L, L]);
      expect(npy.data).toEqual(t.spins);
    }
    const meta = await readMeta(out);
    expect(meta).toMatchObject({
      format: 'blockspin-ising-dataset',
      version: 1,
      complete: true,
      model: { L, Ly: L, J: 1, h: 0 },
      algorithm: 'metropolis',
      kernel: 'simple',
      seed: '5',
      chains: 4,
      sweeps: { therm: 200, tauEstimate: 200, sampling: dataset.sampleSweeps },
      adapter: { vendor: 'test' },
      command: 'test',
      blockspin: '0.1.0',
    });
    expect(meta.spins).toMatch(/int8/);
    expect(Number.isNaN(Date.parse(meta.created as string))).toBe(false);
    const entries = meta.temperatures as {
      T: number;
      file: string;
      samples: number;
      interval: number;
      tauInt: object;
    }[];
    expect(entries.map((e) => e.T)).toEqual(options.temperatures);
    entries.forEach((e, i) => {
      const t = dataset.temperatures[i]!;
      expect(e).toEqual({
        T: t.T,
        file: datasetFileName(L, L, t.T),
        samples: 24,
        interval: t.interval,
        tauInt: t.tauInt,
      });
    });
  });

  it('packed files: numpy.packbits layout round-trips to the spins', async () => {
    const files = datasetFiles(dataset, { format: 'packed' });
    const out = join(dir, 'packed');
    await writeDataset(out, files, true);
    for (const t of dataset.temperatures) {
      const npy = decodeNpy(new Uint8Array(await readFile(join(out, datasetFileName(L, L, t.T)))));
      expect(npy.dtype).toBe('uint8');
      expect(npy.shape).toEqual([24, L, 1]);
      expect(unpack(npy.data as Uint8Array, 24 * L, L)).toEqual(t.spins);
    }
    expect((await readMeta(out)).spins).toMatch(/packbits/);
  });

  it.skipIf(!hasNumpy)(`numpy reads both formats (${PYTHON} with numpy)`, async () => {
    const T = dataset.temperatures[1]!;
    const script = [
      'import json, sys, numpy as np',
      'a = np.load(sys.argv[1]); p = np.load(sys.argv[2])',
      'u = np.unpackbits(p, axis=-1)[..., :a.shape[-1]].astype(np.int8) * 2 - 1',
      'print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "sum": int(a.astype(np.int64).sum()),',
      '  "first": a[0].ravel().tolist(), "values": sorted(set(a.ravel().tolist())), "packedEqual": bool((u == a).all())}))',
    ].join('\n');
    const name = datasetFileName(L, L, T.T);
    const res = spawnSync(PYTHON, ['-c', script, join(dir, 'int8', name), join(dir, 'packed', name)], {
      encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    const got = JSON.parse(res.stdout) as {
      dtype: string;
      shape: number[];
      sum: number;
      first: number[];
      values: number[];
      packedEqual: boolean;
    };
    expect(got.dtype).toBe('int8');
    expect(got.shape).toEqual([24, L, L]);
    expect(got.values).toEqual([-1, 1]);
    expect(got.sum).toBe(T.spins.reduce((a, b) => a + b, 0));
    expect(got.first).toEqual(Array.from(T.spins.subarray(0, L * L)));
    expect(got.packedEqual).toBe(true);
  });
  if (!hasNumpy) {
    it.skip(`numpy check skipped: ${PYTHON} cannot import numpy (CI should install python3-numpy)`, () => {});
  }
});

describe('checkOutputDirectory', () => {
  it('accepts an absent or empty directory, refuses a non-empty one (unless forced), a file, a bad parent', async () => {
    const absent = join(dir, 'check-absent');
    await expect(checkOutputDirectory(absent)).resolves.toBeUndefined();
    const empty = join(dir, 'check-empty');
    await mkdir(empty);
    await expect(checkOutputDirectory(empty)).resolves.toBeUndefined();

    const full = join(dir, 'check-full');
    await mkdir(full);
    await writeFile(join(full, 'x.npy'), 'x');
    await expect(checkOutputDirectory(full)).rejects.toThrow(
      `output directory ${full} exists and is not empty (1 entries)`,
    );
    await expect(checkOutputDirectory(full, true)).resolves.toBeUndefined();

    const file = join(dir, 'check-file');
    await writeFile(file, 'not a directory');
    await expect(checkOutputDirectory(file)).rejects.toThrow(
      `output path ${file} is a file, not a directory`,
    );
    // Tests run as root, where permissions do not block writes: a parent that is a file (or missing) does.
    const underFile = join(file, 'sub', 'out');
    await expect(checkOutputDirectory(underFile)).rejects.toThrow(
      `its parent ${join(file, 'sub')} does not exist or is not writable`,
    );
    await expect(checkOutputDirectory('/proc/blockspin-nope/out')).rejects.toThrow(
      /does not exist or is not writable/,
    );
  });
});

describe('an interrupted generation', () => {
  const gpu = useGpu();

  const aborts: [string, (phase: string) => boolean, number][] = [
    ['after the first progress callback', () => true, 0],
    ['during sampling', (phase) => phase === 'sample', 4],
  ];
  it.each(aborts)(
    'aborted %s: complete false, written to DIR.partial, never DIR',
    async (_name, abortWhen, minSamples): Promise<void> => {
      const device = gpu().device;
      const controller = new AbortController();
      const calls: string[] = [];
      const dataset: Dataset = await checked(device, () =>
        generateDataset(device, {
          ...options,
          samples: 400, // long enough that sampling cannot finish before the abort is seen
          signal: controller.signal,
          onProgress: (phase) => {
            calls.push(phase);
            if (abortWhen(phase)) controller.abort();
          },
        }),
      );
      expect(dataset.complete).toBe(false);
      if (minSamples === 0) {
        expect(calls).toEqual(['thermalise']);
        expect(dataset.temperatures).toEqual([]);
      } else {
        expect(dataset.temperatures).toHaveLength(3);
        let total = 0;
        for (const t of dataset.temperatures) {
          expect(t.samples).toBeLessThan(400);
          expect(t.spins.length).toBe(t.samples * L * L);
          total += t.samples;
        }
        expect(total).toBeGreaterThanOrEqual(minSamples);
      }
      const out = join(dir, `aborted-${minSamples}`);
      const files = datasetFiles(dataset, { format: 'int8' });
      const written = await writeDataset(out, files, dataset.complete);
      expect(written).toBe(`${out}.partial`);
      await expect(stat(out)).rejects.toThrow(/ENOENT/);
      const meta = await readMeta(written);
      expect(meta.complete).toBe(false);
      for (const t of dataset.temperatures) {
        const npy = decodeNpy(new Uint8Array(await readFile(join(written, datasetFileName(L, L, t.T)))));
        expect(npy.shape).toEqual([t.samples, L, L]);
      }
      // No temporary directory is left behind.
      expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    },
  );
});
