/** Model directories: exact round trips (dense and conv), strict validation on load, atomic save. */
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, NpyFormatError } from '../../src/io/npy.ts';
import {
  randomConvRbm,
  randomDenseRbm,
  type ConvRbm,
  type DenseRbm,
  type Rbm,
} from '../../src/reference/rbm.ts';
import {
  loadModel,
  ModelFormatError,
  modelFiles,
  parseModelFiles,
  saveModel,
  type RbmBiases,
  type RbmModel,
} from '../../src/rbm/model-files.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-rbm-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rounds every parameter to f32 so that a float32 round trip is exact. */
function f32<T extends Rbm>(rbm: T): T {
  const r = (x: Float64Array): Float64Array => Float64Array.from(Float32Array.from(x));
  if ('Lv' in rbm) {
    const c: ConvRbm = { ...rbm, W: r(rbm.W) };
    if (rbm.a !== undefined) c.a = Math.fround(rbm.a);
    if (rbm.b) c.b = r(rbm.b);
    return c as T;
  }
  return { ...rbm, W: r(rbm.W), a: r(rbm.a), b: r(rbm.b) };
}

const dense = f32(randomDenseRbm('bernoulli', 12, 5, { seed: 1 }));
const conv = f32(randomConvRbm('ising', { Lv: 8, filters: 2, k: 4, stride: 2 }, { seed: 2, biases: true }));
const convNoBias = f32(randomConvRbm('ising', { Lv: 8, filters: 1, k: 8, stride: 2 }, { seed: 3 }));
const training = { method: 'CD-3', lr: 1e-3, batch: 32, epochs: 2, seed: 7 };
const history = [
  { epoch: 1, pll: -8.1 },
  { epoch: 2, pll: -7.9 },
];

/** A saved model's files as a name → bytes map, for tampering. */
function filesOf(model: RbmModel): Record<string, Uint8Array> {
  return Object.fromEntries(
    modelFiles(model, { created: '2025-01-01T00:00:00Z' }).map((f) => [f.name, f.bytes]),
  );
}

describe('save → load round trip', () => {
  const cases: [string, RbmModel][] = [
    ['dense', { rbm: dense, training, history }],
    ['conv with tied biases', { rbm: conv, training, history }],
    ['conv without biases', { rbm: convNoBias }],
    ['conv with explicit bias flags', { rbm: conv, biases: { visible: true, hidden: true } }],
    ['conv without biases, explicit flags', { rbm: convNoBias, biases: { visible: false, hidden: false } }],
    [
      'dense without hidden biases',
      { rbm: { ...dense, b: new Float64Array(5) }, biases: { visible: true, hidden: false } },
    ],
  ];
  for (const [name, model] of cases) {
    it(name, async () => {
      const path = await saveModel(join(dir, `rt-${name.replace(/ /g, '-')}`), model);
      expect((await readdir(path)).sort()).toEqual(['W.npy', 'a.npy', 'b.npy', 'model.json']);
      const loaded = await loadModel(path);
      expect(loaded.rbm).toEqual(model.rbm);
      expect(loaded.training).toEqual(model.training ?? {});
      expect(loaded.history).toEqual(model.history ?? []);
      expect(loaded.dtype).toBe('float32');
      // Saving what was loaded (bias flags included, for both kinds) reproduces the bytes.
      const again = modelFiles(loaded, { created: loaded.created });
      for (const f of again) expect(new Uint8Array(await readFile(join(path, f.name)))).toEqual(f.bytes);
    });
  }

  it('float64 storage keeps f64 parameters exactly; the conv model.json records the geometry', async () => {
    const raw = randomDenseRbm('ising', 3, 4, { seed: 9 });
    const path = await saveModel(join(dir, 'f64'), { rbm: raw }, { dtype: 'float64' });
    expect((await loadModel(path)).rbm).toEqual(raw);
    const meta = JSON.parse(new TextDecoder().decode(filesOf({ rbm: conv })['model.json']));
    expect(meta).toMatchObject({
      format: 'blockspin-rbm',
      version: 1,
      units: 'ising',
      nv: 64,
      nh: 32,
      weights: { kind: 'conv', Lv: 8, filters: 2, k: 4, stride: 2 },
      biases: { visible: true, hidden: true },
      dtype: 'float32',
    });
  });
});

describe('bias flags: one rule for dense and conv', () => {
  const flagsOf = (model: RbmModel): unknown =>
    JSON.parse(new TextDecoder().decode(filesOf(model)['model.json'])).biases;

  it('default to the biases the model carries; given flags are written as they are', () => {
    expect(flagsOf({ rbm: dense })).toEqual({ visible: true, hidden: true });
    expect(flagsOf({ rbm: conv })).toEqual({ visible: true, hidden: true });
    expect(flagsOf({ rbm: convNoBias })).toEqual({ visible: false, hidden: false });
    const { b: _b, ...visibleOnly } = conv;
    expect(flagsOf({ rbm: visibleOnly })).toEqual({ visible: true, hidden: false });
    expect(flagsOf({ rbm: conv, biases: { visible: true, hidden: true } })).toEqual({
      visible: true,
      hidden: true,
    });
  });

  it('a false flag needs that bias zero, for either kind', () => {
    expect(() => filesOf({ rbm: conv, biases: { visible: false, hidden: true } })).toThrow(
      /no visible biases \(biases\.visible false\) but a is not all zero/,
    );
    expect(() => filesOf({ rbm: conv, biases: { visible: true, hidden: false } })).toThrow(
      /no hidden biases \(biases\.hidden false\) but b is not all zero/,
    );
    expect(() => filesOf({ rbm: dense, biases: { visible: true, hidden: false } })).toThrow(
      /b is not all zero/,
    );
    // Zero-valued tied biases may be declared absent.
    const zero: ConvRbm = { ...conv, a: 0, b: new Float64Array(conv.filters) };
    expect(flagsOf({ rbm: zero, biases: { visible: false, hidden: false } })).toEqual({
      visible: false,
      hidden: false,
    });
    expect(() =>
      filesOf({ rbm: dense, biases: { visible: 'yes', hidden: true } as unknown as RbmBiases }),
    ).toThrow(/biases .* is not \{ visible: boolean, hidden: boolean \}/);
  });

  it('a conv bias flagged true but absent is a trained bias that is 0', () => {
    const loaded = parseModelFiles(filesOf({ rbm: convNoBias, biases: { visible: true, hidden: true } }));
    expect(loaded.biases).toEqual({ visible: true, hidden: true });
    const r = loaded.rbm as ConvRbm;
    expect(r.a).toBe(0);
    expect([...r.b!]).toEqual([0]);
  });
});

describe('load refuses corrupt or mismatched files', () => {
  const good = filesOf({ rbm: conv, training, history });
  const meta = JSON.parse(new TextDecoder().decode(good['model.json']));
  const withMeta = (patch: Record<string, unknown>): Record<string, Uint8Array> => ({
    ...good,
    'model.json': new TextEncoder().encode(JSON.stringify({ ...meta, ...patch })),
  });
  const npy = (shape: number[], data: Float32Array | Float64Array): Uint8Array =>
    encodeNpy({ dtype: data instanceof Float32Array ? 'float32' : 'float64', shape, data });
  const nanW = new Float32Array(32);
  nanW[5] = NaN;
  const untied = new Float32Array(64).fill(0.25);
  untied[9] = 0.5;
  const cases: [string, Record<string, Uint8Array | undefined>, RegExp][] = [
    ['a missing file', { ...good, 'b.npy': undefined }, /missing b\.npy/],
    [
      'model.json not JSON',
      { ...good, 'model.json': new TextEncoder().encode('{') },
      /model\.json is not valid JSON/,
    ],
    ['a wrong format', withMeta({ format: 'other' }), /format "other" is not 'blockspin-rbm'/],
    ['a newer version', withMeta({ version: 2 }), /model version 2 is newer than this reader \(version 1\)/],
    ['a bad version', withMeta({ version: '1' }), /model version "1" is not supported/],
    ['unknown units', withMeta({ units: 'potts' }), /units "potts" are neither/],
    [
      'nh inconsistent with the geometry',
      withMeta({ nh: 30 }),
      /nh 30 does not match 2 filters × \(8\/2\)² = 32/,
    ],
    [
      'nv inconsistent with the lattice',
      withMeta({ nv: 63 }),
      /nv 63 does not match the conv lattice 8×8 = 64/,
    ],
    [
      'bad bias flags',
      withMeta({ biases: { visible: 'yes', hidden: true } }),
      /biases .* is not \{ visible: boolean, hidden: boolean \}/,
    ],
    ['history not an array', withMeta({ history: {} }), /metrics history is not an array/],
    [
      'corrupt W.npy',
      { ...good, 'W.npy': good['W.npy']!.subarray(0, good['W.npy']!.length - 4) },
      /W\.npy: truncated/,
    ],
    [
      'W.npy of the wrong shape',
      { ...good, 'W.npy': npy([2, 16], new Float32Array(32)) },
      /W\.npy has shape \[2,16\]; model\.json implies \[2,4,4\]/,
    ],
    [
      'W.npy of the wrong dtype',
      { ...good, 'W.npy': npy([2, 4, 4], new Float64Array(32)) },
      /W\.npy has dtype float64; model\.json says float32/,
    ],
    ['a NaN weight', { ...good, 'W.npy': npy([2, 4, 4], nanW) }, /W\.npy\[5\] = NaN is not finite/],
    [
      'untied conv visible biases',
      { ...good, 'a.npy': npy([64], untied) },
      /a\.npy\[9\] = 0\.5 differs from a\.npy\[0\] = 0\.25/,
    ],
    [
      'non-zero absent biases',
      withMeta({ biases: { visible: false, hidden: true } }),
      /biases\.visible is false but a\.npy is not all zero/,
    ],
  ];
  it.each(cases)('%s', (_name, files, message) => {
    expect(() => parseModelFiles(files, 'm')).toThrow(message);
    expect(() => parseModelFiles(files, 'm')).toThrow(
      _name === 'corrupt W.npy' ? NpyFormatError : ModelFormatError,
    );
  });

  it('from disk: a missing file and a corrupted W.npy', async () => {
    const path = await saveModel(join(dir, 'tamper'), { rbm: dense });
    await writeFile(join(path, 'W.npy'), new Uint8Array([1, 2, 3]));
    await expect(loadModel(path)).rejects.toThrow(/W\.npy: only 3 bytes/);
    await unlink(join(path, 'a.npy'));
    await expect(loadModel(path)).rejects.toThrow(/cannot read a\.npy \(ENOENT\)/);
    await expect(loadModel(join(dir, 'nowhere'))).rejects.toThrow(/cannot read model\.json \(ENOENT\)/);
  });
});

describe('atomic save', () => {
  const leftovers = async (name: string): Promise<string[]> =>
    (await readdir(dir)).filter((e) => e.startsWith(name));

  it('a write failing after W.npy leaves neither the model nor a temporary directory', async () => {
    let writes = 0;
    const failing = async (path: string, bytes: Uint8Array): Promise<void> => {
      if (++writes === 2) throw new Error('disk full (simulated)');
      await writeFile(path, bytes);
    };
    await expect(saveModel(join(dir, 'crash'), { rbm: dense }, { writeFile: failing })).rejects.toThrow(
      /disk full/,
    );
    expect(writes).toBe(2);
    expect(await leftovers('crash')).toEqual([]);
  });

  it('an invalid model is refused before anything is written', async () => {
    const bad: DenseRbm = { ...dense, a: new Float64Array(11) };
    await expect(saveModel(join(dir, 'invalid'), { rbm: bad })).rejects.toThrow(
      /RBM visible bias a has 11 values; expected 12/,
    );
    const nan: DenseRbm = { ...dense, W: dense.W.map((w, i) => (i === 3 ? NaN : w)) };
    await expect(saveModel(join(dir, 'invalid'), { rbm: nan })).rejects.toThrow(
      /W \(as float32\)\[3\] = NaN is not finite/,
    );
    const overflow: DenseRbm = { ...dense, b: dense.b.map(() => 1e39) };
    await expect(saveModel(join(dir, 'invalid'), { rbm: overflow })).rejects.toThrow(
      /b \(as float32\)\[0\] = Infinity/,
    );
    await expect(
      saveModel(join(dir, 'invalid'), { rbm: dense, biases: { visible: false, hidden: true } }),
    ).rejects.toThrow(/a is not all zero/);
    expect(await leftovers('invalid')).toEqual([]);
  });

  it('replaces an existing model only with force, and then completely', async () => {
    const path = await saveModel(join(dir, 'replace'), { rbm: dense, training: { run: 1 } });
    await expect(saveModel(path, { rbm: conv })).rejects.toThrow(
      /exists and is not empty \(4 entries\); use force/,
    );
    expect((await loadModel(path)).training).toEqual({ run: 1 });
    await saveModel(path, { rbm: conv, training: { run: 2 } }, { force: true });
    const loaded = await loadModel(path);
    expect(loaded.rbm).toEqual(conv);
    expect(loaded.training).toEqual({ run: 2 });
    expect(await leftovers('replace')).toEqual(['replace']);
    await mkdir(join(dir, 'empty'));
    await saveModel(join(dir, 'empty'), { rbm: dense });
    expect((await loadModel(join(dir, 'empty'))).rbm).toEqual(dense);
  });
});
