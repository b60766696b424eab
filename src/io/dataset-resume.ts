/**
 * What a partial data-set directory (DIR.partial) carries besides its samples so `generate --resume` can
 * finish it: `resume.json` (the generation options, the spin format, and — when the run stopped while
 * sampling — where, with the engine snapshot's options and sweep) and `resume-spins.npy` (the snapshot's
 * packed spins, uint32 [replicas, words]). The samples themselves are read back from the NPYs that
 * dataset.json lists.
 */
import type { Dataset, DatasetOptions, DatasetResume, DatasetTemperature } from '../ising/dataset.ts';
import type { IsingSnapshot } from '../ising/engine.ts';
import type { DatasetFile, SpinFormat } from './dataset-files.ts';
import { brief } from './brief.ts';
import { decodeNpy, encodeNpy } from './npy.ts';

export const RESUME_FORMAT = 'blockspin-ising-dataset-resume';
export const RESUME_FILE = 'resume.json';
export const RESUME_SPINS_FILE = 'resume-spins.npy';

/** The options a partial data set was generated with (what `generateDataset` needs besides `resume`). */
export type GenerationOptions = Omit<DatasetOptions, 'signal' | 'onProgress' | 'resume'>;

/** A partial data set read back from disk. */
export interface PartialDataset {
  options: GenerationOptions;
  format: SpinFormat;
  /** Null when the run stopped before sampling (a resumed run starts over, with the same result). */
  resume: DatasetResume | null;
}

/** Thrown for a partial data-set directory that cannot be resumed; the message names what is wrong. */
export class PartialDatasetError extends Error {
  override name = 'PartialDatasetError';
}

/** The resume files of an incomplete data set generated with `options` (resolved) in spin format `format`. */
export function resumeFiles(dataset: Dataset, options: GenerationOptions, format: SpinFormat): DatasetFile[] {
  const state = dataset.resume ?? null;
  if (state && (state.snapshot.bonds.length > 0 || state.snapshot.correlations.length > 0)) {
    throw new RangeError('a sampling-phase snapshot carries no measurements; this one does');
  }
  const meta = {
    format: RESUME_FORMAT,
    version: 1,
    options: { ...options, seed: String(options.seed ?? 1) },
    spinFormat: format,
    state: state
      ? {
          sampleSweep: state.sampleSweep,
          snapshot: { options: state.snapshot.options, sweep: state.snapshot.sweep },
        }
      : null,
  };
  const files: DatasetFile[] = [
    { name: RESUME_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`) },
  ];
  if (state) {
    const replicas = state.snapshot.options.replicas ?? 1;
    files.push({
      name: RESUME_SPINS_FILE,
      bytes: encodeNpy({
        dtype: 'uint32',
        shape: [replicas, state.snapshot.spins.length / replicas],
        data: state.snapshot.spins,
      }),
    });
  }
  return files;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Reads a partial data-set directory written by `generate` (dataset.json, the NPYs, resume.json, resume-spins.npy). */
export async function loadPartialDataset(dir: string): Promise<PartialDataset> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const fail = (what: string): never => {
    throw new PartialDatasetError(`partial data set ${dir}: ${what}`);
  };
  const readJson = async (name: string): Promise<Record<string, unknown>> => {
    const text = await fs
      .readFile(path.join(dir, name), 'utf8')
      .catch((err: NodeJS.ErrnoException) =>
        fail(
          `cannot read ${name} (${err.code ?? err.message})${name === RESUME_FILE ? '; only sets written by a stopped generate can be resumed' : ''}`,
        ),
      );
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      fail(`${name} is not JSON (${(err as Error).message})`);
    }
    if (!isObject(value)) fail(`${name} is not a JSON object`);
    return value as Record<string, unknown>;
  };
  const meta = await readJson(RESUME_FILE);
  if (meta.format !== RESUME_FORMAT || meta.version !== 1)
    fail(
      `${RESUME_FILE} format ${brief(meta.format)} version ${brief(meta.version)} is not ${RESUME_FORMAT} 1`,
    );
  if (meta.spinFormat !== 'int8' && meta.spinFormat !== 'packed')
    fail(`${RESUME_FILE} spinFormat ${brief(meta.spinFormat)} is not int8 or packed`);
  const format = meta.spinFormat as SpinFormat;
  if (!isObject(meta.options)) fail(`${RESUME_FILE} has no options object`);
  const raw = meta.options as Record<string, unknown>;
  const { signal: _s, onProgress: _p, resume: _r, ...stored } = raw;
  void [_s, _p, _r];
  if (typeof stored.seed !== 'string' || !/^\d+$/.test(stored.seed))
    fail(`${RESUME_FILE} options.seed ${brief(stored.seed)} is not a decimal integer string`);
  const seedBig = BigInt(stored.seed as string);
  const options = {
    ...stored,
    seed: seedBig <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seedBig) : seedBig,
  } as unknown as GenerationOptions;
  if (!isCount(options.L) || !Array.isArray(options.temperatures) || !isCount(options.samples))
    fail(`${RESUME_FILE} options lack L, temperatures or samples`);
  if (meta.state === null) return { options, format, resume: null };
  if (!isObject(meta.state)) fail(`${RESUME_FILE} state is neither null nor an object`);
  const state = meta.state as Record<string, unknown>;
  if (!isCount(state.sampleSweep))
    fail(`${RESUME_FILE} state.sampleSweep ${brief(state.sampleSweep)} is not a count`);
  const snap = state.snapshot;
  if (!isObject(snap) || !isObject(snap.options) || !isCount(snap.sweep))
    fail(`${RESUME_FILE} state.snapshot needs options and a sweep count`);
  const snapshotMeta = snap as { options: IsingSnapshot['options']; sweep: number };

  const spinsBytes = await fs
    .readFile(path.join(dir, RESUME_SPINS_FILE))
    .catch((err: NodeJS.ErrnoException) =>
      fail(`cannot read ${RESUME_SPINS_FILE} (${err.code ?? err.message})`),
    );
  const spins = decodeNpy(new Uint8Array(spinsBytes), `partial data set ${dir}/${RESUME_SPINS_FILE}`);
  if (spins.dtype !== 'uint32' || spins.shape.length !== 2)
    fail(`${RESUME_SPINS_FILE} is ${spins.dtype} [${spins.shape}], expected uint32 [replicas, words]`);
  const snapshot: IsingSnapshot = {
    format: 'blockspin-ising-snapshot',
    version: 1,
    options: snapshotMeta.options,
    sweep: snapshotMeta.sweep,
    spins: spins.data as Uint32Array,
    bonds: new Int32Array(0),
    magnetizations: new Int32Array(0),
    correlations: new Int32Array(0),
  };

  const dataset = await readJson('dataset.json');
  const model = dataset.model;
  if (!isObject(model) || !isCount(model.L) || !isCount(model.Ly))
    fail('dataset.json model.L / model.Ly are not counts');
  const { L, Ly } = model as { L: number; Ly: number };
  if (!Array.isArray(dataset.temperatures)) fail('dataset.json temperatures is not an array');
  const temperatures: DatasetResume['temperatures'] = [];
  for (const [i, entry] of (dataset.temperatures as unknown[]).entries()) {
    if (!isObject(entry)) fail(`dataset.json temperatures[${i}] is not an object`);
    const e = entry as Record<string, unknown>;
    const tau = e.tauInt as DatasetTemperature['tauInt'];
    if (
      typeof e.T !== 'number' ||
      typeof e.file !== 'string' ||
      path.basename(e.file) !== e.file ||
      !isCount(e.samples) ||
      !isCount(e.interval) ||
      !isObject(tau)
    ) {
      fail(
        `dataset.json temperatures[${i}] needs T, file (a name in the directory), samples, interval and tauInt`,
      );
    }
    const bytes = await fs
      .readFile(path.join(dir, e.file as string))
      .catch((err: NodeJS.ErrnoException) =>
        fail(`cannot read ${String(e.file)} (${err.code ?? err.message})`),
      );
    const npy = decodeNpy(new Uint8Array(bytes), `partial data set ${dir}/${String(e.file)}`);
    const samples = e.samples as number;
    const rowBytes = Math.ceil(L / 8);
    const shape = format === 'packed' ? [samples, Ly, rowBytes] : [samples, Ly, L];
    const dtype = format === 'packed' ? 'uint8' : 'int8';
    if (npy.dtype !== dtype || npy.shape.join() !== shape.join())
      fail(`${String(e.file)} is ${npy.dtype} [${npy.shape}], expected ${dtype} [${shape}]`);
    const values = new Int8Array(samples * Ly * L);
    if (format === 'packed') {
      const packed = npy.data as Uint8Array;
      for (let row = 0; row < samples * Ly; row++) {
        for (let x = 0; x < L; x++) {
          const bit = ((packed[row * rowBytes + (x >> 3)] as number) >> (7 - (x & 7))) & 1;
          values[row * L + x] = bit ? 1 : -1;
        }
      }
    } else {
      const data = npy.data as Int8Array;
      for (let k = 0; k < data.length; k++) {
        if (data[k] !== 1 && data[k] !== -1) fail(`${String(e.file)} value ${data[k]} at ${k} is not ±1`);
      }
      values.set(data);
    }
    temperatures.push({
      T: e.T as number,
      spins: values,
      samples,
      interval: e.interval as number,
      tauInt: tau,
    });
  }
  return { options, format, resume: { sampleSweep: state.sampleSweep as number, temperatures, snapshot } };
}
