/**
 * Reduction benchmark: GPU segmented reduction (sum, sum of squares, min, max in one pass) against a
 * plain TypeScript loop computing the same four statistics, measured in the same run.
 */
import { createStorageBuffer, SegmentedReduction, type ElementType } from '../src/index.ts';
import { seededRandom, timeCpu, timeGpuStep, type TimingSource } from './harness.ts';

export interface ReduceBenchResult {
  kernel: string;
  type: ElementType;
  elements: number;
  ms: number;
  elementsPerNs: number;
  gbPerSec: number;
  timing: TimingSource;
}

export interface ReduceBenchReport {
  results: ReduceBenchResult[];
  peer: {
    name: string;
    results: { type: ElementType; elements: number; ms: number; elementsPerNs: number }[];
  };
}

function cpuStats(data: Float32Array | Int32Array): number {
  let sum = 0;
  let sq = 0;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    sum += x;
    sq += x * x;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  return sum + sq + mn + mx;
}

/** Runs the reduction benchmark for each size and element type. */
export async function benchReduce(
  device: GPUDevice,
  options: { sizes: number[]; types?: ElementType[]; repeats?: number },
): Promise<ReduceBenchReport> {
  const repeats = options.repeats ?? 10;
  const types = options.types ?? ['f32', 'i32'];
  const report: ReduceBenchReport = {
    results: [],
    peer: { name: 'TypeScript loop (CPU, this machine)', results: [] },
  };
  let sink = 0;
  for (const type of types) {
    for (const n of options.sizes) {
      const rand = seededRandom(n);
      const data =
        type === 'f32'
          ? Float32Array.from({ length: n }, () => rand() * 2 - 1)
          : Int32Array.from({ length: n }, () => Math.floor(rand() * 2001) - 1000);
      const input = createStorageBuffer(device, `bench reduce ${type} ${n}`, data.byteLength, data);
      const paths = device.features.has('subgroups') ? [true, false] : [false];
      for (const subgroups of paths) {
        const reduction = new SegmentedReduction(device, input, { type, length: n, subgroups });
        try {
          const t = await timeGpuStep(device, 'bench reduce', [reduction], repeats);
          report.results.push({
            kernel: subgroups ? 'reduce (subgroups)' : 'reduce (workgroup tree)',
            type,
            elements: n,
            ms: t.ms,
            elementsPerNs: n / (t.ms * 1e6),
            gbPerSec: (4 * n) / (t.ms * 1e6),
            timing: t.source,
          });
        } finally {
          reduction.destroy();
        }
      }
      input.destroy();
      if (type !== 'u32') {
        const cpuData = data as Float32Array | Int32Array;
        const t = timeCpu(() => (sink += cpuStats(cpuData)), repeats);
        report.peer.results.push({ type, elements: n, ms: t.ms, elementsPerNs: n / (t.ms * 1e6) });
      }
    }
  }
  if (Number.isNaN(sink)) console.error('unreachable: keeps the CPU loop from being optimised away');
  return report;
}
