/** Shared benchmark plumbing: repeated timing with GPU timestamps when available, medians. */
import { GpuTimer, submitStep, timeStep, type Encodable, type IsingEngine } from '../src/index.ts';
import { mulberry32 } from '../src/reference/prng.ts';

export type TimingSource = 'timestamp-query' | 'wall-clock';

export interface Timing {
  /** Median over the repeats, milliseconds. */
  ms: number;
  source: TimingSource;
  repeats: number;
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Times one step (`items` encoded and submitted once) `repeats` times after one warm-up run. */
export async function timeGpuStep(
  device: GPUDevice,
  label: string,
  items: Encodable[],
  repeats: number,
): Promise<Timing> {
  const timer = GpuTimer.create(device);
  try {
    const run = (t?: GpuTimer): void => submitStep(device, label, items, t);
    await timeStep(device, run, null); // warm-up: pipeline compilation, first-touch of memory
    const samples: number[] = [];
    let source: TimingSource = 'wall-clock';
    for (let i = 0; i < repeats; i++) {
      const t = await timeStep(device, run, timer);
      samples.push(t.ms);
      source = t.source;
    }
    return { ms: median(samples), source, repeats };
  } finally {
    timer?.destroy();
  }
}

/** Times a CPU function `repeats` times after one warm-up run (median, milliseconds). */
export function timeCpu(fn: () => void, repeats: number): Timing {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), source: 'wall-clock', repeats };
}

/** A deterministic PRNG for benchmark inputs. */
export const seededRandom = mulberry32;

/** Spin updates per ns of `sweeps` unmeasured sweeps (median of `repeats`; GPU timestamps when available). */
export async function isingThroughput(
  engine: IsingEngine,
  sweeps: number,
  repeats: number,
): Promise<{ flipsPerNs: number; timing: TimingSource }> {
  const c = engine.config;
  const perSubmit = Math.min(sweeps, 64);
  // Up to 5 passes per sweep (SW: labels, bonds, root flips, flips, counter): every pass must be timed.
  const timer = GpuTimer.create(engine.device, 5 * perSubmit + 16);
  try {
    await engine.run({ sweeps: Math.min(sweeps, 4), sweepsPerSubmit: perSubmit }); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const r = await engine.run({ sweeps, sweepsPerSubmit: perSubmit, timer: timer ?? undefined });
      samples.push(r.gpuMs ?? performance.now() - t0);
    }
    const ms = median(samples);
    return {
      flipsPerNs: (c.replicas * c.sites * sweeps) / (ms * 1e6),
      timing: timer ? 'timestamp-query' : 'wall-clock',
    };
  } finally {
    timer?.destroy();
  }
}
