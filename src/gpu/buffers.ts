/** Buffer helpers: create (with a limit check that names the numbers), upload, read back. */
import { throwIfLost, whileAlive } from './lost.ts';

export interface BufferOptions {
  label: string;
  /** Bytes; rounded up to a multiple of 4. */
  size: number;
  usage: GPUBufferUsageFlags;
  /** Initial contents (copied in at creation). */
  contents?: ArrayBuffer | ArrayBufferView;
}

const MiB = 1024 * 1024;

function describeBytes(n: number): string {
  return n >= 1024 * MiB ? `${(n / (1024 * MiB)).toFixed(2)} GiB` : `${(n / MiB).toFixed(1)} MiB`;
}

/** Throws unless `bytes` fit in one buffer and one storage binding on this device. */
export function checkStorageSize(device: GPUDevice, what: string, bytes: number): void {
  const limit = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
  if (!Number.isFinite(bytes) || bytes > limit) {
    throw new RangeError(
      `${what} needs ${describeBytes(bytes)} (${bytes} bytes); this adapter allows ${describeBytes(limit)} per storage buffer`,
    );
  }
}

/** Creates a labelled buffer, optionally filled with `contents`. */
export function createBuffer(device: GPUDevice, options: BufferOptions): GPUBuffer {
  const { label, usage, contents } = options;
  const size = Math.max(4, Math.ceil(options.size / 4) * 4);
  if (size > device.limits.maxBufferSize) {
    throw new RangeError(
      `${label} needs ${describeBytes(size)}; this adapter allows ${describeBytes(device.limits.maxBufferSize)} per buffer`,
    );
  }
  const buffer = device.createBuffer({ label, size, usage, mappedAtCreation: contents !== undefined });
  if (contents !== undefined) {
    const bytes =
      contents instanceof ArrayBuffer
        ? new Uint8Array(contents)
        : new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength);
    if (bytes.byteLength > size)
      throw new RangeError(`${label}: ${bytes.byteLength} bytes do not fit in ${size}`);
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
  }
  return buffer;
}

/** A storage buffer that can also be copied from and to. */
export function createStorageBuffer(
  device: GPUDevice,
  label: string,
  size: number,
  contents?: ArrayBuffer | ArrayBufferView,
): GPUBuffer {
  checkStorageSize(device, label, size);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  return createBuffer(device, { label, size, usage, contents });
}

/** A uniform buffer sized for `data`, updated later with `queue.writeBuffer`. */
export function createUniformBuffer(device: GPUDevice, label: string, data: ArrayBuffer): GPUBuffer {
  const usage = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  return createBuffer(device, { label, size: data.byteLength, usage, contents: data });
}

/** Writes `data` into `buffer` at `offset` (queue write: ordered before later submissions). */
export function uploadBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  data: ArrayBuffer | ArrayBufferView,
  offset = 0,
): void {
  if (data instanceof ArrayBuffer) device.queue.writeBuffer(buffer, offset, data);
  else device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Copies `size` bytes of `buffer` from `offset` into a fresh ArrayBuffer (one staging buffer, destroyed
 * after). Rejects with DeviceLostError when the device is or becomes lost.
 */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  offset = 0,
  size = buffer.size - offset,
): Promise<ArrayBuffer> {
  const [data] = await readBuffers(device, [{ buffer, offset, size }], `${buffer.label} read-back`);
  return data as ArrayBuffer;
}

/** One range of a buffer to read back. */
export interface ReadRange {
  buffer: GPUBuffer;
  offset?: number;
  /** Bytes (default: to the end of the buffer). */
  size?: number;
}

/**
 * Reads several buffer ranges with one staging buffer, one submission and one map (one round trip instead
 * of one per range); resolves with one ArrayBuffer per range. Rejects with DeviceLostError like readBuffer.
 */
export async function readBuffers(
  device: GPUDevice,
  ranges: ReadRange[],
  label = 'read-back',
): Promise<ArrayBuffer[]> {
  throwIfLost(device);
  const layout = ranges.map((r) => {
    const offset = r.offset ?? 0;
    const size = r.size ?? r.buffer.size - offset;
    return { ...r, offset, size, padded: Math.ceil(size / 4) * 4 };
  });
  const starts: number[] = [];
  let total = 0;
  for (const r of layout) {
    starts.push(total);
    total += r.padded;
  }
  const staging = device.createBuffer({
    label,
    size: Math.max(4, total),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label });
    layout.forEach((r, i) => {
      if (r.padded > 0)
        encoder.copyBufferToBuffer(r.buffer, r.offset, staging, starts[i] as number, r.padded);
    });
    device.queue.submit([encoder.finish()]);
    await whileAlive(device, staging.mapAsync(GPUMapMode.READ));
    const mapped = staging.getMappedRange();
    return layout.map((r, i) => mapped.slice(starts[i] as number, (starts[i] as number) + r.size));
  } finally {
    staging.destroy();
  }
}
