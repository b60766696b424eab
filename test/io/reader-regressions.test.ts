/**
 * One example per escape the fuzzer (bench/fuzz-targets.ts) found in the file readers: each failed with an
 * untyped exception (or a bad value) before its fix, and must now give the reader's typed error.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAllocationLimit } from '../../bench/allocation-limit.ts';
import { datasetFiles } from '../../src/io/dataset-files.ts';
import { loadPartialDataset, PartialDatasetError } from '../../src/io/dataset-resume.ts';
import type { Dataset } from '../../src/ising/dataset.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { loadCheckpoint } from '../../src/rbm/checkpoint.ts';
import {
  loadIsingDataset,
  loadTrainingData,
  parseIsingDataset,
  TrainingDataError,
} from '../../src/rbm/data.ts';
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

describe('checkpoints', () => {
  // Written by hand (not with checkpointFiles) so that this test runs against older readers too.
  const rbm = {
    units: 'ising' as const,
    nv: 2,
    nh: 1,
    W: Float64Array.of(0.5, -0.5),
    a: Float64Array.of(0, 1),
    b: Float64Array.of(2),
  };
  const meta = {
    format: 'blockspin-rbm-checkpoint',
    version: 1,
    engine: { units: 'ising', nv: 2, nh: 1, conv: null, visibleBias: true, hiddenBias: true, seed: '7' },
    training: { batch: 1, k: 1, pcd: 2, optimizer: 'adam', lr: 0.01 },
    updates: 4,
    epochs: 2,
    data: { source: 'test', n: 4, nv: 2, shape: [2], fingerprint: '0badf00d', holdout: 0 },
    created: '2026-01-01T00:00:00Z',
  };
  const json = (m: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(m));
  const files: Record<string, Uint8Array> = {
    ...Object.fromEntries(modelFiles({ rbm }).map((f) => [f.name, f.bytes])),
    'checkpoint.json': json(meta),
    'optimizer.npy': encodeNpy({ dtype: 'float32', shape: [2, 5], data: new Float32Array(10).fill(0.25) }),
    'chains.npy': encodeNpy({ dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, -1, -1, 1) }),
  };
  let count = 0;
  const load = async (changed: Record<string, Uint8Array>): Promise<unknown> =>
    loadCheckpoint(await writeDirectory(`checkpoint-${count++}`, { ...files, ...changed }));
  const without = (key: string): Record<string, unknown> =>
    Object.fromEntries(Object.entries(meta).filter(([k]) => k !== key));

  it('loads the unchanged checkpoint', async () => {
    await expect(load({})).resolves.toMatchObject({ meta: { updates: 4 }, state: { updates: 4, epochs: 2 } });
  });

  const broken: [string, Record<string, Uint8Array>, RegExp][] = [
    // TypeErrors from the reader itself.
    [
      'no engine (TypeError: reading nv)',
      { 'checkpoint.json': json(without('engine')) },
      /engine undefined is not an object/,
    ],
    [
      'no training (TypeError: reading pcd)',
      { 'checkpoint.json': json(without('training')) },
      /training undefined is not an object/,
    ],
    // Loaded, then failed in `rbm train --resume` with an untyped error.
    [
      'a seed that is not a decimal integer (SyntaxError in BigInt)',
      { 'checkpoint.json': json({ ...meta, engine: { ...meta.engine, seed: '0x' } }) },
      /engine.seed "0x" is not a decimal integer/,
    ],
    [
      'no data (TypeError: reading holdout)',
      { 'checkpoint.json': json(without('data')) },
      /data undefined is not an object/,
    ],
    [
      'a geometry unlike the model’s',
      {
        'checkpoint.json': json({
          ...meta,
          engine: { ...meta.engine, conv: { Lv: 2, filters: 1, k: 1, stride: 1 } },
        }),
      },
      /differs from checkpoint.json's engine.conv/,
    ],
    [
      'NaN in the optimizer moments',
      {
        'optimizer.npy': encodeNpy({ dtype: 'float32', shape: [2, 5], data: new Float32Array(10).fill(NaN) }),
      },
      /optimizer.npy\[0\] = NaN is not finite/,
    ],
    [
      'chains that are not unit values',
      { 'chains.npy': encodeNpy({ dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 0.5, -1, 1) }) },
      /chains.npy\[1\] = 0.5 is not a unit value \(-1 or 1 for ising units\)/,
    ],
    // A RangeError from String() of a deeply nested value in the message.
    [
      'a deeply nested format',
      {
        'checkpoint.json': new TextEncoder().encode(
          JSON.stringify(meta).replace('"blockspin-rbm-checkpoint"', deep),
        ),
      },
      /format \[…\] version 1/,
    ],
  ];
  it.each(broken)('refuses %s with a CheckpointFormatError', async (_name, changed, message) => {
    const error = await load(changed).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('CheckpointFormatError');
    expect(error).toBeInstanceOf(ModelFormatError);
    expect(error?.message).toMatch(message);
  });
});

describe('gzipped training files', () => {
  const gz = gzipSync(encodeNpy({ dtype: 'int8', shape: [2, 2], data: Int8Array.of(1, -1, -1, 1) }));

  it('reads a gzipped NPY', async () => {
    await expect(loadTrainingData({ npy: gz, name: 'x.npy.gz' }, { units: 'ising' })).resolves.toMatchObject({
      n: 2,
      nv: 2,
    });
  });

  it('refuses a truncated or damaged gzip stream by name (a zlib Error escaped)', async () => {
    for (const bytes of [gz.subarray(0, gz.length - 12), Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3)]) {
      const error = await loadTrainingData({ npy: bytes, name: 'x.npy.gz' }, { units: 'ising' }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(TrainingDataError);
      expect(error?.message).toMatch(/^x\.npy\.gz: gzip data cannot be decompressed/);
    }
  });
});

describe('partial data-set directories', () => {
  it.each(['format', 'version', 'spinFormat'])(
    'refuses a deeply nested resume.json %s by name (a RangeError escaped)',
    async (key) => {
      const resume = {
        format: 'blockspin-ising-dataset-resume',
        version: 1,
        options: { L: 4, temperatures: [2], samples: 2, seed: '1' },
        spinFormat: 'int8',
        state: null,
      };
      const path = await writeDirectory(`partial-${key}`, {
        'resume.json': patchJson(new TextEncoder().encode(JSON.stringify(resume)), key, deep),
      });
      const error = await loadPartialDataset(path).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(PartialDatasetError);
      expect(error?.message).toMatch(/resume\.json .*\[…\]/);
    },
  );
});
