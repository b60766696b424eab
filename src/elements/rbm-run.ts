/**
 * The GPU side of `<blockspin-rbm-trainer>` without the DOM: the training data (Ising configurations generated
 * on the GPU, MNIST, NPY/IDX bytes) and their stored form, the timed probe behind the epoch estimate, the
 * per-epoch metrics (as `blockspin rbm train --json` prints them), and the checkpoint files of a run in the
 * CLI's format (src/rbm/checkpoint.ts), so `blockspin rbm train --resume`, `rbm eval` and `rbm sample` read
 * what the page wrote.
 */
import { workDone } from '../gpu/lost.ts';
import { generateDataset } from '../ising/dataset.ts';
import { decodeNpy, encodeNpy } from '../io/npy.ts';
import { loadTrainingData, type TrainingData } from '../rbm/data.ts';
import { RbmEngine, type RbmOptions, type RbmUnits, type TrainingOptions } from '../rbm/engine.ts';
import type { DataRequest, IsingDataRequest } from './rbm-options.ts';

/** Where data generation is (the Ising generator's phases; `load` for files and MNIST). */
export type DataPhase = 'thermalise' | 'tau' | 'sample' | 'load';

/** Ising configurations generated on the GPU, as training data of `units` (±1, or 1/0 for bernoulli). */
export async function isingTrainingData(
  device: GPUDevice,
  d: IsingDataRequest,
  units: RbmUnits,
  options: {
    signal?: AbortSignal;
    onProgress?: (phase: DataPhase, done: number, total: number) => void;
  } = {},
): Promise<TrainingData> {
  const set = await generateDataset(device, {
    L: d.L,
    temperatures: d.temperatures,
    samples: d.perT,
    therm: d.therm,
    every: d.every,
    seed: d.seed,
    algorithm: d.algorithm,
    ...(d.tauSweeps !== undefined ? { tauSweeps: d.tauSweeps } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (set.deviceLost) throw set.deviceLost;
  if (!set.complete) throw new DOMException('data generation stopped', 'AbortError');
  const nv = d.L * d.L;
  const n = set.temperatures.reduce((s, t) => s + t.samples, 0);
  const data = new Float32Array(n * nv);
  const labels = new Float64Array(n);
  const low = units === 'ising' ? -1 : 0;
  let s = 0;
  for (const t of set.temperatures) {
    for (let i = 0; i < t.spins.length; i++) data[s * nv + i] = t.spins[i] === 1 ? 1 : low;
    labels.fill(t.T, s, s + t.samples);
    s += t.samples;
  }
  return {
    data,
    n,
    nv,
    shape: [d.L, d.L],
    units,
    source: isingSource(d),
    labels,
    labelKind: 'temperature',
  };
}

/** The data's description in checkpoints: `ising L=32 T=1.8,3.5 200/T therm 500 every 4 seed 1`. */
export function isingSource(d: IsingDataRequest): string {
  return `ising L=${d.L} T=${d.temperatures.join(',')} ${d.perT}/T therm ${d.therm} every ${d.every}${d.algorithm === 'metropolis' ? '' : ` ${d.algorithm}`} seed ${d.seed}`;
}

/** The training data a request asks for (a file's bytes for `file`). */
export async function requestData(
  device: GPUDevice,
  request: DataRequest,
  units: RbmUnits,
  options: {
    file?: { name: string; bytes: Uint8Array };
    signal?: AbortSignal;
    onProgress?: (phase: DataPhase, done: number, total: number) => void;
  } = {},
): Promise<TrainingData> {
  if (request.kind === 'ising') return isingTrainingData(device, request, units, options);
  if (request.kind === 'mnist') {
    return loadTrainingData(
      { mnist: { ...(request.digits ? { digits: request.digits } : {}), count: request.count } },
      { units, binarize: request.binarize },
    );
  }
  if (!options.file) throw new Error('choose an NPY or IDX file first');
  return fileTrainingData(options.file, units, request.binarize);
}

/** Training data from an NPY or IDX file's bytes (by its magic bytes). */
export function fileTrainingData(
  file: { name: string; bytes: Uint8Array },
  units: RbmUnits,
  binarize: number,
): Promise<TrainingData> {
  const b = file.bytes;
  const npy = b.length >= 6 && b[0] === 0x93 && String.fromCharCode(...b.subarray(1, 6)) === 'NUMPY';
  return loadTrainingData(npy ? { npy: b, name: file.name } : { idx: b, name: file.name }, {
    units,
    binarize,
  });
}

/** The data as stored with a run: int8 unit values [n, …shape] (bit-exact: the values are binary). */
export function trainingDataNpy(d: TrainingData): Uint8Array {
  return encodeNpy({ dtype: 'int8', shape: [d.n, ...d.shape], data: Int8Array.from(d.data) });
}

/** Training data back from trainingDataNpy's bytes. */
export function trainingDataFromNpy(bytes: Uint8Array, units: RbmUnits, source: string): TrainingData {
  const arr = decodeNpy(bytes, 'stored training data');
  const [n, ...shape] = arr.shape;
  const nv = shape.reduce((a, b) => a * b, 1);
  if (arr.dtype !== 'int8' || !n || shape.length === 0)
    throw new Error(`stored training data is ${arr.dtype} [${arr.shape}]; expected int8 [n, …shape]`);
  return { data: Float32Array.from(arr.data), n, nv, shape, units, source };
}

/**
 * Times CD-k/PCD-k updates of an RBM of `options` on `data` (n rows, at least a batch): one warm-up update
 * (pipelines compile), then up to `updates` timed updates, each waited for (at least one; no more once
 * `budgetSeconds` have passed). Returns the seconds per update and how many were timed.
 */
export async function timeUpdates(
  device: GPUDevice,
  options: RbmOptions,
  training: TrainingOptions,
  data: { rows: ArrayLike<number>; n: number },
  { updates = 3, budgetSeconds = 3 } = {},
): Promise<{ secondsPerUpdate: number; updates: number }> {
  const rbm = new RbmEngine(device, { ...options, seed: 1 });
  try {
    rbm.setData(data.rows, data.n);
    rbm.configureTraining(training);
    rbm.step();
    await workDone(device);
    const t0 = performance.now();
    let done = 0;
    while (done < updates) {
      rbm.step();
      await workDone(device);
      done++;
      if ((performance.now() - t0) / 1000 > budgetSeconds) break;
    }
    return { secondsPerUpdate: (performance.now() - t0) / 1000 / done, updates: done };
  } finally {
    rbm.destroy();
  }
}

/**
 * Seconds per CD-k/PCD-k update of an RBM of `options` on this device (the trainer's estimate): timeUpdates on
 * `batch` rows of fixed pseudo-random unit values (the update's cost does not depend on the values).
 */
export async function probeUpdateSeconds(
  device: GPUDevice,
  options: RbmOptions,
  training: TrainingOptions,
  limits: { updates?: number; budgetSeconds?: number } = {},
): Promise<{ secondsPerUpdate: number; updates: number }> {
  const nv = options.conv ? options.conv.Lv ** 2 : options.nv!;
  const n = training.batch;
  const low = (options.units ?? 'bernoulli') === 'ising' ? -1 : 0;
  const rows = new Float32Array(n * nv);
  let x = 0x9e3779b9;
  for (let i = 0; i < rows.length; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    rows[i] = x & 1 ? 1 : low;
  }
  return timeUpdates(device, options, training, { rows, n }, limits);
}

/** The names of the model's own files among a checkpoint's (what `rbm eval` and `rbm sample` need). */
export const MODEL_FILE_NAMES = ['model.json', 'W.npy', 'a.npy', 'b.npy'] as const;
