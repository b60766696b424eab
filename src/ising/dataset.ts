/**
 * Equilibrated Ising configurations over a temperature grid, for RBM training and RG studies.
 *
 * All temperatures × chains run as replicas of one engine (one dispatch per half-sweep for the whole
 * grid). After `therm` sweeps, a measured stretch estimates τ_int of E and |m| per temperature; samples
 * are then taken every max(every, ⌈2·τ_int⌉) sweeps (never fewer than asked), `chains` independent chains
 * per temperature sharing the work.
 */
import { integratedAutocorrelationTime } from '../stats/index.ts';
import type { IsingAlgorithm, IsingKernel } from './config.ts';
import { IsingEngine } from './engine.ts';

export interface DatasetOptions {
  L: number;
  Ly?: number;
  temperatures: number[];
  /** Configurations per temperature. */
  samples: number;
  /** Smallest sampling interval in sweeps (default 1); the τ_int-based interval wins when larger. */
  every?: number;
  /** Thermalisation sweeps before anything is measured (default 1000). */
  therm?: number;
  /** Sweeps measured to estimate τ_int (default max(500, therm)). */
  tauSweeps?: number;
  /** Independent chains per temperature (default min(8, samples)). */
  chains?: number;
  algorithm?: IsingAlgorithm;
  kernel?: IsingKernel;
  seed?: number | bigint;
  signal?: AbortSignal;
  onProgress?: (phase: 'thermalise' | 'tau' | 'sample', done: number, total: number) => void;
}

export interface DatasetTemperature {
  T: number;
  /** ±1 spins, `samples × Ly × Lx` row-major (fewer samples when interrupted). */
  spins: Int8Array;
  samples: number;
  /** Sweeps between consecutive samples of one chain. */
  interval: number;
  tauInt: { energy: number; absMagnetization: number; converged: boolean };
}

export interface Dataset {
  L: number;
  Ly: number;
  chains: number;
  therm: number;
  tauSweeps: number;
  /** Sweeps of the sampling phase (the longest interval × samples per chain). */
  sampleSweeps: number;
  seed: string;
  algorithm: IsingAlgorithm;
  kernel: IsingKernel;
  complete: boolean;
  temperatures: DatasetTemperature[];
}

function count(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xffffffff) {
    throw new RangeError(`${name} ${value} must be an integer in ${min} … 4294967295`);
  }
}

/** Checks data-set options (before any GPU work); returns the filled-in values. */
export function resolveDatasetOptions(
  options: DatasetOptions,
): Required<Omit<DatasetOptions, 'signal' | 'onProgress' | 'Ly'>> & { Ly: number } {
  const { temperatures, samples } = options;
  if (!Array.isArray(temperatures) || temperatures.length === 0)
    throw new RangeError('give at least one temperature');
  temperatures.forEach((T) => {
    if (!Number.isFinite(T) || T <= 0) throw new RangeError(`temperature ${T} must be finite and > 0`);
  });
  count('samples', samples, 1);
  const every = options.every ?? 1;
  count('every', every, 1);
  const therm = options.therm ?? 1000;
  count('therm', therm, 0);
  const tauSweeps = options.tauSweeps ?? Math.max(500, therm);
  count('tauSweeps', tauSweeps, 20);
  const chains = options.chains ?? Math.min(8, samples);
  count('chains', chains, 1);
  if (chains > samples) throw new RangeError(`chains ${chains} must not exceed samples ${samples}`);
  return {
    L: options.L,
    Ly: options.Ly ?? options.L,
    temperatures: [...temperatures],
    samples,
    every,
    therm,
    tauSweeps,
    chains,
    algorithm: options.algorithm ?? 'metropolis',
    kernel: options.kernel ?? 'simple',
    seed: options.seed ?? 1,
  };
}

/** Runs the thermalisation, τ_int estimation and sampling; resolves with what was collected. */
export async function generateDataset(device: GPUDevice, options: DatasetOptions): Promise<Dataset> {
  const o = resolveDatasetOptions(options);
  const nT = o.temperatures.length;
  // Replica r = t·chains + c: temperature t, chain c.
  const T = o.temperatures.flatMap((t) => new Array<number>(o.chains).fill(t));
  const engine = new IsingEngine(device, {
    L: o.L,
    Ly: o.Ly,
    replicas: T.length,
    T,
    algorithm: o.algorithm,
    kernel: o.kernel,
    seed: o.seed,
  });
  const c = engine.config;
  const { signal, onProgress } = options;
  const perChain = Math.ceil(o.samples / o.chains);
  const result: Dataset = {
    L: c.Lx,
    Ly: c.Ly,
    chains: o.chains,
    therm: o.therm,
    tauSweeps: o.tauSweeps,
    sampleSweeps: 0,
    seed: String(o.seed),
    algorithm: o.algorithm,
    kernel: o.kernel,
    complete: false,
    temperatures: [],
  };
  try {
    let r = await engine.run({
      sweeps: o.therm,
      signal,
      onProgress: (d, n) => onProgress?.('thermalise', d, n),
    });
    if (r.aborted) return result;
    engine.clearMeasurements();
    r = await engine.run({
      sweeps: o.tauSweeps,
      measureEvery: 1,
      signal,
      onProgress: (d, n) => onProgress?.('tau', d, n),
    });
    if (r.aborted) return result;
    const { records, data } = await engine.rawSeries();
    engine.clearMeasurements();
    const intervals: number[] = [];
    for (let t = 0; t < nT; t++) {
      // Chain-averaged series: chains are independent, so averaging keeps τ_int and lowers the noise.
      const e = new Float64Array(records);
      const m = new Float64Array(records);
      for (let k = 0; k < records; k++) {
        for (let ch = 0; ch < o.chains; ch++) {
          const rep = t * o.chains + ch;
          e[k] = (e[k] as number) - (data[k * 2 * c.replicas + rep] as number) / (c.sites * o.chains);
          m[k] =
            (m[k] as number) +
            Math.abs(data[k * 2 * c.replicas + c.replicas + rep] as number) / (c.sites * o.chains);
        }
      }
      const tauE = integratedAutocorrelationTime(e);
      const tauM = integratedAutocorrelationTime(m);
      const interval = Math.max(o.every, Math.ceil(2 * Math.max(tauE.tauInt, tauM.tauInt)));
      intervals.push(interval);
      result.temperatures.push({
        T: o.temperatures[t] as number,
        spins: new Int8Array(0),
        samples: 0,
        interval,
        tauInt: {
          energy: tauE.tauInt,
          absMagnetization: tauM.tauInt,
          converged: tauE.converged && tauM.converged,
        },
      });
    }
    // Sampling: chains of temperature t save their state at sweeps interval_t, 2·interval_t, …
    const buffers = result.temperatures.map(() => new Int8Array(o.samples * c.sites));
    const taken = new Array<number>(nT).fill(0);
    const total = Math.max(...intervals) * perChain;
    let sweep = 0;
    while (taken.some((n) => n < o.samples)) {
      let next = Infinity;
      for (let t = 0; t < nT; t++) {
        if ((taken[t] as number) < o.samples) {
          next = Math.min(
            next,
            (Math.floor(sweep / (intervals[t] as number)) + 1) * (intervals[t] as number),
          );
        }
      }
      r = await engine.run({ sweeps: next - sweep, signal });
      sweep += r.sweepsDone;
      result.sampleSweeps = sweep;
      onProgress?.('sample', sweep, total);
      if (r.aborted) break;
      const spins = await engine.getSpins();
      for (let t = 0; t < nT; t++) {
        if (sweep % (intervals[t] as number) !== 0) continue;
        for (let ch = 0; ch < o.chains && (taken[t] as number) < o.samples; ch++) {
          const rep = t * o.chains + ch;
          (buffers[t] as Int8Array).set(
            spins.subarray(rep * c.sites, (rep + 1) * c.sites),
            (taken[t] as number) * c.sites,
          );
          taken[t] = (taken[t] as number) + 1;
        }
      }
    }
    result.temperatures.forEach((entry, t) => {
      entry.samples = taken[t] as number;
      entry.spins = (buffers[t] as Int8Array).slice(0, entry.samples * c.sites);
    });
    result.complete = taken.every((n) => n === o.samples);
    return result;
  } finally {
    engine.destroy();
  }
}
