/**
 * Live lattice view: draws one replica of an IsingEngine (or of any spin buffer: a block-spin level)
 * into a WebGPU canvas with a render pass that reads the spin buffer directly (shaders/ising/view.wgsl).
 * Nothing is read back to the CPU; a frame is one small uniform write (only when the canvas size or the
 * replica changed), one render pass and one submission.
 *
 * @example
 * const engine = new IsingEngine(device, { L: 512, T: 2.269, kernel: 'packed' });
 * const renderer = new IsingRenderer(device, canvas.getContext('webgpu')!, engine);
 * await engine.run({ sweeps: 4 });
 * renderer.render();
 */
import spinViewWgsl from '../../shaders/ising/view.wgsl?raw';
import { submitStep, type Encodable } from '../gpu/kernel.ts';
import { reflectShader, structLayout, StructView } from '../gpu/reflect.ts';
import type { IsingEngine } from './engine.ts';

/** `#rrggbb` colours of the view (sRGB). */
export interface SpinPalette {
  /** Colour of s = +1. */
  up: string;
  /** Colour of s = −1. */
  down: string;
  /** Colour of the target outside the lattice (letterbox margins). */
  background: string;
}

/**
 * Default palette: amber for +1, deep blue for −1. Blue/orange stays distinct for every common colour
 * vision deficiency, and the two also differ strongly in lightness, so they separate in greyscale too.
 */
export const SPIN_PALETTE: Readonly<SpinPalette> = Object.freeze({
  up: '#f2a93b',
  down: '#1f3a80',
  background: '#ffffff',
});

/**
 * How the lattice is fitted to the target: `integer` (default) uses a whole number of pixels per site
 * whenever the lattice fits (crisp, equal squares), centring it; `fit` scales it to fill the target.
 * Either way the aspect ratio is kept, and a lattice larger than the target is sampled nearest-site.
 */
export type SpinViewScaling = 'integer' | 'fit';

/**
 * How a buffer holds its spins: `bits`, the Ising engines' 1 bit per spin (bit = 1 for s = +1, 32 sites
 * a u32 word, row-major); `f32`, one f32 per site, up where > 0 (the block-spin pipeline's levels).
 */
export type SpinEncoding = 'bits' | 'f32';

/** A lattice, or a batch of them one after another, in a GPU storage buffer: what a SpinRenderer draws. */
export interface SpinBuffer {
  spins: GPUBuffer;
  encoding: SpinEncoding;
  lx: number;
  ly: number;
  /** Configurations in the buffer. */
  replicas: number;
  /** 32-bit words from one configuration to the next (`bits`: ⌈lx·ly/32⌉ or more; `f32`: lx·ly or more). */
  stride: number;
}

export interface SpinRendererOptions {
  /** Canvas format (default `navigator.gpu.getPreferredCanvasFormat()`). */
  format?: GPUTextureFormat;
  /** Replica to draw (default 0). */
  replica?: number;
  palette?: Partial<SpinPalette>;
  scaling?: SpinViewScaling;
  /** Prefix of every GPU object's label (default `spin view Lx×Ly`; IsingRenderer: `ising view Lx×Ly`). */
  label?: string;
}

export type IsingRendererOptions = SpinRendererOptions;

/** Where the lattice lands in a target: its top-left pixel and the pixels per site along each axis. */
export interface SpinViewPlacement {
  originX: number;
  originY: number;
  pixelsPerSite: number;
}

/**
 * Places an `lx × ly` lattice in a `width × height` target (pixels), centred, aspect ratio kept.
 *
 * @example
 * spinViewPlacement(128, 128, 560, 560); // { originX: 24, originY: 24, pixelsPerSite: 4 }
 */
export function spinViewPlacement(
  lx: number,
  ly: number,
  width: number,
  height: number,
  scaling: SpinViewScaling = 'integer',
): SpinViewPlacement {
  let pixelsPerSite = Math.min(width / lx, height / ly);
  if (scaling === 'integer' && pixelsPerSite >= 1) pixelsPerSite = Math.floor(pixelsPerSite);
  const origin = (extent: number, sites: number): number => {
    const margin = (extent - sites * pixelsPerSite) / 2;
    return scaling === 'integer' && pixelsPerSite >= 1 ? Math.floor(margin) : margin;
  };
  return { originX: origin(width, lx), originY: origin(height, ly), pixelsPerSite };
}

const HEX = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;

/** `#rrggbb` → RGBA in 0 … 1, linearised for `-srgb` targets (which re-encode on write). */
function colour(name: string, value: string, srgbTarget: boolean): [number, number, number, number] {
  const m = HEX.exec(value);
  if (!m) throw new RangeError(`palette.${name} '${value}' must be a #rrggbb colour`);
  const channel = (hex: string): number => {
    const c = parseInt(hex, 16) / 255;
    return srgbTarget ? (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4) : c;
  };
  return [channel(m[1] as string), channel(m[2] as string), channel(m[3] as string), 1];
}

const SOURCE_LABEL = 'ising-view';
const PARAMS_STRUCT = 'SpinViewParams';

interface DeviceResources {
  module: GPUShaderModule;
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  pipelines: Map<string, GPURenderPipeline>;
}

/** Per-device module, layouts and pipelines (by storage and target format): freed with a destroyed or lost device. */
const cache = new WeakMap<GPUDevice, DeviceResources>();

function resourcesFor(device: GPUDevice): DeviceResources {
  let resources = cache.get(device);
  if (!resources) {
    const layout = reflectShader(spinViewWgsl);
    const bindings = layout.groups[0] ?? [];
    const bindGroupLayout = device.createBindGroupLayout({
      label: `${SOURCE_LABEL} group 0`,
      entries: bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.FRAGMENT,
        buffer: { type: b.kind, minBindingSize: b.minBindingSize },
      })),
    });
    resources = {
      module: device.createShaderModule({ label: SOURCE_LABEL, code: spinViewWgsl }),
      bindGroupLayout,
      pipelineLayout: device.createPipelineLayout({
        label: SOURCE_LABEL,
        bindGroupLayouts: [bindGroupLayout],
      }),
      pipelines: new Map(),
    };
    cache.set(device, resources);
  }
  return resources;
}

/** The fragment entry point of each storage (shaders/ising/view.wgsl). */
const SHADE: Record<SpinEncoding, string> = { bits: 'shadeSpins', f32: 'shadeValues' };

function pipelineFor(device: GPUDevice, format: GPUTextureFormat, encoding: SpinEncoding): GPURenderPipeline {
  const resources = resourcesFor(device);
  const key = `${encoding} ${format}`;
  let pipeline = resources.pipelines.get(key);
  if (!pipeline) {
    pipeline = device.createRenderPipeline({
      label: `${SOURCE_LABEL} ${key}`,
      layout: resources.pipelineLayout,
      vertex: { module: resources.module, entryPoint: 'fullScreenTriangle' },
      fragment: { module: resources.module, entryPoint: SHADE[encoding], targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    resources.pipelines.set(key, pipeline);
  }
  return pipeline;
}

/** Checks that `source` describes a buffer that holds all its configurations. */
function checkSpinBuffer(source: SpinBuffer): void {
  const { encoding, lx, ly, replicas, stride, spins } = source;
  if (encoding !== 'bits' && encoding !== 'f32') {
    throw new RangeError(`encoding '${String(encoding)}' must be 'bits' or 'f32'`);
  }
  for (const [name, value] of [
    ['lx', lx],
    ['ly', ly],
    ['replicas', replicas],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} ${value} must be an integer ≥ 1`);
  }
  const words = encoding === 'bits' ? Math.ceil((lx * ly) / 32) : lx * ly;
  if (!Number.isInteger(stride) || stride < words) {
    throw new RangeError(
      `stride ${stride} must be an integer ≥ ${words} words (${lx}×${ly} spins, ${encoding})`,
    );
  }
  const bytes = replicas * stride * 4;
  if (spins.size < bytes) {
    throw new RangeError(
      `spin buffer '${spins.label}' has ${spins.size} bytes; ${replicas} × ${stride} words need ${bytes}`,
    );
  }
}

/**
 * Draws replica `replica` of a spin buffer into a canvas, straight from the buffer (IsingRenderer for an
 * IsingEngine; a block-spin level with `encoding: 'f32'`). It configures the canvas context (opaque, with
 * `format`); `render()` encodes one render pass and submits it, `encode()` records it into a caller's
 * encoder (several canvases, one submission). Destroy the renderer before (or with) the buffer's owner:
 * it binds the buffer. Made for 2D lattices; a 1D ring is drawn as a single row.
 *
 * @example
 * const blocks = new BlockSpinPipeline(device, { dims: 2, L: 64, batch: 4, levels: 2, rule: 'majority', seed: 1 });
 * const view = new SpinRenderer(device, context, {
 *   spins: blocks.levelBuffers[1]!, encoding: 'f32', lx: 32, ly: 32, replicas: 4, stride: 32 * 32,
 * });
 * view.render();
 */
export class SpinRenderer implements Encodable {
  readonly format: GPUTextureFormat;
  readonly scaling: SpinViewScaling;
  /** The colours drawn (the defaults merged with `options.palette`). */
  readonly palette: Readonly<SpinPalette>;
  readonly label: string;
  private readonly params: StructView;
  private readonly uniforms: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  private readonly pipeline: GPURenderPipeline;
  private readonly clearValue: GPUColor;
  private shownReplica: number;
  /** Target size and replica the uniform was last written for (`null`: never written). */
  private written: { width: number; height: number; replica: number } | null = null;
  private current: SpinViewPlacement = { originX: 0, originY: 0, pixelsPerSite: 1 };
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly context: GPUCanvasContext,
    /** The buffer drawn and its layout. */
    readonly source: Readonly<SpinBuffer>,
    options: SpinRendererOptions = {},
  ) {
    checkSpinBuffer(source);
    this.format = options.format ?? navigator.gpu.getPreferredCanvasFormat();
    this.scaling = options.scaling ?? 'integer';
    if (this.scaling !== 'integer' && this.scaling !== 'fit') {
      throw new RangeError(`scaling '${String(this.scaling)}' must be 'integer' or 'fit'`);
    }
    this.label = options.label ?? `spin view ${source.lx}×${source.ly}`;
    this.shownReplica = this.checkReplica(options.replica ?? 0);

    const srgb = this.format.endsWith('-srgb');
    const palette = Object.freeze({ ...SPIN_PALETTE, ...options.palette });
    this.palette = palette;
    const up = colour('up', palette.up, srgb);
    const down = colour('down', palette.down, srgb);
    const background = colour('background', palette.background, srgb);
    this.params = new StructView(structLayout(spinViewWgsl, PARAMS_STRUCT, SOURCE_LABEL)).set({
      upColour: up,
      downColour: down,
      background,
      lx: source.lx,
      ly: source.ly,
    });
    const [r, g, b] = background;
    this.clearValue = { r, g, b, a: 1 };

    context.configure({ device, format: this.format, alphaMode: 'opaque' });
    this.pipeline = pipelineFor(device, this.format, source.encoding);
    this.uniforms = device.createBuffer({
      label: `${this.label} params`,
      size: this.params.layout.size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.bindGroup = device.createBindGroup({
      label: `${this.label} group 0`,
      layout: resourcesFor(device).bindGroupLayout,
      entries: [
        { binding: this.bindingOf('params'), resource: { buffer: this.uniforms } },
        { binding: this.bindingOf('spins'), resource: { buffer: source.spins } },
      ],
    });
  }

  private bindingOf(name: string): number {
    const info = reflectShader(spinViewWgsl).groups[0]?.find((b) => b.name === name);
    if (!info) throw new Error(`${SOURCE_LABEL}: no binding '${name}' in group 0`);
    return info.binding;
  }

  private checkReplica(replica: number): number {
    const replicas = this.source.replicas;
    if (!Number.isInteger(replica) || replica < 0 || replica >= replicas) {
      throw new RangeError(`replica ${replica} must be an integer in 0 … ${replicas - 1}`);
    }
    return replica;
  }

  /** The replica drawn (changeable at any time; applies from the next frame). */
  get replica(): number {
    return this.shownReplica;
  }

  set replica(replica: number) {
    this.shownReplica = this.checkReplica(replica);
  }

  /** Where the lattice was placed in the last frame (for hit-testing and tests). */
  get placement(): SpinViewPlacement {
    return { ...this.current };
  }

  /**
   * Records the render pass into `encoder`, drawing into the canvas's current texture. When the canvas
   * size or the replica changed since the last frame, first queues the new placement into the uniform
   * (a queue write, so it lands before this encoder's submission).
   */
  encode(encoder: GPUCommandEncoder): void {
    if (this.destroyed) throw new Error(`${this.label}: this renderer was destroyed`);
    const texture = this.context.getCurrentTexture();
    this.update(texture.width, texture.height);
    const pass = encoder.beginRenderPass({
      label: `${this.label} pass`,
      colorAttachments: [
        {
          view: texture.createView({ label: `${this.label} target` }),
          clearValue: this.clearValue,
          loadOp: 'clear',
          storeOp: 'store',
        },
      ],
    });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.draw(3);
    pass.end();
  }

  /** False while the canvas has no pixels (not laid out yet): nothing to draw into. */
  get drawable(): boolean {
    const canvas = this.context.canvas;
    return canvas.width > 0 && canvas.height > 0;
  }

  /** Draws the current spins: one render pass, one submission. Skipped while the canvas has no pixels. */
  render(): void {
    if (this.drawable) submitStep(this.device, this.label, [this]);
  }

  private update(width: number, height: number): void {
    const w = this.written;
    if (w && w.width === width && w.height === height && w.replica === this.shownReplica) return;
    const { lx, ly, stride } = this.source;
    this.current = spinViewPlacement(lx, ly, width, height, this.scaling);
    this.params.set({
      origin: [this.current.originX, this.current.originY],
      pixelsPerSite: this.current.pixelsPerSite,
      firstWord: this.shownReplica * stride,
    });
    this.device.queue.writeBuffer(this.uniforms, 0, this.params.data);
    this.written = { width, height, replica: this.shownReplica };
  }

  /** Frees the uniform buffer. The canvas stays configured (it belongs to the caller). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.uniforms.destroy();
  }
}

/**
 * Draws replica `replica` of an IsingEngine into a canvas, straight from `engine.spins` (a SpinRenderer
 * of the engine's 1-bit spins). Destroy the renderer before (or with) its engine.
 */
export class IsingRenderer extends SpinRenderer {
  constructor(
    device: GPUDevice,
    context: GPUCanvasContext,
    readonly engine: IsingEngine,
    options: IsingRendererOptions = {},
  ) {
    const c = engine.config;
    super(
      device,
      context,
      { spins: engine.spins, encoding: 'bits', lx: c.Lx, ly: c.Ly, replicas: c.replicas, stride: c.words },
      { ...options, label: options.label ?? `ising view ${c.Lx}×${c.Ly}` },
    );
  }
}
