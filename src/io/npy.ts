/**
 * NPY (NumPy's array file format, version 1.0/2.0/3.0) encode and strict decode. Small enough to own:
 * the decoder checks every field (magic, version, header, dtype, shape, length) and names what is wrong,
 * which the RBM data loaders rely on to refuse corrupt files.
 */

export type NpyDtype = 'int8' | 'uint8' | 'bool' | 'int32' | 'uint32' | 'float32' | 'float64';

export type NpyData = Int8Array | Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const DESCR: Record<NpyDtype, string> = {
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
  int32: '<i4',
  uint32: '<u4',
  float32: '<f4',
  float64: '<f8',
};

const BYTES: Record<NpyDtype, number> = {
  int8: 1,
  uint8: 1,
  bool: 1,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Encodes an array as an NPY v1.0 file (C order). */
export function encodeNpy({ dtype, shape, data }: NpyArray): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`NPY shape entry ${n} is not a non-negative integer`);
  }
  if (data.length !== count)
    throw new RangeError(`NPY data has ${data.length} values; shape [${shape}] needs ${count}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so that magic(6) + version(2) + length(2) + header + '\n' is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  if (header.length > 0xffff)
    throw new RangeError(`NPY header of ${header.length} bytes exceeds version 1.0's 65535`);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/** Thrown for a malformed or unsupported NPY file. */
export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

/** Decodes an NPY file; rejects anything malformed, truncated, big-endian, Fortran-ordered or absurd. */
export function decodeNpy(bytes: Uint8Array, what = 'NPY file'): NpyArray {
  const fail = (message: string): never => {
    throw new NpyFormatError(`${what}: ${message}`);
  };
  if (bytes.length < 10) fail(`only ${bytes.length} bytes; an NPY file has at least 10`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) fail('wrong magic (not an NPY file)');
  const major = bytes[6] as number;
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = (bytes[8] as number) | ((bytes[9] as number) << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header length');
    headerLength = new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
    start = 12;
  } else {
    return fail(`unsupported NPY version ${major}.${bytes[7]}`);
  }
  if (start + headerLength > bytes.length)
    fail(`header of ${headerLength} bytes runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(`unreadable header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported (save with C order)');
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find(
    (d) => DESCR[d] === descr || (BYTES[d] === 1 && DESCR[d].slice(1) === (descr as string).slice(1)),
  );
  if (!dtype) return fail(`unsupported dtype '${descr}' (supported: ${Object.values(DESCR).join(', ')})`);
  const shape = (shapeText as string)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) fail(`shape entry '${s}' is not a non-negative integer`);
      return n;
    });
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count * BYTES[dtype] > 2 ** 31)
    fail(`shape [${shape}] is absurdly large`);
  const dataStart = start + headerLength;
  const expected = count * BYTES[dtype];
  if (bytes.length - dataStart < expected) {
    fail(
      `truncated: shape [${shape}] of ${dtype} needs ${expected} data bytes, file has ${bytes.length - dataStart}`,
    );
  }
  if (bytes.length - dataStart > expected)
    fail(`${bytes.length - dataStart - expected} trailing bytes after the data`);
  const raw = bytes.slice(dataStart, dataStart + expected).buffer;
  const data: NpyData =
    dtype === 'int8'
      ? new Int8Array(raw)
      : dtype === 'uint8' || dtype === 'bool'
        ? new Uint8Array(raw)
        : dtype === 'int32'
          ? new Int32Array(raw)
          : dtype === 'uint32'
            ? new Uint32Array(raw)
            : dtype === 'float32'
              ? new Float32Array(raw)
              : new Float64Array(raw);
  return { dtype, shape, data };
}

/** Packs ±1 spins (or 0/1) into bytes like numpy.packbits (big bit order: first value → bit 7). */
export function packBits(values: ArrayLike<number>, positive = 1): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    if (values[i] === positive) out[i >> 3] = (out[i >> 3] as number) | (0x80 >> (i & 7));
  }
  return out;
}
