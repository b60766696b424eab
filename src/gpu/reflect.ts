/**
 * WGSL is the single source of truth for layouts: bind-group layout entries and host-side struct
 * views are derived from the shader text with `wgsl_reflect`. No byte offset is written by hand.
 */
import { ArrayInfo, ResourceType, StructInfo, WgslReflect, type TypeInfo } from 'wgsl_reflect';

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

/** One `@group(g) @binding(b) var<...>` of a module. */
export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: BindingKind;
  /** Bytes the bound range must at least hold (fixed part + one element for runtime-sized arrays). */
  minBindingSize: number;
  typeName: string;
}

export type ScalarType = 'f32' | 'u32' | 'i32';

/** Where one scalar, vector or array-of-those member sits in a host-shareable struct. */
export interface FieldLayout {
  path: string;
  offset: number;
  scalar: ScalarType;
  /** Scalars per element: 1 for a scalar, 2–4 for a vector. */
  components: number;
  /** Array elements (1 when not an array). */
  count: number;
  /** Bytes between array elements. */
  stride: number;
}

/** A struct's size and its fields, flattened (`inner.field`, arrays as one field with a count). */
export interface StructLayout {
  name: string;
  size: number;
  fields: Map<string, FieldLayout>;
}

/** What reflection tells about one module. */
export interface ShaderLayout {
  /** Bindings by group index, sorted by binding number. */
  groups: BindingInfo[][];
  entryPoints: Map<string, { workgroupSize: [number, number, number] | null; resources: string[] }>;
  overrides: Set<string>;
  structs: Map<string, StructLayout>;
}

const layoutCache = new Map<string, ShaderLayout>();

/** Reflects a WGSL module (memoised by its text). */
export function reflectShader(code: string): ShaderLayout {
  let layout = layoutCache.get(code);
  if (!layout) {
    layout = buildLayout(new WgslReflect(code));
    layoutCache.set(code, layout);
  }
  return layout;
}

function buildLayout(reflect: WgslReflect): ShaderLayout {
  const groups: BindingInfo[][] = [];
  for (const variable of [...reflect.uniforms, ...reflect.storage]) {
    const kind: BindingKind =
      variable.resourceType === ResourceType.Uniform
        ? 'uniform'
        : variable.access === 'read'
          ? 'read-only-storage'
          : 'storage';
    const info: BindingInfo = {
      name: variable.name,
      group: variable.group,
      binding: variable.binding,
      kind,
      minBindingSize: minBindingSize(variable.type),
      typeName: variable.type.getTypeName(),
    };
    (groups[variable.group] ??= []).push(info);
  }
  for (let g = 0; g < groups.length; g++) {
    groups[g] = (groups[g] ?? []).sort((a, b) => a.binding - b.binding);
  }
  const entryPoints = new Map<
    string,
    { workgroupSize: [number, number, number] | null; resources: string[] }
  >();
  for (const fn of reflect.entry.compute) {
    entryPoints.set(fn.name, { workgroupSize: fn.workgroupSize, resources: fn.resources.map((r) => r.name) });
  }
  const structs = new Map<string, StructLayout>();
  for (const s of reflect.structs) {
    const fields = new Map<string, FieldLayout>();
    let hostShareable = true;
    try {
      addStructFields(s, '', 0, fields);
    } catch {
      hostShareable = false; // e.g. a struct with bool or matrix members: no host view, still usable in WGSL
    }
    if (hostShareable) structs.set(s.name, { name: s.name, size: s.size, fields });
  }
  return { groups, entryPoints, overrides: new Set(reflect.overrides.map((o) => o.name)), structs };
}

function minBindingSize(type: TypeInfo): number {
  if (type instanceof ArrayInfo && type.count === 0) return type.stride;
  if (type instanceof StructInfo) {
    const last = type.members[type.members.length - 1];
    if (last && last.type instanceof ArrayInfo && last.type.count === 0)
      return last.offset + last.type.stride;
  }
  return type.size;
}

const VECTOR = /^vec([234])(?:<(f32|u32|i32)>|([fiu]))$/;

/** Scalar type and component count of a scalar or vector type, or null. */
function scalarOf(type: TypeInfo): { scalar: ScalarType; components: number } | null {
  const name = type.getTypeName();
  if (name === 'f32' || name === 'u32' || name === 'i32') return { scalar: name, components: 1 };
  const m = VECTOR.exec(name);
  if (!m) return null;
  const suffix = m[2] ?? { f: 'f32', i: 'i32', u: 'u32' }[m[3] as 'f' | 'i' | 'u'];
  return { scalar: suffix as ScalarType, components: Number(m[1]) };
}

function addStructFields(s: StructInfo, prefix: string, base: number, out: Map<string, FieldLayout>): void {
  for (const member of s.members) {
    const path = prefix + member.name;
    const offset = base + member.offset;
    const type = member.type;
    if (type instanceof StructInfo) {
      addStructFields(type, `${path}.`, offset, out);
      continue;
    }
    if (type instanceof ArrayInfo) {
      const element = scalarOf(type.format);
      if (!element) throw new Error(`unsupported array element ${type.format.getTypeName()} in ${path}`);
      out.set(path, { path, offset, ...element, count: type.count, stride: type.stride });
      continue;
    }
    const element = scalarOf(type);
    if (!element) throw new Error(`unsupported member type ${type.getTypeName()} in ${path}`);
    out.set(path, { path, offset, ...element, count: 1, stride: element.components * 4 });
  }
}

const RANGES: Record<ScalarType, [number, number]> = {
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  f32: [-Infinity, Infinity],
};

/**
 * The layout of the host-shareable struct `name` of a WGSL module; throws naming the module (`label`) and the
 * structs it has when there is none.
 */
export function structLayout(code: string, name: string, label = 'WGSL module'): StructLayout {
  const structs = reflectShader(code).structs;
  const layout = structs.get(name);
  if (!layout) {
    throw new RangeError(
      `${label} has no host-shareable struct '${name}'; structs: ${[...structs.keys()].join(', ') || 'none'}`,
    );
  }
  return layout;
}

/**
 * A typed view over a host-shareable struct: fill a uniform by member name, or decode a read-back.
 *
 * @example
 * const params = program.structView('Params').set({ length: n, seed: [lo, hi] });
 * device.queue.writeBuffer(uniformBuffer, 0, params.data);
 */
export class StructView {
  readonly data: ArrayBuffer;
  private readonly view: DataView;

  constructor(
    readonly layout: StructLayout,
    data?: ArrayBuffer,
    private readonly byteOffset = 0,
  ) {
    this.data = data ?? new ArrayBuffer(layout.size);
    this.view = new DataView(this.data);
  }

  /** Sets members by name; vectors and arrays take arrays. Values are range-checked for their WGSL type. */
  set(values: Record<string, number | boolean | ArrayLike<number>>): this {
    for (const [path, value] of Object.entries(values)) {
      const field = this.field(path);
      const items =
        typeof value === 'number' || typeof value === 'boolean' ? [Number(value)] : Array.from(value);
      const expected = field.components * field.count;
      if (items.length !== expected) {
        throw new RangeError(`${this.layout.name}.${path} takes ${expected} value(s), got ${items.length}`);
      }
      items.forEach((x, i) => this.write(field, i, x));
    }
    return this;
  }

  /** Reads a member: a number for a scalar, an array for vectors and arrays. */
  get(path: string): number | number[] {
    const field = this.field(path);
    const out: number[] = [];
    for (let i = 0; i < field.components * field.count; i++) out.push(this.read(field, i));
    return out.length === 1 ? (out[0] as number) : out;
  }

  field(path: string): FieldLayout {
    const field = this.layout.fields.get(path);
    if (!field) {
      throw new RangeError(
        `${this.layout.name} has no member '${path}'; members: ${[...this.layout.fields.keys()].join(', ')}`,
      );
    }
    return field;
  }

  private address(field: FieldLayout, i: number): number {
    const element = Math.floor(i / field.components);
    return this.byteOffset + field.offset + element * field.stride + (i % field.components) * 4;
  }

  private write(field: FieldLayout, i: number, x: number): void {
    const [lo, hi] = RANGES[field.scalar];
    const ok = field.scalar === 'f32' ? !Number.isNaN(x) : Number.isInteger(x) && x >= lo && x <= hi;
    if (!ok) {
      throw new RangeError(
        `${this.layout.name}.${field.path}: ${x} is not a valid ${field.scalar}` +
          (field.scalar === 'f32' ? '' : ` (integers ${lo} … ${hi})`),
      );
    }
    const at = this.address(field, i);
    if (field.scalar === 'f32') this.view.setFloat32(at, x, true);
    else if (field.scalar === 'u32') this.view.setUint32(at, x, true);
    else this.view.setInt32(at, x, true);
  }

  private read(field: FieldLayout, i: number): number {
    const at = this.address(field, i);
    if (field.scalar === 'f32') return this.view.getFloat32(at, true);
    if (field.scalar === 'u32') return this.view.getUint32(at, true);
    return this.view.getInt32(at, true);
  }
}
