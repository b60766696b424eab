/**
 * Mergeable MCRG result directories: shards of a run merge into exactly the unsplit run (same sums, identical
 * estimates), merges refuse different settings and overlapping (seed, replica) ranges, a stopped run stays
 * readable and mergeable, and corrupted files are refused with clear errors.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../../src/io/npy.ts';
import {
  analyseMcrgResult,
  createMcrgResult,
  mcrgBlocks,
  mcrgSamples,
  mergeMcrgResults,
  readMcrgResult,
  writeMcrgResult,
  type McrgResult,
  type McrgRunSettings,
} from '../../src/rg/result-files.ts';
import { McrgAccumulator, layout1d, operatorMaxAbs } from '../../src/rg/statistics.ts';
import { ringRun } from './ring-sampler.ts';

const LEVELS = 2;
const L = 16;
const BLOCK = 20;

function settings(
  seed: number,
  first: number,
  count: number,
  extra: Record<string, number> = {},
): McrgRunSettings {
  return {
    seed,
    replicas: { first, count },
    algorithm: 'exact-ring',
    dims: 1,
    L,
    K: 0.8,
    blocking: 'decimation',
    levels: LEVELS,
    every: 1,
    therm: 0,
    blockLength: BLOCK,
    layout: layout1d(LEVELS),
    b: 2,
    ...extra,
  };
}

/** A ring run of replicas first … first+count−1 under `seed`, stopped after `measurements`. */
function run(seed: number, first: number, count: number, measurements = 100, complete = true): McrgResult {
  const acc = new McrgAccumulator({
    layout: layout1d(LEVELS),
    blockLength: BLOCK,
    maxAbs: operatorMaxAbs(1, L),
    replicas: count,
    firstReplica: first,
  });
  ringRun({ K: 0.8, L, levels: LEVELS, seed, firstReplica: first, replicas: count, measurements }).forEach(
    (v, m) => acc.add(v, m),
  );
  return createMcrgResult(settings(seed, first, count), acc.blocks(), { complete });
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'blockspin-mcrg-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('merging MCRG results', () => {
  const unsplit = run(7, 0, 8);

  it('shards of a run merge into the unsplit run: same blocks, identical estimates', () => {
    const shards = [run(7, 0, 3), run(7, 3, 4), run(7, 7, 1)];
    // Any input order gives the same canonical merge.
    const merged = mergeMcrgResults([shards[2]!, shards[0]!, shards[1]!]);
    expect(merged.complete).toBe(true);
    expect(merged.parts.map((p) => p.replicas)).toEqual([
      { first: 0, count: 3 },
      { first: 3, count: 4 },
      { first: 7, count: 1 },
    ]);
    expect(mcrgBlocks(merged)).toEqual(mcrgBlocks(unsplit));
    expect(mcrgSamples(merged)).toBe(800);
    const a = analyseMcrgResult(unsplit);
    expect(a.blocks).toBe(40);
    expect(analyseMcrgResult(merged)).toEqual(a);
    expect(merged.settings).toEqual(unsplit.settings);
  });

  it('merges runs with different seeds (disjoint samples), ordered by seed', () => {
    const merged = mergeMcrgResults([run(9, 0, 2), run(7, 0, 2)]);
    expect(merged.parts.map((p) => p.seed)).toEqual([7, 9]);
    expect(mcrgSamples(merged)).toBe(400);
  });

  it('refuses different settings, naming the first differing key and both values', () => {
    const other = run(7, 8, 2);
    const changed = { ...other, settings: { ...other.settings, K: 0.81 } };
    expect(() => mergeMcrgResults([unsplit, changed])).toThrow(
      /settings differ between result 0 and result 1 at K: 0.8 vs 0.81/,
    );
    const layout = {
      ...other,
      settings: { ...other.settings, every: 2, layout: { levels: 2, even: 2, odd: 1 } },
    };
    expect(() => mergeMcrgResults([unsplit, layout])).toThrow(/at every: 1 vs 2/);
    const { therm: _, ...without } = other.settings;
    expect(() =>
      mergeMcrgResults([unsplit, { ...other, settings: without as typeof other.settings }]),
    ).toThrow(/at therm: 0 vs absent/);
  });

  it('refuses overlapping (seed, replica) ranges, naming both', () => {
    expect(() => mergeMcrgResults([unsplit, run(7, 6, 4)])).toThrow(
      /replicas 0…7 of seed 7 \(result 0, part 0\) overlap replicas 6…9 of seed 7 \(result 1, part 0\)/,
    );
    expect(() => mergeMcrgResults([unsplit, unsplit])).toThrow(/overlap/);
  });

  it('keeps a stopped run: its partial blocks keep their counts, and a merge with it stays partial', async () => {
    const stopped = run(7, 8, 2, 37, false);
    expect(stopped.complete).toBe(false);
    expect(stopped.parts[0]!.blocks.map((b) => [b.replica, b.start, b.count])).toEqual([
      [8, 0, 20],
      [8, 20, 17],
      [9, 0, 20],
      [9, 20, 17],
    ]);
    const merged = mergeMcrgResults([unsplit, stopped]);
    expect(merged.complete).toBe(false);
    expect(merged.parts.map((p) => p.complete)).toEqual([true, false]);
    expect(mcrgSamples(merged)).toBe(800 + 74);
    const dir = join(await tempDir(), 'partial');
    await writeMcrgResult(dir, merged);
    const back = await readMcrgResult(dir);
    expect(back).toEqual(merged);
    expect(analyseMcrgResult(back)).toEqual(analyseMcrgResult(merged));
  });
});

describe('MCRG result directories', () => {
  const result = mergeMcrgResults([run(7, 0, 2), run(7, 2, 2)]);
  result.parts[0]!.info = { tauInt: 0.5, adapter: 'test' };

  it('round-trips exactly and records settings, parts and counts in mcrg.json', async () => {
    const dir = join(await tempDir(), 'result');
    await writeMcrgResult(dir, result);
    const back = await readMcrgResult(dir);
    expect(back).toEqual(result);
    const meta = JSON.parse(await readFile(join(dir, 'mcrg.json'), 'utf-8'));
    expect(meta.format).toBe('blockspin-mcrg');
    expect(meta.version).toBe(1);
    expect(meta.complete).toBe(true);
    expect(meta.settings).toMatchObject({
      K: 0.8,
      L: 16,
      blockLength: 20,
      b: 2,
      layout: { levels: 2, even: 2, odd: 1 },
    });
    expect(meta.parts[0]).toEqual({
      seed: 7,
      replicas: { first: 0, count: 2 },
      complete: true,
      blocks: 10,
      samples: 200,
      info: { tauInt: 0.5, adapter: 'test' },
    });
    expect(meta.counts).toEqual({ blocks: 20, samples: 400, operators: 3, levels: 2 });
    await expect(writeMcrgResult(dir, result)).rejects.toThrow(/exists and is not empty/);
    await writeMcrgResult(dir, result, { force: true });
  });

  it('stores seeds beyond 2^53 as decimal strings', () => {
    const big = createMcrgResult({ ...settings(0, 0, 1), seed: '18446744073709551615' }, [], {
      complete: false,
    });
    expect(big.parts[0]!.seed).toBe('18446744073709551615');
    expect(() =>
      createMcrgResult({ ...settings(0, 0, 1), seed: '18446744073709551616' }, [], { complete: true }),
    ).toThrow(/seed "18446744073709551616" is not an integer in 0 … 2\^64 − 1/);
  });

  /** Writes the result, lets `corrupt` change one file, and returns the read error message. */
  async function corrupted(
    name: string,
    corrupt: (bytes: Uint8Array) => Uint8Array | string,
  ): Promise<string> {
    const dir = join(await tempDir(), 'bad');
    await writeMcrgResult(dir, result);
    const bytes = new Uint8Array(await readFile(join(dir, name)));
    await writeFile(join(dir, name), corrupt(bytes));
    return readMcrgResult(dir).then(
      () => 'no error',
      (err: Error) => err.message,
    );
  }
  const editJson = (edit: (meta: Record<string, unknown>) => void) => (bytes: Uint8Array) => {
    const meta = JSON.parse(new TextDecoder().decode(bytes));
    edit(meta);
    return JSON.stringify(meta);
  };
  const editNpy = (edit: (data: Float64Array | Uint32Array) => void) => (bytes: Uint8Array) => {
    const a = decodeNpy(bytes);
    edit(a.data as Float64Array | Uint32Array);
    return encodeNpy(a);
  };

  it('refuses corrupted files with clear errors', async () => {
    expect(
      await corrupted(
        'mcrg.json',
        editJson((m) => (m.version = 2)),
      ),
    ).toMatch(/version 2; this blockspin reads version 1/);
    expect(await corrupted('mcrg.json', () => '{ not json')).toMatch(/mcrg.json is not valid JSON/);
    expect(
      await corrupted(
        'mcrg.json',
        editJson((m) => (m.format = 'other')),
      ),
    ).toMatch(/format "other" is not blockspin-mcrg/);
    expect(
      await corrupted(
        'mcrg.json',
        editJson((m) => ((m.parts as { samples: number }[])[0]!.samples = -5)),
      ),
    ).toMatch(/part 0 lists 10 blocks and -5 samples; the arrays hold 10 and 200/);
    expect(
      await corrupted(
        'mcrg.json',
        editJson((m) => ((m.settings as { b: number }).b = 1)),
      ),
    ).toMatch(/settings.b 1 must be an integer ≥ 2/);
    expect(
      await corrupted(
        'mcrg.json',
        editJson((m) => (m.complete = false)),
      ),
    ).toMatch(/complete is false but its parts say true/);
    expect(
      await corrupted(
        'block-sums.npy',
        editNpy((d) => (d[5] = NaN)),
      ),
    ).toMatch(/block-sums.npy entry 5 is NaN/);
    expect(
      await corrupted(
        'block-cross.npy',
        editNpy((d) => (d[3] = 0.25)),
      ),
    ).toMatch(/cross\[3\] = 0.25 is not an exact integer/);
    expect(
      await corrupted(
        'block-tags.npy',
        editNpy((d) => (d[3] = 0)),
      ),
    ).toMatch(/count = 0 must be an integer ≥ 1/);
    expect(
      await corrupted(
        'block-tags.npy',
        editNpy((d) => (d[3] = 21)),
      ),
    ).toMatch(/count 21 exceeds the block length 20/);
    expect(
      await corrupted(
        'block-tags.npy',
        editNpy((d) => (d[1] = 5)),
      ),
    ).toMatch(/replica 5 is outside replicas 0…1 of seed 7/);
    expect(
      await corrupted(
        'block-tags.npy',
        editNpy((d) => (d[4 * 12] = 0)),
      ),
    ).toMatch(/comes after blocks of a later part/);
    expect(
      await corrupted('block-products.npy', (bytes) => {
        const a = decodeNpy(bytes);
        return encodeNpy({
          dtype: 'float64',
          shape: [20, 3, 3, 2],
          data: (a.data as Float64Array).subarray(0, 360),
        });
      }),
    ).toMatch(/block-products.npy is float64 \[20, 3, 3, 2\]; expected float64 \[20, 3, 3, 3\]/);
    expect(
      await corrupted('block-tags.npy', (bytes) => {
        const a = decodeNpy(bytes);
        return encodeNpy({ dtype: 'int32', shape: a.shape, data: new Int32Array(a.data) });
      }),
    ).toMatch(/block-tags.npy is int32 \[20, 4\]; expected uint32 \[20, 4\]/);
    expect(await corrupted('block-sums.npy', (bytes) => bytes.subarray(0, bytes.length - 8))).toMatch(
      /truncated/,
    );
    const dir = join(await tempDir(), 'missing');
    await writeMcrgResult(dir, result);
    await rm(join(dir, 'block-cross.npy'));
    await expect(readMcrgResult(dir)).rejects.toThrow(/block-cross.npy is missing/);
  });
});
