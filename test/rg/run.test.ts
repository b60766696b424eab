/**
 * The MCRG driver end to end on the GPU: shards merge into exactly the unsplit run, the exact 1D ring check
 * through the whole chain (Metropolis → decimation → operators → T = tanh 2K, λ_h = 1 + tanh 2K), a 2D
 * majority-rule run whose y_h is near 15/8, an aborted run that continues, and bad input before GPU work.
 */
import { describe, expect, it } from 'vitest';
import { K_C } from '../../src/exact/ising.ts';
import { analyseMcrg } from '../../src/rg/mcrg.ts';
import {
  analyseMcrgResult,
  createMcrgResult,
  mcrgBlocks,
  mergeMcrgResults,
  type McrgResult,
} from '../../src/rg/result-files.ts';
import {
  McrgRunner,
  independentRunSpread,
  jackknifeBins,
  resolveMcrgRun,
  shardRange,
  type McrgOptions,
} from '../../src/rg/run.ts';
import { McrgAccumulator, blockTauInt, layout1d } from '../../src/rg/statistics.ts';
import { philoxUniforms } from '../../src/gpu/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

/** Majority rule at K_c on 16², 2 levels: R replicas × M measurements after 5 sweeps. */
function critical16(replicas: number, measurements: number, more: Partial<McrgOptions>): McrgOptions {
  return {
    L: 16,
    K: K_C,
    blocking: 'majority',
    levels: 2,
    replicas,
    samples: replicas * measurements,
    therm: 5,
    ...more,
  };
}

async function runAll(options: McrgOptions): Promise<McrgRunner> {
  const runner = new McrgRunner(gpu().device, options);
  await runner.run();
  return runner;
}

describe('MCRG driver', () => {
  it('shards i/n hold disjoint replica ranges that cover the run', () => {
    expect(shardRange(10, { index: 0, count: 3 })).toEqual({ first: 0, count: 3 });
    expect(shardRange(10, { index: 1, count: 3 })).toEqual({ first: 3, count: 3 });
    expect(shardRange(10, { index: 2, count: 3 })).toEqual({ first: 6, count: 4 });
    expect(() => shardRange(4, { index: 4, count: 4 })).toThrow(/shard index 4 must be an integer in 0 … 3/);
    expect(() => shardRange(4, { index: 0, count: 5 })).toThrow(/shard count 5 must be an integer in 1 … 4/);
  });

  it('a run split in shards and merged equals the unsplit run: same blocks, same estimates', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const options = critical16(6, 24, { blockLength: 2, seed: 11 });
      const whole = await runAll(options);
      const full = createMcrgResult(whole.record, whole.blocks(), { complete: whole.complete });
      whole.destroy();
      const parts: McrgResult[] = [];
      for (const index of [2, 0, 1]) {
        const shard = await runAll({ ...options, shard: { index, count: 3 } });
        parts.push(createMcrgResult(shard.record, shard.blocks(), { complete: shard.complete }));
        shard.destroy();
      }
      const merged = mergeMcrgResults(parts);
      expect(mcrgBlocks(merged)).toEqual(mcrgBlocks(full));
      expect(analyseMcrgResult(merged)).toEqual(analyseMcrgResult(full));
      // A shard without its global replica indices would repeat replica 0's streams: it must differ.
      const wrong = await runAll({ ...options, replicas: 2, samples: 2 * 24 });
      expect(wrong.blocks()[0]!.sums).not.toEqual(mcrgBlocks(full)[2 * 12]!.sums);
      wrong.destroy();
      // A shard run twice is refused by merge.
      expect(() => mergeMcrgResults([parts[0]!, parts[0]!])).toThrow(/overlap/);
    });
  });

  it('1D ring, decimation: T = tanh 2K and λ_h = 1 + tanh 2K through the whole GPU chain', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      for (const K of [0.5, 1]) {
        const runner = await runAll({
          dims: 1,
          L: 64,
          K,
          blocking: 'decimation',
          levels: 2,
          replicas: 64,
          samples: 64 * 100,
          every: 2,
          therm: 100,
          blockLength: 10,
          seed: 5,
        });
        const tau = runner.tauInt();
        const bins = jackknifeBins(runner.blocks(), Math.ceil(10 * tau.max.tauInt));
        const a = analyseMcrg(bins, { layout: runner.record.layout, b: 2 });
        const spread = independentRunSpread(bins, { layout: runner.record.layout, b: 2 })!;
        runner.destroy();
        // The jackknife error agrees with the spread of 8 independent groups of chains (within its own
        // statistical uncertainty, ~25 % for 8 groups).
        expect(spread.groups).toBe(8);
        expect(spread.lambdaEven[0]! / a.lambdaEven[0]!.err).toBeGreaterThan(0.5);
        expect(spread.lambdaEven[0]! / a.lambdaEven[0]!.err).toBeLessThan(2);
        expect(spread.lambdaOdd[0]! / a.lambdaOdd[0]!.err).toBeGreaterThan(0.5);
        expect(spread.lambdaOdd[0]! / a.lambdaOdd[0]!.err).toBeLessThan(2);
        const lambda = a.lambdaEven.find((e) => e.step === 1 && e.nc === 1)!;
        const odd = a.lambdaOdd.find((e) => e.step === 1 && e.nc === 1)!;
        const t = Math.tanh(2 * K);
        expect(Math.abs(lambda.value - t)).toBeLessThan(4 * lambda.err);
        expect(Math.abs(odd.value - (1 + t))).toBeLessThan(4 * odd.err);
        // Errors small enough that a wrong operator, level or blocking (T off by ≳ 0.1) would be seen; the
        // 5 %-in-K resolution needs ~10⁵ samples and is tested on exact CPU samples (test/rg/mcrg.test.ts).
        expect(lambda.err).toBeLessThan(0.03);
        expect(odd.err).toBeLessThan(0.03);
      }
    });
  });

  it('alsoBlock: several rules on the same samples equal separate runs of each rule', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const options = critical16(4, 30, { blockLength: 3, seed: 9 });
      const both = new McrgRunner(device, { ...options, alsoBlock: ['decimation'] });
      await both.run();
      const majority = await runAll(options);
      const decimation = await runAll({ ...options, blocking: 'decimation' });
      expect(both.blockings.map((b) => b.record.blocking)).toEqual(['majority', 'decimation']);
      expect(both.blockings[0]!.blocks()).toEqual(majority.blocks());
      expect(both.blockings[1]!.blocks()).toEqual(decimation.blocks());
      expect(both.blockings[1]!.blocks()).not.toEqual(majority.blocks());
      for (const r of [both, majority, decimation]) r.destroy();
    });
  });

  it('an aborted run keeps every measurement it read back and continues to the same result', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const options: McrgOptions = {
        L: 8,
        K: 0.3,
        algorithm: 'metropolis',
        blocking: 'decimation',
        levels: 1,
        replicas: 2,
        samples: 2 * 150,
        therm: 3,
        blockLength: 8,
        seed: 3,
      };
      const whole = await runAll(options);
      const stopped = new McrgRunner(device, options);
      const abort = new AbortController();
      await stopped.run(abort.signal, (phase, done) => {
        if (phase === 'measure' && done > 0) abort.abort();
      });
      expect(stopped.complete).toBe(false);
      const partial = stopped.blocks();
      expect(partial.reduce((s, b) => s + b.count, 0)).toBe(2 * stopped.measurements);
      await stopped.run();
      expect(stopped.blocks()).toEqual(whole.blocks());
      whole.destroy();
      stopped.destroy();
    });
  });

  it('blockTauInt recovers τ_int = (1 + ρ)/(2(1 − ρ)) of an AR(1) series from its blocks', () => {
    for (const [rho, seed] of [
      [0.8, 1],
      [0.5, 2],
    ] as const) {
      const next = philoxUniforms(seed);
      const gauss = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      const acc = new McrgAccumulator({ layout: layout1d(1), blockLength: 100, maxAbs: 10_000, replicas: 1 });
      let x = 0;
      const values = new Int32Array(40_000 * 2 * 3);
      for (let m = 0; m < 40_000; m++) {
        x = rho * x + Math.sqrt(1 - rho * rho) * gauss();
        values[m * 6] = Math.round(100 * x); // operator 0 of level 0; the others stay 0 (no variance: skipped)
      }
      acc.add(values, 0);
      const tau = blockTauInt(acc.blocks(), layout1d(1))!;
      const exact = (1 + rho) / (2 * (1 - rho));
      expect(tau.level).toBe(0);
      expect(tau.operator).toBe(0);
      expect(Math.abs(tau.tauInt / exact - 1)).toBeLessThan(0.2);
    }
  });

  it('refuses bad settings before any GPU work, naming the value and the limit', () => {
    const base: McrgOptions = { L: 32, K: K_C, blocking: 'majority', levels: 3, samples: 100 };
    expect(() => resolveMcrgRun({ ...base, L: 30 })).toThrow(/L 30 is not divisible by 2\^3 = 8/);
    expect(() => resolveMcrgRun({ ...base, dims: 1, algorithm: 'sw', blocking: 'decimation' })).toThrow(
      /'sw' \(Swendsen–Wang\) is 2D only/,
    );
    expect(() => resolveMcrgRun({ ...base, K: -1 })).toThrow(/coupling K = -1 must be finite and > 0/);
    expect(() => resolveMcrgRun({ ...base, replicas: 0 })).toThrow(/replicas 0 must be an integer in 1/);
    expect(() => resolveMcrgRun({ ...base, blockLength: 1000 })).toThrow(
      /block length 1000 must be an integer in 1 … 2/,
    );
    expect(() => resolveMcrgRun({ ...base, therm: 2 ** 32 })).toThrow(/therm 4294967296/);
    expect(() => resolveMcrgRun({ ...base, replicas: 2, samples: 100 })).toThrow(
      /100 samples over 2 replicas give 2 blocks of 50 measurements; the jackknife needs at least 10/,
    );
  });
});
