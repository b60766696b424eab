/**
 * Ising sweep benchmark: spin updates per ns of the `simple` and `packed` kernels (Metropolis and
 * heat-bath), GPU-timed with timestamp queries when available, against a plain TypeScript checkerboard
 * Metropolis (src/reference/ising.ts) measured in the same run.
 */
import { cpuMetropolisSweeps } from '../src/reference/ising.ts';
import { IsingEngine, type IsingAlgorithm, type IsingKernel } from '../src/index.ts';
import { isingThroughput, type TimingSource } from './harness.ts';

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

/** Times at least `sweeps` sweeps per configuration (median of `repeats`), after a warm-up. */
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
        // At least 2^22 spin updates per timed run, as the CPU peer: a few sweeps of a small lattice time the
        // submission's latency (milliseconds on a software adapter), not the kernel.
        const sweeps = Math.max(options.sweeps, Math.ceil(2 ** 22 / (L * L)));
        try {
          const speed = await isingThroughput(engine, sweeps, repeats);
          results.push({
            kernel,
            algo,
            L,
            sweeps,
            ms: (L * L * sweeps) / (speed.flipsPerNs * 1e6),
            flipsPerNs: speed.flipsPerNs,
            timing: speed.timing,
          });
        } finally {
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
