/**
 * Equilibrated Ising configurations over a temperature grid, for RBM training and RG studies.
 *
 * All temperatures × chains run as replicas of one engine (one dispatch per half-sweep for the whole
 * grid). After `therm` sweeps, a measured stretch estimates τ_int of E and |m| per temperature; samples
 * are then taken every max(every, ⌈2·τ_int⌉) sweeps (never fewer than asked), `chains` independent chains
 * per temperature sharing the work.
 *
 * A run stopped early (an abort, or a lost GPU device) returns what it has, with a `resume` state when it
 * was sampling: passed back as `options.resume`, the run continues bit-exactly (same adapter) from the
 * engine snapshot taken at the last saved sample (or, after an abort, where it stopped). A run stopped
 * before sampling has no state to keep; resuming it starts over, which — every step being deterministic
 * in the seed — gives the same data set as well.
 */
import { DeviceLostError } from '../gpu/lost.ts';
import { integratedAutocorrelationTime } from '../stats/index.ts';
import type { IsingAlgorithm, IsingInit, IsingKernel } from './config.ts';
import { IsingEngine, MAX_SWEEPS, type IsingSnapshot } from './engine.ts';
import { replicaAgreement, type ReplicaAgreement } from './estimates.ts';

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
  /** Start of every chain (default 'random'); 'up' or 'down' start ordered, which below T_c avoids stripe states. */
  init?: IsingInit;
  signal?: AbortSignal;
  onProgress?: (phase: 'thermalise' | 'tau' | 'sample', done: number, total: number) => void;
  /** Continue a partial data set (its `resume` state); the other options must be the ones it was made with. */
  resume?: DatasetResume;
}

/** Where a partial data set stopped while sampling: enough to finish it bit-exactly. */
export interface DatasetResume {
  /** Sampling-phase sweeps done when `snapshot` was taken. */
  sampleSweep: number;
  /** Per temperature: the samples taken by then (`taken × Ly × Lx` ±1), its interval and τ_int. */
  temperatures: Pick<DatasetTemperature, 'T' | 'spins' | 'samples' | 'interval' | 'tauInt'>[];
  /** The engine at `sampleSweep` (its measurement series are empty while sampling). */
  snapshot: IsingSnapshot;
}

export interface DatasetTemperature {
  T: number;
  /** ±1 spins, `samples × Ly × Lx` row-major (fewer samples when interrupted). */
  spins: Int8Array;
  samples: number;
  /** Sweeps between consecutive samples of one chain. */
  interval: number;
  tauInt: { energy: number; absMagnetization: number; converged: boolean };
  /** The chains' ⟨|m|⟩ over the τ_int stretch compared (replicaAgreement); null with one chain. */
  agreement?: ReplicaAgreement | null;
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
  init?: IsingInit;
  complete: boolean;
  temperatures: DatasetTemperature[];
  /** For an incomplete data set stopped while sampling: the state `options.resume` continues from. */
  resume?: DatasetResume | null;
  /** Set when the run stopped because the GPU device was lost (what was saved before is kept). */
  deviceLost?: DeviceLostError | null;
}

/**
 * Largest int8 spin block of one temperature: it is one typed array here and one NPY file (header + data)
 * when written, and V8 (Node, Chrome) makes typed arrays of at most 2^32 bytes; 64 KiB are left for the header.
 */
export const MAX_SAMPLE_BYTES = 2 ** 32 - 2 ** 16;

function count(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xffffffff) {
    throw new RangeError(`${name} ${value} must be an integer in ${min} … 4294967295`);
  }
}

/** Checks data-set options (before any GPU work); returns the filled-in values. */
export function resolveDatasetOptions(
  options: DatasetOptions,
): Required<Omit<DatasetOptions, 'signal' | 'onProgress' | 'Ly' | 'resume'>> & { Ly: number } {
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
  const leastSweeps = therm + tauSweeps + every * Math.ceil(samples / chains);
  if (leastSweeps > MAX_SWEEPS) {
    throw new RangeError(
      `therm ${therm} + tauSweeps ${tauSweeps} + every ${every} × ${Math.ceil(samples / chains)} samples per ` +
        `chain = ${leastSweeps} sweeps at least, past ${MAX_SWEEPS} (the u32 sweep counter of the random numbers)`,
    );
  }
  const Ly = options.Ly ?? options.L;
  const bytes = samples * options.L * Ly; // int8 per spin; an invalid L is refused by the engine's rules
  if (bytes > MAX_SAMPLE_BYTES) {
    throw new RangeError(
      `samples ${samples} × ${options.L}×${Ly} spins need ${bytes} bytes per temperature; at most ` +
        `${MAX_SAMPLE_BYTES} (one typed array and one NPY file each: the largest a JavaScript engine makes is 4 GiB)`,
    );
  }
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
    init: options.init ?? 'random',
  };
}

/** Checks that `resume` belongs to a run with options `o` and is consistent in itself. */
function checkResume(o: ReturnType<typeof resolveDatasetOptions>, resume: DatasetResume): void {
  const fail = (what: string): never => {
    throw new RangeError(`the resume state does not fit these options: ${what}`);
  };
  const s = resume.snapshot;
  const nT = o.temperatures.length;
  if (s.options.L !== o.L || (s.options.Ly ?? s.options.L) !== o.Ly)
    fail(`lattice ${s.options.L}×${s.options.Ly ?? s.options.L}, expected ${o.L}×${o.Ly}`);
  if (s.options.replicas !== nT * o.chains)
    fail(`${s.options.replicas} replicas, expected ${nT} temperatures × ${o.chains} chains`);
  if (s.options.seed !== String(o.seed)) fail(`seed ${s.options.seed}, expected ${String(o.seed)}`);
  if (s.options.algorithm !== o.algorithm || s.options.kernel !== o.kernel)
    fail(`${s.options.algorithm}/${s.options.kernel}, expected ${o.algorithm}/${o.kernel}`);
  const T = Array.isArray(s.options.T) ? s.options.T : [s.options.T];
  o.temperatures.forEach((t, i) => {
    if (T[i * o.chains] !== t) fail(`temperature ${i} is ${String(T[i * o.chains])}, expected ${t}`);
  });
  if (!Number.isSafeInteger(resume.sampleSweep) || resume.sampleSweep < 0)
    fail(`sampleSweep ${resume.sampleSweep} is not a count`);
  if (s.sweep !== o.therm + o.tauSweeps + resume.sampleSweep) {
    fail(
      `the snapshot is at sweep ${s.sweep}; therm ${o.therm} + τ sweeps ${o.tauSweeps} + sampling ${resume.sampleSweep} = ${o.therm + o.tauSweeps + resume.sampleSweep}`,
    );
  }
  if (resume.temperatures.length !== nT) fail(`${resume.temperatures.length} temperatures, expected ${nT}`);
  const sites = o.L * o.Ly;
  resume.temperatures.forEach((t, i) => {
    if (t.T !== o.temperatures[i]) fail(`temperature ${i} is ${t.T}, expected ${o.temperatures[i]}`);
    if (!Number.isSafeInteger(t.interval) || t.interval < o.every)
      fail(`T=${t.T}: interval ${t.interval} is not an integer ≥ every ${o.every}`);
    const expected = Math.min(o.samples, o.chains * Math.floor(resume.sampleSweep / t.interval));
    if (t.samples !== expected) {
      fail(
        `T=${t.T}: ${t.samples} samples taken, but ${o.chains} chains every ${t.interval} sweeps make ${expected} by sweep ${resume.sampleSweep}`,
      );
    }
    if (t.spins.length !== t.samples * sites)
      fail(`T=${t.T}: ${t.spins.length} spin values for ${t.samples} samples of ${sites} sites`);
  });
}

/**
 * Runs the thermalisation, τ_int estimation and sampling; resolves with what was collected. An abort or a
 * lost device (`deviceLost`) resolves with an incomplete data set; see `resume` for continuing it.
 */
export async function generateDataset(device: GPUDevice, options: DatasetOptions): Promise<Dataset> {
  const o = resolveDatasetOptions(options);
  const nT = o.temperatures.length;
  const resume = options.resume;
  if (resume) checkResume(o, resume);
  // Replica r = t·chains + c: temperature t, chain c.
  const T = o.temperatures.flatMap((t) => new Array<number>(o.chains).fill(t));
  const engine = resume
    ? IsingEngine.fromSnapshot(device, resume.snapshot)
    : new IsingEngine(device, {
        L: o.L,
        Ly: o.Ly,
        replicas: T.length,
        T,
        algorithm: o.algorithm,
        kernel: o.kernel,
        seed: o.seed,
        init: o.init,
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
    init: o.init,
    complete: false,
    temperatures: [],
    resume: null,
    deviceLost: null,
  };
  try {
    if (resume) {
      for (const t of resume.temperatures) {
        result.temperatures.push({ ...t, spins: new Int8Array(0), samples: 0 });
      }
    } else {
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
        // The chains of one temperature must agree; one stuck in a stripe state below T_c does not.
        const chainSeries = Array.from({ length: o.chains }, (_, ch) =>
          Float64Array.from(
            { length: records },
            (_, k) => (data[k * 2 * c.replicas + c.replicas + t * o.chains + ch] as number) / c.sites,
          ),
        );
        result.temperatures.push({
          T: o.temperatures[t] as number,
          spins: new Int8Array(0),
          samples: 0,
          interval: Math.max(o.every, Math.ceil(2 * Math.max(tauE.tauInt, tauM.tauInt))),
          tauInt: {
            energy: tauE.tauInt,
            absMagnetization: tauM.tauInt,
            converged: tauE.converged && tauM.converged,
          },
          agreement: replicaAgreement(chainSeries, c.sites, { noun: 'chain' }),
        });
      }
    }
  } catch (err) {
    engine.destroy();
    if (!(err instanceof DeviceLostError)) throw err;
    result.deviceLost = err; // before sampling: nothing to keep, a resumed run starts over
    return result;
  }
  try {
    await sample(engine, o, result, perChain, resume, signal, onProgress);
    return result;
  } finally {
    engine.destroy();
  }
}

/**
 * The sampling phase: chains of temperature t save their state at sweeps interval_t, 2·interval_t, …
 * Every save reads the whole engine state (a snapshot: spins and the sweep counter), which is also the
 * state a resumed run continues from; a lost device keeps the samples and state of the last save.
 */
async function sample(
  engine: IsingEngine,
  o: ReturnType<typeof resolveDatasetOptions>,
  result: Dataset,
  perChain: number,
  resume: DatasetResume | undefined,
  signal: AbortSignal | undefined,
  onProgress: DatasetOptions['onProgress'],
): Promise<void> {
  const c = engine.config;
  const nT = result.temperatures.length;
  const intervals = result.temperatures.map((t) => t.interval);
  const buffers = result.temperatures.map(() => new Int8Array(o.samples * c.sites));
  const taken = new Array<number>(nT).fill(0);
  resume?.temperatures.forEach((t, i) => {
    (buffers[i] as Int8Array).set(t.spins);
    taken[i] = t.samples;
  });
  const total = Math.max(...intervals) * perChain;
  let sweep = resume?.sampleSweep ?? 0;
  let state: { sampleSweep: number; snapshot: IsingSnapshot } | null = resume
    ? { sampleSweep: sweep, snapshot: resume.snapshot }
    : null;
  try {
    // The state where sampling starts (one read-back): a loss in the first interval keeps the τ phase.
    state ??= { sampleSweep: 0, snapshot: await engine.snapshot() };
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
      const r = await engine.run({ sweeps: next - sweep, signal });
      sweep += r.sweepsDone;
      onProgress?.('sample', sweep, total);
      if (r.aborted) {
        // The device is still there: keep the state where the run stopped, not the last save.
        state = { sampleSweep: sweep, snapshot: await engine.snapshot() };
        break;
      }
      const snapshot = await engine.snapshot();
      const spins = IsingEngine.unpackSpins(c, snapshot.spins);
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
      state = { sampleSweep: sweep, snapshot };
    }
  } catch (err) {
    if (!(err instanceof DeviceLostError)) throw err;
    // The samples taken are exactly those of the last save, whose state `state` holds.
    result.deviceLost = err;
  }
  result.temperatures.forEach((entry, t) => {
    entry.samples = taken[t] as number;
    entry.spins = (buffers[t] as Int8Array).slice(0, entry.samples * c.sites);
  });
  result.complete = taken.every((n) => n === o.samples);
  result.sampleSweeps = result.deviceLost && state ? state.sampleSweep : sweep;
  if (!result.complete && state) {
    result.resume = {
      sampleSweep: state.sampleSweep,
      temperatures: result.temperatures.map((t) => ({ ...t })),
      snapshot: state.snapshot,
    };
  }
}
