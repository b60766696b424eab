/**
 * IDX (the MNIST file format) encode and strict decode: magic 0x00 0x00, a type byte, a dimension count, one
 * big-endian u32 per dimension, then the values big-endian in C order. The decoder checks every field and the
 * exact length, and names what is wrong.
 */

/** IDX element types. */
export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

/** The typed array of each IDX type (host byte order). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array. */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: IdxData;
}

/** Thrown for a malformed or unsupported IDX file. */
export class IdxFormatError extends Error {
  override name = 'IdxFormatError';
}

const CODES: Record<IdxType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
const BYTES: Record<IdxType, number> = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };
const ARRAYS = {
  u8: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

/** Largest data section the decoder accepts (2 GiB). */
export const MAX_IDX_BYTES = 2 ** 31;

/** Encodes an array as an IDX file; `data` must be the typed array of `type` with shape-product length. */
export function encodeIdx({ type, shape, data }: IdxArray): Uint8Array {
  if (!(type in CODES))
    throw new RangeError(`IDX type '${String(type)}' is not one of ${Object.keys(CODES).join(', ')}`);
  if (!(data instanceof ARRAYS[type])) {
    throw new RangeError(`IDX type ${type} needs a ${ARRAYS[type].name}; got ${data.constructor.name}`);
  }
  if (shape.length < 1 || shape.length > 255)
    throw new RangeError(`IDX dimension count ${shape.length} is not in 1 … 255`);
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new RangeError(`IDX dimension ${n} is not a u32`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new RangeError(`IDX data has ${data.length} values; shape [${shape}] needs ${count}`);
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + count * BYTES[type]);
  const view = new DataView(out.buffer);
  out[2] = CODES[type];
  out[3] = shape.length;
  shape.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  for (let i = 0; i < count; i++) {
    const o = header + i * BYTES[type];
    const x = data[i]!;
    if (type === 'u8') view.setUint8(o, x);
    else if (type === 'i8') view.setInt8(o, x);
    else if (type === 'i16') view.setInt16(o, x, false);
    else if (type === 'i32') view.setInt32(o, x, false);
    else if (type === 'f32') view.setFloat32(o, x, false);
    else view.setFloat64(o, x, false);
  }
  return out;
}

/** Decodes an IDX file; rejects a wrong magic, unknown type, absurd or zero dimension count, truncation and trailing bytes. */
export function decodeIdx(bytes: Uint8Array, what = 'IDX file'): IdxArray {
  const fail = (message: string): never => {
    throw new IdxFormatError(`${what}: ${message}`);
  };
  if (bytes.length < 4) fail(`only ${bytes.length} bytes; an IDX header has at least 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`wrong magic 0x${hex(bytes[0]!)} 0x${hex(bytes[1]!)} (an IDX file starts with 0x00 0x00)`);
  }
  const code = bytes[2]!;
  const type = (Object.keys(CODES) as IdxType[]).find((t) => CODES[t] === code);
  if (!type)
    return fail(
      `unknown type code 0x${hex(code)} (known: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)`,
    );
  const ndims = bytes[3]!;
  if (ndims === 0) fail('dimension count 0 (an IDX array has at least 1 dimension)');
  const header = 4 + 4 * ndims;
  if (bytes.length < header)
    fail(`truncated header: ${ndims} dimensions need ${header} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  // A zero size makes the array empty whatever the others are. Multiplying in order instead can overflow to
  // Infinity first, and Infinity × 0 is NaN, which passes every length comparison.
  const count = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1);
  const expected = count * BYTES[type];
  if (expected > MAX_IDX_BYTES)
    fail(`shape [${shape}] of ${type} needs ${expected} bytes; the limit is ${MAX_IDX_BYTES}`);
  const have = bytes.length - header;
  if (have < expected)
    fail(`truncated: shape [${shape}] of ${type} needs ${expected} data bytes, file has ${have}`);
  if (have > expected) fail(`${have - expected} trailing bytes after the data of shape [${shape}]`);
  const data = new ARRAYS[type](count);
  if (BYTES[type] === 1) {
    data.set(
      type === 'u8' ? bytes.subarray(header) : new Int8Array(bytes.buffer, bytes.byteOffset + header, count),
    );
    return { type, shape, data };
  }
  for (let i = 0; i < count; i++) {
    const o = header + i * BYTES[type];
    data[i] =
      type === 'u8'
        ? view.getUint8(o)
        : type === 'i8'
          ? view.getInt8(o)
          : type === 'i16'
            ? view.getInt16(o, false)
            : type === 'i32'
              ? view.getInt32(o, false)
              : type === 'f32'
                ? view.getFloat32(o, false)
                : view.getFloat64(o, false);
  }
  return { type, shape, data };
}

function hex(x: number): string {
  return x.toString(16).padStart(2, '0');
}
