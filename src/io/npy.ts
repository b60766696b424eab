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

/** The NPY `descr` blockspin writes for each dtype. */
export const NPY_DESCR: Record<NpyDtype, string> = {
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
  int32: '<i4',
  uint32: '<u4',
  float32: '<f4',
  float64: '<f8',
};

/** Bytes per element of each dtype. */
export const NPY_BYTES: Record<NpyDtype, number> = {
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
  let header = `{'descr': '${NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
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
  if (major < 1 || major > 3 || bytes[7] !== 0)
    fail(`unsupported NPY version ${major}.${bytes[7]} (known: 1.0, 2.0, 3.0)`);
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = (bytes[8] as number) | ((bytes[9] as number) << 8);
    start = 10;
  } else {
    if (bytes.length < 12) fail('truncated header length');
    headerLength = new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
    start = 12;
  }
  if (start + headerLength > bytes.length)
    fail(`header of ${headerLength} bytes runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLength),
  );
  const { descr, fortran, shape } = parseHeader(header, fail);
  if (fortran) fail('Fortran-ordered arrays are not supported (save with C order)');
  const dtype = (Object.keys(NPY_DESCR) as NpyDtype[]).find(
    (d) =>
      NPY_DESCR[d] === descr ||
      (NPY_BYTES[d] === 1 &&
        /^[|<>=]?$/.test(descr.slice(0, -2)) &&
        descr.slice(-2) === NPY_DESCR[d].slice(1)),
  );
  if (!dtype) return fail(`unsupported dtype '${descr}' (supported: ${Object.values(NPY_DESCR).join(', ')})`);
  // A zero size empties the array whatever the others are (multiplying them first may overflow, and ∞ × 0 is NaN).
  const count = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count * NPY_BYTES[dtype] > 2 ** 31)
    fail(`shape [${shape}] is absurdly large`);
  const dataStart = start + headerLength;
  const expected = count * NPY_BYTES[dtype];
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

/**
 * Parses the header dictionary exactly as numpy writes it, `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), }` padded with spaces and a newline: each of the three keys once and no other (numpy keeps
 * the last of a repeated key; a regular expression would take the first), a string, True/False and a tuple of
 * decimal integers (Python 2's `3L` included; `(3)` is not a tuple, `3.0`, `1e3`, `0x3` are not integers).
 */
function parseHeader(
  text: string,
  fail: (message: string) => never,
): { descr: string; fortran: boolean; shape: number[] } {
  let i = 0;
  const shown = JSON.stringify(text.trim().slice(0, 120));
  const bad = (what: string): never => fail(`unreadable header ${shown}: ${what} at character ${i}`);
  const space = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    space();
    if (text[i] !== c) bad(`expected '${c}'`);
    i++;
  };
  const string = (): string => {
    space();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return bad('expected a quoted string');
    const end = text.indexOf(quote, i + 1);
    if (end < 0) return bad('unterminated string');
    const value = text.slice(i + 1, end);
    if (value.includes('\\')) return bad('escape sequence in a string');
    i = end + 1;
    return value;
  };
  const tuple = (): number[] => {
    space();
    if (text[i] !== '(') return bad("shape is not a tuple: expected '('");
    i++;
    const out: number[] = [];
    let comma = false;
    for (;;) {
      space();
      if (text[i] === ')') break;
      const token = /^[^,)\s]*/.exec(text.slice(i))![0];
      if (!/^\d+L?$/.test(token) || /^0\d/.test(token))
        fail(`shape entry '${token}' is not a non-negative integer`);
      const n = Number(token.replace(/L$/, ''));
      if (!Number.isSafeInteger(n)) fail(`shape entry '${token}' is not a non-negative integer`);
      out.push(n);
      i += token.length;
      space();
      comma = text[i] === ',';
      if (comma) i++;
      else if (text[i] !== ')') return bad("expected ',' or ')' in the shape");
    }
    i++;
    if (out.length === 1 && !comma)
      bad(`shape (${out[0]}) is not a tuple (a 1-tuple is written (${out[0]},))`);
    return out;
  };
  const seen = new Map<string, unknown>();
  expect('{');
  for (;;) {
    space();
    if (text[i] === '}') break;
    const key = string();
    if (seen.has(key)) bad(`key '${key}' appears twice`);
    expect(':');
    space();
    if (key === 'descr') seen.set(key, string());
    else if (key === 'shape') seen.set(key, tuple());
    else if (key === 'fortran_order') {
      const word = /^(True|False)\b/.exec(text.slice(i))?.[1];
      if (!word) bad('fortran_order is not True or False');
      seen.set(key, word === 'True');
      i += (word as string).length;
    } else return bad(`unknown key '${key}' (an NPY header has descr, fortran_order and shape)`);
    space();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad("expected ',' or '}'");
  }
  i++;
  space();
  if (i < text.length) bad('text after the header dictionary');
  for (const key of ['descr', 'fortran_order', 'shape']) if (!seen.has(key)) bad(`key '${key}' is missing`);
  return {
    descr: seen.get('descr') as string,
    fortran: seen.get('fortran_order') as boolean,
    shape: seen.get('shape') as number[],
  };
}

/** Packs ±1 spins (or 0/1) into bytes like numpy.packbits (big bit order: first value → bit 7). */
export function packBits(values: ArrayLike<number>, positive = 1): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    if (values[i] === positive) out[i >> 3] = (out[i >> 3] as number) | (0x80 >> (i & 7));
  }
  return out;
}
