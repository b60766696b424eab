/**
 * The thin scheduler: compiled programs (module + reflected layouts + cached pipelines), dispatch
 * sizing, and steps that encode many dispatches into one command encoder submitted once.
 */
import { reflectShader, structLayout, StructView, type ShaderLayout } from './reflect.ts';
import { throwIfLost } from './lost.ts';
import type { GpuTimer } from './timing.ts';

/** WGSL text plus the name every GPU object made from it is labelled with. */
export interface KernelSource {
  label: string;
  code: string;
}

/** Joins WGSL fragments into one module (WGSL has no imports). `enable` directives must come first. */
export function composeWgsl(...parts: string[]): string {
  return parts.join('\n');
}

export type OverrideValues = Record<string, number | boolean>;

const programs = new WeakMap<GPUDevice, Map<string, Program>>();

/**
 * One WGSL module compiled for one device, with its bind-group layouts derived by reflection and its
 * pipelines cached by entry point and override constants (compile-time facts only). Programs are
 * cached per device in a WeakMap, so a destroyed device's programs are released with it.
 */
export class Program {
  readonly module: GPUShaderModule;
  readonly layout: ShaderLayout;
  readonly bindGroupLayouts: GPUBindGroupLayout[];
  readonly pipelineLayout: GPUPipelineLayout;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  private constructor(
    readonly device: GPUDevice,
    readonly source: KernelSource,
  ) {
    const { label, code } = source;
    this.layout = reflectShader(code);
    this.module = device.createShaderModule({ label, code });
    this.bindGroupLayouts = this.layout.groups.map((bindings, group) =>
      device.createBindGroupLayout({
        label: `${label} group ${group}`,
        entries: bindings.map((b) => ({
          binding: b.binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b.kind, minBindingSize: b.minBindingSize },
        })),
      }),
    );
    this.pipelineLayout = device.createPipelineLayout({ label, bindGroupLayouts: this.bindGroupLayouts });
  }

  /** The program for `source` on `device`, compiled on first use. */
  static get(device: GPUDevice, source: KernelSource): Program {
    let perDevice = programs.get(device);
    if (!perDevice) programs.set(device, (perDevice = new Map()));
    const key = `${source.label}\u0000${source.code}`;
    let program = perDevice.get(key);
    if (!program) perDevice.set(key, (program = new Program(device, source)));
    return program;
  }

  /** The compute pipeline for an entry point and override constants (cached). */
  pipeline(entryPoint: string, constants: OverrideValues = {}): GPUComputePipeline {
    if (!this.layout.entryPoints.has(entryPoint)) {
      throw new RangeError(
        `${this.source.label} has no compute entry point '${entryPoint}'; it has: ${[...this.layout.entryPoints.keys()].join(', ')}`,
      );
    }
    for (const name of Object.keys(constants)) {
      if (!this.layout.overrides.has(name)) {
        throw new RangeError(
          `${this.source.label} declares no override '${name}'; overrides: ${[...this.layout.overrides].join(', ') || 'none'}`,
        );
      }
    }
    const sorted = Object.entries(constants).sort(([a], [b]) => a.localeCompare(b));
    const key = `${entryPoint}${JSON.stringify(sorted)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const numeric = Object.fromEntries(sorted.map(([k, v]) => [k, Number(v)]));
      pipeline = this.device.createComputePipeline({
        label: `${this.source.label}.${entryPoint}`,
        layout: this.pipelineLayout,
        compute: { module: this.module, entryPoint, constants: numeric },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A bind group for `group`, with resources given by their WGSL variable names (all required). */
  bindGroup(
    group: number,
    resources: Record<string, GPUBuffer | GPUBufferBinding>,
    label?: string,
  ): GPUBindGroup {
    const bindings = this.layout.groups[group];
    const layout = this.bindGroupLayouts[group];
    if (!bindings || !layout) throw new RangeError(`${this.source.label} has no bind group ${group}`);
    const names = new Set(bindings.map((b) => b.name));
    const unknown = Object.keys(resources).filter((n) => !names.has(n));
    const missing = bindings.filter((b) => !(b.name in resources)).map((b) => b.name);
    if (unknown.length || missing.length) {
      throw new RangeError(
        `${this.source.label} group ${group}: ` +
          (missing.length ? `missing ${missing.join(', ')}` : '') +
          (missing.length && unknown.length ? '; ' : '') +
          (unknown.length ? `unknown ${unknown.join(', ')}` : '') +
          ` (bindings: ${[...names].join(', ')})`,
      );
    }
    return this.device.createBindGroup({
      label: label ?? `${this.source.label} group ${group}`,
      layout,
      entries: bindings.map((b) => {
        const r = resources[b.name] as GPUBuffer | GPUBufferBinding;
        return { binding: b.binding, resource: 'buffer' in r ? r : { buffer: r } };
      }),
    });
  }

  /** A typed view over a struct declared in this module (e.g. a uniform's parameter struct). */
  structView(name: string, data?: ArrayBuffer, byteOffset = 0): StructView {
    return new StructView(structLayout(this.source.code, name, this.source.label), data, byteOffset);
  }
}

/**
 * Maps a 1D count of workgroups onto a grid within `maxComputeWorkgroupsPerDimension`. Shaders recover
 * the linear index with `linearWorkgroupIndex` (shaders/common/dispatch.wgsl) and skip indices ≥ total.
 */
export function workgroupGrid(total: number, maxPerDimension: number): [number, number, number] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`workgroup count ${total} is not a count`);
  if (total <= maxPerDimension) return [total, 1, 1];
  const x = maxPerDimension;
  const rows = Math.ceil(total / x);
  if (rows <= maxPerDimension) return [x, rows, 1];
  const z = Math.ceil(rows / maxPerDimension);
  if (z > maxPerDimension) {
    throw new RangeError(`${total} workgroups exceed ${maxPerDimension}³, the most one dispatch can address`);
  }
  return [x, maxPerDimension, z];
}

/** Anything that records commands into an encoder (a kernel dispatch, a copy, a reduction). */
export interface Encodable {
  encode(encoder: GPUCommandEncoder, timer?: GpuTimer): void;
  /**
   * Optional: records only dispatches into an already open compute pass, so consecutive compute items
   * of a step share one pass (pass begin/end is not free, and dominates small dispatches).
   */
  encodeInPass?(pass: GPUComputePassEncoder): void;
}

export interface DispatchOptions {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroups: GPUBindGroup[];
  /** A linear workgroup count (mapped onto a grid) or an explicit grid. */
  workgroups: number | [number, number, number];
}

/** One compute dispatch in its own labelled pass (so it can carry timestamp writes). */
export class Dispatch implements Encodable {
  readonly grid: [number, number, number];

  constructor(
    device: GPUDevice,
    readonly options: DispatchOptions,
  ) {
    const w = options.workgroups;
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    this.grid = typeof w === 'number' ? workgroupGrid(w, max) : w;
    for (const n of this.grid) {
      if (n > max)
        throw new RangeError(`${options.label}: grid ${this.grid.join('×')} exceeds ${max} per dimension`);
    }
  }

  encode(encoder: GPUCommandEncoder, timer?: GpuTimer): void {
    const { label } = this.options;
    const pass = encoder.beginComputePass({ label, timestampWrites: timer?.timestampWrites(label) });
    this.encodeInPass(pass);
    pass.end();
  }

  encodeInPass(pass: GPUComputePassEncoder): void {
    const { pipeline, bindGroups } = this.options;
    pass.setPipeline(pipeline);
    bindGroups.forEach((g, i) => pass.setBindGroup(i, g));
    pass.dispatchWorkgroups(...this.grid);
  }
}

/** A buffer-to-buffer copy as a step item (e.g. saving a result into a time series). */
export class Copy implements Encodable {
  constructor(
    readonly src: GPUBuffer,
    readonly srcOffset: number,
    readonly dst: GPUBuffer,
    readonly dstOffset: number,
    readonly size: number,
  ) {}

  encode(encoder: GPUCommandEncoder): void {
    encoder.copyBufferToBuffer(this.src, this.srcOffset, this.dst, this.dstOffset, this.size);
  }
}

/**
 * Encodes a logical step (any number of dispatches and copies) into one command encoder and submits it
 * once. Consecutive compute items share one compute pass (dispatches in a pass see each other's writes,
 * in order); with a timer, each item gets its own timed pass and the queries are resolved in the same
 * submission. Throws DeviceLostError once the device is known to be lost.
 */
export function submitStep(device: GPUDevice, label: string, items: Encodable[], timer?: GpuTimer): void {
  throwIfLost(device); // a lost device drops submissions silently: fail the step instead
  const encoder = device.createCommandEncoder({ label });
  let pass: GPUComputePassEncoder | null = null;
  for (const item of items) {
    if (!timer && item.encodeInPass) {
      pass ??= encoder.beginComputePass({ label });
      item.encodeInPass(pass);
    } else {
      pass?.end();
      pass = null;
      item.encode(encoder, timer);
    }
  }
  pass?.end();
  timer?.resolve(encoder);
  device.queue.submit([encoder.finish({ label })]);
}
