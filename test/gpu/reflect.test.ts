/** Reflection (src/gpu/reflect.ts): WGSL layout rules, struct views, derived binding layouts, checked on the GPU. */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer, createUniformBuffer, readBuffer } from '../../src/gpu/buffers.ts';
import { Dispatch, Program, submitStep } from '../../src/gpu/kernel.ts';
import { reflectShader, StructView } from '../../src/gpu/reflect.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

const CODE = /* wgsl */ `
struct Inner {
  a: f32,
  b: vec2u,
}

struct Params {
  count: u32,
  direction: vec3<f32>,
  weight: f32,
  pair: vec2u,
  table: array<vec4<u32>, 3>,
  scale: f32,
  inner: Inner,
  shift: i32,
}

struct Tail {
  count: u32,
  values: array<vec3<f32>>,
}

@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(1) @binding(3) var<storage, read> fixedSize: array<vec4<f32>, 5>;
@group(1) @binding(0) var<storage, read_write> tail: Tail;

override workgroupSize: u32 = 1;

// Writes every member of params as raw words, in declaration order, so the host layout can be checked.
@compute @workgroup_size(workgroupSize)
fn dumpParams() {
  output[0] = params.count;
  output[1] = bitcast<u32>(params.direction.x);
  output[2] = bitcast<u32>(params.direction.y);
  output[3] = bitcast<u32>(params.direction.z);
  output[4] = bitcast<u32>(params.weight);
  output[5] = params.pair.x;
  output[6] = params.pair.y;
  for (var i = 0u; i < 3u; i++) {
    for (var j = 0u; j < 4u; j++) {
      output[7u + 4u * i + j] = params.table[i][j];
    }
  }
  output[19] = bitcast<u32>(params.scale);
  output[20] = bitcast<u32>(params.inner.a);
  output[21] = params.inner.b.x;
  output[22] = params.inner.b.y;
  output[23] = bitcast<u32>(params.shift);
  output[24] = bitcast<u32>(input[0] + fixedSize[4].w);
  tail.count = arrayLength(&tail.values);
  tail.values[0] = vec3<f32>(1.0, 2.0, 3.0);
}
`;

const VALUES = {
  count: 0xfffffffe,
  direction: [1.5, -2.25, 1e-3],
  weight: -7,
  pair: [0, 0xffffffff],
  table: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xffffffff],
  scale: Math.PI,
  'inner.a': -0.5,
  'inner.b': [123, 456],
  shift: -(2 ** 31),
};

const f32 = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0] as number;

/** The words dumpParams writes for VALUES. */
const EXPECTED_WORDS = [
  0xfffffffe,
  f32(1.5),
  f32(-2.25),
  f32(1e-3),
  f32(-7),
  0,
  0xffffffff,
  ...VALUES.table,
  f32(Math.PI),
  f32(-0.5),
  123,
  456,
  2 ** 31,
];

describe('reflectShader', () => {
  const layout = reflectShader(CODE);

  it('lays out struct members by WGSL alignment rules', () => {
    const params = layout.structs.get('Params');
    expect(params?.size).toBe(128); // 124 rounded up to the struct's 16-byte alignment
    const at = (path: string): unknown => {
      const f = params?.fields.get(path);
      return f && [f.offset, f.scalar, f.components, f.count, f.stride];
    };
    expect(at('count')).toEqual([0, 'u32', 1, 1, 4]);
    expect(at('direction')).toEqual([16, 'f32', 3, 1, 12]); // vec3 aligns to 16
    expect(at('weight')).toEqual([28, 'f32', 1, 1, 4]); // a scalar packs into the vec3's last slot
    expect(at('pair')).toEqual([32, 'u32', 2, 1, 8]);
    expect(at('table')).toEqual([48, 'u32', 4, 3, 16]);
    expect(at('scale')).toEqual([96, 'f32', 1, 1, 4]);
    expect(at('inner.a')).toEqual([104, 'f32', 1, 1, 4]); // Inner aligns to 8 (its vec2u)
    expect(at('inner.b')).toEqual([112, 'u32', 2, 1, 8]);
    expect(at('shift')).toEqual([120, 'i32', 1, 1, 4]);
    expect([...(params?.fields.keys() ?? [])]).toEqual([
      'count',
      'direction',
      'weight',
      'pair',
      'table',
      'scale',
      'inner.a',
      'inner.b',
      'shift',
    ]);
    expect(layout.structs.get('Inner')?.size).toBe(16);
  });

  it('derives binding kinds and minimum binding sizes, sorted by binding', () => {
    const bindingsOf = (g: number): unknown =>
      layout.groups[g]?.map((b) => [b.binding, b.name, b.kind, b.minBindingSize]);
    expect(bindingsOf(0)).toEqual([
      [0, 'params', 'uniform', 128],
      [1, 'input', 'read-only-storage', 4],
      [2, 'output', 'storage', 4],
    ]);
    expect(bindingsOf(1)).toEqual([
      [0, 'tail', 'storage', 32], // fixed part (16) + one vec3 element (stride 16)
      [3, 'fixedSize', 'read-only-storage', 80],
    ]);
  });

  it('lists entry points with their workgroup sizes and the overrides', () => {
    expect([...layout.entryPoints.keys()]).toEqual(['dumpParams']);
    expect([...layout.overrides]).toEqual(['workgroupSize']);
  });

  it('memoises by source text', () => {
    expect(reflectShader(CODE)).toBe(layout);
  });
});

describe('StructView', () => {
  const layout = reflectShader(CODE).structs.get('Params');
  const view = (): StructView => {
    if (!layout) throw new Error('Params not reflected');
    return new StructView(layout);
  };

  it('round-trips every member', () => {
    const v = view().set(VALUES);
    expect(v.data.byteLength).toBe(128);
    expect(v.get('count')).toBe(0xfffffffe);
    expect(v.get('direction')).toEqual([1.5, -2.25, Math.fround(1e-3)]);
    expect(v.get('weight')).toBe(-7);
    expect(v.get('pair')).toEqual([0, 0xffffffff]);
    expect(v.get('table')).toEqual(VALUES.table);
    expect(v.get('scale')).toBe(Math.fround(Math.PI));
    expect(v.get('inner.a')).toBe(-0.5);
    expect(v.get('inner.b')).toEqual([123, 456]);
    expect(v.get('shift')).toBe(-(2 ** 31));
    // Booleans are written as 0/1; a later set overwrites only its member.
    v.set({ count: true });
    expect(v.get('count')).toBe(1);
    expect(v.get('shift')).toBe(-(2 ** 31));
  });

  it('writes at a byte offset into a shared buffer (an array of structs)', () => {
    if (!layout) throw new Error('Params not reflected');
    const data = new ArrayBuffer(3 * layout.size);
    new StructView(layout, data, 2 * layout.size).set({ count: 7, 'inner.b': [8, 9] });
    const words = new Uint32Array(data);
    expect(words[64]).toBe(7);
    expect([words[64 + 28], words[64 + 29]]).toEqual([8, 9]);
    expect(words.filter((w) => w !== 0).length).toBe(3);
  });

  it('rejects an unknown member, listing the members', () => {
    expect(() => view().set({ nope: 1 })).toThrow(RangeError);
    expect(() => view().set({ nope: 1 })).toThrow(
      "Params has no member 'nope'; members: count, direction, weight, pair, table, scale, inner.a, inner.b, shift",
    );
    expect(() => view().get('inner')).toThrow("no member 'inner'");
  });

  it('rejects the wrong number of values', () => {
    expect(() => view().set({ direction: [1, 2] })).toThrow('Params.direction takes 3 value(s), got 2');
    expect(() => view().set({ table: [1, 2, 3, 4] })).toThrow('Params.table takes 12 value(s), got 4');
    expect(() => view().set({ count: [1, 2] })).toThrow('Params.count takes 1 value(s), got 2');
  });

  it.each([
    ['count', 2 ** 32],
    ['count', -1],
    ['count', 1.5],
    ['pair', [0, 2 ** 32]],
    ['shift', 2 ** 31],
    ['shift', -(2 ** 31) - 1],
    ['shift', 0.5],
    ['weight', Number.NaN],
  ] as const)('rejects %s = %s, naming the value and the type', (member, value) => {
    const bad = Array.isArray(value) ? value[1] : value;
    expect(() => view().set({ [member]: value })).toThrow(RangeError);
    expect(() => view().set({ [member]: value })).toThrow(`Params.${member}: ${bad} is not a valid`);
  });

  it('accepts the limits of each type', () => {
    const v = view().set({ count: 0xffffffff, shift: 2 ** 31 - 1, weight: -Infinity });
    expect([v.get('count'), v.get('shift'), v.get('weight')]).toEqual([0xffffffff, 2 ** 31 - 1, -Infinity]);
  });
});

describe('reflected layouts on the GPU', () => {
  it('the device reads every member where StructView wrote it', async () => {
    const { device } = gpu();
    await checked(device, async () => {
      const program = Program.get(device, { label: 'reflect test', code: CODE });
      const params = program.structView('Params').set(VALUES);
      const buffers = [
        createUniformBuffer(device, 'reflect params', params.data),
        createStorageBuffer(device, 'reflect input', 4, Float32Array.of(0.25)),
        createStorageBuffer(device, 'reflect output', 25 * 4),
        createStorageBuffer(device, 'reflect tail', 16 + 2 * 16),
        createStorageBuffer(device, 'reflect fixed', 80, new Float32Array(20).fill(0.5)),
      ] as const;
      const [uniforms, input, output, tail, fixedSize] = buffers;
      try {
        const dispatch = new Dispatch(device, {
          label: 'reflect dumpParams',
          pipeline: program.pipeline('dumpParams'),
          bindGroups: [
            program.bindGroup(0, { params: uniforms, input, output }),
            program.bindGroup(1, { tail, fixedSize }),
          ],
          workgroups: 1,
        });
        submitStep(device, 'reflect test', [dispatch]);
        const words = new Uint32Array(await readBuffer(device, output));
        expect([...words.subarray(0, 24)]).toEqual(EXPECTED_WORDS);
        expect(words[24]).toBe(f32(0.75));
        const tailWords = new Uint32Array(await readBuffer(device, tail));
        expect(tailWords[0]).toBe(2); // arrayLength: (48 − 16) / 16
        expect([...new Float32Array(tailWords.buffer, 16, 3)]).toEqual([1, 2, 3]);
      } finally {
        for (const b of buffers) b.destroy();
      }
    });
  });

  it('Program.structView rejects an unknown struct, listing the structs', async () => {
    const { device } = gpu();
    await checked(device, () => {
      const program = Program.get(device, { label: 'reflect test', code: CODE });
      expect(() => program.structView('Nope')).toThrow(RangeError);
      expect(() => program.structView('Nope')).toThrow(
        "reflect test has no host-shareable struct 'Nope'; structs:",
      );
      expect(() => program.structView('Nope')).toThrow('Params');
    });
  });
});
