/**
 * Device acquisition for the browser (`navigator.gpu`) and Node (Dawn, through the `webgpu` package).
 *
 * Domain engines never call this: they are handed a `GPUDevice`, so an app that already owns one can
 * embed blockspin. This module is for the CLI, the demo, the benchmarks and the tests.
 */

/** Limits blockspin raises from the WebGPU defaults to what the adapter really offers. */
export const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Optional features enabled whenever the adapter has them. */
export const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;

/** Where the adapter came from. */
export type Backend = 'browser' | 'dawn';

/** A JSON-friendly description of an adapter, as printed by `blockspin info --json`. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: Backend;
  /** True for a CPU implementation (SwiftShader): correct, but orders of magnitude slower than a GPU. */
  software: boolean;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  /** Everything the adapter supports. */
  features: string[];
  /** What this device enabled (the optional features blockspin uses, plus any required ones). */
  enabledFeatures: string[];
  /** The adapter's limits (blockspin requests the ones in REQUESTED_LIMITS at these values). */
  limits: Record<string, number>;
}

/** Why a device went away: the `lost` event's detail. */
export interface DeviceLostDetail {
  reason: GPUDeviceLostReason;
  message: string;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Features the caller cannot work without; acquisition fails, naming them, when the adapter lacks one. */
  requiredFeatures?: GPUFeatureName[];
  /** Leave out optional features (e.g. to test the portable path of a kernel with a subgroup fast path). */
  disableFeatures?: GPUFeatureName[];
  label?: string;
  /** Where one-time notices go (Node default: stderr). */
  log?: (message: string) => void;
}

/** Thrown when no WebGPU implementation or adapter can be found. */
export class WebGPUUnavailableError extends Error {
  override name = 'WebGPUUnavailableError';
}

export const WEBGPU_HELP =
  'WebGPU is needed. Browsers: Chrome/Edge 113+ (Linux: chrome://flags/#enable-unsafe-webgpu and Vulkan), ' +
  'Safari 26+, Firefox 141+ (Windows) or Nightly. Pages must be served from https:// or http://localhost. ' +
  'Node: the `webgpu` package (Dawn) with a Vulkan driver; without a GPU on Linux install Chromium ' +
  '(apt-get install chromium libvulkan1) so its SwiftShader driver can be used.';

/**
 * An acquired adapter + device. Emits `lost` (a `CustomEvent<DeviceLostDetail>`) when the device is lost,
 * whether destroyed on purpose (`reason: 'destroyed'`) or by the driver.
 *
 * @example
 * const gpu = await GpuContext.acquire();
 * gpu.addEventListener('lost', (e) => console.warn((e as CustomEvent<DeviceLostDetail>).detail.message));
 * const engine = new SomeEngine(gpu.device);
 */
export class GpuContext extends EventTarget {
  /** Resolves once, when the device is lost. */
  readonly lost: Promise<DeviceLostDetail>;

  private constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly backend: Backend,
  ) {
    super();
    this.lost = device.lost.then((info) => {
      const detail: DeviceLostDetail = { reason: info.reason, message: info.message };
      this.dispatchEvent(new CustomEvent<DeviceLostDetail>('lost', { detail }));
      return detail;
    });
  }

  /** Finds WebGPU (browser or Node), picks an adapter and requests a device with its real limits. */
  static async acquire(options: AcquireOptions = {}): Promise<GpuContext> {
    const { gpu, backend } = await findGpu(options.log);
    const adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference ?? 'high-performance',
    });
    if (!adapter) throw new WebGPUUnavailableError(`navigator.gpu gave no adapter. ${WEBGPU_HELP}`);
    const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
    if (missing.length > 0) {
      throw new WebGPUUnavailableError(
        `the adapter lacks required feature(s) ${missing.join(', ')}; it has: ${[...adapter.features].sort().join(', ')}`,
      );
    }
    const disabled = new Set<string>(options.disableFeatures ?? []);
    const features = new Set<GPUFeatureName>(options.requiredFeatures ?? []);
    for (const f of OPTIONAL_FEATURES) if (adapter.features.has(f) && !disabled.has(f)) features.add(f);
    const requiredLimits: Record<string, number> = {};
    for (const name of REQUESTED_LIMITS) {
      const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
      if (typeof value === 'number') requiredLimits[name] = value;
    }
    const device = await adapter.requestDevice({
      label: options.label ?? 'blockspin',
      requiredFeatures: [...features],
      requiredLimits,
    });
    const loseAfter = testLossAfter();
    if (loseAfter !== null) loseDeviceAfterSubmissions(device, loseAfter);
    return new GpuContext(adapter, device, backend);
  }

  /** A JSON-friendly description of the adapter (its limits and features) and the device's enabled features. */
  get summary(): AdapterSummary {
    return summarize(this.adapter, this.device, this.backend);
  }

  /** Destroys the device (frees all its memory); `lost` then fires with reason `destroyed`. */
  destroy(): void {
    this.device.destroy();
  }
}

/**
 * Test hook: `BLOCKSPIN_TEST_LOSE_DEVICE_AFTER=N` (Node only) makes every device acquired here destroy
 * itself right after its N-th `queue.submit`, so tests of CLI subprocesses can lose the device mid-run.
 */
export const TEST_LOSE_DEVICE_ENV = 'BLOCKSPIN_TEST_LOSE_DEVICE_AFTER';

function testLossAfter(): number | null {
  const value = typeof process !== 'undefined' ? process.env?.[TEST_LOSE_DEVICE_ENV] : undefined;
  if (value === undefined || value === '') return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${TEST_LOSE_DEVICE_ENV}=${value} must be a non-negative integer`);
  }
  return n;
}

/** Destroys `device` right after its `count`-th queue submission (counted from now; 0: at once). */
export function loseDeviceAfterSubmissions(device: GPUDevice, count: number): void {
  if (count === 0) {
    device.destroy();
    return;
  }
  const queue = device.queue;
  const submit = queue.submit.bind(queue);
  let submitted = 0;
  queue.submit = (buffers: Iterable<GPUCommandBuffer>): undefined => {
    submit(buffers);
    if (++submitted === count) device.destroy();
    return undefined;
  };
}

/**
 * True for a CPU implementation of WebGPU (SwiftShader, llvmpipe/lavapipe, WARP): there workgroup memory is
 * ordinary memory and barriers are expensive, so kernels that tile through workgroup memory lose.
 */
export function isSoftwareAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  return (
    info.isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|warp|basic render/i.test(
      `${info.vendor} ${info.architecture} ${info.device} ${info.description}`,
    )
  );
}

/** Describes an adapter/device pair; works for a device that an embedding app acquired itself. */
export function summarize(adapter: GPUAdapter, device: GPUDevice, backend: Backend): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  // GPUSupportedLimits has getters on its prototype: walk them rather than Object.keys.
  for (let proto = Object.getPrototypeOf(adapter.limits); proto && proto !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = (adapter.limits as unknown as Record<string, unknown>)[key];
      if (typeof value === 'number') limits[key] = value;
    }
    proto = Object.getPrototypeOf(proto);
  }
  const sortedLimits = Object.fromEntries(Object.entries(limits).sort(([a], [b]) => a.localeCompare(b)));
  const sub = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend,
    software: isSoftwareAdapter(info),
    subgroupMinSize: sub.subgroupMinSize ?? null,
    subgroupMaxSize: sub.subgroupMaxSize ?? null,
    features: [...adapter.features].sort(),
    enabledFeatures: [...device.features].sort(),
    limits: sortedLimits,
  };
}

async function findGpu(log?: (message: string) => void): Promise<{ gpu: GPU; backend: Backend }> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) {
    const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
    if (!gpu) throw new WebGPUUnavailableError(`this browser has no navigator.gpu. ${WEBGPU_HELP}`);
    return { gpu, backend: 'browser' };
  }
  const { nodeGpu } = await import('./node-gpu.ts');
  return { gpu: await nodeGpu(log ?? ((m) => process.stderr.write(`${m}\n`))), backend: 'dawn' };
}

/**
 * The adapter in a few fields, for the JSON of commands that compute something (`ising`, `generate`, `rbm`):
 * enough to tell which hardware produced a figure. The full report (every limit and feature) is `info --json`.
 */
export interface AdapterBrief {
  vendor: string;
  architecture: string;
  description: string;
  backend: AdapterSummary['backend'];
  /** True for a CPU implementation (SwiftShader): correct, but orders of magnitude slower than a GPU. */
  software: boolean;
  /** The optional features this device enabled (kernels take faster paths with `subgroups`). */
  enabledFeatures: string[];
  maxBufferSize: number | null;
  maxStorageBufferBindingSize: number | null;
}

/** {@link AdapterBrief} of a full adapter summary. */
export function adapterBrief(s: AdapterSummary): AdapterBrief {
  return {
    vendor: s.vendor,
    architecture: s.architecture,
    description: s.description || s.device,
    backend: s.backend,
    software: s.software,
    enabledFeatures: s.enabledFeatures,
    maxBufferSize: s.limits.maxBufferSize ?? null,
    maxStorageBufferBindingSize: s.limits.maxStorageBufferBindingSize ?? null,
  };
}
