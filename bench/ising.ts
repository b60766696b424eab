/**
 * Ising sweep benchmark: spin updates per ns of the `simple` and `packed` kernels (Metropolis and
 * heat-bath), GPU-timed with timestamp queries when available, against a plain TypeScript checkerboard
 * Metropolis (src/reference/ising.ts) measured in the same run.
 */
import { cpuMetropolisSweeps } from '../src/reference/ising.ts';
import { GpuTimer, IsingEngine, type IsingAlgorithm, type IsingKernel } from '../src/index.ts';
import { median, type TimingSource } from './harness.ts';

export interface IsingBenchResult {
  kernel: IsingKernel;
  algo: IsingAlgorithm;
  L: number;
  sweeps: number;
  ms: number;
  flipsPerNs: number;
  timing: TimingSource;
}

export interface IsingBenchReport {
  results: IsingBenchResult[];
  peer: { name: string; L: number; sweeps: number; flipsPerNs: number };
}

const T_C = 2.269185314213022;

/** Times `sweeps` sweeps per configuration (median of `repeats`), after a warm-up. */
export async function benchIsing(
  device: GPUDevice,
  options: {
    sizes: number[];
    sweeps: number;
    repeats?: number;
    kernels?: IsingKernel[];
    algos?: IsingAlgorithm[];
  },
): Promise<IsingBenchReport> {
  const repeats = options.repeats ?? 3;
  const results: IsingBenchResult[] = [];
  for (const L of options.sizes) {
    for (const kernel of options.kernels ?? (['simple', 'packed'] as const)) {
      if (kernel === 'packed' && L % 32 !== 0) continue;
      for (const algo of options.algos ?? (['metropolis', 'heatbath'] as const)) {
        const engine = new IsingEngine(device, { L, T: T_C, kernel, algorithm: algo, seed: 1 });
        const perSubmit = Math.min(options.sweeps, 64);
        const timer = GpuTimer.create(device, 3 * perSubmit + 16);
        try {
          await engine.run({ sweeps: Math.min(options.sweeps, 8), sweepsPerSubmit: perSubmit }); // warm-up
          const samples: number[] = [];
          for (let i = 0; i < repeats; i++) {
            const t0 = performance.now();
            const r = await engine.run({
              sweeps: options.sweeps,
              sweepsPerSubmit: perSubmit,
              timer: timer ?? undefined,
            });
            samples.push(r.gpuMs ?? performance.now() - t0);
          }
          const ms = median(samples);
          results.push({
            kernel,
            algo,
            L,
            sweeps: options.sweeps,
            ms,
            flipsPerNs: (L * L * options.sweeps) / (ms * 1e6),
            timing: timer ? 'timestamp-query' : 'wall-clock',
          });
        } finally {
          timer?.destroy();
          engine.destroy();
        }
      }
    }
  }
  // CPU peer on the smallest lattice (a 4096² TypeScript sweep takes seconds).
  const peerL = Math.min(...options.sizes, 512);
  const spins = Int8Array.from({ length: peerL * peerL }, (_, i) => ((i * 2654435761) >>> 31 ? 1 : -1));
  const peerSweeps = Math.max(2, Math.round((2 ** 22 / (peerL * peerL)) * 2));
  cpuMetropolisSweeps(spins, peerL, 1 / T_C, 1);
  const t0 = performance.now();
  cpuMetropolisSweeps(spins, peerL, 1 / T_C, peerSweeps);
  const ms = performance.now() - t0;
  return {
    results,
    peer: {
      name: 'TypeScript checkerboard Metropolis (CPU, one thread)',
      L: peerL,
      sweeps: peerSweeps,
      flipsPerNs: (peerL * peerL * peerSweeps) / (ms * 1e6),
    },
  };
}
