/**
 * MCRG checkpoints: a run checkpointed (during the measurements, twice, or during the thermalisation), written
 * to files, parsed and resumed gives the blocks and τ_int of the uninterrupted run bit for bit, with three
 * blocking rules on the same samples (majority, decimation, an RBM projector); a checkpoint of other settings
 * is refused naming the key; the accumulator and series restore exactly (CPU); corrupt files are refused
 * naming the file (CPU).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K_C } from '../../src/exact/ising.ts';
import { philoxUniforms } from '../../src/gpu/philox.ts';
import type { DirectoryFile } from '../../src/io/atomic-dir.ts';
import type { BlockingRule } from '../../src/rg/blocking.ts';
import {
  McrgCheckpointError,
  mcrgCheckpointFiles,
  parseMcrgCheckpointFiles,
  readMcrgCheckpoint,
  writeMcrgCheckpoint,
  type McrgCheckpoint,
} from '../../src/rg/checkpoint.ts';
import { McrgRunner, resolveMcrgRun, type McrgRunnerOptions } from '../../src/rg/run.ts';
import { McrgAccumulator, OperatorSeries, layout2d, operatorMaxAbs } from '../../src/rg/statistics.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { randomOperatorValues } from '../helpers/operators.ts';

const gpu = useGpu();

/** A stochastic one-filter projector (k = 2, b = 2) for L = 16. */
const rbm: BlockingRule = {
  rbm: { units: 'ising', Lv: 16, filters: 1, k: 2, stride: 2, W: Float64Array.of(0.6, 0.3, 0.2, 0.4) },
};

/** 16², 2 levels at K_c, 4 replicas × 40 measurements in blocks of 3 (so blocks are open at a checkpoint). */
const options: McrgRunnerOptions = {
  L: 16,
  K: K_C,
  blocking: 'majority',
  alsoBlock: ['decimation', rbm],
  levels: 2,
  replicas: 4,
  samples: 4 * 40,
  therm: 6,
  blockLength: 3,
  seed: 21,
};

/** Files → name map, as a directory reader gives them. */
function fileMap(files: DirectoryFile[]): Map<string, Uint8Array> {
  return new Map(files.map((f) => [f.name, f.bytes]));
}

/** Every rule's blocks and τ_int. */
function outcome(runner: McrgRunner): unknown {
  return runner.blockings.map((b) => ({ blocks: b.blocks(), tau: b.tauInt() }));
}

/** A checkpoint made on the CPU (random operator values and spins) for the file tests. */
function syntheticCheckpoint(): McrgCheckpoint {
  const o = { ...options, alsoBlock: undefined, replicas: 2, samples: 2 * 20, blockLength: 4 };
  const record = resolveMcrgRun(o);
  const maxAbs = operatorMaxAbs(2, 16);
  const acc = new McrgAccumulator({ layout: record.layout, blockLength: 4, maxAbs, replicas: 2 });
  const series = new OperatorSeries(record.layout, 2);
  const values = randomOperatorValues(record.layout, 2, 7, maxAbs, 3);
  acc.add(values, 0);
  series.add(values);
  const u = philoxUniforms(4);
  const spins = Int8Array.from({ length: 2 * 256 }, () => (u() < 0.5 ? -1 : 1));
  return {
    format: 'blockspin-mcrg-checkpoint',
    version: 1,
    thermalised: 6,
    measured: 7,
    sweep: 13,
    spins,
    rules: [{ record, blocks: acc.blocks(), series: series.values() }],
  };
}

describe('MCRG checkpoints', () => {
  it('checkpoint → files → resume, twice, gives the uninterrupted run bit for bit (three rules)', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const whole = new McrgRunner(device, options);
      await whole.run();
      const expected = outcome(whole);
      whole.destroy();

      const first = new McrgRunner(device, options);
      await first.thermalise();
      const step = first.measure(17);
      await expect(first.checkpoint()).rejects.toThrow(/cannot checkpoint while thermalise or measure runs/);
      await step;
      const saved = await first.checkpoint();
      expect(saved.measured).toBe(17);
      expect(saved.sweep).toBe(6 + 17);
      // 17 measurements in blocks of 3: each replica's block 15 … 17 is open with 2 measurements.
      expect(saved.rules[0]!.blocks.filter((b) => b.count === 2)).toHaveLength(4);
      first.destroy();

      const parsed = parseMcrgCheckpointFiles(fileMap(mcrgCheckpointFiles(saved)));
      expect(parsed).toEqual(saved);
      const second = McrgRunner.resume(device, options, parsed);
      expect(second.measurements).toBe(17);
      expect(second.engine.sweeps).toBe(23);
      await second.measure(10);
      // The second hop goes through a directory on disk.
      const dir = await mkdtemp(join(tmpdir(), 'blockspin-mcrg-checkpoint-'));
      try {
        await writeMcrgCheckpoint(dir, await second.checkpoint());
        second.destroy();
        const third = McrgRunner.resume(device, options, await readMcrgCheckpoint(dir));
        await third.run();
        expect(third.complete).toBe(true);
        expect(outcome(third)).toEqual(expected);
        third.destroy();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('a checkpoint during the thermalisation resumes to the same run', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      // 300 sweeps are two submissions (256 + 44): an abort after the first stops inside the thermalisation.
      const o: McrgRunnerOptions = {
        ...options,
        alsoBlock: undefined,
        algorithm: 'heatbath',
        therm: 300,
        samples: 4 * 12,
        blockLength: 4,
      };
      const whole = new McrgRunner(device, o);
      await whole.run();
      const stopped = new McrgRunner(device, o);
      const abort = new AbortController();
      await stopped.run(abort.signal, (phase) => {
        if (phase === 'thermalise') abort.abort();
      });
      const saved = await stopped.checkpoint();
      stopped.destroy();
      expect(saved.thermalised).toBe(256);
      expect(saved.measured).toBe(0);
      expect(saved.rules[0]!.blocks).toEqual([]);
      const resumed = McrgRunner.resume(
        device,
        o,
        parseMcrgCheckpointFiles(fileMap(mcrgCheckpointFiles(saved))),
      );
      await expect(resumed.measure()).rejects.toThrow(/thermalise first: 256 of 300 sweeps done/);
      await resumed.run();
      expect(outcome(resumed)).toEqual(outcome(whole));
      for (const r of [whole, resumed]) r.destroy();
    });
  });

  it('refuses to resume with other settings, naming the key and both values (before any GPU work)', () => {
    const saved = syntheticCheckpoint();
    const o: McrgRunnerOptions = {
      ...options,
      alsoBlock: undefined,
      replicas: 2,
      samples: 2 * 20,
      blockLength: 4,
    };
    const device = {} as GPUDevice; // never reached: every refusal comes first
    const resume = (patch: Partial<McrgRunnerOptions>): unknown =>
      McrgRunner.resume(device, { ...o, ...patch }, saved);
    expect(() => resume({ K: 0.4 })).toThrow(McrgCheckpointError);
    expect(() => resume({ K: 0.4 })).toThrow(
      /rule 0 \(majority\): K is 0\.44\d+ in the checkpoint, 0\.4 in the options/,
    );
    expect(() => resume({ seed: 22 })).toThrow(/seed is 21 in the checkpoint, 22 in the options/);
    expect(() => resume({ L: 32 })).toThrow(/L is 16 in the checkpoint, 32 in the options/);
    expect(() => resume({ every: 2 })).toThrow(/every is 1 in the checkpoint, 2 in the options/);
    expect(() => resume({ blockLength: 2 })).toThrow(/blockLength is 4 in the checkpoint, 2 in the options/);
    expect(() => resume({ blocking: 'decimation' })).toThrow(
      /blocking is "majority" in the checkpoint, "decimation"/,
    );
    expect(() => resume({ algorithm: 'metropolis' })).toThrow(
      /algorithm is "sw" in the checkpoint, "metropolis"/,
    );
    expect(() => resume({ shard: { index: 1, count: 2 } })).toThrow(
      /replicas\.count is 2 in the checkpoint, 1/,
    );
    expect(() => resume({ alsoBlock: ['decimation'] })).toThrow(
      /the checkpoint has 1 blocking rules \(majority\); the options give 2 \(majority, decimation\)/,
    );
    expect(() => McrgRunner.resume(device, o, { ...saved, measured: 30 })).toThrow(/30 of 20 measurements/);
    expect(() =>
      McrgRunner.resume(device, o, { ...saved, format: 'x' as 'blockspin-mcrg-checkpoint' }),
    ).toThrow(/format "x" is not blockspin-mcrg-checkpoint/);
  });

  it('an accumulator and a series restored from their own state continue exactly (CPU)', () => {
    const layout = layout2d(2);
    const maxAbs = 50;
    const replicas = 3;
    const make = (): McrgAccumulator =>
      new McrgAccumulator({ layout, blockLength: 4, maxAbs, replicas, firstReplica: 5 });
    const values = randomOperatorValues(layout, replicas, 23, maxAbs, 7);
    const per = replicas * (layout.levels + 1) * (layout.even + layout.odd);
    for (const first of [0, 6]) {
      const whole = make();
      const wholeSeries = new OperatorSeries(layout, replicas);
      whole.add(values, first);
      wholeSeries.add(values);
      for (const k of [0, 1, 4, 9, 22]) {
        const head = make();
        const headSeries = new OperatorSeries(layout, replicas);
        if (k > 0) {
          head.add(values.subarray(0, k * per), first);
          headSeries.add(values.subarray(0, k * per));
        }
        const again = make();
        again.restore(head.blocks(), k, first);
        expect(again.measurements).toBe(k);
        expect(again.nextMeasurement).toBe(k > 0 ? first + k : null);
        expect(again.blocks()).toEqual(head.blocks());
        const series = new OperatorSeries(layout, replicas);
        series.restore(headSeries.values());
        expect(series.values()).toEqual(headSeries.values());
        again.add(values.subarray(k * per), first + k);
        series.add(values.subarray(k * per));
        expect(again.blocks()).toEqual(whole.blocks());
        expect(again.blocks({ includeOpen: false })).toEqual(whole.blocks({ includeOpen: false }));
        expect(series.tauInt()).toEqual(wholeSeries.tauInt());
      }
    }
    // Refusals name the block and what it should be.
    const head = make();
    head.add(values.subarray(0, 9 * per), 0);
    const blocks = head.blocks();
    expect(() => make().restore(blocks.slice(1), 9)).toThrow(
      /8 blocks given; 3 replicas × 9 measurements from measurement 0 in blocks of 4 make 3 × 3 = 9/,
    );
    expect(() => make().restore(blocks, 10)).toThrow(
      /start 8, count 1; after 10 measurements .* start 8, count 2/,
    );
    expect(() => make().restore(blocks, 9, 1)).toThrow(/should be replica 5, start 1, count 3/);
    const moved = blocks.map((b) => ({ ...b, replica: b.replica + 3 }));
    expect(() => make().restore(moved, 9)).toThrow(/replica 8 is outside this accumulator's replicas 5 … 7/);
    // Block 2 (one measurement) with ΣS = 60 and ΣS² = 3600: consistent, but beyond maxAbs = 50.
    const big = blocks.map((b, i) => {
      if (i !== 2) return b;
      const sums = b.sums.slice();
      const products = b.products.slice();
      sums[0] = 60;
      products[0] = 3600;
      return { ...b, sums, products };
    });
    expect(() => make().restore(big, 9)).toThrow(/sums\[0\] = 60 exceeds count × maxAbs = 50/);
    expect(() => head.restore(blocks, 9)).toThrow(/restore needs a fresh accumulator; this one holds 9/);
    expect(() => make().restore(blocks, -1)).toThrow(/measurements -1 must be an integer ≥ 0/);
    const series = new OperatorSeries(layout, replicas);
    expect(() => series.restore(new Float64Array(5))).toThrow(
      /5 numbers is not whole measurements of 3 levels × 11/,
    );
    const bad = new Float64Array(33);
    bad[4] = NaN;
    expect(() => series.restore(bad)).toThrow(/series value 4 = NaN is not finite/);
  });

  it('files round-trip; a missing or corrupt file is refused, naming it (CPU)', () => {
    const saved = syntheticCheckpoint();
    const files = mcrgCheckpointFiles(saved);
    expect(files.map((f) => f.name).sort()).toEqual(
      [
        'checkpoint.json',
        'spins.npy',
        'rule-0.mcrg.json',
        'rule-0.block-tags.npy',
        'rule-0.block-sums.npy',
        'rule-0.block-products.npy',
        'rule-0.block-cross.npy',
        'rule-0.series.npy',
      ].sort(),
    );
    expect(parseMcrgCheckpointFiles(fileMap(files))).toEqual(saved);
    const record = Object.fromEntries(files.map((f) => [f.name, f.bytes]));
    expect(parseMcrgCheckpointFiles(record)).toEqual(saved);
    const without = (name: string): Map<string, Uint8Array> => {
      const map = fileMap(files);
      map.delete(name);
      return map;
    };
    const replaced = (name: string, bytes: Uint8Array): Map<string, Uint8Array> =>
      fileMap(files).set(name, bytes);
    const bytesOf = (name: string): Uint8Array => fileMap(files).get(name)!;
    const parse = (map: Map<string, Uint8Array>): McrgCheckpoint => parseMcrgCheckpointFiles(map, 'ckpt');
    expect(() => parse(without('spins.npy'))).toThrow(McrgCheckpointError);
    expect(() => parse(without('spins.npy'))).toThrow(/ckpt: spins\.npy is missing/);
    expect(() => parse(without('rule-0.block-sums.npy'))).toThrow(
      /rule 0 \(files rule-0\.\*\): block-sums\.npy is missing/,
    );
    expect(() => parse(replaced('checkpoint.json', new TextEncoder().encode('{"format": ')))).toThrow(
      /ckpt: checkpoint\.json is not valid JSON/,
    );
    expect(() => parse(replaced('spins.npy', bytesOf('spins.npy').subarray(0, 300)))).toThrow(
      /ckpt: spins\.npy.*truncated/,
    );
    expect(() => parse(replaced('rule-0.series.npy', bytesOf('rule-0.block-sums.npy')))).toThrow(
      /ckpt: rule-0\.series\.npy is float64 \[\d+, 3, 11\]; expected float64 \[7, 3, 11\]/,
    );
    const spins = bytesOf('spins.npy').slice();
    spins[spins.length - 1] = 3;
    expect(() => parse(replaced('spins.npy', spins))).toThrow(/spin 511 is 3; spins must be ±1/);
    const sums = bytesOf('rule-0.block-sums.npy').slice();
    sums[sums.length - 6] = sums.at(-6)! ^ 0x40; // bit 22 of the last sum (|x| < 2^29): not an integer
    expect(() => parse(replaced('rule-0.block-sums.npy', sums))).toThrow(
      /rule 0 .*block \d+.*not an exact integer/,
    );
    const meta = JSON.parse(new TextDecoder().decode(bytesOf('checkpoint.json')));
    const edited = (patch: object): Uint8Array =>
      new TextEncoder().encode(JSON.stringify({ ...meta, ...patch }));
    expect(() => parse(replaced('checkpoint.json', edited({ measured: -1 })))).toThrow(
      /checkpoint\.json: measured -1 must be an integer in 0 … 4294967295/,
    );
    expect(() => parse(replaced('checkpoint.json', edited({ record: { ...meta.record, L: 32 } })))).toThrow(
      /checkpoint\.json: record differs from rule-0\.mcrg\.json's settings at L: 32 vs 16/,
    );
    expect(() => parse(replaced('checkpoint.json', edited({ version: 2 })))).toThrow(
      /version 2; this blockspin reads version 1/,
    );
  });
});
