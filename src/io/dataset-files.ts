/**
 * Data-set files: one NPY per temperature plus `dataset.json`. `datasetFiles` is pure (the browser can
 * offer the same files as downloads); `writeDataset` (Node) writes them atomically.
 */
import type { Dataset } from '../ising/dataset.ts';
import { writeDirectoryAtomically } from './atomic-dir.ts';
import { encodeNpy, packBits } from './npy.ts';

export type SpinFormat = 'int8' | 'packed';

export interface DatasetFile {
  name: string;
  bytes: Uint8Array;
}

/** Metadata beyond the data set itself (recorded in dataset.json). */
export interface DatasetContext {
  format: SpinFormat;
  adapter?: unknown;
  command?: string;
  version?: string;
}

/** The NPY name of temperature T. */
export function datasetFileName(L: number, Ly: number, T: number): string {
  return `ising_${L}x${Ly}_T${T.toFixed(4)}.npy`;
}

/** The files of a data set: NPY per temperature (int8 ±1 [samples, Ly, Lx] or packbits uint8) + dataset.json. */
export function datasetFiles(dataset: Dataset, context: DatasetContext): DatasetFile[] {
  const files: DatasetFile[] = [];
  const entries = dataset.temperatures.map((t) => {
    const name = datasetFileName(dataset.L, dataset.Ly, t.T);
    let bytes: Uint8Array;
    if (context.format === 'packed') {
      const rowBytes = Math.ceil(dataset.L / 8);
      const packed = new Uint8Array(t.samples * dataset.Ly * rowBytes);
      for (let row = 0; row < t.samples * dataset.Ly; row++) {
        packed.set(packBits(t.spins.subarray(row * dataset.L, (row + 1) * dataset.L)), row * rowBytes);
      }
      bytes = encodeNpy({ dtype: 'uint8', shape: [t.samples, dataset.Ly, rowBytes], data: packed });
    } else {
      bytes = encodeNpy({ dtype: 'int8', shape: [t.samples, dataset.Ly, dataset.L], data: t.spins });
    }
    files.push({ name, bytes });
    return { T: t.T, file: name, samples: t.samples, interval: t.interval, tauInt: t.tauInt };
  });
  const meta = {
    format: 'blockspin-ising-dataset',
    version: 1,
    complete: dataset.complete,
    model: { lattice: '2D square, periodic', L: dataset.L, Ly: dataset.Ly, J: 1, h: 0 },
    spins:
      context.format === 'packed'
        ? 'uint8 numpy.packbits along x (bit 1 = +1); numpy.unpackbits(a, axis=-1)[..., :L] * 2 - 1 gives ±1'
        : 'int8 ±1, shape [samples, Ly, Lx]',
    sampleOrder: 'sample k is chain k mod chains at that chain’s ⌊k/chains⌋+1-th save',
    algorithm: dataset.algorithm,
    kernel: dataset.kernel,
    init: dataset.init ?? 'random',
    seed: dataset.seed,
    chains: dataset.chains,
    sweeps: { therm: dataset.therm, tauEstimate: dataset.tauSweeps, sampling: dataset.sampleSweeps },
    intervalRule: 'max(--every, ceil(2·max(τ_int(E), τ_int(|m|)))) sweeps, τ_int measured per temperature',
    temperatures: entries,
    adapter: context.adapter ?? null,
    command: context.command ?? null,
    blockspin: context.version ?? null,
    created: new Date().toISOString(),
  };
  files.push({ name: 'dataset.json', bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`) });
  return files;
}

/**
 * Checks, before any GPU work, that `dir` can be created: its parent exists and is writable, and `dir`
 * is absent or empty (or `force`).
 */
export async function checkOutputDirectory(dir: string, force = false): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const parent = path.dirname(path.resolve(dir));
  try {
    await fs.access(parent, (await import('node:fs')).constants.W_OK);
  } catch (cause) {
    throw new Error(`output directory ${dir}: its parent ${parent} does not exist or is not writable`, {
      cause,
    });
  }
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR')
      throw new Error(`output path ${dir} is a file, not a directory`, { cause: err });
    throw err;
  });
  if (entries.length > 0 && !force) {
    throw new Error(
      `output directory ${dir} exists and is not empty (${entries.length} entries); use --force to replace it`,
    );
  }
}

/**
 * Writes the files into a temporary sibling directory, then renames it: to `dir` when the data set is
 * complete, to `dir.partial` when it is not (an interrupted run never looks complete). Returns the path.
 */
export async function writeDataset(
  dir: string,
  files: DatasetFile[],
  complete: boolean,
  force = false,
): Promise<string> {
  return writeDirectoryAtomically(complete ? dir : `${dir}.partial`, files, {
    force,
    what: 'data-set directory',
  });
}
