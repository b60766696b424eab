/**
 * The MCRG driver: equilibrium configurations (an Ising engine's replicas, or configurations the caller
 * uploads) → block-spin levels → the operators of every level → the sufficient statistics of MCRG. Everything
 * but the last step stays on the GPU; operator values come back once per batch of measurements. Works in the
 * browser and in Node (result directories are src/rg/result-files.ts).
 *
 * Checkpoints: `checkpoint()` takes a run's whole state between steps (src/rg/checkpoint.ts turns it into files)
 * and `McrgRunner.resume` continues it, bit for bit on the same adapter, after Ctrl-C, a lost device or a killed
 * process.
 *
 * Shards: a run of R replicas may be split into n shards (`shard: { index, count }`); shard i simulates the
 * global replicas ⌊i·R/n⌋ … ⌊(i+1)·R/n⌋ − 1 with those global indices in every random-number counter, so the
 * shards' blocks together are exactly the unsplit run's.
 *
 * @example
 * const runner = new McrgRunner(device, { L: 32, K: K_C, blocking: 'majority', levels: 3, samples: 10_000 });
 * await runner.run();
 * const table = runner.analysis();
 * runner.destroy();
 */
import { submitStep, type Encodable } from '../gpu/kernel.ts';
import { workDone } from '../gpu/lost.ts';
import { IsingEngine, type IsingSnapshot } from '../ising/engine.ts';
import type { IsingOptions } from '../ising/config.ts';
import { BlockSpinPipeline, blockingFactor, checkBlockingGeometry, type BlockingRule } from './blocking.ts';
import {
  MCRG_CHECKPOINT_FORMAT,
  MCRG_CHECKPOINT_VERSION,
  McrgCheckpointError,
  checkMcrgCheckpoint,
  type McrgCheckpoint,
} from './checkpoint.ts';
import { analyseMcrg, type McrgAnalysis } from './mcrg.ts';
import { jsonDifference, normaliseSeed, type McrgRunSettings } from './result-files.ts';
import {
  McrgAccumulator,
  OperatorSeries,
  blockTauInt,
  layout1d,
  layout2d,
  operatorMaxAbs,
  type McrgBlock,
  type OperatorLayout,
  type OperatorTauTable,
} from './statistics.ts';

/** Update algorithms an MCRG run can use ('sw' is 2D only and gives critical data fast). */
export type McrgAlgorithm = 'sw' | 'metropolis' | 'heatbath';

/** A shard of a run: the `index`-th (0-based) of `count` near-equal ranges of its replicas. */
export interface McrgShard {
  index: number;
  count: number;
}

export interface McrgOptions {
  /** 2 (L×L torus, default) or 1 (ring of L spins). */
  dims?: 1 | 2;
  L: number;
  /** Coupling K = J/T > 0 (zero field). */
  K: number;
  /** Default 'sw' in 2D, 'metropolis' on a ring. */
  algorithm?: McrgAlgorithm;
  blocking: BlockingRule;
  /** Blocking steps: lattices n = 0 … levels. */
  levels: number;
  /** Configurations analysed in all, over every replica of the whole run (all shards together). */
  samples: number;
  /** Independent chains of the whole run (default 64). */
  replicas?: number;
  /** Sweeps between measurements (default 1). */
  every?: number;
  /** Thermalisation sweeps before the first measurement (default 1000). */
  therm?: number;
  /** Seed of every random number (default 1). */
  seed?: number | bigint;
  shard?: McrgShard;
  /** Measurements of one replica per stored block (default: defaultBlockLength). */
  blockLength?: number;
}

/**
 * A run's settings as stored in its result directory: everything that must agree for runs to merge, plus its
 * seed and replica range (which must not overlap another part's).
 */
export type McrgRunRecord = McrgRunSettings & {
  dims: 1 | 2;
  L: number;
  K: number;
  algorithm: McrgAlgorithm;
  blocking: string;
  levels: number;
  every: number;
  therm: number;
  /** Measurements per replica of the whole run. */
  measurements: number;
  /** Replicas of the whole run (this part holds `replicas`). */
  totalReplicas: number;
};

/** The most replicas a run accepts (the counters hold 2^32; host memory for the statistics runs out first). */
export const MAX_MCRG_REPLICAS = 1 << 20;

/** The fewest stored blocks a run may have (the analysis's jackknife minimum). */
export const MIN_BLOCKS = 10;

/** Default replicas of a run: enough parallel work for a GPU, few enough for τ_int from each series. */
export const DEFAULT_MCRG_REPLICAS = 64;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} ${String(value)} must be an integer in ${min} … ${max}`);
  }
  return value;
}

/** The global replica range of shard `index` of `count` over `replicas` replicas. */
export function shardRange(replicas: number, shard: McrgShard): { first: number; count: number } {
  const n = integerIn('shard count', shard.count, 1, replicas);
  const i = integerIn('shard index', shard.index, 0, n - 1);
  const first = Math.floor((i * replicas) / n);
  return { first, count: Math.floor(((i + 1) * replicas) / n) - first };
}

/**
 * Default measurements per stored block: 1/16 of a replica's measurements, at least 50 (ten times a
 * Swendsen–Wang τ_int of the operators at K_c, a few sweeps) where the run is that long. Stored blocks are
 * the grain of the sufficient statistics; the analysis joins a replica's neighbouring blocks into jackknife
 * bins of at least 10 τ_int as measured (jackknifeBins).
 */
export function defaultBlockLength(measurements: number): number {
  return Math.max(1, Math.min(measurements, Math.max(50, Math.ceil(measurements / 16))));
}

/** The name of a blocking rule in settings: 'majority', …, or 'rbm:k8s2:<hash of the f32 filter>'. */
export function blockingName(rule: BlockingRule): string {
  if (typeof rule === 'string') return rule;
  let h = 0x811c9dc5;
  const bits = new Uint32Array(Float32Array.from(rule.rbm.W).buffer);
  for (const w of bits) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return `rbm:k${rule.rbm.k}s${rule.rbm.stride}:${h.toString(16).padStart(8, '0')}`;
}

/** The operator layout of a run: 7 even + 4 odd operators in 2D, 2 + 1 on a ring. */
export function mcrgLayout(dims: 1 | 2, levels: number): OperatorLayout {
  return dims === 2 ? layout2d(levels) : layout1d(levels);
}

/** Validates the options and fills in defaults, before any GPU work; errors name the value and the limit. */
export function resolveMcrgRun(o: McrgOptions): McrgRunRecord {
  const dims = o.dims ?? 2;
  if (dims !== 1 && dims !== 2) throw new RangeError(`dims ${String(dims)} must be 1 or 2`);
  const algorithm = o.algorithm ?? (dims === 2 ? 'sw' : 'metropolis');
  if (!['sw', 'metropolis', 'heatbath'].includes(algorithm)) {
    throw new RangeError(`algorithm '${String(algorithm)}' must be sw, metropolis or heatbath`);
  }
  if (algorithm === 'sw' && dims === 1) {
    throw new RangeError(
      "algorithm 'sw' (Swendsen–Wang) is 2D only; on a ring use 'metropolis' or 'heatbath'",
    );
  }
  if (typeof o.K !== 'number' || !Number.isFinite(o.K) || o.K <= 0) {
    throw new RangeError(`coupling K = ${String(o.K)} must be finite and > 0 (T = 1/K)`);
  }
  checkBlockingGeometry(dims, o.L, o.levels, o.blocking);
  const totalReplicas = integerIn('replicas', o.replicas ?? DEFAULT_MCRG_REPLICAS, 1, MAX_MCRG_REPLICAS);
  const samples = integerIn('samples', o.samples, 1, Number.MAX_SAFE_INTEGER);
  const measurements = Math.ceil(samples / totalReplicas);
  const every = integerIn('every', o.every ?? 1, 1, 1_000_000);
  const therm = integerIn('therm', o.therm ?? 1000, 0, 0xffffffff);
  if (therm + measurements * every > 0xffffffff) {
    throw new RangeError(
      `therm ${therm} + ${measurements} measurements × every ${every} sweeps exceeds the 2^32 − 1 sweeps a run can count`,
    );
  }
  const blockLength = integerIn(
    'block length',
    o.blockLength ?? defaultBlockLength(measurements),
    1,
    measurements,
  );
  const blocks = totalReplicas * Math.ceil(measurements / blockLength);
  if (blocks < MIN_BLOCKS) {
    throw new RangeError(
      `${samples} samples over ${totalReplicas} replicas give ${blocks} blocks of ${blockLength} measurements; ` +
        `the jackknife needs at least ${MIN_BLOCKS}: raise the samples or the replicas, or shorten the blocks`,
    );
  }
  const replicas = shardRange(totalReplicas, o.shard ?? { index: 0, count: 1 });
  const record: McrgRunRecord = {
    dims,
    L: o.L,
    K: o.K,
    algorithm,
    blocking: blockingName(o.blocking),
    b: blockingFactor(o.blocking, dims),
    levels: o.levels,
    every,
    therm,
    measurements,
    totalReplicas,
    blockLength,
    layout: mcrgLayout(dims, o.levels),
    seed: normaliseSeed(o.seed ?? 1),
    replicas,
  };
  // The accumulator refuses a block whose sums could leave the exact f64 range: check before GPU work.
  new McrgAccumulator({
    layout: record.layout,
    blockLength,
    maxAbs: operatorMaxAbs(dims, o.L),
    replicas: 1,
  });
  return record;
}

/** Progress of a run: the phase and its sweeps (thermalise) or measurements per replica (measure). */
export type McrgProgress = (phase: 'thermalise' | 'measure', done: number, total: number) => void;

/** Operator values kept for τ_int (the first measurements of the replica-averaged series), at most. */
const TAU_VALUES = 1 << 24;

/**
 * One blocking rule applied to a runner's configurations: its pipeline, its sufficient statistics and the series
 * for τ_int. A runner has one per rule (`McrgOptions.blocking`, then `alsoBlock`), all fed the same samples.
 */
export class McrgBlocking {
  readonly pipeline: BlockSpinPipeline;
  private readonly accumulator: McrgAccumulator;
  private readonly series: OperatorSeries;

  constructor(
    device: GPUDevice,
    readonly record: McrgRunRecord,
    rule: BlockingRule,
    seed: number | bigint,
    slots: number,
    private readonly seriesLimit: number,
  ) {
    const { first, count } = record.replicas;
    this.accumulator = new McrgAccumulator({
      layout: record.layout,
      blockLength: record.blockLength,
      maxAbs: operatorMaxAbs(record.dims, record.L),
      replicas: count,
      firstReplica: first,
    });
    this.series = new OperatorSeries(record.layout, count);
    this.pipeline = new BlockSpinPipeline(device, {
      dims: record.dims,
      L: record.L,
      batch: count,
      levels: record.levels,
      rule,
      seed,
      firstSample: first,
      slots,
    });
  }

  /** Adds n measurements from measurement `first` on (read back from the pipeline's slots). */
  async collect(n: number, first: number): Promise<void> {
    const values = await this.pipeline.readOperators(n);
    this.accumulator.add(values, first);
    if (this.series.measurements < this.seriesLimit) {
      const keep = Math.min(n, this.seriesLimit - this.series.measurements);
      this.series.add(values.subarray(0, (values.length / n) * keep));
    }
  }

  /** The stored blocks so far (each replica's unfinished block included with its true count). */
  blocks(): McrgBlock[] {
    return this.accumulator.blocks();
  }

  /** τ_int (in measurements) of every operator at every level, from the first measurements (≥ 2 needed). */
  tauInt(): OperatorTauTable {
    return this.series.tauInt();
  }

  /** The series kept for τ_int so far, [min(measured, series limit) × (levels + 1) × P] (a copy). */
  seriesValues(): Float64Array {
    return this.series.values();
  }

  /**
   * Restores a fresh blocking to `measured` measurements per replica: its blocks (open ones included) and its
   * τ_int series as `blocks()` and `seriesValues()` gave them. Throws RangeError naming what does not fit.
   */
  restore(blocks: readonly McrgBlock[], measured: number, series: Float64Array): void {
    const stride = (this.record.levels + 1) * (this.record.layout.even + this.record.layout.odd);
    const kept = Math.min(measured, this.seriesLimit);
    if (series.length !== kept * stride)
      throw new RangeError(
        `τ_int series holds ${series.length} numbers; ${measured} measurements keep ${kept} × ${stride} = ${kept * stride}`,
      );
    this.accumulator.restore(blocks, measured);
    this.series.restore(series);
  }

  destroy(): void {
    this.pipeline.destroy();
  }
}

/**
 * One MCRG run (or shard) on a GPU: an Ising engine with the shard's replicas, a block-spin pipeline over them
 * and the accumulator of sufficient statistics — one pipeline and accumulator per blocking rule when `alsoBlock`
 * adds rules to compare on the same samples. `run()` thermalises and measures; after an abort it continues
 * where it stopped. The lab drives `thermalise` and `measure` in small steps instead. Between steps,
 * `checkpoint()` saves the state and `McrgRunner.resume` continues it in another runner (another process).
 */
export class McrgRunner {
  /** The first blocking rule's record (the settings of the run). */
  readonly record: McrgRunRecord;
  /** One per blocking rule, `blocking` first, then `alsoBlock` in order; all see the same configurations. */
  readonly blockings: readonly McrgBlocking[];
  private readonly slots: number;
  private readonly engineOptions: IsingOptions;
  private ising: IsingEngine;
  private thermalised = 0;
  private measured = 0;
  /** Thermalise or measure calls in progress (a checkpoint between their submissions would tear). */
  private stepping = 0;

  constructor(
    readonly device: GPUDevice,
    options: McrgRunnerOptions,
  ) {
    const rules = mcrgRules(options);
    const records = rules.map((blocking) => resolveMcrgRun({ ...options, blocking }));
    const record = records[0]!;
    this.record = record;
    const { first, count } = record.replicas;
    const stride = (record.levels + 1) * (record.layout.even + record.layout.odd);
    this.slots = Math.max(
      1,
      Math.min(64, record.measurements, Math.floor(2 ** 22 / (count * stride * rules.length))),
    );
    const seriesLimit = Math.max(2, Math.floor(TAU_VALUES / stride / rules.length));
    this.engineOptions = {
      L: record.L,
      dims: record.dims,
      replicas: count,
      T: 1 / record.K,
      algorithm: record.algorithm,
      seed: options.seed ?? 1,
      firstReplica: first,
      // The run measures through the pipelines, not the engine's E/M series.
      seriesCapacity: 1,
    };
    this.ising = new IsingEngine(device, this.engineOptions);
    const blockings: McrgBlocking[] = [];
    try {
      rules.forEach((rule, i) =>
        blockings.push(
          new McrgBlocking(device, records[i]!, rule, options.seed ?? 1, this.slots, seriesLimit),
        ),
      );
    } catch (err) {
      for (const b of blockings) b.destroy();
      this.ising.destroy();
      throw err;
    }
    this.blockings = blockings;
  }

  /**
   * A runner that continues `checkpoint` exactly: given the options the checkpointed runner was built with
   * (`alsoBlock` included), the remaining thermalisation and measurements give the blocks and τ_int of the
   * uninterrupted run, bit for bit on the same adapter (every random number is a function of the seed, the
   * replica, the sweep counter and the measurement index, all restored). Refuses a checkpoint of other
   * settings, naming the key and both values, before any GPU work.
   * @example
   * const files = mcrgCheckpointFiles(await runner.checkpoint()); // … later, in another process:
   * const runner = McrgRunner.resume(device, options, parseMcrgCheckpointFiles(files));
   * await runner.run();
   */
  static resume(device: GPUDevice, options: McrgRunnerOptions, checkpoint: McrgCheckpoint): McrgRunner {
    checkMcrgCheckpoint(checkpoint);
    const rules = mcrgRules(options);
    const records = rules.map((blocking) => resolveMcrgRun({ ...options, blocking }));
    const names = (list: readonly { blocking: string }[]): string => list.map((r) => r.blocking).join(', ');
    if (checkpoint.rules.length !== records.length)
      throw new McrgCheckpointError(
        `the checkpoint has ${checkpoint.rules.length} blocking rules (${names(checkpoint.rules.map((r) => r.record))}); ` +
          `the options give ${records.length} (${names(records)})`,
      );
    records.forEach((record, i) => {
      const d = jsonDifference(checkpoint.rules[i]!.record, record);
      if (d)
        throw new McrgCheckpointError(
          `the checkpoint does not fit the options: blocking rule ${i} (${record.blocking}): ` +
            `${d.path} is ${d.x} in the checkpoint, ${d.y} in the options`,
        );
    });
    const record = records[0]!;
    const { thermalised, measured } = checkpoint;
    if (
      thermalised > record.therm ||
      measured > record.measurements ||
      (measured > 0 && thermalised < record.therm)
    )
      throw new McrgCheckpointError(
        `checkpoint counters: ${thermalised} of ${record.therm} thermalisation sweeps and ${measured} of ` +
          `${record.measurements} measurements (measurements start after the whole thermalisation)`,
      );
    const sites = record.dims === 2 ? record.L * record.L : record.L;
    if (checkpoint.spins.length !== record.replicas.count * sites)
      throw new McrgCheckpointError(
        `checkpoint spins: ${checkpoint.spins.length} values; ${record.replicas.count} replicas of ${sites} sites need ${record.replicas.count * sites}`,
      );
    const runner = new McrgRunner(device, options);
    try {
      runner.restore(checkpoint);
    } catch (err) {
      runner.destroy();
      throw err instanceof RangeError ? new McrgCheckpointError(err.message, { cause: err }) : err;
    }
    return runner;
  }

  /** Replaces a fresh runner's state by the checkpoint's (whose settings resume() has checked). */
  private restore(checkpoint: McrgCheckpoint): void {
    this.blockings.forEach((b, i) => {
      const rule = checkpoint.rules[i]!;
      try {
        b.restore(rule.blocks, checkpoint.measured, rule.series);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        const message = `checkpoint, blocking rule ${i} (${b.record.blocking}): ${err.message}`;
        throw new McrgCheckpointError(message, { cause: err });
      }
    });
    // A new engine at the checkpoint's sweep counter (fromSnapshot is the one door to it), then its spins.
    const { seed, ...rest } = this.engineOptions;
    const snapshot: IsingSnapshot = {
      format: 'blockspin-ising-snapshot',
      version: 1,
      options: { ...rest, seed: String(seed ?? 1) },
      sweep: checkpoint.sweep,
      spins: new Uint32Array(this.ising.config.replicas * this.ising.config.words),
      bonds: new Int32Array(0),
      magnetizations: new Int32Array(0),
      correlations: new Int32Array(0),
    };
    const engine = IsingEngine.fromSnapshot(this.device, snapshot);
    try {
      engine.setSpins(checkpoint.spins);
    } catch (err) {
      engine.destroy();
      throw err;
    }
    this.ising.destroy();
    this.ising = engine;
    this.thermalised = checkpoint.thermalised;
    this.measured = checkpoint.measured;
  }

  /**
   * Everything needed to continue this run exactly elsewhere (McrgRunner.resume): counters, the engine's spins
   * and sweep counter, and every blocking rule's blocks and τ_int series. Call it between `thermalise`/`measure`
   * calls (or after an abort), not while one runs: it refuses then. Serialise with mcrgCheckpointFiles.
   */
  async checkpoint(): Promise<McrgCheckpoint> {
    if (this.stepping > 0)
      throw new Error('cannot checkpoint while thermalise or measure runs: abort it or await it first');
    // Everything host-side is taken now; the spins' read-back is queued now, after every submitted sweep.
    const rules = this.blockings.map((b) => ({
      record: b.record,
      blocks: b.blocks(),
      series: b.seriesValues(),
    }));
    const counters = { thermalised: this.thermalised, measured: this.measured, sweep: this.ising.sweeps };
    const spins = await this.ising.getSpins();
    return { format: MCRG_CHECKPOINT_FORMAT, version: MCRG_CHECKPOINT_VERSION, ...counters, spins, rules };
  }

  /** The Ising engine whose replicas are measured (replaced by resume's restore, hence a getter). */
  get engine(): IsingEngine {
    return this.ising;
  }

  /** The first blocking rule's pipeline (level buffers for views). */
  get pipeline(): BlockSpinPipeline {
    return this.blockings[0]!.pipeline;
  }

  /** Measurements per replica done so far. */
  get measurements(): number {
    return this.measured;
  }

  /** True when every measurement of the run is in the statistics. */
  get complete(): boolean {
    return this.measured >= this.record.measurements;
  }

  /** Thermalisation sweeps still to do, then done (unless aborted: call again to continue). */
  async thermalise(signal?: AbortSignal, onProgress?: McrgProgress): Promise<void> {
    const total = this.record.therm;
    if (this.thermalised >= total) return;
    const before = this.thermalised;
    this.stepping++;
    try {
      const r = await this.ising.run({
        sweeps: total - before,
        signal,
        onProgress: (d) => onProgress?.('thermalise', before + d, total),
      });
      this.thermalised += r.sweepsDone;
    } finally {
      this.stepping--;
    }
  }

  /**
   * Up to `count` more measurements per replica (default: all that remain), up to 64 per submission; stops
   * between submissions when `signal` aborts. Every measurement read back is in the statistics.
   */
  async measure(count = Infinity, signal?: AbortSignal, onProgress?: McrgProgress): Promise<void> {
    const r = this.record;
    if (this.thermalised < r.therm) {
      throw new Error(`thermalise first: ${this.thermalised} of ${r.therm} sweeps done`);
    }
    const target = Math.min(r.measurements, this.measured + count);
    this.stepping++;
    try {
      while (this.measured < target && !signal?.aborted) {
        const n = Math.min(this.slots, target - this.measured);
        const items: Encodable[] = [];
        for (let k = 0; k < n; k++) {
          items.push(...this.ising.encodeSweeps(r.every));
          for (const b of this.blockings) {
            items.push(...b.pipeline.fromPackedSpins(this.ising.spins, this.ising.config.words));
            // The measurement index is in the blocking's random-number counters: a resumed run continues them.
            items.push(...b.pipeline.encode(this.measured + k, k));
          }
        }
        submitStep(this.device, 'mcrg measure', items);
        await workDone(this.device);
        for (const b of this.blockings) await b.collect(n, this.measured);
        this.measured += n;
        onProgress?.('measure', this.measured, r.measurements);
      }
    } finally {
      this.stepping--;
    }
  }

  /** Thermalise (if needed) and measure everything that remains, unless aborted. */
  async run(signal?: AbortSignal, onProgress?: McrgProgress): Promise<void> {
    await this.thermalise(signal, onProgress);
    if (!signal?.aborted) await this.measure(Infinity, signal, onProgress);
  }

  /** The first blocking rule's stored blocks so far (each replica's unfinished block with its true count). */
  blocks(): McrgBlock[] {
    return this.blockings[0]!.blocks();
  }

  /** The first blocking rule's τ_int (in measurements) of every operator at every level (≥ 2 measurements). */
  tauInt(): OperatorTauTable {
    return this.blockings[0]!.tauInt();
  }

  destroy(): void {
    for (const b of this.blockings) b.destroy();
    this.ising.destroy();
  }
}

/** Options of McrgRunner: a run's options plus further blocking rules measured on the same samples. */
export type McrgRunnerOptions = McrgOptions & { alsoBlock?: BlockingRule[] };

/** The blocking rules of a runner, `blocking` first. */
function mcrgRules(options: McrgRunnerOptions): BlockingRule[] {
  return [options.blocking, ...(options.alsoBlock ?? [])];
}

/**
 * Jackknife bins of at least `minCount` measurements: each replica's consecutive blocks joined in order (sums
 * add exactly), a replica's remainder shorter than minCount kept as its own bin (replicas are independent).
 * Input and output in canonical order (replica, start).
 */
export function jackknifeBins(blocks: readonly McrgBlock[], minCount: number): McrgBlock[] {
  if (!Number.isInteger(minCount) || minCount < 1) {
    throw new RangeError(`bin length ${minCount} must be an integer ≥ 1`);
  }
  const out: McrgBlock[] = [];
  let open: McrgBlock | null = null;
  for (const block of blocks) {
    if (open && (open.replica !== block.replica || open.count >= minCount)) {
      out.push(open);
      open = null;
    }
    if (!open) {
      open = {
        ...block,
        sums: block.sums.slice(),
        products: block.products.slice(),
        cross: block.cross.slice(),
      };
      continue;
    }
    open.count += block.count;
    for (const key of ['sums', 'products', 'cross'] as const) {
      const a = open[key];
      const b = block[key];
      for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + (b[i] as number);
    }
  }
  if (open) out.push(open);
  return out;
}

/** Jackknife bin length: at least 10 τ_int (the largest over operators and levels) and the stored block length. */
export function binLength(blockLength: number, tau: number | null): number {
  return Math.max(blockLength, tau === null ? 1 : Math.ceil(10 * tau));
}

/** An MCRG analysis with its binning: what `blockspin mcrg` prints and a study reports. */
export interface BinnedAnalysis {
  /** Null when the exponents cannot be computed (too few bins, singular A, …): see `problem`. */
  analysis: McrgAnalysis | null;
  problem: string | null;
  /** τ_int (in measurements) by binning the stored blocks (blockTauInt): it sets the jackknife bins. */
  tauBlocks: number | null;
  bins: { length: number; count: number };
  /** The same estimates' errors from the spread of independent groups of chains (null: too few chains). */
  spread: RunSpread | null;
}

/**
 * analyseMcrg with jackknife bins of ≥ 10 τ_int, τ_int taken from the blocks themselves (so a merge of shards
 * and the unsplit run bin alike), and independentRunSpread as the cross-check; an analysis error (RangeError)
 * is returned as `problem`, not thrown, so the data are kept.
 */
export function analyseBinned(
  blocks: readonly McrgBlock[],
  settings: { layout: OperatorLayout; b: number; blockLength: number },
): BinnedAnalysis {
  const tauBlocks = blockTauInt(blocks, settings.layout)?.tauInt ?? null;
  const length = binLength(settings.blockLength, tauBlocks);
  const bins = jackknifeBins(blocks, length);
  const binning = { tauBlocks, bins: { length, count: bins.length } };
  try {
    const options = { layout: settings.layout, b: settings.b, blockLength: length };
    const analysis = analyseMcrg(bins, options);
    return { analysis, problem: null, ...binning, spread: independentRunSpread(bins, options) };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { analysis: null, problem: err.message, ...binning, spread: null };
  }
}

/** Configurations blocked per submission when analysing a data file (a fixed number: it is in the RNG counters). */
export const DATA_BATCH = 256;

/** Options of measureConfigurations. */
export interface McrgDataOptions {
  dims?: 1 | 2;
  L: number;
  blocking: BlockingRule;
  levels: number;
  /** Seed of the tie-breaking coins and the RBM projector's draws (default 1). */
  seed?: number | bigint;
  /** Configurations per stored block (default: defaultBlockLength of the count). */
  blockLength?: number;
  /** Where the data came from (recorded in the settings). */
  source: string;
  /** The data's coupling, when known (recorded). */
  K?: number | null;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The settings of an analysis of existing configurations (the data's order is its "time"). */
export type McrgDataRecord = McrgRunSettings & {
  dims: 1 | 2;
  L: number;
  K: number | null;
  source: string;
  blocking: string;
  levels: number;
  configurations: number;
};

/**
 * Blocks and measures existing configurations (±1, [count × L^dims], e.g. a `generate` data set) in batches of
 * DATA_BATCH on the GPU; the statistics treat them as one chain in file order (consecutive configurations form
 * the blocks). Stops between batches on abort: the blocks cover the configurations done (`done`).
 */
export async function measureConfigurations(
  device: GPUDevice,
  data: Int8Array | Float32Array,
  options: McrgDataOptions,
): Promise<{ record: McrgDataRecord; blocks: McrgBlock[]; tau: OperatorTauTable | null; done: number }> {
  const dims = options.dims ?? 2;
  if (dims !== 1 && dims !== 2) throw new RangeError(`dims ${String(dims)} must be 1 or 2`);
  checkBlockingGeometry(dims, options.L, options.levels, options.blocking);
  const sites = dims === 2 ? options.L * options.L : options.L;
  if (data.length === 0 || data.length % sites !== 0) {
    throw new RangeError(
      `${data.length} spins are not whole ${dims === 2 ? `${options.L}×${options.L}` : `${options.L}-spin`} configurations`,
    );
  }
  const count = data.length / sites;
  const layout = mcrgLayout(dims, options.levels);
  // Stored configurations are usually decorrelated already: short blocks (≥ 32 of them), joined into bins of
  // ≥ 10 τ_int by the analysis when they are not.
  const blockLength = integerIn(
    'block length',
    options.blockLength ?? Math.max(1, Math.min(50, Math.floor(count / 32))),
    1,
    count,
  );
  if (Math.ceil(count / blockLength) < MIN_BLOCKS) {
    throw new RangeError(
      `${count} configurations give ${Math.ceil(count / blockLength)} blocks of ${blockLength}; the jackknife needs at least ${MIN_BLOCKS}: ` +
        `use more configurations or shorter blocks`,
    );
  }
  const accumulator = new McrgAccumulator({
    layout,
    blockLength,
    maxAbs: operatorMaxAbs(dims, options.L),
    replicas: 1,
  });
  const series = new OperatorSeries(layout, 1);
  const record: McrgDataRecord = {
    dims,
    L: options.L,
    K: options.K ?? null,
    source: options.source,
    blocking: blockingName(options.blocking),
    b: blockingFactor(options.blocking, dims),
    levels: options.levels,
    configurations: count,
    blockLength,
    layout,
    seed: normaliseSeed(options.seed ?? 1),
    replicas: { first: 0, count: 1 },
  };
  let pipeline: BlockSpinPipeline | null = null;
  let done = 0;
  try {
    for (let chunk = 0; done < count && !options.signal?.aborted; chunk++) {
      const batch = Math.min(DATA_BATCH, count - done);
      if (!pipeline || pipeline.batch !== batch) {
        pipeline?.destroy();
        pipeline = new BlockSpinPipeline(device, {
          dims,
          L: options.L,
          batch,
          levels: options.levels,
          rule: options.blocking,
          seed: options.seed ?? 1,
        });
      }
      pipeline.upload(data.subarray(done * sites, (done + batch) * sites));
      submitStep(device, 'mcrg data', pipeline.encode(chunk, 0));
      const values = await pipeline.readOperators(1);
      accumulator.add(values, done);
      series.add(values);
      done += batch;
      options.onProgress?.(done, count);
    }
  } finally {
    pipeline?.destroy();
  }
  return { record, blocks: accumulator.blocks(), tau: done >= 2 ? series.tauInt() : null, done };
}

/** The spread of independent groups of chains beside the jackknife error of every estimate. */
export interface RunSpread {
  /** Groups analysed (contiguous ranges of replicas, each analysed alone). */
  groups: number;
  /** Standard error of the mean over groups (sd/√groups) for yt, yh, lambdaEven, lambdaOdd, same order as analyseMcrg's lists. */
  yt: number[];
  yh: number[];
  lambdaEven: number[];
  lambdaOdd: number[];
}

/**
 * The cross-check of the jackknife: the bins (jackknifeBins output, canonical order) are split into up to
 * `groups` sets of whole replicas — independent runs — each analysed alone, and each estimate's standard error
 * is taken from their spread, sd/√groups. Null when fewer than 2 groups have `minBlocks` bins each. The group
 * estimates carry an O(1/n) bias that the pooled one has less of, so only their spread is used.
 */
export function independentRunSpread(
  bins: readonly McrgBlock[],
  options: Parameters<typeof analyseMcrg>[1],
  groups = 8,
): RunSpread | null {
  const replicas = [...new Set(bins.map((b) => b.replica))];
  const minBlocks = options.minBlocks ?? 10;
  const g = Math.min(groups, replicas.length, Math.floor(bins.length / minBlocks));
  if (g < 2) return null;
  const groupOf = new Map(replicas.map((r, i) => [r, Math.floor((i * g) / replicas.length)]));
  const sets: McrgBlock[][] = Array.from({ length: g }, () => []);
  for (const b of bins) sets[groupOf.get(b.replica)!]!.push(b);
  let analyses: McrgAnalysis[];
  try {
    analyses = sets.map((set) => analyseMcrg(set, options));
  } catch (err) {
    if (err instanceof RangeError) return null; // a group too small or singular: no cross-check
    throw err;
  }
  const spread = (key: 'yt' | 'yh' | 'lambdaEven' | 'lambdaOdd'): number[] =>
    analyses[0]![key].map((_, i) => {
      const xs = analyses.map((a) => a[key][i]!.value);
      const mean = xs.reduce((s, x) => s + x, 0) / g;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (g - 1);
      return Math.sqrt(variance / g);
    });
  return {
    groups: g,
    yt: spread('yt'),
    yh: spread('yh'),
    lambdaEven: spread('lambdaEven'),
    lambdaOdd: spread('lambdaOdd'),
  };
}
