/**
 * RBM checkpoints: a model directory (model.json, W.npy, a.npy, b.npy — loadable by `rbm eval`) plus
 * checkpoint.json (engine and training options, counters, a fingerprint of the training data),
 * optimizer.npy (the two moment buffers) and, for PCD, chains.npy. Written atomically; a corrupt or
 * mismatched checkpoint is refused. Resuming from one continues bit-identically on the same adapter.
 */
import { writeDirectoryAtomically, type DirectoryFile } from '../io/atomic-dir.ts';
import { brief } from '../io/brief.ts';
import { decodeNpy, encodeNpy, type NpyArray } from '../io/npy.ts';
import type { Rbm } from './model.ts';
import type {
  ConvGeometry,
  RbmEngine,
  RbmTrainingState,
  RbmUnits,
  TrainingOptions,
  VisibleBiasInit,
} from './engine.ts';
import {
  MODEL_FILES,
  modelFiles,
  ModelFormatError,
  parseModelFiles,
  type LoadedRbmModel,
  type RbmModel,
} from './model-files.ts';

export const CHECKPOINT_FORMAT = 'blockspin-rbm-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** File names of a checkpoint directory beyond the model's. */
export const CHECKPOINT_FILES = {
  json: 'checkpoint.json',
  optimizer: 'optimizer.npy',
  chains: 'chains.npy',
} as const;

/**
 * Thrown for a checkpoint directory that is missing, corrupt or inconsistent (a ModelFormatError, so code
 * that catches those for models catches these too; its model files throw ModelFormatError, NpyFormatError).
 */
export class CheckpointFormatError extends ModelFormatError {
  override name = 'CheckpointFormatError';
}

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
    /** How the visible biases started (absent in older checkpoints: 'zero'); resuming restores the parameters. */
    visibleBiasInit?: VisibleBiasInit;
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

/**
 * The files of a checkpoint (pure): the model directory's files, checkpoint.json, optimizer.npy (the two
 * moment buffers as float32 [2, parameters]) and, when there are PCD chains, chains.npy [chains, nv].
 */
export function checkpointFiles(
  meta: CheckpointMeta,
  model: RbmModel,
  state: Pick<RbmTrainingState, 'firstMoment' | 'secondMoment' | 'chains'>,
): DirectoryFile[] {
  const count = state.firstMoment.length;
  if (state.secondMoment.length !== count)
    throw new RangeError(`moments of ${count} and ${state.secondMoment.length} values differ in length`);
  const moments = new Float32Array(2 * count);
  moments.set(state.firstMoment, 0);
  moments.set(state.secondMoment, count);
  const { nv } = meta.engine;
  const files: DirectoryFile[] = [
    ...modelFiles(model),
    {
      name: CHECKPOINT_FILES.json,
      bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`),
    },
    {
      name: CHECKPOINT_FILES.optimizer,
      bytes: encodeNpy({ dtype: 'float32', shape: [2, count], data: moments }),
    },
  ];
  if (state.chains.length > 0) {
    files.push({
      name: CHECKPOINT_FILES.chains,
      bytes: encodeNpy({ dtype: 'float32', shape: [state.chains.length / nv, nv], data: state.chains }),
    });
  }
  return files;
}

/** What a checkpoint records beside the engine's own state. */
export interface CheckpointInfo {
  seed: number | bigint;
  data: CheckpointData;
  history: unknown[];
  adapter?: unknown;
  settings?: Record<string, unknown>;
}

/** Writes a checkpoint of `rbm` (after configureTraining) into `dir`, replacing an older one atomically. */
export async function saveCheckpoint(dir: string, rbm: RbmEngine, info: CheckpointInfo): Promise<string> {
  const files = await engineCheckpointFiles(rbm, info);
  return writeDirectoryAtomically(dir, files, { force: true, what: 'checkpoint directory' });
}

/**
 * The files of a checkpoint of `rbm` (after configureTraining), read from the GPU: what saveCheckpoint writes
 * and parseCheckpointFiles reads back (for callers that keep checkpoints elsewhere, e.g. a study's).
 */
export async function engineCheckpointFiles(rbm: RbmEngine, info: CheckpointInfo): Promise<DirectoryFile[]> {
  if (!rbm.trainingOptions) throw new Error('saveCheckpoint needs a configured training run');
  return stateCheckpointFiles(rbm, await rbm.trainingState(), info);
}

/**
 * The files of a checkpoint of `rbm` (after configureTraining) from a training state already read
 * (`rbm.trainingState()`): the same files as {@link engineCheckpointFiles}, for callers that use the state for
 * more than the checkpoint (e.g. the lab's trainer, which keeps the files for its downloads too).
 */
export function stateCheckpointFiles(
  rbm: RbmEngine,
  state: RbmTrainingState,
  info: CheckpointInfo,
): DirectoryFile[] {
  const training = rbm.trainingOptions;
  if (!training) throw new Error('a checkpoint needs a configured training run');
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
      visibleBiasInit: rbm.visibleBiasInit,
      seed: String(info.seed),
    },
    training: { ...training },
    updates: state.updates,
    epochs: state.epochs,
    data: info.data,
    adapter: info.adapter,
    created: new Date().toISOString(),
  };
  return checkpointFiles(
    meta,
    {
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
    },
    state,
  );
}

/** A checkpoint as loaded: metadata, the model, and the training state (bit-exact). */
export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  model: LoadedRbmModel;
  state: RbmTrainingState;
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Validates checkpoint.json's fields (types and ranges); consistency with the files is checked after. */
function checkMeta(meta: unknown, fail: (message: string) => never): CheckpointMeta {
  if (!isObject(meta)) return fail(`checkpoint.json is ${brief(meta)}, not an object`);
  if (meta.format !== CHECKPOINT_FORMAT || meta.version !== CHECKPOINT_VERSION) {
    fail(
      `format ${brief(meta.format)} version ${brief(meta.version)}; expected ${CHECKPOINT_FORMAT} ${CHECKPOINT_VERSION}`,
    );
  }
  const integer = (x: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number =>
    Number.isSafeInteger(x) && (x as number) >= min && (x as number) <= max
      ? (x as number)
      : fail(`${name} ${brief(x)} is not an integer in ${min} … ${max}`);
  const number = (x: unknown, name: string, min: number, max: number, open: boolean): number =>
    typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max && !(open && (x === min || x === max))
      ? x
      : fail(`${name} ${brief(x)} is not a number in ${open ? '(' : '['}${min}, ${max}${open ? ')' : ']'}`);
  const boolean = (x: unknown, name: string): boolean =>
    typeof x === 'boolean' ? x : fail(`${name} ${brief(x)} is not true or false`);
  integer(meta.updates, 'updates', 0);
  integer(meta.epochs, 'epochs', 0);

  const e = meta.engine;
  if (!isObject(e)) return fail(`engine ${brief(e)} is not an object`);
  if (e.units !== 'bernoulli' && e.units !== 'ising')
    fail(`engine.units ${brief(e.units)} are neither 'bernoulli' nor 'ising'`);
  integer(e.nv, 'engine.nv', 1);
  integer(e.nh, 'engine.nh', 1);
  if (e.conv !== null) {
    if (!isObject(e.conv))
      return fail(`engine.conv ${brief(e.conv)} is neither null nor { Lv, filters, k, stride }`);
    for (const key of ['Lv', 'filters', 'k', 'stride']) integer(e.conv[key], `engine.conv.${key}`, 1);
  }
  boolean(e.visibleBias, 'engine.visibleBias');
  boolean(e.hiddenBias, 'engine.hiddenBias');
  if (typeof e.seed !== 'string' || !/^\d{1,20}$/.test(e.seed) || BigInt(e.seed) >= 1n << 64n)
    fail(`engine.seed ${brief(e.seed)} is not a decimal integer in 0 … 2^64 − 1`);

  const t = meta.training;
  if (!isObject(t)) return fail(`training ${brief(t)} is not an object`);
  integer(t.batch, 'training.batch', 1, 0xffffffff);
  if (t.k !== undefined) integer(t.k, 'training.k', 1, 1000);
  if (t.pcd !== undefined) integer(t.pcd, 'training.pcd', 0, 0xffffffff);
  for (const key of ['meanFieldFinal', 'shuffle'])
    if (t[key] !== undefined) boolean(t[key], `training.${key}`);
  if (
    t.optimizer !== undefined &&
    t.optimizer !== 'sgd' &&
    t.optimizer !== 'momentum' &&
    t.optimizer !== 'adam'
  )
    fail(`training.optimizer ${brief(t.optimizer)} is not sgd, momentum or adam`);
  number(t.lr, 'training.lr', 0, Number.MAX_VALUE, true);
  for (const key of ['momentum', 'beta1', 'beta2'])
    if (t[key] !== undefined) number(t[key], `training.${key}`, 0, 1, false);
  for (const key of ['momentum', 'beta1', 'beta2'])
    if (t[key] === 1) fail(`training.${key} 1 is not below 1`);
  if (t.epsilon !== undefined) number(t.epsilon, 'training.epsilon', 0, Number.MAX_VALUE, true);
  for (const key of ['l1', 'l2'])
    if (t[key] !== undefined) number(t[key], `training.${key}`, 0, Number.MAX_VALUE, false);
  if (t.schedule !== undefined) {
    const s = t.schedule;
    if (!isObject(s)) return fail(`training.schedule ${brief(s)} is not an object`);
    if (s.kind === 'sqrt') {
      number(s.final, 'training.schedule.final', 0, Number.MAX_VALUE, true);
      number(s.decayEpochs, 'training.schedule.decayEpochs', 0, Number.MAX_VALUE, true);
    } else if (s.kind === 'exponential') {
      number(s.gamma, 'training.schedule.gamma', 0, Number.MAX_VALUE, true);
    } else if (s.kind !== 'constant') {
      fail(`training.schedule.kind ${brief(s.kind)} is not constant, sqrt or exponential`);
    }
  }

  const d = meta.data;
  if (!isObject(d)) return fail(`data ${brief(d)} is not an object`);
  if (typeof d.source !== 'string') fail(`data.source ${brief(d.source)} is not a string`);
  integer(d.n, 'data.n', 1);
  integer(d.nv, 'data.nv', 1);
  if (!Array.isArray(d.shape) || d.shape.length === 0)
    return fail(`data.shape ${brief(d.shape)} is not a list of sizes`);
  d.shape.forEach((n, i) => integer(n, `data.shape[${i}]`, 1));
  const product = (d.shape as number[]).reduce((a, b) => a * b, 1);
  if (product !== d.nv)
    fail(`data.shape ${brief(d.shape)} holds ${product} units; data.nv is ${brief(d.nv)}`);
  if (typeof d.fingerprint !== 'string' || !/^[0-9a-f]{8}$/.test(d.fingerprint))
    fail(`data.fingerprint ${brief(d.fingerprint)} is not 8 hex digits`);
  number(d.holdout, 'data.holdout', 0, 1, false);
  if (d.holdout === 1) fail('data.holdout 1 leaves no training data');
  return meta as unknown as CheckpointMeta;
}

/**
 * Parses and validates the files of a checkpoint (name → bytes: the model's files, checkpoint.json,
 * optimizer.npy, chains.npy for PCD). Pure; `loadCheckpoint` reads a directory. Anything missing, corrupt or
 * inconsistent is refused: CheckpointFormatError (ModelFormatError / NpyFormatError for the model's files).
 */
export function parseCheckpointFiles(
  files: Record<string, Uint8Array | undefined>,
  what = 'checkpoint',
): LoadedCheckpoint {
  const fail = (message: string): never => {
    throw new CheckpointFormatError(`${what}: ${message}`);
  };
  const file = (name: string): Uint8Array | undefined =>
    Object.hasOwn(files, name) ? files[name] : undefined;
  const metaBytes = file(CHECKPOINT_FILES.json);
  if (!metaBytes) return fail('checkpoint.json is missing (not a checkpoint directory?)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metaBytes));
  } catch (cause) {
    throw new CheckpointFormatError(
      `${what}: checkpoint.json is not valid JSON (${(cause as Error).message})`,
      { cause },
    );
  }
  const meta = checkMeta(parsed, fail);
  const model = parseModelFiles(files, what);
  const e = meta.engine;
  const r = model.rbm;
  const nv = 'nv' in r ? r.nv : r.Lv ** 2;
  const nh = 'nv' in r ? r.nh : r.filters * (r.Lv / r.stride) ** 2;
  if (r.units !== e.units) fail(`model units ${r.units} differ from checkpoint.json's ${e.units}`);
  if (nv !== e.nv || nh !== e.nh)
    fail(`model nv ${nv}, nh ${nh} differ from checkpoint.json's nv ${e.nv}, nh ${e.nh}`);
  const geometry = 'Lv' in r ? [r.Lv, r.filters, r.k, r.stride].join() : 'dense';
  const claimed = e.conv ? [e.conv.Lv, e.conv.filters, e.conv.k, e.conv.stride].join() : 'dense';
  if (geometry !== claimed)
    fail(`model geometry (${geometry}) differs from checkpoint.json's engine.conv (${claimed})`);
  if (model.biases.visible !== e.visibleBias || model.biases.hidden !== e.hiddenBias) {
    fail(
      `model bias flags (visible ${model.biases.visible}, hidden ${model.biases.hidden}) differ from checkpoint.json's (${e.visibleBias}, ${e.hiddenBias})`,
    );
  }
  if (meta.data.nv !== e.nv) fail(`data.nv ${meta.data.nv} differs from engine.nv ${e.nv}`);
  const parameters = engineParameters(model);
  const float32 = (name: string, shape: number[]): Float32Array => {
    const bytes = file(name);
    if (!bytes) return fail(`${name} is missing`);
    const arr: NpyArray = decodeNpy(bytes, `${what}/${name}`);
    if (arr.dtype !== 'float32' || arr.shape.join() !== shape.join())
      fail(`${name} is ${arr.dtype} [${arr.shape}]; expected float32 [${shape}]`);
    const data = arr.data as Float32Array;
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) fail(`${name}[${bad}] = ${data[bad]} is not finite`);
    return data;
  };
  const p = parameters.length;
  const m = float32(CHECKPOINT_FILES.optimizer, [2, p]);
  const firstMoment = m.slice(0, p);
  const secondMoment = m.slice(p);
  if (meta.training.optimizer === 'adam') {
    const i = secondMoment.findIndex((x) => x < 0);
    if (i >= 0) fail(`optimizer.npy second moment [${i}] = ${secondMoment[i]} is negative (Adam)`);
  }
  let chains: Float32Array = new Float32Array(0);
  const pcd = meta.training.pcd ?? 0;
  if (pcd > 0) {
    chains = float32(CHECKPOINT_FILES.chains, [pcd, e.nv]);
    const low = e.units === 'ising' ? -1 : 0;
    const i = chains.findIndex((x) => x !== 1 && x !== low);
    if (i >= 0)
      fail(`chains.npy[${i}] = ${chains[i]} is not a unit value (${low} or 1 for ${e.units} units)`);
  }
  return {
    meta,
    model,
    state: { parameters, firstMoment, secondMoment, chains, updates: meta.updates, epochs: meta.epochs },
  };
}

/** Loads and validates a checkpoint directory (see `parseCheckpointFiles`); unreadable files are named. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const files: Record<string, Uint8Array | undefined> = {};
  for (const name of [...Object.values(MODEL_FILES), ...Object.values(CHECKPOINT_FILES)]) {
    try {
      files[name] = new Uint8Array(await fs.readFile(path.join(dir, name)));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new CheckpointFormatError(
        `checkpoint ${dir}: cannot read ${name} (${code ?? (cause as Error).message})`,
        {
          cause,
        },
      );
    }
  }
  return parseCheckpointFiles(files, `checkpoint ${dir}`);
}
