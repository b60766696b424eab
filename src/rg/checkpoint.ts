/**
 * MCRG checkpoints: the state of a run (McrgRunner.checkpoint) as files, so a long run continues after Ctrl-C, a
 * lost device or a killed process (McrgRunner.resume) with the blocks and τ_int of the uninterrupted run, bit for
 * bit on the same adapter. Pure: the files are name → bytes (a directory in Node, downloads or storage in the
 * browser); the existing formats are reused.
 *
 * Files (flat names, so any directory writer takes them):
 * - `checkpoint.json`: format, version, counters (thermalised sweeps, measurements, the engine's sweep
 *   counter), the run's record (the first blocking rule's), the rules (blocking name, file prefix, series length).
 * - `spins.npy`: int8 [replicas, L, L] (2D) or [replicas, L] (ring): the engine's ±1 spins.
 * - `rule-<i>.mcrg.json`, `rule-<i>.block-*.npy`: rule i's blocks so far (each replica's unfinished block with
 *   its true count) as an MCRG result directory (src/rg/result-files.ts) whose files carry the prefix
 *   `rule-<i>.`; its settings are rule i's record.
 * - `rule-<i>.series.npy`: float64 [n, levels + 1, P]: rule i's τ_int series (replica means of measurement 0 …
 *   n − 1), exact as kept.
 */
import { writeDirectoryAtomically, type AtomicWriteOptions, type DirectoryFile } from '../io/atomic-dir.ts';
import { decodeNpy, encodeNpy, type NpyArray, type NpyDtype } from '../io/npy.ts';
import {
  jsonDifference,
  McrgResultError,
  createMcrgResult,
  mcrgBlocks,
  mcrgResultFiles,
  parseMcrgResult,
} from './result-files.ts';
import type { McrgRunRecord } from './run.ts';
import { operatorCount, type McrgBlock } from './statistics.ts';

/** The `format` field of checkpoint.json. */
export const MCRG_CHECKPOINT_FORMAT = 'blockspin-mcrg-checkpoint';
/** The version this code writes and reads. */
export const MCRG_CHECKPOINT_VERSION = 1;

/** The checkpoint's own files (each rule adds its result files and series under `rule-<i>.`). */
export const MCRG_CHECKPOINT_FILES = { json: 'checkpoint.json', spins: 'spins.npy' } as const;

/**
 * Thrown for a checkpoint that is missing, corrupt, inconsistent or of other settings than the run resuming it
 * (an McrgResultError, so code that catches those for result directories catches these too).
 */
export class McrgCheckpointError extends McrgResultError {
  override name = 'McrgCheckpointError';
}

/** One blocking rule's state in a checkpoint. */
export interface McrgCheckpointRule {
  /** The rule's run record (McrgBlocking.record). */
  record: McrgRunRecord;
  /** Blocks so far in canonical order, each replica's unfinished block with its true count. */
  blocks: McrgBlock[];
  /** The τ_int series so far, [n × (levels + 1) × P] replica means. */
  series: Float64Array;
}

/** Everything McrgRunner.resume needs to continue a run exactly. */
export interface McrgCheckpoint {
  format: typeof MCRG_CHECKPOINT_FORMAT;
  version: typeof MCRG_CHECKPOINT_VERSION;
  /** Thermalisation sweeps done. */
  thermalised: number;
  /** Measurements per replica done (every blocking rule holds them all). */
  measured: number;
  /** The Ising engine's sweep counter (a word of every update's random-number counter). */
  sweep: number;
  /** The engine's spins, ±1, [replicas × L^dims] row-major. */
  spins: Int8Array;
  /** One per blocking rule, `blocking` first, then `alsoBlock` in order. */
  rules: McrgCheckpointRule[];
}

function counter(name: string, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new McrgCheckpointError(`${what}: ${name} ${String(value)} must be an integer in 0 … 4294967295`);
  return value;
}

/**
 * Throws McrgCheckpointError unless `checkpoint` has the shape of one: format and version, counters, ±1 spins,
 * and at least one rule with a record, blocks and a series. Whether it fits a run is McrgRunner.resume's check.
 */
export function checkMcrgCheckpoint(checkpoint: McrgCheckpoint, what = 'MCRG checkpoint'): void {
  if (checkpoint?.format !== MCRG_CHECKPOINT_FORMAT)
    throw new McrgCheckpointError(
      `${what}: format ${JSON.stringify(checkpoint?.format)} is not ${MCRG_CHECKPOINT_FORMAT}`,
    );
  if (checkpoint.version !== MCRG_CHECKPOINT_VERSION)
    throw new McrgCheckpointError(
      `${what}: version ${JSON.stringify(checkpoint.version)}; this blockspin reads version ${MCRG_CHECKPOINT_VERSION}`,
    );
  counter('thermalised', checkpoint.thermalised, what);
  counter('measured', checkpoint.measured, what);
  counter('sweep', checkpoint.sweep, what);
  const { spins } = checkpoint;
  if (!(spins instanceof Int8Array) || spins.length === 0)
    throw new McrgCheckpointError(`${what}: spins must be a non-empty Int8Array of ±1`);
  const bad = spins.findIndex((s) => s !== 1 && s !== -1);
  if (bad >= 0) throw new McrgCheckpointError(`${what}: spin ${bad} is ${spins[bad]}; spins must be ±1`);
  if (!Array.isArray(checkpoint.rules) || checkpoint.rules.length === 0)
    throw new McrgCheckpointError(`${what}: no blocking rules`);
  checkpoint.rules.forEach((rule, i) => {
    if (!rule?.record || typeof rule.record !== 'object' || !Array.isArray(rule.blocks))
      throw new McrgCheckpointError(`${what}: rule ${i} needs a record and a list of blocks`);
    if (!(rule.series instanceof Float64Array))
      throw new McrgCheckpointError(`${what}: rule ${i}'s series must be a Float64Array`);
  });
}

/** The file prefix of blocking rule i. */
function prefix(i: number): string {
  return `rule-${i}.`;
}

/** Operator values per measurement of a record's layout: (levels + 1) × P. */
function stride(record: McrgRunRecord): number {
  return (record.layout.levels + 1) * operatorCount(record.layout);
}

/** The spins' NPY shape: [replicas, L, L] or [replicas, L]. */
function spinShape(record: McrgRunRecord): number[] {
  const { count } = record.replicas;
  return record.dims === 2 ? [count, record.L, record.L] : [count, record.L];
}

/** The files of a checkpoint (pure: write them with writeDirectoryAtomically, or offer them as downloads). */
export function mcrgCheckpointFiles(checkpoint: McrgCheckpoint): DirectoryFile[] {
  checkMcrgCheckpoint(checkpoint);
  const record = checkpoint.rules[0]!.record;
  const shape = spinShape(record);
  if (checkpoint.spins.length !== shape.reduce((a, b) => a * b, 1))
    throw new McrgCheckpointError(
      `MCRG checkpoint: ${checkpoint.spins.length} spins; the record's ${shape.join(' × ')} need ${shape.reduce((a, b) => a * b, 1)}`,
    );
  const files: DirectoryFile[] = [];
  const rules = checkpoint.rules.map((rule, i) => {
    const { levels } = rule.record.layout;
    const p = operatorCount(rule.record.layout);
    const n = rule.series.length / stride(rule.record);
    if (!Number.isInteger(n))
      throw new McrgCheckpointError(
        `MCRG checkpoint: rule ${i}'s series of ${rule.series.length} numbers is not whole measurements of ${stride(rule.record)}`,
      );
    const result = createMcrgResult(rule.record, rule.blocks, {
      complete: checkpoint.measured >= rule.record.measurements,
    });
    for (const f of mcrgResultFiles(result)) files.push({ name: prefix(i) + f.name, bytes: f.bytes });
    files.push({
      name: `${prefix(i)}series.npy`,
      bytes: encodeNpy({ dtype: 'float64', shape: [n, levels + 1, p], data: rule.series }),
    });
    return { blocking: rule.record.blocking, prefix: prefix(i), series: n };
  });
  const meta = {
    format: MCRG_CHECKPOINT_FORMAT,
    version: MCRG_CHECKPOINT_VERSION,
    thermalised: checkpoint.thermalised,
    measured: checkpoint.measured,
    sweep: checkpoint.sweep,
    record,
    rules,
    files: {
      [MCRG_CHECKPOINT_FILES.spins]: `int8 [${shape.join(', ')}]: the Ising engine's ±1 spins`,
      'rule-<i>.*': "rule i's blocks as an MCRG result directory (mcrg.json, block-*.npy)",
      'rule-<i>.series.npy': "float64 [n, levels + 1, P]: rule i's τ_int series (replica means)",
    },
  };
  files.unshift(
    {
      name: MCRG_CHECKPOINT_FILES.json,
      bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`),
    },
    {
      name: MCRG_CHECKPOINT_FILES.spins,
      bytes: encodeNpy({ dtype: 'int8', shape, data: checkpoint.spins }),
    },
  );
  return files;
}

/**
 * Parses the files of a checkpoint (name → bytes), validating every file; `what` names it in errors, which are
 * McrgCheckpointError naming the file.
 */
export function parseMcrgCheckpointFiles(
  files: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array | undefined>,
  what = 'MCRG checkpoint',
): McrgCheckpoint {
  const entries: [string, Uint8Array | undefined][] =
    files instanceof Map ? [...files.entries()] : Object.entries(files);
  const all = new Map(entries.filter((e): e is [string, Uint8Array] => e[1] instanceof Uint8Array));
  const get = (name: string): Uint8Array => {
    const bytes = all.get(name);
    if (!bytes) throw new McrgCheckpointError(`${what}: ${name} is missing`);
    return bytes;
  };
  const npy = (name: string, dtype: NpyDtype, shape: number[]): NpyArray => {
    let a: NpyArray;
    try {
      a = decodeNpy(get(name), `${what}: ${name}`);
    } catch (err) {
      if (err instanceof McrgCheckpointError) throw err;
      throw new McrgCheckpointError((err as Error).message, { cause: err });
    }
    if (a.dtype !== dtype || a.shape.length !== shape.length || a.shape.some((s, i) => s !== shape[i]))
      throw new McrgCheckpointError(
        `${what}: ${name} is ${a.dtype} [${a.shape.join(', ')}]; expected ${dtype} [${shape.join(', ')}]`,
      );
    return a;
  };
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(get(MCRG_CHECKPOINT_FILES.json)));
  } catch (err) {
    if (err instanceof McrgCheckpointError) throw err;
    throw new McrgCheckpointError(
      `${what}: ${MCRG_CHECKPOINT_FILES.json} is not valid JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const json = `${what}: ${MCRG_CHECKPOINT_FILES.json}`;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta))
    throw new McrgCheckpointError(`${json} is not a JSON object`);
  if (meta.format !== MCRG_CHECKPOINT_FORMAT)
    throw new McrgCheckpointError(
      `${json}: format ${JSON.stringify(meta.format)} is not ${MCRG_CHECKPOINT_FORMAT}`,
    );
  if (meta.version !== MCRG_CHECKPOINT_VERSION)
    throw new McrgCheckpointError(
      `${json}: version ${JSON.stringify(meta.version)}; this blockspin reads version ${MCRG_CHECKPOINT_VERSION}`,
    );
  const thermalised = counter('thermalised', meta.thermalised, json);
  const measured = counter('measured', meta.measured, json);
  const sweep = counter('sweep', meta.sweep, json);
  const listed = meta.rules as { blocking?: unknown; prefix?: unknown; series?: unknown }[];
  if (!Array.isArray(listed) || listed.length === 0)
    throw new McrgCheckpointError(`${json}: rules must be a non-empty list`);
  const rules = listed.map((entry, i): McrgCheckpointRule => {
    const p = prefix(i);
    if (!entry || entry.prefix !== p)
      throw new McrgCheckpointError(`${json}: rule ${i} must have prefix ${JSON.stringify(p)}`);
    const own = new Map<string, Uint8Array>();
    for (const [name, bytes] of all) if (name.startsWith(p)) own.set(name.slice(p.length), bytes);
    let result;
    try {
      result = parseMcrgResult(own, `${what}, rule ${i} (files ${p}*)`);
    } catch (err) {
      if (!(err instanceof McrgResultError)) throw err;
      throw new McrgCheckpointError(err.message, { cause: err });
    }
    const part = result.parts[0]!;
    if (result.parts.length !== 1)
      throw new McrgCheckpointError(`${what}: ${p}mcrg.json holds ${result.parts.length} parts; a run has 1`);
    const record = { ...result.settings, seed: part.seed, replicas: part.replicas } as McrgRunRecord;
    if (entry.blocking !== record.blocking)
      throw new McrgCheckpointError(
        `${json}: rule ${i} is ${JSON.stringify(entry.blocking)} but ${p}mcrg.json says ${JSON.stringify(record.blocking)}`,
      );
    const n = entry.series;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > measured)
      throw new McrgCheckpointError(
        `${json}: rule ${i}'s series length ${JSON.stringify(n)} must be an integer in 0 … ${measured} (the measurements)`,
      );
    const { levels } = record.layout;
    const series = npy(`${p}series.npy`, 'float64', [n, levels + 1, operatorCount(record.layout)]);
    return { record, blocks: mcrgBlocks(result), series: (series.data as Float64Array).slice() };
  });
  const record = rules[0]!.record;
  const d = jsonDifference(meta.record, record);
  if (d)
    throw new McrgCheckpointError(
      `${json}: record differs from ${prefix(0)}mcrg.json's settings at ${d.path}: ${d.x} vs ${d.y}`,
    );
  const spins = (npy(MCRG_CHECKPOINT_FILES.spins, 'int8', spinShape(record)).data as Int8Array).slice();
  const checkpoint: McrgCheckpoint = {
    format: MCRG_CHECKPOINT_FORMAT,
    version: MCRG_CHECKPOINT_VERSION,
    thermalised,
    measured,
    sweep,
    spins,
    rules,
  };
  checkMcrgCheckpoint(checkpoint, `${what} (${MCRG_CHECKPOINT_FILES.spins})`);
  return checkpoint;
}

/** Writes a checkpoint directory atomically (Node; replaces an existing one: checkpoints are overwritten). */
export async function writeMcrgCheckpoint(
  dir: string,
  checkpoint: McrgCheckpoint,
  options: AtomicWriteOptions = {},
): Promise<string> {
  return writeDirectoryAtomically(dir, mcrgCheckpointFiles(checkpoint), {
    what: 'MCRG checkpoint directory',
    force: true,
    ...options,
  });
}

/** Reads and validates a checkpoint directory written by writeMcrgCheckpoint (Node). */
export async function readMcrgCheckpoint(dir: string): Promise<McrgCheckpoint> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new McrgCheckpointError(`MCRG checkpoint ${dir} does not exist`);
    throw err;
  });
  const files = new Map<string, Uint8Array>();
  for (const name of names) {
    const bytes = await fs.readFile(path.join(dir, name));
    files.set(name, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return parseMcrgCheckpointFiles(files, `MCRG checkpoint ${dir}`);
}
