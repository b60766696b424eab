/**
 * Fuzz targets for blockspin's file readers (NPY, IDX, Ising data-set directories, model directories,
 * checkpoints), shared by `bench/fuzz.ts` (≥ 10⁵ cases) and `test/io/fuzz.test.ts` (≥ 10³, fixed seed).
 *
 * The generators start from VALID files written by blockspin's own writers and mutate them where a reader
 * has decisions to make: NPY header fields (version, header length, descr, fortran_order, shape text, key
 * order, extra/missing/duplicate keys), IDX type codes, dimension counts and sizes, data lengths (truncation,
 * trailing bytes), JSON fields of dataset.json / model.json / checkpoint.json (wrong types and values,
 * missing and extra keys, 1e999, deep nesting, long strings), NPYs of the wrong dtype or shape or holding
 * NaN/∞ inside directories, missing files, and plain byte flips, insertions and cuts on top.
 *
 * The property (`outcome`): the reader returns a value that passes its checks (round trip or invariants), or
 * throws one of its typed errors with a message. Anything else — another exception (RangeError, TypeError,
 * SyntaxError), an invalid value returned, or an allocation of more than 8 elements per input byte
 * (bench/allocation-limit.ts, proxies of the array constructors while the reader runs) — is a `FuzzViolation`.
 */
import fc from 'fast-check';
import { AllocationLimitError, withAllocationLimit } from './allocation-limit.ts';
// The readers' own modules (all public API, re-exported by src/index.ts), not src/index.ts itself: that pulls
// in the WGSL `?raw` imports, which plain `npx tsx` cannot load, and the fuzzer needs no GPU.
import { datasetFiles } from '../src/io/dataset-files.ts';
import { loadPartialDataset, PartialDatasetError, resumeFiles } from '../src/io/dataset-resume.ts';
import { decodeIdx, encodeIdx, IdxFormatError, type IdxType } from '../src/io/idx.ts';
import {
  decodeNpy,
  encodeNpy,
  NPY_BYTES,
  NPY_DESCR,
  NpyFormatError,
  type NpyArray,
  type NpyDtype,
} from '../src/io/npy.ts';
import type { Dataset } from '../src/ising/dataset.ts';
import {
  CheckpointFormatError,
  checkpointFiles,
  parseCheckpointFiles,
  type CheckpointMeta,
} from '../src/rbm/checkpoint.ts';
import { parseIsingDataset, TrainingDataError } from '../src/rbm/data.ts';
import type { RbmUnits } from '../src/rbm/engine.ts';
import { ModelFormatError, modelFiles, parseModelFiles, type RbmModel } from '../src/rbm/model-files.ts';
import { checkRbm, type Rbm } from '../src/rbm/model.ts';

type ErrorClass = abstract new (...args: never[]) => Error;

/** A reader under test. */
export interface FuzzTarget<T> {
  /** The reader's name, also passed to it as the file's name (every message must start with it). */
  name: string;
  /** Unmutated valid inputs; each must read without error (checks that the generators start from valid files). */
  valid: T[];
  arbitrary: fc.Arbitrary<T>;
  /** The typed errors the reader may throw. */
  errors: ErrorClass[];
  /** Bytes in the input (bounds what the reader may allocate). */
  size(input: T): number;
  /** Reads the input and checks what came back; throws what the reader throws. */
  read(input: T): void;
}

/** A broken property: an untyped exception, a bad result, or an over-sized allocation. */
export class FuzzViolation extends Error {
  override name = 'FuzzViolation';
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new FuzzViolation(message);
}

/**
 * The check an error comes from: its message with every value blanked to '…' (quoted strings, including
 * ones `brief` cut short, lists, objects, numbers, null/undefined/true/false), so that one check refusing
 * different values counts once.
 */
export function errorBranch(error: Error): string {
  const message = error.message
    .replace(/"(?:[^"\\]|\\.)*(?:"|…)/g, '…')
    .replace(/'[^']*'/g, '…')
    .replace(/\[[^\]]*(?:\]|…)/g, '…')
    .replace(/\{[^{}]*(?:\}|…)/g, '…')
    .replace(/\([^()]*\)/g, '(…)')
    .replace(/\b0x[0-9a-f]+/gi, '…')
    .replace(/-?Infinity|NaN|-?\d+(\.\d+)?(e[+-]?\d+)?/g, '…')
    .replace(/\b(undefined|null|true|false)\b/g, '…');
  return `${error.name}: ${message.slice(0, 110)}`;
}

/** Reads one input: 'ok', or the branch of the typed error it threw; a `FuzzViolation` for anything else. */
export function outcome<T>(target: FuzzTarget<T>, input: T): string {
  const limit = 8 * target.size(input) + 4096;
  try {
    withAllocationLimit(limit, () => target.read(input));
    return 'ok';
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    if (err instanceof AllocationLimitError) throw new FuzzViolation(`${target.name}: ${err.message}`);
    const e = err as Error;
    if (!target.errors.some((E) => err instanceof E)) {
      throw new FuzzViolation(`${target.name}: untyped ${e?.name}: ${e?.message}`, { cause: err });
    }
    check(
      typeof e.message === 'string' && e.message.length > 0,
      `${target.name}: ${e.name} without a message`,
    );
    // Every reader is given the target's name as the file's name, and every message must start with it.
    check(
      e.message.startsWith(target.name),
      `${target.name}: a message that does not name the file: ${e.message}`,
    );
    return errorBranch(e);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generic mutations

const u8 = fc.integer({ min: 0, max: 255 });

/** Byte-level damage to a valid file: flips, cuts, insertions, deletions, trailing bytes. */
export function mutateBytes(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = bytes.length;
  const at = fc.integer({ min: 0, max: Math.max(0, n - 1) });
  const edit = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at, value: u8 }),
    fc.record({ op: fc.constant('cut' as const), at: fc.integer({ min: 0, max: n }) }),
    fc.record({ op: fc.constant('insert' as const), at, add: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
    fc.record({ op: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 9 }) }),
    fc.record({ op: fc.constant('append' as const), add: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let b: Uint8Array = Uint8Array.from(bytes);
    for (const e of edits) {
      if (e.op === 'set') {
        if (b.length > 0) b[Math.min(e.at, b.length - 1)] = e.value;
      } else if (e.op === 'cut') b = b.slice(0, Math.min(e.at, b.length));
      else if (e.op === 'insert') b = concat(b.subarray(0, e.at), e.add, b.subarray(e.at));
      else if (e.op === 'delete') b = concat(b.subarray(0, e.at), b.subarray(e.at + e.count));
      else b = concat(b, e.add);
    }
    return b;
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const DEEP = 100_000;
/** JSON texts that replace a value: wrong types, edge numbers, Infinity, deep nesting, a long string. */
const RAW_VALUES = [
  'null',
  'true',
  'false',
  '0',
  '-0',
  '-1',
  '1',
  '2',
  '0.5',
  '1.5',
  '-3',
  '255',
  '4294967296',
  '2147483648',
  '1e12',
  '9007199254740993',
  '1e308',
  '1e999',
  '-1e999',
  '""',
  '"x"',
  '"1"',
  '"bernoulli"',
  '"ising"',
  '"float64"',
  '"conv"',
  '"dense"',
  '"W.npy"',
  '"../model.json"',
  '[]',
  '[1]',
  '[2, 4]',
  '{}',
  '{"kind": "conv"}',
  `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
  `"${'x'.repeat(100_000)}"`,
];

type JsonPath = (string | number)[];

function paths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  }
  return out;
}

const MARK = '\u0001raw\u0001';

/** JSON with the value at `path` replaced by raw JSON text (or deleted when `raw` is undefined). */
function withValue(obj: unknown, path: JsonPath, raw: string | undefined): string {
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (raw === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
    return JSON.stringify(copy, null, 1);
  }
  parent[last] = MARK;
  return JSON.stringify(copy, null, 1).replace(JSON.stringify(MARK), () => raw);
}

/** A numeric value nudged: ±1, ×2, ½, negated, as a string. */
function nudges(value: unknown): string[] {
  if (typeof value === 'number')
    return [value + 1, value - 1, value * 2, value / 2, -value, value + 0.5].map(String).concat(`"${value}"`);
  if (typeof value === 'boolean') return [String(!value), `"${value}"`, value ? '1' : '0'];
  if (typeof value === 'string')
    return [`"${value}x"`, `"${value.slice(0, -1)}"`, `"${value.toUpperCase()}"`];
  return [];
}

/** Mutations of a JSON document: one or two fields set to wrong values or removed, an extra key, damaged text. */
export function mutateJson(text: string): fc.Arbitrary<Uint8Array> {
  const obj = JSON.parse(text) as unknown;
  const all = paths(obj);
  const byPath = (path: JsonPath): unknown =>
    path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], obj);
  const field = fc.constantFrom(...all).chain((path) => {
    const near = nudges(byPath(path));
    return fc.record({
      path: fc.constant(path),
      raw: fc.oneof(
        fc.constantFrom(...RAW_VALUES),
        // The values that break message formatting and size checks, drawn more often than the others.
        fc.constantFrom(...RAW_VALUES.filter((v) => v.length > 100 || v.includes('e999'))),
        ...(near.length > 0 ? [fc.constantFrom(...near)] : []),
        fc.constant(undefined),
      ),
    });
  });
  const fields = fc.array(field, { minLength: 1, maxLength: 2 }).map((edits) => {
    let current: unknown = obj;
    let out = text;
    for (const { path, raw } of edits) {
      try {
        out = withValue(current, path, raw);
        current = JSON.parse(out);
      } catch {
        // The first edit replaced a parent of the second path, or made the document unwritable; keep it.
        break;
      }
    }
    return new TextEncoder().encode(out);
  });
  const extra = fc
    .tuple(fc.constantFrom('extra', '__proto__', 'constructor'), fc.constantFrom(...RAW_VALUES.slice(0, 20)))
    .map(([k, v]) => new TextEncoder().encode(text.replace(/^\{/, `{"${k}": ${v}, `)));
  const textual = fc.constantFrom(
    '',
    'null',
    '[]',
    '"model"',
    '{',
    text.slice(0, Math.floor(text.length / 2)),
    `${text}}`,
    text.replace(/:/, '::'),
  );
  return fc.oneof(
    { weight: 8, arbitrary: fields },
    { weight: 1, arbitrary: extra },
    { weight: 1, arbitrary: textual.map((t) => new TextEncoder().encode(t)) },
    { weight: 1, arbitrary: mutateBytes(new TextEncoder().encode(text)) },
    { weight: 1, arbitrary: fc.constant(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// NPY

const NPY_DTYPES = Object.keys(NPY_DESCR) as NpyDtype[];

function typedNpy(dtype: NpyDtype, bytes: Uint8Array): NpyArray['data'] {
  const buffer = Uint8Array.from(bytes).buffer;
  switch (dtype) {
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
  }
}

/** A valid NPY array of `dtype` and `shape` filled from a seed (floats include NaN and ±∞ only when asked). */
function npyArray(dtype: NpyDtype, shape: number[], seed: number): NpyArray {
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(count * NPY_BYTES[dtype]);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0x3f; // small bytes: floats stay finite
  }
  if (dtype === 'bool') bytes.forEach((b, i) => (bytes[i] = b & 1));
  return { dtype, shape, data: typedNpy(dtype, bytes) };
}

const VALID_NPY: Uint8Array[] = [
  encodeNpy(npyArray('float32', [3, 4], 1)),
  encodeNpy(npyArray('float64', [5], 2)),
  encodeNpy(npyArray('int8', [2, 3, 4], 3)),
  encodeNpy(npyArray('uint8', [4, 2, 1], 4)),
  encodeNpy(npyArray('bool', [7], 5)),
  encodeNpy(npyArray('int32', [2, 2], 6)),
  encodeNpy(npyArray('uint32', [0, 3], 7)),
  encodeNpy(npyArray('float32', [], 8)),
];

const NPY_DIM = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, 2 ** 31, 2 ** 32, 1e12, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 2 ** 31 / 4),
  },
);

interface NpyParts {
  major: number;
  minor: number;
  descr: string;
  quote: string;
  fortran: string;
  shape: number[];
  shapeStyle: 'plain' | 'long' | 'noTrailingComma' | 'float' | 'hex' | 'exp' | 'list' | 'nested' | 'spaces';
  keys: string[];
  headerLengthDelta: number;
  dataDelta: number;
  newline: boolean;
  values: number;
}

const npyParts: fc.Arbitrary<NpyParts> = fc.record({
  major: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(1, 2, 3) }, { weight: 1, arbitrary: u8 }),
  minor: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u8 }),
  descr: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...Object.values(NPY_DESCR)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '>f4',
        '>i4',
        '<f2',
        '<i8',
        '|S1',
        '<c8',
        'f4',
        '',
        '<f4 ',
        '|i2',
        'O',
        'xi1',
        '>u1',
        '=f4',
        '<b1',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
  ),
  quote: fc.constantFrom("'", "'", "'", '"'),
  fortran: fc.oneof(
    { weight: 10, arbitrary: fc.constant('False') },
    { weight: 1, arbitrary: fc.constantFrom('True', 'false', '0', 'None', "'False'") },
  ),
  shape: fc.array(NPY_DIM, { maxLength: 4 }),
  shapeStyle: fc.oneof(
    { weight: 10, arbitrary: fc.constant('plain' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'long',
        'noTrailingComma',
        'float',
        'hex',
        'exp',
        'list',
        'nested',
        'spaces',
      ),
    },
  ),
  keys: fc.oneof(
    { weight: 10, arbitrary: fc.shuffledSubarray(['descr', 'fortran_order', 'shape'], { minLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.constantFrom('descr', 'fortran_order', 'shape', 'extra'), { maxLength: 4 }),
    },
  ),
  headerLengthDelta: fc.oneof(
    { weight: 10, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -70, max: 70 }) },
  ),
  dataDelta: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) },
  ),
  newline: fc.oneof(
    { weight: 10, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  values: fc.integer({ min: 1, max: 1000 }),
});

function shapeText(shape: number[], style: NpyParts['shapeStyle']): string {
  const items = shape.map((n) =>
    style === 'long'
      ? `${n}L`
      : style === 'float'
        ? `${n}.0`
        : style === 'hex'
          ? `0x${n.toString(16)}`
          : style === 'exp'
            ? `${n}e0`
            : String(n),
  );
  if (style === 'list') return `[${items.join(', ')}]`;
  if (style === 'nested') return `((${items.join(', ')}),)`;
  if (style === 'spaces') return `( ${items.join(' , ')} , )`;
  if (items.length === 1 && style !== 'noTrailingComma') return `(${items[0]},)`;
  return `(${items.join(', ')})`;
}

/** Builds an NPY file from (possibly wrong) parts; data bytes follow the claimed shape up to 4 KiB. */
function npyFromParts(p: NpyParts): Uint8Array {
  const value = (key: string): string =>
    key === 'descr'
      ? `${p.quote}${p.descr}${p.quote}`
      : key === 'fortran_order'
        ? p.fortran
        : key === 'shape'
          ? shapeText(p.shape, p.shapeStyle)
          : '1';
  let header = `{${p.keys.map((k) => `${p.quote}${k}${p.quote}: ${value(k)}`).join(', ')}, }`;
  const prefix = p.major >= 2 ? 12 : 10;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, ' ') + (p.newline ? '\n' : ' ');
  const headerBytes = new TextEncoder().encode(header);
  const length = Math.max(0, headerBytes.length + p.headerLengthDelta);
  const out = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, p.major, p.minor];
  if (p.major >= 2)
    out.push(length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, (length >>> 24) & 0xff);
  else out.push(length & 0xff, (length >> 8) & 0xff);
  const dtype = NPY_DTYPES.find((d) => NPY_DESCR[d] === p.descr);
  const count = p.shape.reduce((a, b) => a * Math.max(0, b), 1);
  const claimed = count * (dtype ? NPY_BYTES[dtype] : 4);
  const dataBytes = Math.max(0, Math.min(claimed, 4096) + p.dataDelta);
  const data = npyArray('uint8', [dataBytes], p.values).data as Uint8Array;
  return concat(Uint8Array.from(out), headerBytes, data);
}

/** NPY values a float array may hold that readers must refuse or handle (for directories). */
export function npyWithValue(
  dtype: 'float32' | 'float64',
  shape: number[],
  value: number,
  at: number,
): Uint8Array {
  const arr = npyArray(dtype, shape, 9);
  if (arr.data.length > 0) arr.data[at % arr.data.length] = value;
  return encodeNpy(arr);
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.every((v, i) => v === y[i]);
}

export const npyTarget: FuzzTarget<Uint8Array> = {
  name: 'npy',
  valid: VALID_NPY,
  arbitrary: fc.oneof(
    { weight: 3, arbitrary: npyParts.map(npyFromParts) },
    { weight: 2, arbitrary: fc.constantFrom(...VALID_NPY).chain(mutateBytes) },
  ),
  errors: [NpyFormatError],
  size: (bytes) => bytes.length,
  read(bytes) {
    const a = decodeNpy(bytes, 'npy');
    const count = a.shape.reduce((x, y) => x * y, 1);
    check(a.data.length === count, `npy: ${a.data.length} values for shape [${a.shape}]`);
    check(
      sameBytes(a.data, bytes.subarray(bytes.length - a.data.byteLength)),
      'npy: data are not the file’s last bytes',
    );
    const again = decodeNpy(encodeNpy(a), 'npy again');
    check(
      again.dtype === a.dtype && again.shape.join() === a.shape.join() && sameBytes(again.data, a.data),
      'npy: no round trip',
    );
  },
};

// ---------------------------------------------------------------------------------------------------------
// IDX

const IDX_CODES: Record<IdxType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
const IDX_BYTES: Record<IdxType, number> = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };

const VALID_IDX: Uint8Array[] = [
  encodeIdx({ type: 'u8', shape: [2, 3, 3], data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) }),
  encodeIdx({ type: 'i8', shape: [4], data: Int8Array.of(-128, -1, 0, 127) }),
  encodeIdx({ type: 'i16', shape: [2, 2], data: Int16Array.of(-32768, -2, 1, 32767) }),
  encodeIdx({ type: 'i32', shape: [3], data: Int32Array.of(-(2 ** 31), 5, 2 ** 31 - 1) }),
  encodeIdx({ type: 'f32', shape: [1, 3], data: Float32Array.of(-0.5, 3.25e-7, 1e30) }),
  encodeIdx({ type: 'f64', shape: [2], data: Float64Array.of(Math.PI, -1e-300) }),
  encodeIdx({ type: 'u8', shape: [0, 28, 28], data: new Uint8Array(0) }),
];

const IDX_DIM = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 2, arbitrary: fc.constantFrom(0xffffffff, 2 ** 31, 65536, 2 ** 29) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

const idxParts = fc.record({
  code: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...Object.values(IDX_CODES)) },
    { weight: 1, arbitrary: u8 },
  ),
  magic: fc.oneof(
    { weight: 12, arbitrary: fc.constant<[number, number]>([0, 0]) },
    { weight: 1, arbitrary: fc.tuple(u8, u8) },
  ),
  dims: fc.oneof(
    { weight: 8, arbitrary: fc.array(IDX_DIM, { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(IDX_DIM, { maxLength: 255, size: 'max' }) },
    // Enough huge sizes that the product of the sizes overflows to Infinity, then a 0 or a small size.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 30, max: 254 }), fc.integer({ min: 0, max: 2 }))
        .map(([n, last]) => [...Array<number>(n).fill(0xffffffff), last]),
    },
  ),
  ndimsDelta: fc.oneof(
    { weight: 10, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
  ),
  dataDelta: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) },
  ),
  values: fc.integer({ min: 1, max: 1000 }),
});

function idxFromParts(p: {
  code: number;
  magic: [number, number];
  dims: number[];
  ndimsDelta: number;
  dataDelta: number;
  values: number;
}): Uint8Array {
  const header = new Uint8Array(4 + 4 * p.dims.length);
  const view = new DataView(header.buffer);
  header[0] = p.magic[0]!;
  header[1] = p.magic[1]!;
  header[2] = p.code;
  header[3] = Math.min(255, Math.max(0, p.dims.length + p.ndimsDelta));
  p.dims.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  const type = (Object.keys(IDX_CODES) as IdxType[]).find((t) => IDX_CODES[t] === p.code);
  const count = p.dims.reduce((a, b) => a * b, 1);
  const claimed = count * (type ? IDX_BYTES[type] : 1);
  const n = Math.max(0, (Number.isFinite(claimed) ? Math.min(claimed, 4096) : 4096) + p.dataDelta);
  const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + p.values) & 0xff);
  return concat(header, data);
}

export const idxTarget: FuzzTarget<Uint8Array> = {
  name: 'idx',
  valid: VALID_IDX,
  arbitrary: fc.oneof(
    { weight: 3, arbitrary: idxParts.map(idxFromParts) },
    { weight: 2, arbitrary: fc.constantFrom(...VALID_IDX).chain(mutateBytes) },
  ),
  errors: [IdxFormatError],
  size: (bytes) => bytes.length,
  read(bytes) {
    const a = decodeIdx(bytes, 'idx');
    const count = a.shape.reduce((x, y) => x * y, 1);
    check(a.data.length === count, `idx: ${a.data.length} values for shape [${a.shape}]`);
    check(
      bytes.length === 4 + 4 * a.shape.length + a.data.byteLength,
      'idx: the file holds other bytes than the array',
    );
    const again = decodeIdx(encodeIdx(a), 'idx again');
    check(
      again.type === a.type && again.shape.join() === a.shape.join() && sameValues(again.data, a.data),
      'idx: no round trip',
    );
  },
};

// ---------------------------------------------------------------------------------------------------------
// Directories: a file map, mutated one file at a time

/** A directory as name → bytes, plus reader options where the reader takes some. */
export interface DirectoryInput {
  files: Record<string, Uint8Array>;
  temperatures?: number[];
  units?: RbmUnits;
}

function directorySize(input: DirectoryInput): number {
  return Object.values(input.files).reduce((s, b) => s + b.length, 0);
}

/** Mutations of one named NPY inside a directory: damaged bytes, or another dtype/shape, or NaN/∞/odd values. */
function npyReplacements(bytes: Uint8Array): fc.Arbitrary<Uint8Array | undefined> {
  const arr = decodeNpy(bytes, 'corpus');
  const shapes = [
    arr.shape,
    [...arr.shape, 1],
    arr.shape.slice(1),
    arr.shape.map((n) => n + 1),
    [arr.data.length],
    arr.shape.slice().reverse(),
  ];
  const otherArray = fc
    .record({
      dtype: fc.constantFrom(...NPY_DTYPES),
      shape: fc.constantFrom(...shapes),
      seed: fc.integer({ min: 1, max: 99 }),
    })
    .map(({ dtype, shape, seed }) => encodeNpy(npyArray(dtype, shape, seed)));
  const oddValue = fc
    .record({
      value: fc.constantFrom(NaN, Infinity, -Infinity, 0, 1, -1, 2, 0.5, 1e30, -0),
      at: fc.nat(),
    })
    .map(({ value, at }) => {
      const copy = { ...arr, data: arr.data.slice() } as NpyArray;
      if (copy.data.length > 0) copy.data[at % copy.data.length] = value;
      return encodeNpy(copy);
    });
  return fc.oneof(
    { weight: 3, arbitrary: mutateBytes(bytes) },
    { weight: 3, arbitrary: otherArray },
    { weight: 3, arbitrary: oddValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Mutations of a directory: its JSON file, one of its NPYs, a missing or swapped file. */
export function mutateDirectory(
  files: Record<string, Uint8Array>,
  json: string,
): fc.Arbitrary<Record<string, Uint8Array>> {
  const npys = Object.keys(files).filter((n) => n.endsWith('.npy'));
  const replace = (name: string, bytes: Uint8Array | undefined): Record<string, Uint8Array> => {
    const out = { ...files };
    if (bytes) out[name] = bytes;
    else delete out[name];
    return out;
  };
  return fc.oneof(
    { weight: 4, arbitrary: mutateJson(new TextDecoder().decode(files[json])).map((b) => replace(json, b)) },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(...npys)
        .chain((name) => npyReplacements(files[name]!).map((b) => replace(name, b))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...npys), fc.constantFrom(...npys))
        .map(([x, y]) => ({ ...files, [x]: files[y]!, [y]: files[x]! })),
    },
    { weight: 1, arbitrary: fc.constantFrom(json, ...npys).map((name) => replace(name, undefined)) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Ising data-set directories

function spins(n: number, seed: number): Int8Array {
  let x = seed;
  return Int8Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x & 0x10000 ? 1 : -1;
  });
}

function syntheticDataset(L: number, Ly: number, Ts: number[], samples: number): Dataset {
  return {
    L,
    Ly,
    chains: 2,
    therm: 10,
    tauSweeps: 20,
    sampleSweeps: 10,
    seed: '1',
    algorithm: 'metropolis',
    kernel: 'simple',
    complete: true,
    temperatures: Ts.map((T, i) => ({
      T,
      spins: spins(samples * L * Ly, i + 1),
      samples,
      interval: 1,
      tauInt: { energy: 1, absMagnetization: 1, converged: true },
    })),
  };
}

function fileMap(files: { name: string; bytes: Uint8Array }[]): Record<string, Uint8Array> {
  return Object.fromEntries(files.map((f) => [f.name, f.bytes]));
}

const VALID_DATASETS: DirectoryInput[] = [
  { files: fileMap(datasetFiles(syntheticDataset(4, 4, [2, 2.5], 3), { format: 'int8' })) },
  {
    files: fileMap(datasetFiles(syntheticDataset(10, 3, [1.5, 2.269, 3], 2), { format: 'packed' })),
    units: 'bernoulli',
  },
  {
    files: fileMap(datasetFiles(syntheticDataset(5, 2, [2.269], 4), { format: 'int8' })),
    temperatures: [2.269],
  },
];

export const datasetTarget: FuzzTarget<DirectoryInput> = {
  name: 'dataset',
  valid: VALID_DATASETS,
  arbitrary: fc.constantFrom(...VALID_DATASETS).chain((d) =>
    fc.record({
      files: mutateDirectory(d.files, 'dataset.json'),
      temperatures: fc.oneof(
        { weight: 12, arbitrary: fc.constant(d.temperatures) },
        { weight: 1, arbitrary: fc.constant<number[]>([2]) },
        { weight: 1, arbitrary: fc.constant<number[]>([7]) },
      ),
      units: fc.constantFrom<RbmUnits>('ising', 'bernoulli'),
    }),
  ),
  errors: [TrainingDataError, NpyFormatError],
  size: directorySize,
  read(input) {
    const options = {
      units: input.units ?? 'ising',
      ...(input.temperatures ? { temperatures: input.temperatures } : {}),
    };
    const d = parseIsingDataset(input.files, options, 'dataset');
    check(Number.isSafeInteger(d.n) && d.n >= 1 && d.nv >= 1, `dataset: n ${d.n}, nv ${d.nv}`);
    check(d.data.length === d.n * d.nv, `dataset: ${d.data.length} values for ${d.n} × ${d.nv}`);
    check(d.shape.reduce((a, b) => a * b, 1) === d.nv, `dataset: shape [${d.shape}] for nv ${d.nv}`);
    check(d.labels?.length === d.n && d.labels.every(Number.isFinite), 'dataset: labels');
    const low = options.units === 'ising' ? -1 : 0;
    check(
      d.data.every((x) => x === 1 || x === low),
      'dataset: values outside the units',
    );
  },
};

// ---------------------------------------------------------------------------------------------------------
// Model directories

function f64(n: number, seed: number, scale = 0.5): Float64Array {
  let x = seed;
  return Float64Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return Math.fround(((x >>> 8) / 2 ** 24 - 0.5) * scale);
  });
}

const MODELS: [RbmModel, 'float32' | 'float64'][] = [
  [
    {
      rbm: { units: 'bernoulli', nv: 4, nh: 3, W: f64(12, 1), a: f64(4, 2), b: f64(3, 3) },
      training: { lr: 0.1 },
      history: [{ epoch: 1 }],
    },
    'float32',
  ],
  [
    {
      rbm: { units: 'ising', nv: 3, nh: 2, W: f64(6, 4), a: new Float64Array(3), b: f64(2, 5) },
      biases: { visible: false, hidden: true },
    },
    'float64',
  ],
  [
    { rbm: { units: 'ising', Lv: 4, filters: 2, k: 3, stride: 2, W: f64(18, 6), a: 0.25, b: f64(2, 7) } },
    'float32',
  ],
  [{ rbm: { units: 'bernoulli', Lv: 4, filters: 1, k: 2, stride: 1, W: f64(4, 8) } }, 'float32'],
];

const VALID_MODELS: DirectoryInput[] = MODELS.map(([model, dtype]) => ({
  files: fileMap(modelFiles(model, { dtype, created: '2026-01-01T00:00:00Z' })),
}));

function sameRbm(x: Rbm, y: Rbm): boolean {
  const norm = (r: Rbm): string =>
    JSON.stringify(r, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v));
  return norm(x) === norm(y);
}

export const modelTarget: FuzzTarget<DirectoryInput> = {
  name: 'model',
  valid: VALID_MODELS,
  arbitrary: fc
    .constantFrom(...VALID_MODELS)
    .chain((m) => mutateDirectory(m.files, 'model.json').map((files) => ({ files }))),
  errors: [ModelFormatError, NpyFormatError],
  size: directorySize,
  read({ files }) {
    const m = parseModelFiles(files, 'model');
    try {
      checkRbm(m.rbm);
    } catch (err) {
      throw new FuzzViolation(`model: loaded an RBM that checkRbm refuses (${(err as Error).message})`);
    }
    let again: ReturnType<typeof parseModelFiles>;
    try {
      const written = modelFiles(
        { rbm: m.rbm, biases: m.biases, training: m.training, history: m.history },
        { dtype: m.dtype },
      );
      again = parseModelFiles(fileMap(written), 'model again');
    } catch (err) {
      throw new FuzzViolation(
        `model: a loaded model does not save and load again (${(err as Error).message})`,
      );
    }
    check(
      sameRbm(again.rbm, m.rbm) &&
        again.biases.visible === m.biases.visible &&
        again.biases.hidden === m.biases.hidden,
      'model: no round trip',
    );
  },
};

// ---------------------------------------------------------------------------------------------------------
// Checkpoints

function checkpointCorpus(model: RbmModel, pcd: number, nv: number, nh: number): DirectoryInput {
  const rbm = model.rbm;
  const conv = 'Lv' in rbm ? { Lv: rbm.Lv, filters: rbm.filters, k: rbm.k, stride: rbm.stride } : null;
  const biases = model.biases ?? {
    visible: !('Lv' in rbm) || rbm.a !== undefined,
    hidden: !('Lv' in rbm) || rbm.b !== undefined,
  };
  const parameters = rbm.W.length + nv + nh;
  const meta: CheckpointMeta = {
    format: 'blockspin-rbm-checkpoint',
    version: 1,
    engine: {
      units: rbm.units,
      nv,
      nh,
      conv,
      visibleBias: biases.visible,
      hiddenBias: biases.hidden,
      seed: '12345678901234567890',
    },
    training: {
      batch: 2,
      k: 1,
      pcd,
      meanFieldFinal: false,
      optimizer: 'adam',
      lr: 0.001,
      momentum: 0.9,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      l1: 0,
      l2: 0,
      schedule: { kind: 'constant' },
      shuffle: true,
    },
    updates: 6,
    epochs: 3,
    data: { source: 'synthetic', n: 4, nv, shape: [nv], fingerprint: '0123abcd', holdout: 0.25 },
    created: '2026-01-01T00:00:00Z',
  };
  const low = rbm.units === 'ising' ? -1 : 0;
  const chains = Float32Array.from({ length: pcd * nv }, (_, i) => (i % 3 === 0 ? 1 : low));
  const files = checkpointFiles(meta, model, {
    firstMoment: Float32Array.from(f64(parameters, 11, 0.01)),
    secondMoment: Float32Array.from(f64(parameters, 12, 0.01), Math.abs),
    chains,
  });
  return { files: fileMap(files) };
}

const VALID_CHECKPOINTS: DirectoryInput[] = [
  checkpointCorpus(MODELS[0]![0], 0, 4, 3),
  checkpointCorpus(MODELS[1]![0], 2, 3, 2),
  checkpointCorpus(MODELS[2]![0], 3, 16, 8),
  checkpointCorpus(MODELS[3]![0], 0, 16, 16),
];

export const checkpointTarget: FuzzTarget<DirectoryInput> = {
  name: 'checkpoint',
  valid: VALID_CHECKPOINTS,
  arbitrary: fc
    .constantFrom(...VALID_CHECKPOINTS)
    .chain((c) =>
      fc
        .oneof(mutateDirectory(c.files, 'checkpoint.json'), mutateDirectory(c.files, 'model.json'))
        .map((files) => ({ files })),
    ),
  errors: [CheckpointFormatError, ModelFormatError, NpyFormatError],
  size: directorySize,
  read({ files }) {
    const c = parseCheckpointFiles(files, 'checkpoint');
    const { state, meta, model } = c;
    const p = state.parameters.length;
    check(
      state.firstMoment.length === p && state.secondMoment.length === p,
      'checkpoint: moments do not match the parameters',
    );
    check(
      state.parameters.every(Number.isFinite) &&
        state.firstMoment.every(Number.isFinite) &&
        state.secondMoment.every(Number.isFinite),
      'checkpoint: non-finite state',
    );
    check(
      state.chains.length === (meta.training.pcd ?? 0) * meta.engine.nv,
      'checkpoint: chains do not match pcd × nv',
    );
    check(Number.isSafeInteger(state.updates) && Number.isSafeInteger(state.epochs), 'checkpoint: counters');
    check(/^\d+$/.test(meta.engine.seed), `checkpoint: seed ${meta.engine.seed} is not a decimal integer`);
    check(model.rbm.units === meta.engine.units, 'checkpoint: units differ from the model');
    check(
      meta.data !== null && typeof meta.data === 'object' && meta.data.holdout >= 0 && meta.data.holdout < 1,
      'checkpoint: data holdout',
    );
  },
};

/** Every target, in report order. */
export const FUZZ_TARGETS: FuzzTarget<unknown>[] = [
  npyTarget,
  idxTarget,
  datasetTarget,
  modelTarget,
  checkpointTarget,
];

/** A short description of an input, for a failure report (a fast-check counterexample can be megabytes). */
export function describeInput(input: unknown): string {
  if (input instanceof Uint8Array) {
    const head = Array.from(input.subarray(0, 48), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${input.length} bytes: ${head}${input.length > 48 ? ' …' : ''}`;
  }
  const d = input as DirectoryInput;
  const files = Object.entries(d.files).map(([name, bytes]) => {
    const text = name.endsWith('.json') ? new TextDecoder().decode(bytes) : '';
    return `  ${name}: ${bytes.length} bytes${text ? ` ${text.replace(/\s+/g, ' ').slice(0, 400)}` : ''}`;
  });
  return `directory (units ${d.units ?? '-'}, temperatures ${d.temperatures ?? '-'}):\n${files.join('\n')}`;
}

/**
 * Runs `runs` cases of `target` with fast-check (fixed `seed`); returns how often each outcome occurred, and
 * records the slowest read (its time and outcome) in `timing` when given.
 * Throws a FuzzViolation naming the case (seed and path replay it) and describing the input briefly.
 */
export function fuzz<T>(
  target: FuzzTarget<T>,
  runs: number,
  seed: number,
  timing?: { slowestMs: number; slowest?: string },
): Map<string, number> {
  const counts = new Map<string, number>();
  const details = fc.check(
    fc.property(target.arbitrary, (input) => {
      const start = performance.now();
      const o = outcome(target, input);
      const ms = performance.now() - start;
      if (timing && ms > timing.slowestMs) Object.assign(timing, { slowestMs: ms, slowest: o });
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  if (details.failed) {
    const error = details.errorInstance as Error;
    const input = details.counterexample?.[0];
    throw new FuzzViolation(
      `${error.message}\n  (fast-check seed ${details.seed}, path ${details.counterexamplePath}; ` +
        `case ${details.numRuns} of ${runs})\n${describeInput(input)}`,
      { cause: error },
    );
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// Partial data-set directories (generate --resume): the reader takes a directory, so each case is written
// to a temporary directory; asynchronous, so outside the allocation guard.

function partialCorpus(): Record<string, Uint8Array> {
  const L = 4;
  const dataset = syntheticDataset(L, L, [2, 3], 2);
  dataset.complete = false;
  dataset.resume = {
    sampleSweep: 3,
    temperatures: dataset.temperatures,
    snapshot: {
      format: 'blockspin-ising-snapshot',
      version: 1,
      options: { L, replicas: 2, T: 2, seed: '1' },
      sweep: 10,
      spins: Uint32Array.of(1, 2),
      bonds: new Int32Array(0),
      magnetizations: new Int32Array(0),
      correlations: new Int32Array(0),
    },
  };
  const options = { L, temperatures: [2, 3], samples: 4 };
  return fileMap([...datasetFiles(dataset, { format: 'int8' }), ...resumeFiles(dataset, options, 'int8')]);
}

/**
 * Fuzzes `loadPartialDataset` (`runs` cases through temporary directories): each mutated directory must load
 * or give a PartialDatasetError / NpyFormatError naming the directory; returns the outcome counts.
 */
export async function fuzzPartialDataset(runs: number, seed: number): Promise<Map<string, number>> {
  const fs = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const files = partialCorpus();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'blockspin-fuzz-partial-'));
  const counts = new Map<string, number>();
  let n = 0;
  try {
    const details = await fc.check(
      fc.asyncProperty(
        fc.oneof(mutateDirectory(files, 'resume.json'), mutateDirectory(files, 'dataset.json')),
        async (mutated) => {
          const dir = path.join(root, String(n++));
          await fs.mkdir(dir);
          for (const [name, bytes] of Object.entries(mutated))
            await fs.writeFile(path.join(dir, name), bytes);
          let o = 'ok';
          try {
            await loadPartialDataset(dir);
          } catch (err) {
            const e = err as Error;
            if (!(err instanceof PartialDatasetError || err instanceof NpyFormatError))
              throw new FuzzViolation(`partial: untyped ${e?.name}: ${e?.message}`, { cause: err });
            check(
              e.message.includes(dir),
              `partial: a message that does not name the directory: ${e.message}`,
            );
            const named = new Error(e.message.replaceAll(dir, 'DIR'));
            named.name = e.name;
            o = errorBranch(named);
          } finally {
            await fs.rm(dir, { recursive: true, force: true });
          }
          counts.set(o, (counts.get(o) ?? 0) + 1);
        },
      ),
      { numRuns: runs, seed, endOnFailure: true },
    );
    if (details.failed) {
      const error = details.errorInstance as Error;
      throw new FuzzViolation(
        `${error.message}\n  (fast-check seed ${details.seed}, path ${details.counterexamplePath})\n` +
          describeInput({ files: details.counterexample?.[0] ?? {} }),
        { cause: error },
      );
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
  return counts;
}
