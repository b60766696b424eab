/** NPY: round trips of every dtype, the header variants numpy writes, and a strict header parser. */
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, NpyFormatError, type NpyArray } from '../../src/io/npy.ts';

/** An NPY v1.0 file with header text `dict` (padded as numpy pads it) and `data` bytes. */
function npy(dict: string, data: number[] = [], version: [number, number] = [1, 0]): Uint8Array {
  const prefix = version[0] === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = new TextEncoder().encode(dict.padEnd(total - prefix - 1, ' ') + '\n');
  const length =
    version[0] === 1
      ? [header.length & 0xff, header.length >> 8]
      : [header.length & 0xff, header.length >> 8, 0, 0];
  return Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, ...version, ...length, ...header, ...data);
}

const f4x2 = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]; // 1, 2 as little-endian float32

describe('NPY encode/decode', () => {
  const arrays: NpyArray[] = [
    { dtype: 'int8', shape: [2, 2], data: Int8Array.of(-1, 1, 1, -1) },
    { dtype: 'uint8', shape: [3], data: Uint8Array.of(0, 7, 255) },
    { dtype: 'bool', shape: [2], data: Uint8Array.of(0, 1) },
    { dtype: 'int32', shape: [1, 2], data: Int32Array.of(-5, 2 ** 31 - 1) },
    { dtype: 'uint32', shape: [2], data: Uint32Array.of(0, 2 ** 32 - 1) },
    { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
    { dtype: 'float64', shape: [], data: Float64Array.of(Math.PI) },
  ];
  it.each(arrays.map((a) => [`${a.dtype} [${a.shape}]`, a] as const))('round-trips %s', (_n, a) => {
    const back = decodeNpy(encodeNpy(a));
    expect(back).toEqual(a);
  });

  // Headers as numpy 2.4 writes them (np.save, format.write_array(version=(2, 0) / (3, 0))) and as it reads them.
  const accepted: [string, Uint8Array, Partial<NpyArray>][] = [
    ['numpy v1.0', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4x2), { shape: [2] }],
    [
      'numpy v2.0',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4x2, [2, 0]),
      { shape: [2] },
    ],
    [
      'numpy v3.0',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", f4x2, [3, 0]),
      { shape: [1, 2] },
    ],
    [
      'a 0-d array',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4x2.slice(0, 4)),
      { shape: [] },
    ],
    [
      'double quotes, no spaces, no trailing comma',
      npy('{"descr":"<f4","fortran_order":False,"shape":(2,)}', f4x2),
      { shape: [2] },
    ],
    [
      "Python 2's long integers",
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", f4x2),
      { shape: [1, 2] },
    ],
    [
      'keys in another order',
      npy("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", f4x2),
      { shape: [2] },
    ],
    [
      'a 1-byte type without byte order',
      npy("{'descr': 'i1', 'fortran_order': False, 'shape': (2,), }", [1, 255]),
      { dtype: 'int8' },
    ],
    [
      'a 1-byte type with <',
      npy("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", [1, 255]),
      { dtype: 'uint8' },
    ],
  ];
  it.each(accepted)('reads %s', (_name, bytes, expected) => {
    expect(decodeNpy(bytes)).toMatchObject(expected);
  });

  // Each of these was read before the strict parser (a regular expression per key) and numpy refuses it
  // or reads it otherwise (numpy keeps the last of a repeated key).
  const refused: [string, Uint8Array, RegExp][] = [
    [
      'a repeated key',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'descr': '<i4'}", f4x2),
      /key 'descr' appears twice/,
    ],
    [
      'an unknown key',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", f4x2),
      /unknown key 'x'/,
    ],
    [
      '(2) for a 1-tuple',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", f4x2),
      /shape \(2\) is not a tuple/,
    ],
    [
      'a float size',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", f4x2),
      /shape entry '2.0' is not a non-negative integer/,
    ],
    [
      'an exponent',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2e0,), }", f4x2),
      /shape entry '2e0'/,
    ],
    [
      'a hex size',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,), }", f4x2),
      /shape entry '0x2'/,
    ],
    [
      'a leading zero',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (02,), }", f4x2),
      /shape entry '02'/,
    ],
    [
      'text after the dictionary',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", f4x2),
      /text after the header dictionary/,
    ],
    [
      'version 1.1',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4x2, [1, 1]),
      /unsupported NPY version 1\.1/,
    ],
    [
      'a 1-byte type with a bogus byte order',
      npy("{'descr': 'xi1', 'fortran_order': False, 'shape': (2,), }", [1, 2]),
      /unsupported dtype 'xi1'/,
    ],
    // Refused before too; the message names the problem now.
    [
      'a list for the shape',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", f4x2),
      /shape is not a tuple/,
    ],
    [
      'fortran_order 0',
      npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", f4x2),
      /fortran_order is not True or False/,
    ],
    ['a missing key', npy("{'descr': '<f4', 'shape': (2,), }", f4x2), /key 'fortran_order' is missing/],
    [
      'Fortran order',
      npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", f4x2),
      /Fortran-ordered/,
    ],
    [
      'big-endian floats',
      npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4x2),
      /unsupported dtype '>f4'/,
    ],
    [
      'a size beyond 2^53',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740993,), }"),
      /shape entry '9007199254740993'/,
    ],
    [
      'an absurd shape',
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }"),
      /absurdly large/,
    ],
  ];
  it.each(refused)('refuses %s', (_name, bytes, message) => {
    expect(() => decodeNpy(bytes, 'x.npy')).toThrow(NpyFormatError);
    expect(() => decodeNpy(bytes, 'x.npy')).toThrow(message);
    expect(() => decodeNpy(bytes, 'x.npy')).toThrow(/^x\.npy: /);
  });

  it('reads an empty array whose other sizes overflow as empty', () => {
    const shape = `(${Array(40).fill('4294967295').join(', ')}, 0)`;
    const back = decodeNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`));
    expect(back.data).toEqual(new Float32Array(0));
    expect(back.shape.length).toBe(41);
  });
});
