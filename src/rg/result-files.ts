/**
 * MCRG result directories: the per-block sufficient statistics of a run (src/rg/statistics.ts) as exact NPY
 * arrays plus `mcrg.json`, so runs made anywhere (shards of one study, reruns with other seeds) merge into the
 * analysis of all their samples at once.
 *
 * A result is a list of parts, each (seed, replicas {first, count}, complete, blocks); a fresh run has one part,
 * a merge holds the parts of its inputs. Blocks are kept in the canonical order (seed, replica, start), so the
 * analysis of a merge of shards is bit for bit the analysis of the unsplit run.
 *
 * Files:
 * - `mcrg.json`: format, version, complete, settings (everything the caller passed except seed, replicas and
 *   complete, which live in the parts), parts (seed, replicas, complete, blocks, samples, info), counts.
 * - `block-tags.npy`: uint32 [blocks × 4]: part index, global replica, first measurement, count.
 * - `block-sums.npy`: float64 [blocks × (levels+1) × P]: ΣS.
 * - `block-products.npy`: float64 [blocks × (levels+1) × P × P]: ΣS_a S_c, same level.
 * - `block-cross.npy`: float64 [blocks × levels × P × P]: ΣS_a⁽ⁿ⁾ S_b⁽ⁿ⁻¹⁾, n = 1 … levels.
 * All float64 entries are integers ≤ 2^53 in magnitude (exact).
 */

import { writeDirectoryAtomically, type AtomicWriteOptions, type DirectoryFile } from '../io/atomic-dir.ts';
import { decodeNpy, encodeNpy, type NpyDtype } from '../io/npy.ts';
import { analyseMcrg, type McrgAnalysis, type McrgAnalysisOptions } from './mcrg.ts';
import {
  blockSizes,
  checkBlock,
  checkLayout,
  compareBlocks,
  operatorCount,
  type McrgBlock,
  type OperatorLayout,
} from './statistics.ts';

/** The `format` field of mcrg.json. */
export const MCRG_FORMAT = 'blockspin-mcrg';
/** The version this code writes and reads. */
export const MCRG_VERSION = 1;

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A seed as stored: a non-negative safe integer, or a decimal string for seeds up to 2^64 − 1. */
export type McrgSeed = number | string;

/** Settings shared by every part of a result (merging requires them equal). */
export type McrgSettings = {
  [key: string]: JsonValue;
  layout: OperatorLayout;
  blockLength: number;
  b: number;
};

/** Settings of one run as the caller passes them: the shared settings plus its seed and replica range. */
export type McrgRunSettings = McrgSettings & { seed: McrgSeed; replicas: { first: number; count: number } };

/** The blocks of one run (or shard) of replicas first … first + count − 1 under one seed. */
export interface McrgPart {
  seed: McrgSeed;
  replicas: { first: number; count: number };
  /** False when the run stopped early (its last blocks may be short). */
  complete: boolean;
  /** Blocks in canonical order (replica, start). */
  blocks: McrgBlock[];
  /** Anything else the run wants to record (τ_int, adapter, wall time); kept as is, not compared. */
  info?: { [key: string]: JsonValue };
}

/** A result: shared settings and the parts, in canonical order (seed, first replica). */
export interface McrgResult {
  version: number;
  settings: McrgSettings;
  /** True when every part is complete. */
  complete: boolean;
  parts: McrgPart[];
}

const FILES = {
  meta: 'mcrg.json',
  tags: 'block-tags.npy',
  sums: 'block-sums.npy',
  products: 'block-products.npy',
  cross: 'block-cross.npy',
} as const;

/** Error for an unreadable or inconsistent result directory. */
export class McrgResultError extends Error {
  override name = 'McrgResultError';
}

function seedValue(seed: McrgSeed, what: string): bigint {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  if (typeof seed === 'string' && /^(0|[1-9]\d*)$/.test(seed)) {
    const s = BigInt(seed);
    if (s < 1n << 64n) return s;
  }
  throw new McrgResultError(`${what}: seed ${JSON.stringify(seed)} is not an integer in 0 … 2^64 − 1`);
}

/** The seed as stored: a number when it is a safe integer, else its decimal string. */
export function normaliseSeed(seed: number | bigint | string): McrgSeed {
  const s = typeof seed === 'bigint' ? seed : seedValue(seed, 'seed');
  if (s < 0n || s >= 1n << 64n) throw new McrgResultError(`seed ${seed} is not an integer in 0 … 2^64 − 1`);
  return s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s.toString();
}

function checkJson(x: unknown, path: string): void {
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return;
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new McrgResultError(`${path} = ${x} is not a finite number`);
    return;
  }
  if (Array.isArray(x)) return x.forEach((v, i) => checkJson(v, `${path}[${i}]`));
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const [k, v] of Object.entries(x)) checkJson(v, `${path}.${k}`);
    return;
  }
  throw new McrgResultError(`${path} is not a JSON value (${typeof x})`);
}

function checkSettings(settings: McrgSettings, what: string): void {
  if (!settings || typeof settings !== 'object' || Array.isArray(settings))
    throw new McrgResultError(`${what}: settings must be a JSON object`);
  checkJson(settings, `${what}: settings`);
  try {
    checkLayout(settings.layout);
  } catch (err) {
    throw new McrgResultError(
      `${what}: settings.layout ${JSON.stringify(settings.layout)}: ${(err as Error).message}`,
    );
  }
  if (!Number.isInteger(settings.blockLength) || settings.blockLength < 1)
    throw new McrgResultError(
      `${what}: settings.blockLength ${JSON.stringify(settings.blockLength)} must be an integer ≥ 1`,
    );
  if (!Number.isInteger(settings.b) || settings.b < 2)
    throw new McrgResultError(`${what}: settings.b ${JSON.stringify(settings.b)} must be an integer ≥ 2`);
}

function rangeText(part: Pick<McrgPart, 'seed' | 'replicas'>): string {
  const { first, count } = part.replicas;
  return `replicas ${first}…${first + count - 1} of seed ${part.seed}`;
}

/** Throws McrgResultError unless the part's tags, range and blocks are valid for the layout and block length. */
function checkPart(part: McrgPart, settings: McrgSettings, what: string): void {
  seedValue(part.seed, what);
  const r = part.replicas;
  if (!r || !Number.isSafeInteger(r.first) || r.first < 0 || !Number.isSafeInteger(r.count) || r.count < 1)
    throw new McrgResultError(
      `${what}: replicas ${JSON.stringify(r)} must be {first ≥ 0, count ≥ 1} integers`,
    );
  if (r.first + r.count > 2 ** 32)
    throw new McrgResultError(
      `${what}: replicas end at ${r.first + r.count}, beyond the 2^32 replica counters`,
    );
  if (typeof part.complete !== 'boolean')
    throw new McrgResultError(`${what}: complete must be true or false`);
  if (part.info !== undefined) checkJson(part.info, `${what}: info`);
  let previous: McrgBlock | null = null;
  part.blocks.forEach((block, i) => {
    const name = `${what}, block ${i} (replica ${block.replica}, start ${block.start})`;
    try {
      checkBlock(block, settings.layout, name, settings.blockLength);
    } catch (err) {
      throw new McrgResultError((err as Error).message);
    }
    if (block.replica < r.first || block.replica >= r.first + r.count)
      throw new McrgResultError(`${name}: replica ${block.replica} is outside ${rangeText(part)}`);
    if (previous && compareBlocks(previous, block) >= 0)
      throw new McrgResultError(`${name}: blocks are not in canonical order (replica, start) or repeat one`);
    if (previous && previous.replica === block.replica && previous.start + previous.count > block.start)
      throw new McrgResultError(
        `${name}: overlaps the previous block (start ${previous.start}, count ${previous.count})`,
      );
    previous = block;
  });
}

/** Parts sorted canonically (seed, first replica); throws naming both ranges when two of one seed overlap. */
function sortParts(parts: McrgPart[], names: string[]): McrgPart[] {
  const order = parts
    .map((part, i) => ({ part, name: names[i] as string, seed: seedValue(part.seed, names[i] as string) }))
    .sort((x, y) =>
      x.seed < y.seed ? -1 : x.seed > y.seed ? 1 : x.part.replicas.first - y.part.replicas.first,
    );
  for (let i = 1; i < order.length; i++) {
    const a = order[i - 1]!;
    const b = order[i]!;
    if (a.seed === b.seed && a.part.replicas.first + a.part.replicas.count > b.part.replicas.first)
      throw new McrgResultError(
        `${rangeText(a.part)} (${a.name}) overlap ${rangeText(b.part)} (${b.name}): ` +
          'the same seed and replica would count the same samples twice',
      );
  }
  return order.map((x) => x.part);
}

/**
 * A one-part result from a run's settings (which must hold layout, blockLength, b, seed and replicas) and its
 * blocks (e.g. McrgAccumulator.blocks()).
 */
export function createMcrgResult(
  settings: McrgRunSettings,
  blocks: readonly McrgBlock[],
  options: { complete: boolean; info?: { [key: string]: JsonValue } },
): McrgResult {
  const { seed, replicas, complete: _complete, ...shared } = settings;
  const part: McrgPart = {
    seed: normaliseSeed(seed),
    replicas: { first: replicas?.first, count: replicas?.count },
    complete: options.complete,
    blocks: [...blocks].sort(compareBlocks),
  };
  if (options.info) part.info = options.info;
  const result: McrgResult = {
    version: MCRG_VERSION,
    settings: shared as McrgSettings,
    complete: options.complete,
    parts: [part],
  };
  checkResult(result, 'MCRG result');
  return result;
}

/** Throws McrgResultError unless `result` is consistent (settings, parts, blocks, canonical order). */
export function checkResult(result: McrgResult, what = 'MCRG result'): void {
  if (result.version !== MCRG_VERSION)
    throw new McrgResultError(
      `${what}: version ${JSON.stringify(result.version)}; this blockspin reads version ${MCRG_VERSION}`,
    );
  checkSettings(result.settings, what);
  if (!Array.isArray(result.parts) || result.parts.length === 0)
    throw new McrgResultError(`${what}: no parts`);
  result.parts.forEach((part, i) => checkPart(part, result.settings, `${what}, part ${i}`));
  const sorted = sortParts(
    result.parts,
    result.parts.map((_, i) => `${what}, part ${i}`),
  );
  if (sorted.some((part, i) => part !== result.parts[i]))
    throw new McrgResultError(`${what}: parts are not in canonical order (seed, first replica)`);
  const complete = result.parts.every((part) => part.complete);
  if (result.complete !== complete)
    throw new McrgResultError(`${what}: complete is ${result.complete} but its parts say ${complete}`);
}

/** All blocks of a result in canonical order (seed, replica, start): the input of analyseMcrg. */
export function mcrgBlocks(result: McrgResult): McrgBlock[] {
  return result.parts.flatMap((part) => part.blocks);
}

/** Measurements in a result (Σ counts). */
export function mcrgSamples(result: McrgResult): number {
  return mcrgBlocks(result).reduce((s, block) => s + block.count, 0);
}

/** analyseMcrg over all blocks of a result with its layout, b and block length. */
export function analyseMcrgResult(
  result: McrgResult,
  options: Omit<McrgAnalysisOptions, 'layout' | 'b'> = {},
): McrgAnalysis {
  const { layout, b, blockLength } = result.settings;
  return analyseMcrg(mcrgBlocks(result), { blockLength, ...options, layout, b });
}

/** First key (sorted) at which two JSON values differ, with both values; null when equal. */
/**
 * The first key (sorted, dotted path; `[i]` for array elements) at which two JSON-like values differ, with both
 * values as JSON ('absent' for a missing key); null when equal. Names what mismatched settings disagree on (merge,
 * checkpoints).
 */
export function jsonDifference(
  x: unknown,
  y: unknown,
  path = '',
): { path: string; x: string; y: string } | null {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(x) && isObject(y)) {
    for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      const d = jsonDifference(x[key], y[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
    for (let i = 0; i < x.length; i++) {
      const d = jsonDifference(x[i], y[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (JSON.stringify(x) === JSON.stringify(y)) return null;
  const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));
  return { path: path || '(the whole value)', x: show(x), y: show(y) };
}

/**
 * The union of results: refuses different settings (naming the first differing key and both values) and
 * overlapping (seed, replica) ranges (naming both); parts sorted canonically, `complete` false if any part is.
 */
export function mergeMcrgResults(results: readonly McrgResult[]): McrgResult {
  if (results.length === 0) throw new McrgResultError('merge needs at least one MCRG result');
  results.forEach((r, i) => checkResult(r, `result ${i}`));
  const first = results[0] as McrgResult;
  results.forEach((r, i) => {
    const diff = jsonDifference(first.settings, r.settings);
    const d = diff && `${diff.path}: ${diff.x} vs ${diff.y}`;
    if (d)
      throw new McrgResultError(`cannot merge: settings differ between result 0 and result ${i} at ${d}`);
  });
  const parts: McrgPart[] = [];
  const names: string[] = [];
  results.forEach((r, i) =>
    r.parts.forEach((part, j) => {
      parts.push(part);
      names.push(`result ${i}, part ${j}`);
    }),
  );
  const sorted = sortParts(parts, names);
  return {
    version: MCRG_VERSION,
    settings: first.settings,
    complete: sorted.every((part) => part.complete),
    parts: sorted,
  };
}

/** The files of a result directory (pure: the browser can offer them as downloads). */
export function mcrgResultFiles(result: McrgResult): DirectoryFile[] {
  checkResult(result);
  const { layout } = result.settings;
  const p = operatorCount(layout);
  const sizes = blockSizes(layout);
  const blocks = mcrgBlocks(result);
  const n = blocks.length;
  const tags = new Uint32Array(n * 4);
  const sums = new Float64Array(n * sizes.sums);
  const products = new Float64Array(n * sizes.products);
  const cross = new Float64Array(n * sizes.cross);
  let k = 0;
  result.parts.forEach((part, j) =>
    part.blocks.forEach((block) => {
      tags.set([j, block.replica, block.start, block.count], 4 * k);
      sums.set(block.sums, k * sizes.sums);
      products.set(block.products, k * sizes.products);
      cross.set(block.cross, k * sizes.cross);
      k++;
    }),
  );
  const L = layout.levels;
  const meta = {
    format: MCRG_FORMAT,
    version: MCRG_VERSION,
    complete: result.complete,
    settings: result.settings,
    parts: result.parts.map((part) => ({
      seed: part.seed,
      replicas: part.replicas,
      complete: part.complete,
      blocks: part.blocks.length,
      samples: part.blocks.reduce((s, b) => s + b.count, 0),
      ...(part.info ? { info: part.info } : {}),
    })),
    counts: { blocks: n, samples: blocks.reduce((s, b) => s + b.count, 0), operators: p, levels: L },
    files: {
      [FILES.tags]: 'uint32 [blocks, 4]: part index, global replica, first measurement, count',
      [FILES.sums]: `float64 [blocks, ${L + 1}, ${p}]: ΣS_a at each level n = 0 … ${L}`,
      [FILES.products]: `float64 [blocks, ${L + 1}, ${p}, ${p}]: ΣS_a S_c at each level`,
      [FILES.cross]: `float64 [blocks, ${L}, ${p}, ${p}]: ΣS_a(n) S_b(n−1), n = 1 … ${L}`,
      exact: 'every float64 is an integer of magnitude ≤ 2^53, exact',
    },
  };
  const npy = (
    name: string,
    dtype: NpyDtype,
    shape: number[],
    data: Uint32Array | Float64Array,
  ): DirectoryFile => ({
    name,
    bytes: encodeNpy({ dtype, shape, data }),
  });
  return [
    { name: FILES.meta, bytes: new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`) },
    npy(FILES.tags, 'uint32', [n, 4], tags),
    npy(FILES.sums, 'float64', [n, L + 1, p], sums),
    npy(FILES.products, 'float64', [n, L + 1, p, p], products),
    npy(FILES.cross, 'float64', [n, L, p, p], cross),
  ];
}

/** Writes a result directory atomically (Node; refuses a non-empty `dir` unless `force`). Returns its path. */
export async function writeMcrgResult(
  dir: string,
  result: McrgResult,
  options: AtomicWriteOptions = {},
): Promise<string> {
  return writeDirectoryAtomically(dir, mcrgResultFiles(result), {
    what: 'MCRG result directory',
    ...options,
  });
}

/** Parses the files of a result directory (name → bytes), validating everything; `what` names it in errors. */
export function parseMcrgResult(files: ReadonlyMap<string, Uint8Array>, what = 'MCRG result'): McrgResult {
  const get = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (!bytes) throw new McrgResultError(`${what}: ${name} is missing`);
    return bytes;
  };
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(get(FILES.meta)));
  } catch (err) {
    if (err instanceof McrgResultError) throw err;
    throw new McrgResultError(`${what}: ${FILES.meta} is not valid JSON: ${(err as Error).message}`);
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta))
    throw new McrgResultError(`${what}: ${FILES.meta} is not a JSON object`);
  if (meta.format !== MCRG_FORMAT)
    throw new McrgResultError(`${what}: format ${JSON.stringify(meta.format)} is not ${MCRG_FORMAT}`);
  if (meta.version !== MCRG_VERSION)
    throw new McrgResultError(
      `${what}: version ${JSON.stringify(meta.version)}; this blockspin reads version ${MCRG_VERSION}`,
    );
  const settings = meta.settings as McrgSettings;
  checkSettings(settings, what);
  const layout = settings.layout;
  const p = operatorCount(layout);
  const L = layout.levels;
  const sizes = blockSizes(layout);
  const metaParts = meta.parts as {
    seed: McrgSeed;
    replicas: { first: number; count: number };
    complete: boolean;
    blocks: number;
    samples: number;
    info?: { [key: string]: JsonValue };
  }[];
  if (!Array.isArray(metaParts) || metaParts.length === 0)
    throw new McrgResultError(`${what}: parts must be a non-empty list`);
  const counts = meta.counts as { blocks: number; samples: number } | undefined;
  if (!counts || !Number.isSafeInteger(counts.blocks) || counts.blocks < 0)
    throw new McrgResultError(
      `${what}: counts.blocks ${JSON.stringify(counts?.blocks)} must be an integer ≥ 0`,
    );
  const n = counts.blocks;
  const array = (name: string, dtype: NpyDtype, shape: number[]): ArrayLike<number> => {
    let a;
    try {
      a = decodeNpy(get(name), `${what}: ${name}`);
    } catch (err) {
      if (err instanceof McrgResultError) throw err;
      throw new McrgResultError((err as Error).message);
    }
    if (a.dtype !== dtype || a.shape.length !== shape.length || a.shape.some((s, i) => s !== shape[i]))
      throw new McrgResultError(
        `${what}: ${name} is ${a.dtype} [${a.shape.join(', ')}]; expected ${dtype} [${shape.join(', ')}] ` +
          `(${n} blocks, ${L} levels, ${p} operators)`,
      );
    if (dtype === 'float64')
      for (let i = 0; i < a.data.length; i++)
        if (!Number.isFinite(a.data[i] as number))
          throw new McrgResultError(`${what}: ${name} entry ${i} is ${a.data[i]}`);
    return a.data;
  };
  const tags = array(FILES.tags, 'uint32', [n, 4]);
  const sums = array(FILES.sums, 'float64', [n, L + 1, p]) as Float64Array;
  const products = array(FILES.products, 'float64', [n, L + 1, p, p]) as Float64Array;
  const cross = array(FILES.cross, 'float64', [n, L, p, p]) as Float64Array;
  const parts: McrgPart[] = metaParts.map((m, j) => {
    if (!m || typeof m !== 'object') throw new McrgResultError(`${what}: part ${j} is not an object`);
    const part: McrgPart = { seed: m.seed, replicas: m.replicas, complete: m.complete, blocks: [] };
    if (m.info !== undefined) part.info = m.info;
    return part;
  });
  for (let k = 0; k < n; k++) {
    const j = tags[4 * k] as number;
    const part = parts[j];
    if (!part)
      throw new McrgResultError(`${what}: block ${k} names part ${j}; there are ${parts.length} parts`);
    if (parts.slice(j + 1).some((q) => q.blocks.length > 0))
      throw new McrgResultError(`${what}: block ${k} of part ${j} comes after blocks of a later part`);
    part.blocks.push({
      replica: tags[4 * k + 1] as number,
      start: tags[4 * k + 2] as number,
      count: tags[4 * k + 3] as number,
      sums: sums.slice(k * sizes.sums, (k + 1) * sizes.sums),
      products: products.slice(k * sizes.products, (k + 1) * sizes.products),
      cross: cross.slice(k * sizes.cross, (k + 1) * sizes.cross),
    });
  }
  const complete = meta.complete;
  if (typeof complete !== 'boolean') throw new McrgResultError(`${what}: complete must be true or false`);
  const result: McrgResult = { version: MCRG_VERSION, settings, complete, parts };
  checkResult(result, what);
  metaParts.forEach((m, j) => {
    const part = parts[j] as McrgPart;
    const samples = part.blocks.reduce((s, b) => s + b.count, 0);
    if (m.blocks !== part.blocks.length || m.samples !== samples)
      throw new McrgResultError(
        `${what}: part ${j} lists ${m.blocks} blocks and ${m.samples} samples; the arrays hold ${part.blocks.length} and ${samples}`,
      );
  });
  const samples = mcrgSamples(result);
  if (counts.samples !== samples)
    throw new McrgResultError(`${what}: counts.samples is ${counts.samples}; the blocks hold ${samples}`);
  return result;
}

/** Reads and validates a result directory written by writeMcrgResult (Node). */
export async function readMcrgResult(dir: string): Promise<McrgResult> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const files = new Map<string, Uint8Array>();
  for (const name of Object.values(FILES)) {
    const file = path.join(dir, name);
    const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new McrgResultError(`MCRG result ${dir}: ${name} is missing`);
      throw err;
    });
    files.set(name, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return parseMcrgResult(files, `MCRG result ${dir}`);
}
