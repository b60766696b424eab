/**
 * The Ising engine: R replicas of a 2D lattice (or 1D ring) updated by checkerboard Metropolis or
 * heat-bath sweeps on the GPU, with energy/magnetisation (and optionally G(r)) recorded as GPU-side time
 * series. It is handed a `GPUDevice`; it never creates one.
 *
 * @example
 * const ising = new IsingEngine(device, { L: 64, T: 2.269, replicas: 16, seed: 7 });
 * await ising.run({ sweeps: 1000 });                  // thermalise
 * ising.clearMeasurements();
 * await ising.run({ sweeps: 10000, measureEvery: 1 });
 * const { energy, magnetization } = ising.series(0);  // per spin, replica 0
 * ising.destroy();
 */
import {
  createStorageBuffer,
  createUniformBuffer,
  readBuffer,
  readBuffers,
  uploadBuffer,
} from '../gpu/buffers.ts';
import { Dispatch, Program, submitStep, type Encodable } from '../gpu/kernel.ts';
import { DeviceLostError, deviceLostError, throwIfLost, watchDeviceLoss, workDone } from '../gpu/lost.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import { SegmentedReduction } from '../gpu/reduce.ts';
import type { GpuTimer } from '../gpu/timing.ts';
import { structLayout, StructView, type StructLayout } from '../gpu/reflect.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import {
  colourWords,
  resolveIsingConfig,
  swLabelBytes,
  type IsingAlgorithm,
  type IsingConfig,
  type IsingOptions,
} from './config.ts';
import { isingSources } from './shaders.ts';
import { swBondThreshold, swCouplings } from './sw.ts';
import { packedStreams, replicaTableLayout, replicaTables } from './tables.ts';

const WORKGROUP = 64;

/** The reflected layout of the GPU-side counters (WGSL `IsingCounters`, shaders/ising/lattice.wgsl). */
const countersLayout: StructLayout = structLayout(
  isingSources.counters.code,
  'IsingCounters',
  isingSources.counters.label,
);

export interface RunOptions {
  sweeps: number;
  /** Record E and M after every `measureEvery` sweeps (0: no measurements). */
  measureEvery?: number;
  /** Record G(r) at every `correlationEvery`-th measurement (0: never). */
  correlationEvery?: number;
  /** Stops between submissions; what was measured so far is kept. */
  signal?: AbortSignal;
  onProgress?: (sweepsDone: number, sweepsTotal: number) => void;
  /** Sweeps per submission (default: about 2^22 spin updates per submission, at least 1, at most 256). */
  sweepsPerSubmit?: number;
  /**
   * Times every pass with GPU timestamps (benchmarks); needs capacity ≥ 3 × sweepsPerSubmit + 16 (3 passes
   * per sweep; `packed` adds its 2 layout conversions per submission and per measurement).
   */
  timer?: GpuTimer;
}

/** Per-spin time series of one replica. */
export interface ReplicaSeries {
  energy: Float64Array;
  magnetization: Float64Array;
}

/** Everything needed to resume a run exactly (same adapter, same results). */
export interface IsingSnapshot {
  format: 'blockspin-ising-snapshot';
  version: 1;
  options: Omit<IsingOptions, 'seed'> & { seed: string };
  sweep: number;
  /** Packed spins, `replicas × words` u32 (bit = 1 for +1, row-major per replica). */
  spins: Uint32Array;
  bonds: Int32Array;
  magnetizations: Int32Array;
  correlations: Int32Array;
}

function checkCount(name: string, value: number, min = 0): void {
  if (!Number.isInteger(value) || value < min || value > 0xffffffff) {
    throw new RangeError(`${name} ${value} must be an integer in ${min} … 4294967295`);
  }
}

/** The largest value of the u32 sweep counter, which is a word of every random-number counter of the updates. */
export const MAX_SWEEPS = 0xffffffff;

/**
 * Refuses `sweeps` more sweeps from sweep `done` when the sweep counter would pass MAX_SWEEPS: it would
 * wrap to 0 and repeat the random numbers of earlier sweeps (same seed, same sites).
 */
export function checkSweepCounter(done: number, sweeps: number): void {
  if (done + sweeps > MAX_SWEEPS) {
    throw new RangeError(
      `${sweeps} more sweeps after sweep ${done} would take the sweep counter to ${done + sweeps}, past ` +
        `${MAX_SWEEPS} (a u32 word of every random-number counter): the random numbers would repeat; ` +
        'start a new engine with another seed',
    );
  }
}

/** Growable Int32 storage for host-side series. */
class Int32Series {
  private data = new Int32Array(1024);
  length = 0;

  append(values: Int32Array): void {
    if (this.length + values.length > this.data.length) {
      const grown = new Int32Array(Math.max(2 * this.data.length, this.length + values.length));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }

  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

export class IsingEngine {
  readonly config: IsingConfig;
  /** The spin state (bit-packed; see shaders/ising/lattice.wgsl). */
  readonly spins: GPUBuffer;
  /** The packed kernel's colour-separated working copy of the spins (shaders/ising/sweep-packed.wgsl). */
  private readonly colours: GPUBuffer | null;
  /**
   * The packed kernel's tie list: per colour the number of entries, and the entries (colour word, lanes still
   * tied after the top byte) that resolveTies decides (shaders/ising/sweep-packed.wgsl). Null for `simple`.
   */
  private readonly tieCounts: GPUBuffer | null;
  private readonly ties: GPUBuffer | null;
  /** The packed kernel's layout conversions around a stretch of sweeps (null for `simple`). */
  private packedLayout: { toColours: Dispatch; toRows: Dispatch } | null = null;
  private readonly tables: GPUBuffer;
  private readonly counters: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly partials: GPUBuffer;
  private readonly correlationPartials: GPUBuffer;
  private readonly seriesBuffer: GPUBuffer;
  private readonly correlationBuffer: GPUBuffer;
  private readonly reduction: SegmentedReduction;
  private readonly correlationReduction: SegmentedReduction;
  /** Per algorithm, the items of one sweep (built on first use: 'sw' allocates its label buffer then). */
  private readonly sweepItems: Partial<Record<IsingAlgorithm, Encodable[]>> = {};
  private readonly advanceSweep: Dispatch;
  private readonly swThresholds: GPUBuffer;
  /** Swendsen–Wang cluster labels, replicas × sites u32, and the roots' flip bits (only once 'sw' is used). */
  private labels: GPUBuffer | null = null;
  private flipMask: GPUBuffer | null = null;
  private readonly measureItems: Encodable[];
  private readonly correlationItems: Encodable[];
  private sweepCount = 0;
  private gpuMeasurements = 0;
  private gpuCorrelations = 0;
  private measurementsTaken = 0;
  private readonly hostSeries = new Int32Series();
  private readonly hostCorrelations = new Int32Series();
  private algorithm: IsingAlgorithm;
  private destroyed = false;
  /** The tail of the serialised collect() chain. */
  private collecting: Promise<void> = Promise.resolve();
  /** Measurements that were still on the GPU when the device was lost. */
  private lostRecords = 0;

  constructor(
    readonly device: GPUDevice,
    options: IsingOptions,
  ) {
    this.config = resolveIsingConfig(options, device.limits);
    watchDeviceLoss(device);
    const c = this.config;
    this.algorithm = c.algorithm;
    const label = `ising ${c.Lx}×${c.Ly}×${c.replicas}`;
    const spinBytes = c.replicas * c.words * 4;
    this.spins = createStorageBuffer(device, `${label} spins`, spinBytes);
    this.colours =
      c.kernel === 'packed'
        ? createStorageBuffer(device, `${label} spins (colour-separated)`, c.replicas * colourWords(c) * 4)
        : null;
    // One entry (2 × u32) per word of one colour: room for a half-sweep in which every word has a tie.
    this.tieCounts = c.kernel === 'packed' ? createStorageBuffer(device, `${label} tie counts`, 8) : null;
    this.ties =
      c.kernel === 'packed'
        ? createStorageBuffer(device, `${label} ties`, c.replicas * (colourWords(c) / 2) * 8)
        : null;
    this.tables = createStorageBuffer(device, `${label} tables`, c.replicas * replicaTableLayout.size);
    this.swThresholds = createStorageBuffer(device, `${label} sw thresholds`, c.replicas * 4);
    this.counters = createStorageBuffer(device, `${label} counters`, countersLayout.size);
    this.partials = createStorageBuffer(device, `${label} partials`, 2 * c.replicas * c.words * 4);
    this.correlationPartials = createStorageBuffer(
      device,
      `${label} correlation partials`,
      c.replicas * c.distances * c.Ly * 4,
    );
    this.seriesBuffer = createStorageBuffer(device, `${label} series`, c.seriesCapacity * 2 * c.replicas * 4);
    this.correlationBuffer = createStorageBuffer(
      device,
      `${label} correlation series`,
      c.correlationCapacity * c.replicas * c.distances * 4,
    );
    this.uploadTables();

    const measure = Program.get(device, isingSources.measure);
    const paramsView = measure.structView('IsingParams').set({
      key: seedKey(c.seed),
      lx: c.Lx,
      ly: c.Ly,
      sites: c.sites,
      words: c.words,
      replicas: c.replicas,
      seriesCapacity: c.seriesCapacity,
      correlationCapacity: c.correlationCapacity,
      distances: c.distances,
      firstReplica: c.firstReplica,
    });
    this.params = createUniformBuffer(device, `${label} params`, paramsView.data);

    const common = { dims: c.dims, workgroupSize: WORKGROUP };
    const words = c.replicas * c.words;
    const counterProgram = Program.get(device, isingSources.counters);
    const counterGroup = counterProgram.bindGroup(0, { counters: this.counters }, `${label} counters`);
    const advance = (entry: string): Dispatch =>
      new Dispatch(device, {
        label: `${label} ${entry}`,
        pipeline: counterProgram.pipeline(entry),
        bindGroups: [counterGroup],
        workgroups: 1,
      });

    this.advanceSweep = advance('advanceSweep');
    this.buildSweepItems(this.algorithm);

    // Measurement: per-word partials → per-replica sums → append to the series.
    const measureConstants = {
      ...common,
      alignedRows: c.Lx % 32 === 0,
      wholeRows: c.dims === 2 && c.Lx < 32 && 32 % c.Lx === 0 && c.sites % 32 === 0,
    };
    this.reduction = new SegmentedReduction(device, this.partials, {
      type: 'i32',
      length: c.words,
      segments: 2 * c.replicas,
      label: `${label} observables`,
    });
    this.correlationReduction = new SegmentedReduction(device, this.correlationPartials, {
      type: 'i32',
      length: c.Ly,
      segments: c.replicas * c.distances,
      label: `${label} correlation`,
    });
    const record = Program.get(device, isingSources.record);
    this.measureItems = [
      new Dispatch(device, {
        label: `${label} measureWords`,
        pipeline: measure.pipeline('measureWords', measureConstants),
        bindGroups: [
          measure.bindGroup(0, { params: this.params, spins: this.spins, partials: this.partials }),
        ],
        workgroups: Math.ceil(words / WORKGROUP),
      }),
      this.reduction,
      new Dispatch(device, {
        label: `${label} recordMeasurement`,
        pipeline: record.pipeline('recordMeasurement', common),
        bindGroups: [
          record.bindGroup(0, {
            params: this.params,
            sums: this.reduction.results,
            series: this.seriesBuffer,
            counters: this.counters,
          }),
        ],
        workgroups: Math.ceil((2 * c.replicas) / WORKGROUP),
      }),
      advance('advanceMeasurement'),
    ];
    this.correlationItems = [
      new Dispatch(device, {
        label: `${label} measureCorrelation`,
        pipeline: measure.pipeline('measureCorrelation', measureConstants),
        bindGroups: [
          measure.bindGroup(0, {
            params: this.params,
            spins: this.spins,
            partials: this.correlationPartials,
          }),
        ],
        workgroups: Math.ceil((c.replicas * c.distances * c.Ly) / WORKGROUP),
      }),
      this.correlationReduction,
      new Dispatch(device, {
        label: `${label} recordCorrelation`,
        pipeline: record.pipeline('recordCorrelation', common),
        bindGroups: [
          record.bindGroup(0, {
            params: this.params,
            sums: this.correlationReduction.results,
            series: this.correlationBuffer,
            counters: this.counters,
          }),
        ],
        workgroups: Math.ceil((c.replicas * c.distances) / WORKGROUP),
      }),
      advance('advanceCorrelation'),
    ];

    // Initial spins.
    const init = Program.get(device, isingSources.init);
    const initMode = { random: 0, up: 1, down: 2 }[c.init];
    submitStep(device, `${label} init`, [
      new Dispatch(device, {
        label: `${label} initSpins`,
        pipeline: init.pipeline('initSpins', {
          ...common,
          initMode,
          rngStream: streamWord(RngPurpose.isingInit, 0),
        }),
        bindGroups: [init.bindGroup(0, { params: this.params, spins: this.spins })],
        workgroups: Math.ceil(words / WORKGROUP),
      }),
    ]);
  }

  private get label(): string {
    const c = this.config;
    return `ising ${c.Lx}×${c.Ly}×${c.replicas}`;
  }

  /** The items of one sweep of `algorithm` (updates, then the GPU sweep counter), built once. */
  private buildSweepItems(algorithm: IsingAlgorithm): Encodable[] {
    let items = this.sweepItems[algorithm];
    if (!items) {
      items = algorithm === 'sw' ? this.buildSwendsenWang() : this.buildSweep(this.label, algorithm);
      items.push(this.advanceSweep);
      this.sweepItems[algorithm] = items;
    }
    return items;
  }

  /**
   * The items of `sweeps` sweeps of the current algorithm, for a caller that composes its own submission
   * (the MCRG driver encodes sweeps, blocking and operators together). Counts them as done: encode and
   * submit them in order before anything else runs on this engine.
   */
  encodeSweeps(sweeps: number): Encodable[] {
    this.checkAlive();
    checkCount('sweeps', sweeps);
    checkSweepCounter(this.sweepCount, sweeps);
    const items: Encodable[] = [];
    for (let i = 0; i < sweeps; i++) this.appendSweep(items);
    this.sweepCount += sweeps;
    return items;
  }

  /**
   * Appends one sweep of the current algorithm to `items`. Consecutive packed sweeps share one layout
   * conversion each way: when `items` ends with a packed sweep, its conversion back to rows and this
   * sweep's conversion to colours are both dropped (the colour-separated copy already holds the state).
   */
  private appendSweep(items: Encodable[]): void {
    const one = this.buildSweepItems(this.algorithm);
    const layout = this.packedLayout;
    const n = items.length;
    if (
      layout &&
      one[0] === layout.toColours &&
      n >= 2 &&
      items[n - 2] === layout.toRows &&
      items[n - 1] === this.advanceSweep
    ) {
      items.splice(n - 2, 1);
      items.push(...one.slice(1));
    } else {
      items.push(...one);
    }
  }

  /**
   * Swendsen–Wang (shaders/ising/sw.wgsl): labels reset, bonds + lock-free unions, one flip draw per
   * cluster root, cluster flips, for all replicas in four dispatches. Works on `spins` in place with either
   * kernel (a packed sweep ends with the state back in `spins`).
   */
  private buildSwendsenWang(): Encodable[] {
    const c = this.config;
    const label = this.label;
    this.labels ??= createStorageBuffer(this.device, `${label} sw labels`, swLabelBytes(c.replicas, c.sites));
    this.flipMask ??= createStorageBuffer(this.device, `${label} sw flip mask`, c.replicas * c.words * 4);
    const program = Program.get(this.device, isingSources.sw);
    const group = program.bindGroup(0, {
      params: this.params,
      spins: this.spins,
      labels: this.labels,
      swThresholds: this.swThresholds,
      counters: this.counters,
      flipMask: this.flipMask,
    });
    const constants = {
      workgroupSize: WORKGROUP,
      bondStream: streamWord(RngPurpose.isingSwBonds, 0),
      flipStream: streamWord(RngPurpose.isingSwFlip, 0),
    };
    const sites = Math.ceil((c.replicas * c.sites) / WORKGROUP);
    return [
      ['swInitLabels', sites],
      ['swBonds', sites],
      ['swRootFlips', sites],
      ['swFlip', Math.ceil((c.replicas * c.words) / WORKGROUP)],
    ].map(
      ([entry, workgroups]) =>
        new Dispatch(this.device, {
          label: `${label} ${entry as string}`,
          pipeline: program.pipeline(entry as string, constants),
          bindGroups: [group],
          workgroups: workgroups as number,
        }),
    );
  }

  private buildSweep(label: string, algorithm: IsingAlgorithm): Encodable[] {
    const c = this.config;
    const common = { dims: c.dims, workgroupSize: WORKGROUP };
    const heatBath = algorithm === 'heatbath';
    const purpose = heatBath ? RngPurpose.isingHeatBath : RngPurpose.isingMetropolis;
    const items: Encodable[] = [];
    if (c.kernel === 'simple') {
      const program = Program.get(this.device, isingSources.sweepSimple);
      const group = program.bindGroup(0, {
        params: this.params,
        spins: this.spins,
        tables: this.tables,
        counters: this.counters,
      });
      for (const colour of [0, 1]) {
        items.push(
          new Dispatch(this.device, {
            label: `${label} sweepSimple ${algorithm} colour ${colour}`,
            pipeline: program.pipeline('sweepSimple', {
              ...common,
              colour,
              heatBath,
              rngStream: streamWord(purpose, colour),
            }),
            bindGroups: [group],
            workgroups: Math.ceil((c.replicas * (c.sites / 2)) / WORKGROUP),
          }),
        );
      }
    } else {
      // Row-major → colour-separated, the two half-sweeps in place, and back (appendSweep drops the
      // conversions between consecutive sweeps).
      const program = Program.get(this.device, isingSources.sweepPacked);
      const group = program.bindGroup(
        0,
        {
          params: this.params,
          spins: this.spins,
          colours: this.colours as GPUBuffer,
          tables: this.tables,
          counters: this.counters,
          tieCounts: this.tieCounts as GPUBuffer,
          ties: this.ties as GPUBuffer,
        },
        `${label} sweepPacked`,
      );
      const dispatch = (entry: string, workItems: number, name = entry, constants = {}): Dispatch =>
        new Dispatch(this.device, {
          label: `${label} ${name}`,
          pipeline: program.pipeline(entry, { ...common, ...constants }),
          bindGroups: [group],
          workgroups: Math.ceil(workItems / WORKGROUP),
        });
      this.packedLayout ??= {
        toColours: dispatch('packColours', c.replicas * colourWords(c)),
        toRows: dispatch('unpackColours', c.replicas * c.words),
      };
      items.push(this.packedLayout.toColours);
      // Ties are about 1 word in 8 (fewer at low T): an eighth of the words' invocations, each looping
      // over the list, so a list of any length is resolved.
      const wordsPerColour = (c.replicas * colourWords(c)) / 2;
      const cpu = c.tuning === 'auto' ? isSoftwareAdapter(this.device.adapterInfo) : c.tuning === 'cpu';
      for (const colour of [0, 1]) {
        const streams = packedStreams(colour, heatBath);
        const constants = {
          colour,
          heatBath,
          zeroField: c.h.every((h) => h === 0),
          rngStream: streams.main,
          refineStream: streams.refine,
          aggregateTies: c.tieList === 'auto' ? !cpu : c.tieList === 'workgroup',
          floatRotations: cpu,
          branchFreePlanes: cpu,
        };
        items.push(
          dispatch('sweepPacked', wordsPerColour, `sweepPacked ${algorithm} colour ${colour}`, constants),
          dispatch(
            'resolveTies',
            Math.ceil(wordsPerColour / 16),
            `resolveTies ${algorithm} colour ${colour}`,
            constants,
          ),
        );
      }
      items.push(this.packedLayout.toRows);
    }
    return items;
  }

  /**
   * Writes the GPU counters: the sweep counter as the host counts it (every submitted sweep advanced it,
   * and queue writes follow earlier submissions), the measurement and correlation slots back to 0.
   */
  private writeCounters(): void {
    const view = new StructView(countersLayout).set({
      sweep: this.sweepCount,
      measurement: 0,
      correlation: 0,
    });
    uploadBuffer(this.device, this.counters, view.data);
  }

  private uploadTables(): void {
    const c = this.config;
    const z = c.dims === 2 ? 4 : 2;
    const couplings = c.T.map((T, r) => ({ beta: 1 / T, J: c.J[r] as number, h: c.h[r] as number }));
    uploadBuffer(this.device, this.tables, replicaTables(couplings, z));
    // Swendsen–Wang bond thresholds (0 where K ≤ 0: 'sw' is refused there, so they are never used).
    const thresholds = Uint32Array.from(swCouplings(c.J, c.T), (K) =>
      K > 0 && Number.isFinite(K) ? swBondThreshold(K) : 0,
    );
    uploadBuffer(this.device, this.swThresholds, thresholds);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this IsingEngine was destroyed');
  }

  /** Sweeps done since the start (the RNG step counter). */
  get sweeps(): number {
    return this.sweepCount;
  }

  /** Measurements recorded so far (collected or still on the GPU). */
  get measurementCount(): number {
    return this.measurementsTaken;
  }

  /** Changes the temperature(s); takes effect from the next sweep. */
  setTemperature(T: number | number[]): void {
    this.checkAlive();
    const c = this.config;
    const next = resolveIsingConfig({ ...this.optionsFor(), T }, this.device.limits);
    c.T.splice(0, c.T.length, ...next.T);
    this.uploadTables();
  }

  /** Changes the field(s) h; takes effect from the next sweep. */
  setField(h: number | number[]): void {
    this.checkAlive();
    const c = this.config;
    const next = resolveIsingConfig({ ...this.optionsFor(), h }, this.device.limits);
    const zeroField = (values: number[]): boolean => values.every((x) => x === 0);
    // The packed kernel is specialised for h = 0: rebuild its sweeps when that changes.
    if (c.kernel === 'packed' && zeroField(c.h) !== zeroField(next.h)) {
      delete this.sweepItems.metropolis;
      delete this.sweepItems.heatbath;
    }
    c.h.splice(0, c.h.length, ...next.h);
    this.uploadTables();
  }

  /**
   * Switches between Metropolis, heat-bath and Swendsen–Wang ('sw': 2D, h = 0, J > 0, checked here);
   * takes effect from the next sweep.
   */
  setAlgorithm(algorithm: IsingAlgorithm): void {
    this.checkAlive();
    resolveIsingConfig({ ...this.optionsFor(), algorithm }, this.device.limits);
    this.buildSweepItems(algorithm);
    this.algorithm = algorithm;
    this.config.algorithm = algorithm;
  }

  private optionsFor(): IsingOptions {
    const c = this.config;
    return {
      L: c.Lx,
      Ly: c.dims === 2 ? c.Ly : undefined,
      dims: c.dims,
      replicas: c.replicas,
      firstReplica: c.firstReplica,
      T: [...c.T],
      J: [...c.J],
      h: [...c.h],
      algorithm: c.algorithm,
      kernel: c.kernel,
      seed: c.seed,
      init: c.init,
      seriesCapacity: c.seriesCapacity,
      maxDistance: c.distances - 1,
    };
  }

  /**
   * Encodes `sweeps` sweeps (with measurements) into as few submissions as the series capacity and
   * `sweepsPerSubmit` allow; resolves when the GPU has finished. New measurements are read back to the
   * host after every submission: the loop waits for each submission anyway (progress, abort), so the
   * read-back replaces that wait at the cost of a copy of 8·replicas bytes per measurement, and a lost
   * device costs only the measurements of the submission in flight. Rejects with DeviceLostError when the
   * device is lost; what was read back before stays available (series, rawSeries, correlations).
   */
  async run(options: RunOptions): Promise<{ sweepsDone: number; aborted: boolean; gpuMs: number | null }> {
    this.checkAlive();
    const { sweeps, measureEvery = 0, correlationEvery = 0, signal, onProgress, timer } = options;
    checkCount('sweeps', sweeps);
    checkCount('measureEvery', measureEvery);
    checkCount('correlationEvery', correlationEvery);
    const c = this.config;
    const perSubmit =
      options.sweepsPerSubmit ?? Math.max(1, Math.min(256, Math.floor(2 ** 22 / (c.replicas * c.sites))));
    checkCount('sweepsPerSubmit', perSubmit, 1);
    checkSweepCounter(this.sweepCount, sweeps);
    let done = 0;
    let gpuMs: number | null = timer ? 0 : null;
    while (done < sweeps) {
      if (signal?.aborted) return { sweepsDone: done, aborted: true, gpuMs };
      throwIfLost(this.device); // before counting this submission's measurements
      const items: Encodable[] = [];
      let n = 0;
      while (n < perSubmit && done + n < sweeps) {
        this.appendSweep(items);
        this.sweepCount++;
        n++;
        const local = done + n;
        if (measureEvery > 0 && local % measureEvery === 0) {
          if (this.gpuMeasurements >= c.seriesCapacity || this.gpuCorrelations >= c.correlationCapacity)
            break;
          items.push(...this.measureItems);
          this.gpuMeasurements++;
          this.measurementsTaken++;
          if (correlationEvery > 0 && this.measurementsTaken % correlationEvery === 0) {
            items.push(...this.correlationItems);
            this.gpuCorrelations++;
          }
          if (this.gpuMeasurements >= c.seriesCapacity || this.gpuCorrelations >= c.correlationCapacity)
            break;
        }
      }
      try {
        submitStep(this.device, 'ising run', items, timer);
        done += n;
        if (this.gpuMeasurements > 0 || this.gpuCorrelations > 0) await this.collect();
        else await workDone(this.device);
      } catch (err) {
        if (err instanceof DeviceLostError) this.dropLostRecords();
        throw err;
      }
      if (timer) gpuMs = (gpuMs as number) + (await timer.read()).reduce((sum, p) => sum + p.ms, 0);
      onProgress?.(done, sweeps);
    }
    return { sweepsDone: done, aborted: false, gpuMs };
  }

  /**
   * Moves the GPU-side series to the host and resets the GPU slots. Calls are serialised: overlapping
   * callers (e.g. `Promise.all` over replicas' series) each see every measurement exactly once.
   */
  async collect(): Promise<void> {
    this.checkAlive();
    const next = this.collecting.then(() => this.collectNow());
    this.collecting = next.catch(() => {});
    return next;
  }

  /**
   * Measurements that could not be read back because the device was lost (they were recorded on the GPU
   * after the last read-back). `measurementCount` no longer includes them.
   */
  get lostMeasurements(): number {
    return this.lostRecords;
  }

  /** After a device loss: forget the records still on the GPU (they cannot be read any more). */
  private dropLostRecords(): void {
    this.lostRecords += this.gpuMeasurements;
    this.measurementsTaken -= this.gpuMeasurements;
    this.gpuMeasurements = 0;
    this.gpuCorrelations = 0;
  }

  private async collectNow(): Promise<void> {
    const c = this.config;
    // A lost device: what was read back is all there is (series() and friends still answer with it).
    if (deviceLostError(this.device)) this.dropLostRecords();
    const measurements = this.gpuMeasurements;
    const correlations = this.gpuCorrelations;
    // Claim the records before awaiting, so nothing is read twice.
    this.gpuMeasurements = 0;
    this.gpuCorrelations = 0;
    if (measurements === 0 && correlations === 0) return;
    // Series and correlations in one read-back (one round trip).
    let series: ArrayBuffer;
    let correlationData: ArrayBuffer;
    try {
      [series, correlationData] = (await readBuffers(
        this.device,
        [
          { buffer: this.seriesBuffer, size: measurements * 2 * c.replicas * 4 },
          { buffer: this.correlationBuffer, size: correlations * c.replicas * c.distances * 4 },
        ],
        `${this.seriesBuffer.label} read-back`,
      )) as [ArrayBuffer, ArrayBuffer];
    } catch (err) {
      if (err instanceof DeviceLostError) {
        this.lostRecords += measurements;
        this.measurementsTaken -= measurements;
      }
      throw err;
    }
    this.hostSeries.append(new Int32Array(series));
    this.hostCorrelations.append(new Int32Array(correlationData));
    this.writeCounters();
  }

  /** Forgets all measurements (e.g. after thermalisation). */
  clearMeasurements(): void {
    this.checkAlive();
    this.hostSeries.clear();
    this.hostCorrelations.clear();
    this.gpuMeasurements = 0;
    this.gpuCorrelations = 0;
    this.measurementsTaken = 0;
    this.writeCounters();
  }

  /** Collected raw sums: per measurement, bonds of replicas 0…R−1 then their magnetisations. */
  async rawSeries(): Promise<{ records: number; data: Int32Array }> {
    await this.collect();
    const data = this.hostSeries.view();
    return { records: data.length / (2 * this.config.replicas), data };
  }

  /** Energy and magnetisation per spin of one replica, for every measurement so far. */
  async series(replica: number): Promise<ReplicaSeries> {
    const c = this.config;
    checkCount('replica', replica);
    if (replica >= c.replicas) throw new RangeError(`replica ${replica} must be < ${c.replicas}`);
    const { records, data } = await this.rawSeries();
    const energy = new Float64Array(records);
    const magnetization = new Float64Array(records);
    const J = c.J[replica] as number;
    const h = c.h[replica] as number;
    for (let t = 0; t < records; t++) {
      const bonds = data[t * 2 * c.replicas + replica] as number;
      const m = data[t * 2 * c.replicas + c.replicas + replica] as number;
      energy[t] = (-J * bonds - h * m) / c.sites;
      magnetization[t] = m / c.sites;
    }
    return { energy, magnetization };
  }

  /**
   * G(d) = ⟨s_i s_{i+d}⟩ averaged over sites (and both axes in 2D) for d = 0 … maxDistance, per recorded
   * correlation measurement: `values[(t · replicas + r) · distances + d]`.
   */
  async correlations(): Promise<{ records: number; distances: number; values: Float64Array }> {
    await this.collect();
    const c = this.config;
    const raw = this.hostCorrelations.view();
    const norm = c.dims === 2 ? 2 * c.sites : c.sites;
    const values = Float64Array.from(raw, (x) => x / norm);
    return { records: raw.length / (c.replicas * c.distances), distances: c.distances, values };
  }

  /**
   * Energy and magnetisation per spin of every replica in the current state, without recording them
   * (for live readouts): one small submission and a read-back of 2R sums.
   */
  async observables(): Promise<{ energy: Float64Array; magnetization: Float64Array }> {
    this.checkAlive();
    const c = this.config;
    submitStep(this.device, 'ising observables', this.measureItems.slice(0, 2));
    const sums = await this.reduction.read();
    const energy = new Float64Array(c.replicas);
    const magnetization = new Float64Array(c.replicas);
    for (let r = 0; r < c.replicas; r++) {
      const bonds = (sums[r] as { sum: number }).sum;
      const m = (sums[c.replicas + r] as { sum: number }).sum;
      energy[r] = (-(c.J[r] as number) * bonds - (c.h[r] as number) * m) / c.sites;
      magnetization[r] = m / c.sites;
    }
    return { energy, magnetization };
  }

  /** The spins as ±1, `replicas × Ly × Lx` row-major. */
  async getSpins(): Promise<Int8Array> {
    this.checkAlive();
    return IsingEngine.unpackSpins(this.config, new Uint32Array(await readBuffer(this.device, this.spins)));
  }

  /** Packed spin words (as in a snapshot) → ±1 values, `replicas × Ly × Lx` row-major. */
  static unpackSpins(c: IsingConfig, words: Uint32Array): Int8Array {
    if (words.length !== c.replicas * c.words) {
      throw new RangeError(`${words.length} spin words; ${c.replicas} replicas need ${c.replicas * c.words}`);
    }
    const out = new Int8Array(c.replicas * c.sites);
    for (let r = 0; r < c.replicas; r++) {
      for (let i = 0; i < c.sites; i++) {
        const bit = ((words[r * c.words + (i >>> 5)] as number) >>> (i & 31)) & 1;
        out[r * c.sites + i] = bit ? 1 : -1;
      }
    }
    return out;
  }

  /** Replaces the spins with ±1 values (`replicas × Ly × Lx` row-major). */
  setSpins(spins: Int8Array | ArrayLike<number>): void {
    this.checkAlive();
    const c = this.config;
    if (spins.length !== c.replicas * c.sites) {
      throw new RangeError(
        `spins has ${spins.length} values; this engine has ${c.replicas} × ${c.sites} spins`,
      );
    }
    const words = new Uint32Array(c.replicas * c.words);
    for (let r = 0; r < c.replicas; r++) {
      for (let i = 0; i < c.sites; i++) {
        const s = spins[r * c.sites + i];
        if (s !== 1 && s !== -1)
          throw new RangeError(`spin ${r * c.sites + i} is ${String(s)}; spins must be ±1`);
        if (s === 1)
          words[r * c.words + (i >>> 5)] =
            ((words[r * c.words + (i >>> 5)] as number) | (1 << (i & 31))) >>> 0;
      }
    }
    uploadBuffer(this.device, this.spins, words);
  }

  /** Everything needed to continue this run exactly: spins, RNG step, measurements. */
  async snapshot(): Promise<IsingSnapshot> {
    this.checkAlive();
    await this.collect();
    const c = this.config;
    const n = this.hostSeries.length / 2;
    const data = this.hostSeries.view();
    const records = data.length / (2 * c.replicas);
    const bonds = new Int32Array(n);
    const mags = new Int32Array(n);
    for (let t = 0; t < records; t++) {
      bonds.set(data.subarray(t * 2 * c.replicas, t * 2 * c.replicas + c.replicas), t * c.replicas);
      mags.set(data.subarray(t * 2 * c.replicas + c.replicas, (t + 1) * 2 * c.replicas), t * c.replicas);
    }
    const { seed, ...rest } = this.optionsFor();
    return {
      format: 'blockspin-ising-snapshot',
      version: 1,
      options: { ...rest, seed: String(seed) },
      sweep: this.sweepCount,
      spins: new Uint32Array(await readBuffer(this.device, this.spins)),
      bonds,
      magnetizations: mags,
      correlations: this.hostCorrelations.view().slice(),
    };
  }

  /** A new engine that continues exactly where `snapshot` stopped (same adapter → same numbers). */
  static fromSnapshot(device: GPUDevice, snapshot: IsingSnapshot): IsingEngine {
    if (snapshot?.format !== 'blockspin-ising-snapshot' || snapshot.version !== 1) {
      throw new RangeError('not a blockspin Ising snapshot (format/version mismatch)');
    }
    // Everything is checked before the engine (and its GPU buffers) exists.
    const options = { ...snapshot.options, seed: BigInt(snapshot.options.seed) };
    const c = resolveIsingConfig(options, device.limits);
    if (snapshot.spins.length !== c.replicas * c.words) {
      throw new RangeError(
        `snapshot has ${snapshot.spins.length} spin words; its options need ${c.replicas * c.words}`,
      );
    }
    checkCount('snapshot sweep', snapshot.sweep);
    if (
      snapshot.bonds.length % c.replicas !== 0 ||
      snapshot.magnetizations.length !== snapshot.bonds.length
    ) {
      throw new RangeError(
        `snapshot series lengths (bonds ${snapshot.bonds.length}, magnetisations ${snapshot.magnetizations.length}) do not fit ${c.replicas} replicas`,
      );
    }
    if (snapshot.correlations.length % (c.replicas * c.distances) !== 0) {
      throw new RangeError(
        `snapshot correlations (${snapshot.correlations.length} values) do not fit ${c.replicas} × ${c.distances}`,
      );
    }
    const engine = new IsingEngine(device, options);
    uploadBuffer(device, engine.spins, snapshot.spins);
    engine.sweepCount = snapshot.sweep;
    engine.writeCounters();
    const records = snapshot.bonds.length / c.replicas;
    const interleaved = new Int32Array(2 * snapshot.bonds.length);
    for (let t = 0; t < records; t++) {
      interleaved.set(snapshot.bonds.subarray(t * c.replicas, (t + 1) * c.replicas), t * 2 * c.replicas);
      interleaved.set(
        snapshot.magnetizations.subarray(t * c.replicas, (t + 1) * c.replicas),
        t * 2 * c.replicas + c.replicas,
      );
    }
    engine.hostSeries.append(interleaved);
    engine.hostCorrelations.append(snapshot.correlations);
    engine.measurementsTaken = records;
    return engine;
  }

  /** Frees every GPU buffer this engine owns. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [
      this.spins,
      this.colours,
      this.tieCounts,
      this.ties,
      this.tables,
      this.swThresholds,
      this.labels,
      this.flipMask,
      this.counters,
      this.params,
      this.partials,
      this.correlationPartials,
      this.seriesBuffer,
      this.correlationBuffer,
    ]) {
      b?.destroy();
    }
    this.reduction.destroy();
    this.correlationReduction.destroy();
  }
}
