/**
 * RBM model directories: model.json (format 'blockspin-rbm', version 1: units, sizes, weight geometry, bias
 * flags, storage dtype, training settings, metrics history) + W.npy (dense [nv, nh] or conv [filters, k, k]),
 * a.npy [nv] and b.npy [nh] (always present; zeros for absent biases; a conv RBM's tied biases expanded).
 * `modelFiles` / `parseModelFiles` are pure (usable in the browser); `saveModel` writes atomically (a
 * temporary sibling directory renamed into place) and `loadModel` validates everything.
 */
import { writeDirectoryAtomically } from '../io/atomic-dir.ts';
import { brief } from '../io/brief.ts';
import { decodeNpy, encodeNpy, type NpyArray } from '../io/npy.ts';
import {
  checkRbm,
  hiddenBiases,
  hiddenCount,
  isConvRbm,
  visibleBiases,
  visibleCount,
  type ConvRbm,
  type DenseRbm,
  type Rbm,
} from './model.ts';

/** model.json's format tag. */
export const MODEL_FORMAT = 'blockspin-rbm';
/** The model.json version this code writes and reads. */
export const MODEL_VERSION = 1;

/** Thrown for a model directory or file set that is missing, corrupt or inconsistent. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/** Which biases the model has (trains); an absent bias is stored as zeros. */
export interface RbmBiases {
  visible: boolean;
  hidden: boolean;
}

/** A model with its metadata. */
export interface RbmModel {
  rbm: Rbm;
  /**
   * Which biases the model has, for both kinds; default: those it carries (dense: both; conv: whether `a` /
   * `b` are present). A false flag needs that bias all zero (a conv one absent or 0).
   */
  biases?: RbmBiases;
  /** Training settings (JSON object), e.g. { method: 'CD-3', lr: 1e-3, batch: 32, epochs: 50, seed: 1 }. */
  training?: Record<string, unknown>;
  /** Metrics history (JSON array), e.g. one entry per epoch. */
  history?: unknown[];
}

/** A model as loaded: metadata filled in. */
export interface LoadedRbmModel {
  rbm: Rbm;
  biases: RbmBiases;
  training: Record<string, unknown>;
  history: unknown[];
  /** Storage dtype of the NPY files. */
  dtype: ModelDtype;
  /** model.json's `created` timestamp, when present. */
  created?: string;
}

/** Storage dtype of W.npy, a.npy and b.npy. */
export type ModelDtype = 'float32' | 'float64';

/** One file of a model directory. */
export interface ModelFile {
  name: string;
  bytes: Uint8Array;
}

/** Options of `modelFiles`. */
export interface ModelFileOptions {
  /** Default 'float32' (what the GPU uses); values must stay finite after rounding. */
  dtype?: ModelDtype;
  /** Timestamp recorded in model.json; default now. */
  created?: string;
}

/** File names of a model directory. */
export const MODEL_FILES = { json: 'model.json', W: 'W.npy', a: 'a.npy', b: 'b.npy' } as const;

function checkFinite(values: ArrayLike<number>, what: string, Fail: new (m: string) => Error): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Fail(`${what}[${i}] = ${values[i]} is not finite`);
  }
}

/**
 * The bias flags written to model.json, one rule for both kinds: `model.biases` when given, else the biases
 * the model carries (dense: both; conv: those present). A flag that is false needs that bias all zero
 * (checked by the caller on the expanded biases); a conv bias flagged true but absent is a trained bias
 * that is 0, and loads back as 0.
 */
function biasFlags(model: RbmModel): RbmBiases {
  const { rbm, biases } = model;
  if (biases !== undefined) {
    if (!isPlainObject(biases) || typeof biases.visible !== 'boolean' || typeof biases.hidden !== 'boolean')
      throw new RangeError(`biases ${JSON.stringify(biases)} is not { visible: boolean, hidden: boolean }`);
    return { visible: biases.visible, hidden: biases.hidden };
  }
  return isConvRbm(rbm)
    ? { visible: rbm.a !== undefined, hidden: rbm.b !== undefined }
    : { visible: true, hidden: true };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** The files of a model directory (validated: consistent sizes, finite values, zero absent biases, JSON metadata). */
export function modelFiles(model: RbmModel, options: ModelFileOptions = {}): ModelFile[] {
  const { rbm } = model;
  checkRbm(rbm);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new RangeError(`model dtype '${String(dtype)}' is not float32 or float64`);
  const biases = biasFlags(model);
  const training = model.training ?? {};
  const history = model.history ?? [];
  if (!isPlainObject(training)) throw new RangeError('model training settings must be a JSON object');
  if (!Array.isArray(history)) throw new RangeError('model metrics history must be an array');
  const nv = visibleCount(rbm);
  const nh = hiddenCount(rbm);
  const a = visibleBiases(rbm);
  const b = hiddenBiases(rbm);
  const Typed = dtype === 'float32' ? Float32Array : Float64Array;
  const tensors: [keyof typeof MODEL_FILES, number[], ArrayLike<number>][] = [
    ['W', isConvRbm(rbm) ? [rbm.filters, rbm.k, rbm.k] : [nv, nh], rbm.W],
    ['a', [nv], a],
    ['b', [nh], b],
  ];
  const files: ModelFile[] = tensors.map(([key, shape, values]) => {
    const data = Typed.from(values);
    checkFinite(data, `${key} (as ${dtype})`, RangeError);
    return { name: MODEL_FILES[key], bytes: encodeNpy({ dtype, shape, data }) };
  });
  if (!biases.visible && a.some((x) => x !== 0))
    throw new RangeError('model has no visible biases (biases.visible false) but a is not all zero');
  if (!biases.hidden && b.some((x) => x !== 0))
    throw new RangeError('model has no hidden biases (biases.hidden false) but b is not all zero');
  const weights = isConvRbm(rbm)
    ? { kind: 'conv', Lv: rbm.Lv, filters: rbm.filters, k: rbm.k, stride: rbm.stride }
    : { kind: 'dense' };
  const meta = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    units: rbm.units,
    nv,
    nh,
    weights,
    biases,
    dtype,
    files: { W: MODEL_FILES.W, a: MODEL_FILES.a, b: MODEL_FILES.b },
    training,
    history,
    created: options.created ?? new Date().toISOString(),
  };
  files.push({
    name: MODEL_FILES.json,
    bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`),
  });
  return files;
}

/**
 * Parses and validates the files of a model directory (by name: model.json, W.npy, a.npy, b.npy). Refuses
 * (ModelFormatError, or NpyFormatError for a corrupt NPY) a missing file, unknown format or version, sizes
 * inconsistent with the geometry, NPY dtype or shape not matching model.json, non-finite values, non-zero
 * absent biases, and untied conv biases.
 */
export function parseModelFiles(
  files: Record<string, Uint8Array | undefined>,
  what = 'RBM model',
): LoadedRbmModel {
  const fail = (message: string): never => {
    throw new ModelFormatError(`${what}: ${message}`);
  };
  const file = (name: string): Uint8Array => files[name] ?? fail(`missing ${name}`);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file(MODEL_FILES.json))) as Record<
      string,
      unknown
    >;
  } catch (cause) {
    if (cause instanceof ModelFormatError) throw cause;
    throw new ModelFormatError(`${what}: model.json is not valid JSON (${(cause as Error).message})`, {
      cause,
    });
  }
  if (!isPlainObject(meta)) return fail('model.json is not an object');
  if (meta.format !== MODEL_FORMAT) fail(`model.json format ${brief(meta.format)} is not '${MODEL_FORMAT}'`);
  if (meta.version !== MODEL_VERSION) {
    const v = meta.version;
    fail(
      typeof v === 'number' && Number.isInteger(v) && v > MODEL_VERSION
        ? `model version ${v} is newer than this reader (version ${MODEL_VERSION})`
        : `model version ${brief(v)} is not supported (expected ${MODEL_VERSION})`,
    );
  }
  const units = meta.units;
  if (units !== 'bernoulli' && units !== 'ising')
    return fail(`units ${brief(units)} are neither 'bernoulli' nor 'ising'`);
  const positive = (x: unknown, name: string): number =>
    Number.isSafeInteger(x) && (x as number) >= 1
      ? (x as number)
      : fail(`${name} ${brief(x)} is not a positive integer`);
  const nv = positive(meta.nv, 'nv');
  const nh = positive(meta.nh, 'nh');
  const dtype = meta.dtype;
  if (dtype !== 'float32' && dtype !== 'float64')
    return fail(`dtype ${brief(dtype)} is not 'float32' or 'float64'`);
  const biases = meta.biases as RbmBiases | undefined;
  if (!isPlainObject(biases) || typeof biases.visible !== 'boolean' || typeof biases.hidden !== 'boolean') {
    return fail(`biases ${brief(meta.biases)} is not { visible: boolean, hidden: boolean }`);
  }
  if (!isPlainObject(meta.training)) fail('training settings are not a JSON object');
  if (!Array.isArray(meta.history)) fail('metrics history is not an array');
  for (const [key, label] of [
    ['training', 'training settings'],
    ['history', 'metrics history'],
  ] as const) {
    // JSON.parse accepts nesting that JSON.stringify cannot write back (a RangeError on saving later).
    try {
      JSON.stringify(meta[key]);
    } catch {
      fail(`${label} nest too deeply to be written back`);
    }
  }
  const weights = meta.weights as Record<string, unknown> | undefined;
  if (!isPlainObject(weights) || (weights.kind !== 'dense' && weights.kind !== 'conv')) {
    return fail(
      `weights ${brief(meta.weights)} is not { kind: 'dense' } or { kind: 'conv', Lv, filters, k, stride }`,
    );
  }
  let wShape: number[];
  if (weights.kind === 'conv') {
    const Lv = positive(weights.Lv, 'weights.Lv');
    const filters = positive(weights.filters, 'weights.filters');
    const k = positive(weights.k, 'weights.k');
    const stride = positive(weights.stride, 'weights.stride');
    if (Lv % stride !== 0) fail(`conv lattice ${Lv} is not divisible by stride ${stride}`);
    if (nv !== Lv * Lv) fail(`nv ${nv} does not match the conv lattice ${Lv}×${Lv} = ${Lv * Lv}`);
    const nhConv = filters * (Lv / stride) ** 2;
    if (nh !== nhConv) fail(`nh ${nh} does not match ${filters} filters × (${Lv}/${stride})² = ${nhConv}`);
    wShape = [filters, k, k];
  } else {
    wShape = [nv, nh];
  }
  const tensor = (key: 'W' | 'a' | 'b', shape: number[]): Float64Array => {
    const name = MODEL_FILES[key];
    const arr: NpyArray = decodeNpy(file(name), `${what}/${name}`);
    if (arr.dtype !== dtype) fail(`${name} has dtype ${arr.dtype}; model.json says ${dtype}`);
    if (arr.shape.join() !== shape.join())
      fail(`${name} has shape [${arr.shape}]; model.json implies [${shape}]`);
    checkFinite(arr.data, `${what}: ${name}`, ModelFormatError);
    return Float64Array.from(arr.data);
  };
  const W = tensor('W', wShape);
  const a = tensor('a', [nv]);
  const b = tensor('b', [nh]);
  if (!biases.visible && a.some((x) => x !== 0)) fail('biases.visible is false but a.npy is not all zero');
  if (!biases.hidden && b.some((x) => x !== 0)) fail('biases.hidden is false but b.npy is not all zero');
  let rbm: Rbm;
  if (weights.kind === 'conv') {
    const [filters, k] = wShape as [number, number, number];
    const conv: ConvRbm = {
      units,
      Lv: weights.Lv as number,
      filters,
      k,
      stride: weights.stride as number,
      W,
    };
    if (biases.visible) {
      const i = a.findIndex((x) => x !== a[0]);
      if (i >= 0) fail(`conv visible bias is tied but a.npy[${i}] = ${a[i]} differs from a.npy[0] = ${a[0]}`);
      conv.a = a[0]!;
    }
    if (biases.hidden) {
      const P2 = nh / filters;
      const i = b.findIndex((x, j) => x !== b[Math.floor(j / P2) * P2]);
      if (i >= 0)
        fail(
          `conv hidden bias is tied per filter but b.npy[${i}] = ${b[i]} differs from its filter's first value`,
        );
      conv.b = Float64Array.from({ length: filters }, (_, f) => b[f * P2]!);
    }
    rbm = conv;
  } else {
    rbm = { units, nv, nh, W, a, b } satisfies DenseRbm;
  }
  try {
    // The model type's own rules, whatever they grow to (the writer applies them too).
    checkRbm(rbm);
  } catch (cause) {
    throw new ModelFormatError(`${what}: ${(cause as Error).message}`, { cause });
  }
  const loaded: LoadedRbmModel = {
    rbm,
    biases: { visible: biases.visible, hidden: biases.hidden },
    training: meta.training as Record<string, unknown>,
    history: meta.history as unknown[],
    dtype,
  };
  if (typeof meta.created === 'string') loaded.created = meta.created;
  return loaded;
}

/** Options of `saveModel`. */
export interface SaveModelOptions extends ModelFileOptions {
  /** Replace an existing non-empty directory. */
  force?: boolean;
  /** Writes one file (default fs.writeFile); a hook for fault-injection tests and custom storage. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
}

/**
 * Saves a model directory atomically: validates and encodes everything first, writes into a temporary
 * sibling directory, then renames it to `dir` (replacing an existing one only with `force`). A failure at any
 * point removes the temporary directory, so no half-written model is ever visible. Returns the absolute path.
 */
export async function saveModel(
  dir: string,
  model: RbmModel,
  options: SaveModelOptions = {},
): Promise<string> {
  const files = modelFiles(model, options);
  return writeDirectoryAtomically(dir, files, {
    force: options.force,
    writeFile: options.writeFile,
    what: 'model directory',
  });
}

/** Loads and validates a model directory (see `parseModelFiles`); a missing file is named. */
export async function loadModel(dir: string): Promise<LoadedRbmModel> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const files: Record<string, Uint8Array> = {};
  for (const name of Object.values(MODEL_FILES)) {
    try {
      files[name] = new Uint8Array(await fs.readFile(path.join(dir, name)));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new ModelFormatError(
        `RBM model ${dir}: cannot read ${name} (${code ?? (cause as Error).message})`,
        { cause },
      );
    }
  }
  return parseModelFiles(files, `RBM model ${dir}`);
}
