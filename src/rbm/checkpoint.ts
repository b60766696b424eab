/**
 * RBM checkpoints: a model directory (model.json, W.npy, a.npy, b.npy — loadable by `rbm eval`) plus
 * checkpoint.json (engine and training options, counters, a fingerprint of the training data),
 * optimizer.npy (the two moment buffers) and, for PCD, chains.npy. Written atomically; a corrupt or
 * mismatched checkpoint is refused. Resuming from one continues bit-identically on the same adapter.
 */
import { writeDirectoryAtomically, type DirectoryFile } from '../io/atomic-dir.ts';
import { decodeNpy, encodeNpy } from '../io/npy.ts';
import type { Rbm } from './model.ts';
import type { ConvGeometry, RbmEngine, RbmTrainingState, RbmUnits, TrainingOptions } from './engine.ts';
import { loadModel, modelFiles, ModelFormatError, type LoadedRbmModel } from './model-files.ts';

export const CHECKPOINT_FORMAT = 'blockspin-rbm-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** What identifies the training data a checkpoint belongs to. */
export interface CheckpointData {
  source: string;
  n: number;
  nv: number;
  shape: number[];
  /** FNV-1a of the training values (after the hold-out split). */
  fingerprint: string;
  holdout: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  engine: {
    units: RbmUnits;
    nv: number;
    nh: number;
    conv: ConvGeometry | null;
    visibleBias: boolean;
    hiddenBias: boolean;
    seed: string;
  };
  training: TrainingOptions;
  updates: number;
  epochs: number;
  data: CheckpointData;
  adapter?: unknown;
  created: string;
}

/** FNV-1a (32-bit) of a Float32Array's bytes, as 8 hex digits. */
export function fingerprint(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The engine's parameters as the reference model type used by model files (tied conv biases folded). */
export function referenceModel(rbm: RbmEngine, parameters: Float32Array): Rbm {
  const w = rbm.weightCount;
  const W = Float64Array.from(parameters.subarray(0, w));
  const a = Float64Array.from(parameters.subarray(w, w + rbm.nv));
  const b = Float64Array.from(parameters.subarray(w + rbm.nv, w + rbm.nv + rbm.nh));
  const c = rbm.conv;
  if (!c) return { units: rbm.units, nv: rbm.nv, nh: rbm.nh, W, a, b };
  const positions = c.side * c.side;
  return {
    units: rbm.units,
    Lv: c.Lv,
    filters: c.filters,
    k: c.k,
    stride: c.stride,
    W,
    ...(rbm.visibleBias ? { a: a[0] as number } : {}),
    ...(rbm.hiddenBias
      ? { b: Float64Array.from({ length: c.filters }, (_, f) => b[f * positions] as number) }
      : {}),
  };
}

/** [weights | a | b] in the engine's layout from a loaded model (tied conv biases expanded). */
export function engineParameters(model: LoadedRbmModel): Float32Array {
  const r = model.rbm;
  if ('nv' in r) return Float32Array.from([...r.W, ...r.a, ...r.b]);
  const side = r.Lv / r.stride;
  const nv = r.Lv * r.Lv;
  const nh = r.filters * side * side;
  const out = new Float32Array(r.W.length + nv + nh);
  out.set(r.W, 0);
  out.fill(r.a ?? 0, r.W.length, r.W.length + nv);
  for (let j = 0; j < nh; j++)
    out[r.W.length + nv + j] = r.b ? (r.b[Math.floor(j / (side * side))] as number) : 0;
  return out;
}

/** Writes a checkpoint of `rbm` (after configureTraining) into `dir`, replacing an older one atomically. */
export async function saveCheckpoint(
  dir: string,
  rbm: RbmEngine,
  info: {
    seed: number | bigint;
    data: CheckpointData;
    history: unknown[];
    adapter?: unknown;
    settings?: Record<string, unknown>;
  },
): Promise<string> {
  const training = rbm.trainingOptions;
  if (!training) throw new Error('saveCheckpoint needs a configured training run');
  const state = await rbm.trainingState();
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    engine: {
      units: rbm.units,
      nv: rbm.nv,
      nh: rbm.nh,
      conv: rbm.conv
        ? { Lv: rbm.conv.Lv, filters: rbm.conv.filters, k: rbm.conv.k, stride: rbm.conv.stride }
        : null,
      visibleBias: rbm.visibleBias,
      hiddenBias: rbm.hiddenBias,
      seed: String(info.seed),
    },
    training: { ...training },
    updates: state.updates,
    epochs: state.epochs,
    data: info.data,
    adapter: info.adapter,
    created: new Date().toISOString(),
  };
  const count = state.parameters.length;
  const moments = new Float32Array(2 * count);
  moments.set(state.firstMoment, 0);
  moments.set(state.secondMoment, count);
  const files: DirectoryFile[] = [
    ...modelFiles({
      rbm: referenceModel(rbm, state.parameters),
      biases: { visible: rbm.visibleBias, hidden: rbm.hiddenBias },
      training: {
        ...training,
        ...info.settings,
        visibleShape: info.data.shape,
        updates: state.updates,
        epochs: state.epochs,
      },
      history: info.history,
    }),
    { name: 'checkpoint.json', bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`) },
    { name: 'optimizer.npy', bytes: encodeNpy({ dtype: 'float32', shape: [2, count], data: moments }) },
  ];
  if (state.chains.length > 0) {
    const chains = state.chains.length / rbm.nv;
    files.push({
      name: 'chains.npy',
      bytes: encodeNpy({ dtype: 'float32', shape: [chains, rbm.nv], data: state.chains }),
    });
  }
  return writeDirectoryAtomically(dir, files, { force: true, what: 'checkpoint directory' });
}

/** A checkpoint as loaded: metadata, the model, and the training state (bit-exact). */
export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  model: LoadedRbmModel;
  state: RbmTrainingState;
}

/** Loads and validates a checkpoint directory; anything missing, corrupt or inconsistent is refused. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const fail = (message: string): never => {
    throw new ModelFormatError(`checkpoint ${dir}: ${message}`);
  };
  const read = async (name: string): Promise<Uint8Array | null> =>
    fs.readFile(path.join(dir, name)).then(
      (b) => new Uint8Array(b),
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)),
    );
  const metaBytes = await read('checkpoint.json');
  if (!metaBytes) return fail('checkpoint.json is missing (not a checkpoint directory?)');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as CheckpointMeta;
  } catch (cause) {
    throw new ModelFormatError(`checkpoint ${dir}: checkpoint.json is not valid JSON`, { cause });
  }
  if (meta?.format !== CHECKPOINT_FORMAT || meta.version !== CHECKPOINT_VERSION) {
    fail(
      `format ${String(meta?.format)} version ${String(meta?.version)}; expected ${CHECKPOINT_FORMAT} ${CHECKPOINT_VERSION}`,
    );
  }
  for (const [name, v] of [
    ['updates', meta.updates],
    ['epochs', meta.epochs],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) fail(`${name} ${String(v)} is not a non-negative integer`);
  }
  const model = await loadModel(dir);
  const parameters = engineParameters(model);
  const e = meta.engine;
  const nv = 'nv' in model.rbm ? model.rbm.nv : model.rbm.Lv ** 2;
  if (nv !== e.nv) fail(`model nv ${nv} does not match checkpoint.json's ${e.nv}`);
  const optimizerBytes = await read('optimizer.npy');
  if (!optimizerBytes) return fail('optimizer.npy is missing');
  const moments = decodeNpy(optimizerBytes, `${dir}/optimizer.npy`);
  if (
    moments.dtype !== 'float32' ||
    moments.shape.length !== 2 ||
    moments.shape[0] !== 2 ||
    moments.shape[1] !== parameters.length
  ) {
    fail(`optimizer.npy is ${moments.dtype} [${moments.shape}]; expected float32 [2, ${parameters.length}]`);
  }
  const m = moments.data as Float32Array;
  const chainsBytes = await read('chains.npy');
  let chains: Float32Array = new Float32Array(0);
  if ((meta.training.pcd ?? 0) > 0) {
    if (!chainsBytes) return fail('chains.npy is missing for a PCD run');
    const c = decodeNpy(chainsBytes, `${dir}/chains.npy`);
    if (c.dtype !== 'float32' || c.shape[0] !== meta.training.pcd || c.shape[1] !== e.nv) {
      fail(`chains.npy is ${c.dtype} [${c.shape}]; expected float32 [${meta.training.pcd}, ${e.nv}]`);
    }
    chains = c.data as Float32Array;
  }
  return {
    meta,
    model,
    state: {
      parameters,
      firstMoment: m.slice(0, parameters.length),
      secondMoment: m.slice(parameters.length),
      chains,
      updates: meta.updates,
      epochs: meta.epochs,
    },
  };
}
