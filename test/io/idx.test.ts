/** IDX (MNIST format) round trips, the big-endian byte layout, and every corrupt variant refused by name. */
import { describe, expect, it } from 'vitest';
import { decodeIdx, encodeIdx, IdxFormatError, type IdxArray } from '../../src/io/idx.ts';

const samples: IdxArray[] = [
  { type: 'u8', shape: [2, 3], data: Uint8Array.of(0, 1, 127, 128, 254, 255) },
  { type: 'i8', shape: [4], data: Int8Array.of(-128, -1, 0, 127) },
  { type: 'i16', shape: [2, 1, 2], data: Int16Array.of(-32768, -2, 1, 32767) },
  { type: 'i32', shape: [3], data: Int32Array.of(-(2 ** 31), 123456789, 2 ** 31 - 1) },
  { type: 'f32', shape: [1, 3], data: Float32Array.of(-0.5, 3.25e-7, 1e30) },
  { type: 'f64', shape: [2], data: Float64Array.of(Math.PI, -1e-300) },
  { type: 'u8', shape: [0, 28, 28], data: new Uint8Array(0) },
];

describe('IDX encode/decode', () => {
  it.each(samples.map((s) => [`${s.type} [${s.shape}]`, s] as const))('round-trips %s', (_name, arr) => {
    const back = decodeIdx(encodeIdx(arr));
    expect(back.type).toBe(arr.type);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data.constructor).toBe(arr.data.constructor);
    expect(Array.from(back.data)).toEqual(Array.from(arr.data));
  });

  it('writes the header and values big-endian', () => {
    const bytes = encodeIdx({ type: 'i16', shape: [2], data: Int16Array.of(1, -2) });
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x00, 0x01, 0xff, 0xfe]);
    const mnistLike = encodeIdx({ type: 'u8', shape: [1, 28, 28], data: new Uint8Array(784) });
    expect(Array.from(mnistLike.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]);
  });

  it('decodes a view into a larger buffer (non-zero byteOffset)', () => {
    const inner = encodeIdx({ type: 'f32', shape: [2], data: Float32Array.of(1.5, -2) });
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    expect(Array.from(decodeIdx(outer.subarray(3)).data)).toEqual([1.5, -2]);
  });

  const good = encodeIdx({ type: 'i32', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4) });
  const patched = (at: number, value: number): Uint8Array => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  const corrupt: [string, Uint8Array, RegExp][] = [
    ['too short', good.subarray(0, 3), /only 3 bytes; an IDX header has at least 4/],
    ['wrong magic', patched(1, 8), /wrong magic 0x00 0x08/],
    ['NPY file', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59), /wrong magic 0x93 0x4e/],
    ['unknown type', patched(2, 0x0a), /unknown type code 0x0a/],
    ['zero dimensions', patched(3, 0), /dimension count 0/],
    ['truncated dimensions', patched(3, 9), /truncated header: 9 dimensions need 40 bytes, file has 28/],
    [
      'truncated data',
      good.subarray(0, good.length - 1),
      /truncated: shape \[2,2\] of i32 needs 16 data bytes, file has 15/,
    ],
    ['trailing bytes', Uint8Array.of(...good, 0, 0), /2 trailing bytes after the data/],
    [
      'absurd dimensions',
      encodeHeader(0x0e, [65536, 65536, 2]),
      /needs 68719476736 bytes; the limit is 2147483648/,
    ],
    // 40 sizes of 2³²−1 overflow the running product to Infinity, and Infinity × 0 = NaN passed every
    // length check: the reader then threw a RangeError (trailing bytes) or returned 0 values for the shape.
    [
      'trailing bytes after an empty array whose other sizes overflow',
      Uint8Array.of(...encodeHeader(0x08, [...Array<number>(40).fill(0xffffffff), 0]), 1, 2, 3),
      /3 trailing bytes after the data/,
    ],
  ];
  it.each(corrupt)('refuses %s', (_name, bytes, message) => {
    expect(() => decodeIdx(bytes, 'test.idx')).toThrow(IdxFormatError);
    expect(() => decodeIdx(bytes, 'test.idx')).toThrow(message);
    expect(() => decodeIdx(bytes, 'test.idx')).toThrow(/^test\.idx: /);
  });

  it('reads an empty array whose other sizes overflow as empty', () => {
    const shape = [...Array<number>(40).fill(0xffffffff), 0];
    const back = decodeIdx(encodeHeader(0x0d, shape));
    expect(back.shape).toEqual(shape);
    expect(back.data).toEqual(new Float32Array(0));
  });

  it('refuses inconsistent arrays on encode', () => {
    expect(() => encodeIdx({ type: 'u8', shape: [3], data: Int8Array.of(1, 2, 3) })).toThrow(
      /u8 needs a Uint8Array; got Int8Array/,
    );
    expect(() => encodeIdx({ type: 'f32', shape: [2, 2], data: new Float32Array(3) })).toThrow(
      /3 values; shape \[2,2\] needs 4/,
    );
    expect(() => encodeIdx({ type: 'f32', shape: [], data: new Float32Array(1) })).toThrow(
      /dimension count 0 is not in 1 … 255/,
    );
  });
});

/** An IDX header alone (no data). */
function encodeHeader(code: number, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((n, d) => new DataView(out.buffer).setUint32(4 + 4 * d, n, false));
  return out;
}
