/**
 * GPU timing with timestamp queries when the device has `timestamp-query`; otherwise callers fall back
 * to CPU wall time around `queue.onSubmittedWorkDone()`. Used by `bench/`, never by tests.
 */

/** Per-pass GPU durations collected by a `GpuTimer`. */
export interface PassTiming {
  label: string;
  ms: number;
}

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readBuffer: GPUBuffer;
  private labels: string[] = [];

  /** Null when the device lacks `timestamp-query`. */
  static create(device: GPUDevice, capacity = 256): GpuTimer | null {
    return device.features.has('timestamp-query') ? new GpuTimer(device, capacity) : null;
  }

  private constructor(
    private readonly device: GPUDevice,
    readonly capacity: number,
  ) {
    this.querySet = device.createQuerySet({
      label: 'blockspin timer',
      type: 'timestamp',
      count: 2 * capacity,
    });
    const size = 16 * capacity;
    this.resolveBuffer = device.createBuffer({
      label: 'blockspin timer resolve',
      size,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuffer = device.createBuffer({
      label: 'blockspin timer read',
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Timestamp writes for the next pass (undefined once `capacity` passes are recorded). */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= this.capacity) return undefined;
    const i = this.labels.push(label) - 1;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Resolves the recorded queries; call at the end of the encoder that wrote them. */
  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (n === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, 16 * n);
  }

  /** Reads the durations of the passes recorded since the last read, and starts over. */
  async read(): Promise<PassTiming[]> {
    const labels = this.labels;
    this.labels = [];
    if (labels.length === 0) return [];
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, 16 * labels.length);
    const stamps = new BigInt64Array(this.readBuffer.getMappedRange(0, 16 * labels.length).slice(0));
    this.readBuffer.unmap();
    return labels.map((label, i) => ({
      label,
      ms: Number((stamps[2 * i + 1] as bigint) - (stamps[2 * i] as bigint)) / 1e6,
    }));
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}

/** Total GPU time of a step: timestamp queries if available, else CPU wall time to queue completion. */
export async function timeStep(
  device: GPUDevice,
  run: (timer?: GpuTimer) => void,
  timer: GpuTimer | null,
): Promise<{ ms: number; source: 'timestamp-query' | 'wall-clock' }> {
  if (timer) {
    run(timer);
    await device.queue.onSubmittedWorkDone();
    const passes = await timer.read();
    return { ms: passes.reduce((s, p) => s + p.ms, 0), source: 'timestamp-query' };
  }
  const t0 = performance.now();
  run();
  await device.queue.onSubmittedWorkDone();
  return { ms: performance.now() - t0, source: 'wall-clock' };
}
