/**
 * One example per escape the fuzzer (bench/fuzz-targets.ts) found in the file readers: each failed with an
 * untyped exception (or a bad value) before its fix, and must now give the reader's typed error.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAllocationLimit } from '../../bench/fuzz-targets.ts';
import { datasetFiles } from '../../src/io/dataset-files.ts';
import type { Dataset } from '../../src/ising/dataset.ts';
import { loadIsingDataset, parseIsingDataset, TrainingDataError } from '../../src/rbm/data.ts';
import { modelFiles, ModelFormatError, parseModelFiles } from '../../src/rbm/model-files.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-readers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file map into a new directory under the test's temporary directory. */
async function writeDirectory(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const path = join(dir, name);
  await mkdir(path);
  for (const [file, bytes] of Object.entries(files)) await writeFile(join(path, file), bytes);
  return path;
}

const DEEP = 100_000;
const deep = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;

/** Replaces field `key` of a JSON document by raw JSON text. */
function patchJson(bytes: Uint8Array, key: string, raw: string): Uint8Array {
  const meta = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  meta[key] = '\u0001';
  return new TextEncoder().encode(JSON.stringify(meta).replace('"\\u0001"', () => raw));
}

describe('model files', () => {
  const files = Object.fromEntries(
    modelFiles({
      rbm: {
        units: 'bernoulli',
        nv: 2,
        nh: 1,
        W: Float64Array.of(0.5, -0.5),
        a: Float64Array.of(0, 1),
        b: Float64Array.of(2),
      },
    }).map((f) => [f.name, f.bytes]),
  );
  const withField = (key: string, raw: string): Record<string, Uint8Array> => ({
    ...files,
    'model.json': patchJson(files['model.json']!, key, raw),
  });

  it.each(['units', 'nv', 'biases', 'weights', 'dtype', 'format', 'version'])(
    'refuses a deeply nested %s by name (JSON.stringify in the message threw a RangeError)',
    (key) => {
      expect(() => parseModelFiles(withField(key, deep), 'm')).toThrow(ModelFormatError);
      expect(() => parseModelFiles(withField(key, deep), 'm')).toThrow(/^m: .*\[…\]/);
    },
  );

  it.each(['training', 'history'])('refuses a %s that cannot be written back', (key) => {
    const raw = key === 'training' ? `{"x": ${deep}}` : deep;
    expect(() => parseModelFiles(withField(key, raw), 'm')).toThrow(/nest too deeply to be written back/);
  });

  it('states a non-finite size as such (JSON.stringify wrote Infinity as null)', () => {
    expect(() => parseModelFiles(withField('nv', '1e999'), 'm')).toThrow(
      'm: nv Infinity is not a positive integer',
    );
  });
});

describe('Ising data-set directories', () => {
  const L = 4;
  const dataset: Dataset = {
    L,
    Ly: L,
    chains: 1,
    therm: 1,
    tauSweeps: 20,
    sampleSweeps: 2,
    seed: '1',
    algorithm: 'metropolis',
    kernel: 'simple',
    complete: true,
    temperatures: [2, 3].map((T) => ({
      T,
      spins: Int8Array.from({ length: 2 * L * L }, (_, i) => (i % 3 ? 1 : -1)),
      samples: 2,
      interval: 1,
      tauInt: { energy: 1, absMagnetization: 1, converged: true },
    })),
  };
  const files = Object.fromEntries(datasetFiles(dataset, { format: 'int8' }).map((f) => [f.name, f.bytes]));
  const npy = Object.keys(files).find((n) => n.endsWith('.npy'))!;
  const withField = (key: string, raw: string): Record<string, Uint8Array> => ({
    ...files,
    'dataset.json': patchJson(files['dataset.json']!, key, raw),
  });

  it('names a listed NPY that is missing (an ENOENT Error escaped)', async () => {
    const { [npy]: _gone, ...rest } = files;
    const path = await writeDirectory('missing-npy', rest);
    await expect(loadIsingDataset(path, { units: 'ising' })).rejects.toThrow(TrainingDataError);
    await expect(loadIsingDataset(path, { units: 'ising' })).rejects.toThrow(
      `${npy} (temperature 2) is missing`,
    );
  });

  it('refuses a sample count beyond the file by its NPY shape, before allocating it (a RangeError escaped)', async () => {
    const meta = JSON.parse(new TextDecoder().decode(files['dataset.json'])) as {
      temperatures: { samples: number }[];
    };
    meta.temperatures[0]!.samples = 1e12;
    const claimed = { ...files, 'dataset.json': new TextEncoder().encode(JSON.stringify(meta)) };
    const path = await writeDirectory('claimed-samples', claimed);
    await expect(loadIsingDataset(path, { units: 'ising' })).rejects.toThrow(TrainingDataError);
    await expect(loadIsingDataset(path, { units: 'ising' })).rejects.toThrow(
      /int8 \[2,4,4\]; dataset.json says int8 \[1000000000000,4,4\]/,
    );
    // A claim that could be allocated (10⁶ samples × 16 spins) is refused without allocating it either.
    meta.temperatures[0]!.samples = 1e6;
    const modest = { ...files, 'dataset.json': new TextEncoder().encode(JSON.stringify(meta)) };
    expect(() =>
      withAllocationLimit(10_000, () => parseIsingDataset(modest, { units: 'ising' }, 'd')),
    ).toThrow(TrainingDataError);
  });

  it.each(['format', 'version'])('refuses a deeply nested %s by name (a RangeError escaped)', async (key) => {
    const path = await writeDirectory(`deep-${key}`, withField(key, deep));
    await expect(loadIsingDataset(path, { units: 'ising' })).rejects.toThrow(TrainingDataError);
  });
});
