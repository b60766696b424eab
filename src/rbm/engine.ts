/**
 * Dense RBM engine on the GPU: batched conditional sampling (tiled products fused with bias, activation
 * and the Bernoulli draw), CD-k and PCD updates whose gradients, parameters, optimiser state and chains
 * all stay on the GPU, one submission per update. It is handed a `GPUDevice`; it never creates one.
 *
 * Conventions (PHYSICS.md, "RBM conventions"): units 'bernoulli' ({0,1}) or 'ising' (±1) for both
 * layers; parameters [W (nv × nh, row-major) | a (nv) | b (nh)] in one f32 buffer.
 * Gradient: ⟨v h⟩_data − ⟨v h⟩_model, the data term with hidden means, the model term from the chain end
 * after k Gibbs steps (visible samples — or means with `meanFieldFinal` — and hidden means).
 *
 * @example
 * const rbm = new RbmEngine(device, { nv: 784, nh: 144, seed: 1 });
 * rbm.setData(trainingRows, n);             // binary values in the units' convention
 * rbm.configureTraining({ batch: 100, k: 1, optimizer: 'adam', lr: 1e-3 });
 * await rbm.trainEpochs(10);
 */
import {
  createBuffer,
  createStorageBuffer,
  createUniformBuffer,
  readBuffer,
  uploadBuffer,
} from '../gpu/buffers.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import { Copy, Dispatch, Program, submitStep, type Encodable } from '../gpu/kernel.ts';
import { watchDeviceLoss, workDone } from '../gpu/lost.ts';
import { SegmentedReduction } from '../gpu/reduce.ts';
import type { GpuTimer } from '../gpu/timing.ts';
import type { StructView } from '../gpu/reflect.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { rbmSources } from './shaders.ts';
import { feistelHalfBits } from './shuffle.ts';

export type RbmUnits = 'bernoulli' | 'ising';
export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

export type LearningRateSchedule =
  | { kind: 'constant' }
  /** lr0 / √(1 + c·epoch), c chosen to reach `final` at `decayEpochs`, constant afterwards (Chung & Kao). */
  | { kind: 'sqrt'; final: number; decayEpochs: number }
  /** lr0 · gamma^epoch. */
  | { kind: 'exponential'; gamma: number };

/**
 * Updates one run may make: the update index 0 … 2^32 − 1 is the step word (u32) of the Philox counters,
 * so a longer run would repeat random streams. Runs that would pass it are refused before they start.
 */
export const MAX_UPDATES = 2 ** 32;

/** Updates `trainEpochs` submits before it waits for the GPU and reports progress. */
export const UPDATES_PER_WAIT = 32;

/** The largest lattice side, filter count and filter size the engine accepts for a conv RBM. */
export const CONV_LIMITS = { Lv: 4096, filters: 4096, k: 1024 } as const;

/** Translation-invariant weights on a periodic Lv×Lv visible lattice (Chung & Kao: F=1, k=8, s=2). */
export interface ConvGeometry {
  Lv: number;
  filters: number;
  /** Filter size k (k×k). */
  k: number;
  stride: number;
}

export interface RbmOptions {
  /** Visible units (implied by `conv`: Lv²). */
  nv?: number;
  /** Hidden units (implied by `conv`: filters · (Lv/stride)²). */
  nh?: number;
  /** Convolutional weights instead of dense (biases then tied: one visible, one per filter). */
  conv?: ConvGeometry;
  units?: RbmUnits;
  visibleBias?: boolean;
  hiddenBias?: boolean;
  seed?: number | bigint;
  /** Initial weights ~ N(0, initScale²) (default 0.01), hidden biases 0 (visible: visibleBiasInit); or explicit parameters. */
  initScale?: number;
  /** 'normal' (default) N(0, initScale²), or 'uniform' in ±initScale (Chung & Kao: ±1e-5). */
  initDistribution?: 'normal' | 'uniform';
  /**
   * Initial visible biases: 'log-odds' (default; Hinton's practical guide, §8) sets them from the training
   * data at setData — a_i = ln(p_i / (1 − p_i)) for {0,1} units, a_i = atanh(2p_i − 1) = ½ ln(p_i / (1 − p_i))
   * for ±1 units, with p_i the fraction of samples with unit i on (the mean for real-valued data) clipped to
   * [1e-3, 1 − 1e-3]; one tied value from all sites for a conv RBM — so the chains start at the data's
   * marginals instead of spending the first epochs learning them. 'zero' keeps a = 0. It applies while no
   * update has run; explicit `parameters`, setParameters and restoreTrainingState take precedence, and it
   * does nothing for an RBM without visible biases.
   */
  visibleBiasInit?: VisibleBiasInit;
  /** W: [nv × nh] dense or [F·k·k] conv; a [nv], b [nh] (tied copies equal for conv). */
  parameters?: { W: ArrayLike<number>; a?: ArrayLike<number>; b?: ArrayLike<number> };
  /**
   * Kernels of the dense products: 'tiled' (workgroup-memory tiles, for GPUs), 'direct' (register blocks
   * read straight from the buffers, for CPU implementations such as SwiftShader), or 'auto' (default):
   * direct on a software adapter, tiled otherwise. The two sum in different orders, so results agree to
   * rounding, not bit for bit: resume a checkpoint with the same choice.
   */
  matmul?: MatmulKernel | 'auto';
}

export type MatmulKernel = 'tiled' | 'direct';

export type VisibleBiasInit = 'log-odds' | 'zero';

/** Clip of the data's on-fraction p for the log-odds visible-bias initialisation: |a| ≤ ln 999 ≈ 6.9. */
export const LOG_ODDS_CLIP = 1e-3;

/** a = ln(p/(1 − p)) ({0,1} units) or ½ ln(p/(1 − p)) = atanh(2p − 1) (±1), p clipped to [LOG_ODDS_CLIP, 1 − LOG_ODDS_CLIP]. */
export function logOddsBias(units: RbmUnits, p: number): number {
  const q = Math.min(1 - LOG_ODDS_CLIP, Math.max(LOG_ODDS_CLIP, p));
  const logit = Math.log(q / (1 - q));
  return units === 'ising' ? logit / 2 : logit;
}

export interface TrainingOptions {
  batch: number;
  /** Gibbs steps per update (CD-k / PCD-k; default 1). */
  k?: number;
  /** Persistent chains (PCD) — 0 or absent for CD. */
  pcd?: number;
  meanFieldFinal?: boolean;
  optimizer?: OptimizerKind;
  lr: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  l1?: number;
  l2?: number;
  schedule?: LearningRateSchedule;
  /** Reshuffle the minibatches every epoch on the GPU (default true). */
  shuffle?: boolean;
}

/** Thrown when training produced NaN or ±∞ parameters; `epoch` is the first bad epoch. */
export class RbmDivergedError extends Error {
  override name = 'RbmDivergedError';
  constructor(readonly epoch: number) {
    super(
      `training diverged: non-finite parameters after epoch ${epoch} (lower the learning rate, add weight decay, or check the data)`,
    );
  }
}

export interface RbmParameters {
  /** [nv × nh] row-major (dense) or [F × k × k] (conv). */
  W: Float32Array;
  a: Float32Array;
  b: Float32Array;
}

/** Output block (rows × columns) of one dense-product workgroup (shaders/rbm/layer.wgsl, gradient.wgsl). */
const BLOCK = 64;
/** The same for the direct kernels: 8×8 invocations of 8×8 outputs. */
const DIRECT_BLOCK = 64;
const WORKGROUP = 64;

function positiveInteger(name: string, value: unknown, max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} ${String(value)} must be an integer in 1 … ${max}`);
  }
  return value;
}

function finite(name: string, value: unknown, { min = -Infinity, exclusiveMin = false } = {}): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (exclusiveMin && value === min)
  ) {
    throw new RangeError(
      `${name} ${String(value)} must be a finite number ${exclusiveMin ? '>' : '≥'} ${min}`,
    );
  }
  return value;
}

/** Deterministic N(0, 1) draws from Philox (Box–Muller), for weight initialisation. */
function gaussians(count: number, key: [number, number]): Float64Array {
  const out = new Float64Array(count);
  const stream = streamWord(RngPurpose.rbmInit, 0);
  for (let i = 0; i < count; i += 2) {
    const [x, y] = philox4x32([i >>> 1, 0, 0, stream], key);
    const u1 = unitFloat(x) + 2 ** -25; // (0, 1)
    const u2 = unitFloat(y);
    const radius = Math.sqrt(-2 * Math.log(u1));
    out[i] = radius * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** The learning rate at a (fractional) epoch. */
export function learningRate(lr0: number, schedule: LearningRateSchedule, epoch: number): number {
  switch (schedule.kind) {
    case 'constant':
      return lr0;
    case 'sqrt': {
      const c = ((lr0 / schedule.final) ** 2 - 1) / schedule.decayEpochs;
      return epoch >= schedule.decayEpochs ? schedule.final : lr0 / Math.sqrt(1 + c * epoch);
    }
    case 'exponential':
      return lr0 * schedule.gamma ** epoch;
  }
}

/** Everything a resumed run needs to continue bit-identically (same adapter). */
export interface RbmTrainingState {
  /** [weights | a | b]. */
  parameters: Float32Array;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
  /** PCD chain states [chains × nv] (empty for CD). */
  chains: Float32Array;
  updates: number;
  epochs: number;
}

interface LayerDispatch {
  dispatch: Dispatch;
  uniforms: GPUBuffer;
  view: StructView;
}

type ResolvedTraining = Required<Omit<TrainingOptions, 'schedule' | 'pcd'>> & {
  schedule: LearningRateSchedule;
  pcd: number;
};

interface Training {
  options: ResolvedTraining;
  rows: number;
  chains: number;
  buffers: GPUBuffer[];
  items: Encodable[];
  layers: LayerDispatch[];
  batchUniforms: GPUBuffer;
  batchView: StructView;
  optimizerUniforms: GPUBuffer;
  optimizerView: StructView;
  chainVisible: GPUBuffer | null;
}

export class RbmEngine {
  readonly nv: number;
  readonly nh: number;
  readonly conv: (ConvGeometry & { side: number }) | null;
  /** Weights in the parameter buffer: nv·nh (dense) or F·k² (conv). */
  readonly weightCount: number;
  readonly units: RbmUnits;
  readonly visibleBias: boolean;
  readonly hiddenBias: boolean;
  /** How the visible biases start (RbmOptions.visibleBiasInit; 'zero' when there are none). */
  readonly visibleBiasInit: VisibleBiasInit;
  /** The dense products' kernels (RbmOptions.matmul, 'auto' resolved for this device's adapter). */
  readonly matmul: MatmulKernel;
  /** [W | a | b], f32. */
  readonly parameters: GPUBuffer;
  readonly gradient: GPUBuffer;
  private readonly firstMoment: GPUBuffer;
  private readonly secondMoment: GPUBuffer;
  private readonly key: [number, number];
  private data: GPUBuffer | null = null;
  private samples = 0;
  /** True when the data are real-valued (f32 per unit) rather than bit-packed binary. */
  private realData = false;
  private training: Training | null = null;
  /** Updates done (the RNG step counter and Adam's t). */
  private updates = 0;
  private epochsDone = 0;
  private destroyed = false;
  private finiteCheck: SegmentedReduction | null = null;
  /** True while setData should set the visible biases from the data (log-odds, untouched parameters). */
  private visibleBiasFromData = false;

  constructor(
    readonly device: GPUDevice,
    options: RbmOptions,
  ) {
    if (options.conv) {
      const g = options.conv;
      const Lv = positiveInteger('conv Lv', g.Lv, CONV_LIMITS.Lv);
      const filters = positiveInteger('conv filters', g.filters, CONV_LIMITS.filters);
      const k = positiveInteger('conv k', g.k, CONV_LIMITS.k);
      const stride = positiveInteger('conv stride', g.stride, Lv);
      if (Lv % stride !== 0)
        throw new RangeError(`conv stride ${stride} does not tile the ${Lv}×${Lv} lattice (Lv % stride ≠ 0)`);
      const side = Lv / stride;
      this.conv = { Lv, filters, k, stride, side };
      this.nv = Lv * Lv;
      this.nh = filters * side * side;
      if (options.nv !== undefined && options.nv !== this.nv) {
        throw new RangeError(`nv ${options.nv} does not match the conv geometry's Lv² = ${this.nv}`);
      }
      if (options.nh !== undefined && options.nh !== this.nh) {
        throw new RangeError(`nh ${options.nh} does not match the conv geometry's F·(Lv/s)² = ${this.nh}`);
      }
      this.weightCount = filters * k * k;
    } else {
      this.conv = null;
      this.nv = positiveInteger('nv', options.nv);
      this.nh = positiveInteger('nh', options.nh);
      this.weightCount = this.nv * this.nh;
    }
    this.units = options.units ?? 'bernoulli';
    if (this.units !== 'bernoulli' && this.units !== 'ising') {
      throw new RangeError(`units '${String(this.units)}' must be 'bernoulli' or 'ising'`);
    }
    this.visibleBias = options.visibleBias ?? true;
    this.hiddenBias = options.hiddenBias ?? true;
    const biasInit = options.visibleBiasInit ?? 'log-odds';
    if (biasInit !== 'log-odds' && biasInit !== 'zero') {
      throw new RangeError(`visibleBiasInit '${String(biasInit)}' must be 'log-odds' or 'zero'`);
    }
    this.visibleBiasInit = this.visibleBias ? biasInit : 'zero';
    const matmul = options.matmul ?? 'auto';
    if (matmul !== 'auto' && matmul !== 'tiled' && matmul !== 'direct') {
      throw new RangeError(`matmul '${String(matmul)}' must be 'auto', 'tiled' or 'direct'`);
    }
    this.matmul = matmul === 'auto' ? (isSoftwareAdapter(device.adapterInfo) ? 'direct' : 'tiled') : matmul;
    this.key = seedKey(options.seed ?? 1);
    watchDeviceLoss(device);
    const count = this.weightCount + this.nv + this.nh;
    const label = `rbm ${this.nv}×${this.nh}${this.conv ? ' conv' : ''}`;
    this.parameters = createStorageBuffer(device, `${label} parameters`, count * 4);
    this.gradient = createStorageBuffer(device, `${label} gradient`, count * 4);
    this.firstMoment = createStorageBuffer(device, `${label} optimiser moment 1`, count * 4);
    this.secondMoment = createStorageBuffer(device, `${label} optimiser moment 2`, count * 4);
    try {
      if (options.parameters) this.setParameters(options.parameters);
      else {
        this.initialise(options);
        this.visibleBiasFromData = this.visibleBiasInit === 'log-odds';
      }
    } catch (err) {
      this.destroy(); // nothing allocated survives a rejected option
      throw err;
    }
  }

  /** Random initial weights (biases 0), deterministic in the seed. */
  private initialise(options: RbmOptions): void {
    const scale = finite('initScale', options.initScale ?? 0.01, { min: 0 });
    const distribution = options.initDistribution ?? 'normal';
    if (distribution !== 'normal' && distribution !== 'uniform') {
      throw new RangeError(`initDistribution '${String(distribution)}' must be 'normal' or 'uniform'`);
    }
    const init = new Float32Array(this.weightCount + this.nv + this.nh);
    if (distribution === 'normal') {
      const g = gaussians(this.weightCount, this.key);
      for (let i = 0; i < g.length; i++) init[i] = scale * (g[i] as number);
    } else {
      const stream = streamWord(RngPurpose.rbmInit, 2);
      for (let i = 0; i < this.weightCount; i++) {
        init[i] = scale * (2 * unitFloat(philox4x32([i, 0, 0, stream], this.key)[0]) - 1);
      }
    }
    uploadBuffer(this.device, this.parameters, init);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this RbmEngine was destroyed');
  }

  /** Number of parameter updates done so far. */
  get updateCount(): number {
    return this.updates;
  }

  /** Number of full epochs done by trainEpochs. */
  get epochCount(): number {
    return this.epochsDone;
  }

  /** Replaces the parameters (biases default to 0; a disabled bias must be all zero). */
  setParameters(p: { W: ArrayLike<number>; a?: ArrayLike<number>; b?: ArrayLike<number> }): void {
    this.checkAlive();
    this.visibleBiasFromData = false;
    const { nv, nh } = this;
    const wc = this.weightCount;
    const all = new Float32Array(wc + nv + nh);
    const put = (
      name: string,
      values: ArrayLike<number> | undefined,
      length: number,
      offset: number,
      enabled: boolean,
    ): void => {
      if (values === undefined) return;
      if (values.length !== length)
        throw new RangeError(`${name} has ${values.length} values; expected ${length}`);
      for (let i = 0; i < length; i++) {
        const x = values[i] as number;
        if (!Number.isFinite(x)) throw new RangeError(`${name}[${i}] = ${x} is not finite`);
        if (!enabled && x !== 0) throw new RangeError(`${name}[${i}] = ${x}, but this RBM has no such bias`);
        all[offset + i] = x;
      }
    };
    put('W', p.W, wc, 0, true);
    put('a', p.a, nv, wc, this.visibleBias);
    put('b', p.b, nh, wc + nv, this.hiddenBias);
    if (this.conv) {
      // Tied biases: one visible bias, one hidden bias per filter.
      const positions = this.conv.side ** 2;
      for (let i = 1; i < nv; i++) {
        if (all[wc + i] !== all[wc]) throw new RangeError(`conv RBM visible biases are tied: a[${i}] ≠ a[0]`);
      }
      for (let j = 0; j < nh; j++) {
        const first = wc + nv + j - (j % positions);
        if (all[wc + nv + j] !== all[first]) {
          throw new RangeError(
            `conv RBM hidden biases are tied per filter: b[${j}] ≠ b[${j - (j % positions)}]`,
          );
        }
      }
    }
    uploadBuffer(this.device, this.parameters, all);
  }

  /** Reads W [nv × nh], a, b. */
  async getParameters(): Promise<RbmParameters> {
    this.checkAlive();
    const all = new Float32Array(await readBuffer(this.device, this.parameters));
    const w = this.weightCount;
    return {
      W: all.slice(0, w),
      a: all.slice(w, w + this.nv),
      b: all.slice(w + this.nv, w + this.nv + this.nh),
    };
  }

  /** Reads the last computed gradient as { dW, da, db }. */
  async getGradient(): Promise<{ dW: Float32Array; da: Float32Array; db: Float32Array }> {
    this.checkAlive();
    const all = new Float32Array(await readBuffer(this.device, this.gradient));
    const w = this.weightCount;
    return { dW: all.slice(0, w), da: all.slice(w, w + this.nv), db: all.slice(w + this.nv) };
  }

  /**
   * Uploads n training samples once (`rows[s·nv + i]`). Binary values in the units' convention (0/1 or
   * −1/+1) are bit-packed (32 units per word); with `realValued`, values anywhere in the units' range
   * ([0, 1] or [−1, 1], e.g. a lower layer's hidden means in a stacked RBM) are stored as f32.
   */
  setData(rows: ArrayLike<number>, n: number, options: { realValued?: boolean } = {}): void {
    this.checkAlive();
    positiveInteger('sample count', n);
    if (rows.length !== n * this.nv) {
      throw new RangeError(`data has ${rows.length} values; ${n} samples × nv ${this.nv} = ${n * this.nv}`);
    }
    const low = this.units === 'ising' ? -1 : 0;
    let words: Uint32Array;
    if (options.realValued) {
      const values = new Float32Array(n * this.nv);
      for (let k = 0; k < values.length; k++) {
        const x = rows[k] as number;
        if (!(x >= low && x <= 1)) {
          const s = Math.floor(k / this.nv);
          throw new RangeError(
            `data value ${x} at sample ${s}, unit ${k - s * this.nv} is outside [${low}, 1]`,
          );
        }
        values[k] = x;
      }
      words = new Uint32Array(values.buffer);
    } else {
      const perSample = Math.ceil(this.nv / 32);
      words = new Uint32Array(n * perSample);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < this.nv; i++) {
          const x = rows[s * this.nv + i];
          const w = s * perSample + (i >>> 5);
          if (x === 1) words[w] = ((words[w] as number) | (1 << (i & 31))) >>> 0;
          else if (x !== low) {
            throw new RangeError(
              `data value ${String(x)} at sample ${s}, unit ${i} is not binary for ${this.units} units (${low} or 1)`,
            );
          }
        }
      }
    }
    if (this.visibleBiasFromData && this.updates === 0) this.setVisibleBiasFromData(rows, n);
    this.data?.destroy();
    this.data = createStorageBuffer(this.device, `rbm data ${n}×${this.nv}`, words.byteLength, words);
    this.samples = n;
    this.realData = options.realValued ?? false;
    if (this.training) this.configureTraining({ ...this.training.options });
  }

  /** Visible biases from the data's per-unit on-fractions (RbmOptions.visibleBiasInit 'log-odds'). */
  private setVisibleBiasFromData(rows: ArrayLike<number>, n: number): void {
    const { nv } = this;
    const sums = new Float64Array(nv);
    for (let s = 0; s < n; s++) for (let i = 0; i < nv; i++) sums[i]! += rows[s * nv + i] as number;
    // Fraction on: the mean for {0,1}; (mean + 1)/2 for ±1.
    const fraction = (sum: number, count: number): number =>
      this.units === 'ising' ? (sum / count + 1) / 2 : sum / count;
    const a = new Float32Array(nv);
    if (this.conv)
      a.fill(
        logOddsBias(
          this.units,
          fraction(
            sums.reduce((x, y) => x + y, 0),
            n * nv,
          ),
        ),
      );
    else for (let i = 0; i < nv; i++) a[i] = logOddsBias(this.units, fraction(sums[i]!, n));
    uploadBuffer(this.device, this.parameters, a, this.weightCount * 4);
  }

  private layer(
    label: string,
    input: GPUBuffer,
    means: GPUBuffer,
    samplesOut: GPUBuffer,
    rows: number,
    hidden: boolean,
    stream: number,
    sample: boolean,
    outputInput = false,
    /** A conv layer on another lattice side (same filters and stride) and a row offset (convHiddenKernel). */
    other?: { Lv: number; rowOffset: number },
  ): LayerDispatch {
    const program = Program.get(this.device, this.conv ? rbmSources.conv : rbmSources.layer);
    const c =
      other && this.conv ? { ...this.conv, Lv: other.Lv, side: other.Lv / this.conv.stride } : this.conv;
    const units = c && other ? c.filters * c.side * c.side : hidden ? this.nh : this.nv;
    const fanIn = c && other ? c.Lv * c.Lv : hidden ? this.nv : this.nh;
    const view = program.structView('LayerParams');
    view.set({
      key: this.key,
      rows,
      units,
      fanIn,
      step: 0,
      rngStream: stream,
      sample: sample ? 1 : 0,
      biasOffset: this.weightCount + (hidden ? this.nv : 0),
      lv: c?.Lv ?? 0,
      filters: c?.filters ?? 0,
      kernelSize: c?.k ?? 0,
      stride: c?.stride ?? 0,
      side: c?.side ?? 0,
      beta: 1,
      rowOffset: other?.rowOffset ?? 0,
    });
    const uniforms = createUniformBuffer(this.device, `${label} params`, view.data);
    const isingUnits = this.units === 'ising';
    const bindGroups = [
      program.bindGroup(0, {
        params: uniforms,
        input,
        parameters: this.parameters,
        means,
        samples: samplesOut,
      }),
    ];
    const dispatch = c
      ? new Dispatch(this.device, {
          label,
          pipeline: program.pipeline(hidden ? 'sampleHiddenConv' : 'sampleVisibleConv', {
            isingUnits,
            outputInput,
            workgroupSize: WORKGROUP,
          }),
          bindGroups,
          // One invocation per row and quad of units (shaders/rbm/conv.wgsl).
          workgroups: Math.ceil((rows * Math.ceil(units / 4)) / WORKGROUP),
        })
      : new Dispatch(this.device, {
          label,
          pipeline: program.pipeline(this.matmul === 'direct' ? 'sampleLayerDirect' : 'sampleLayer', {
            transposeWeights: !hidden,
            isingUnits,
            outputInput,
          }),
          bindGroups,
          workgroups: this.productGrid(units, rows),
        });
    return { dispatch, uniforms, view };
  }

  /** Workgroups of a dense product with `columns` × `rows` outputs (x: columns, y: rows). */
  private productGrid(columns: number, rows: number): [number, number, number] {
    const block = this.matmul === 'direct' ? DIRECT_BLOCK : BLOCK;
    return [Math.ceil(columns / block), Math.ceil(rows / block), 1];
  }

  private resolveTraining(options: TrainingOptions): ResolvedTraining {
    const o: ResolvedTraining = {
      batch: positiveInteger('batch', options.batch),
      k: positiveInteger('k', options.k ?? 1, 1000),
      pcd: options.pcd ?? 0,
      meanFieldFinal: options.meanFieldFinal ?? false,
      optimizer: options.optimizer ?? 'sgd',
      lr: finite('lr', options.lr, { min: 0, exclusiveMin: true }),
      momentum: finite('momentum', options.momentum ?? 0.9, { min: 0 }),
      beta1: finite('beta1', options.beta1 ?? 0.9, { min: 0 }),
      beta2: finite('beta2', options.beta2 ?? 0.999, { min: 0 }),
      epsilon: finite('epsilon', options.epsilon ?? 1e-8, { min: 0, exclusiveMin: true }),
      l1: finite('l1', options.l1 ?? 0, { min: 0 }),
      l2: finite('l2', options.l2 ?? 0, { min: 0 }),
      schedule: options.schedule ?? { kind: 'constant' },
      shuffle: options.shuffle ?? true,
    };
    if (o.pcd !== 0) positiveInteger('pcd chains', o.pcd);
    if (!['sgd', 'momentum', 'adam'].includes(o.optimizer)) {
      throw new RangeError(`optimizer '${o.optimizer}' must be sgd, momentum or adam`);
    }
    if (o.batch > this.samples)
      throw new RangeError(`batch ${o.batch} exceeds the ${this.samples} training samples`);
    if (o.momentum >= 1 || o.beta1 >= 1 || o.beta2 >= 1) {
      throw new RangeError(`momentum ${o.momentum}, beta1 ${o.beta1} and beta2 ${o.beta2} must be < 1`);
    }
    const s = o.schedule;
    if (s.kind === 'sqrt') {
      finite('schedule final', s.final, { min: 0, exclusiveMin: true });
      finite('schedule decayEpochs', s.decayEpochs, { min: 0, exclusiveMin: true });
    } else if (s.kind === 'exponential') {
      finite('schedule gamma', s.gamma, { min: 0, exclusiveMin: true });
    } else if (s.kind !== 'constant') {
      throw new RangeError(
        `schedule '${(s as { kind: string }).kind}' must be constant, sqrt or exponential`,
      );
    }
    return o;
  }

  /**
   * A layer dispatch over caller-owned buffers (for AIS and other samplers built on the engine's kernels):
   * `hidden` picks h | v (input [rows × nv]) or v | h (input [rows × nh]); set `view` fields (step,
   * beta) and upload them to `uniforms` before each submission. The caller destroys `uniforms`.
   * `outputInput` writes the raw unit inputs x to `means` instead of sampling.
   */
  layerKernel(options: {
    label: string;
    input: GPUBuffer;
    means: GPUBuffer;
    samples: GPUBuffer;
    rows: number;
    hidden: boolean;
    stream: number;
    outputInput?: boolean;
  }): { dispatch: Dispatch; uniforms: GPUBuffer; view: StructView } {
    this.checkAlive();
    const o = options;
    return this.layer(
      o.label,
      o.input,
      o.means,
      o.samples,
      o.rows,
      o.hidden,
      o.stream,
      !o.outputInput,
      o.outputInput,
    );
  }

  /**
   * The conv hidden-sampling dispatch h ~ P(h | v) of this RBM's filters on an Lv×Lv lattice that may differ
   * from the model's own (same filters and stride; a block-spin projector applies one filter at every level):
   * input [rows × Lv²] → means and samples [rows × filters·(Lv/stride)²]. Row r draws with counter row
   * rowOffset + r (the global sample of a shard). Set `view.step` and upload `view.data` to `uniforms` before
   * each submission; the caller destroys `uniforms`. Filters > 1 need Lv = the model's Lv (tied biases per filter).
   */
  convHiddenKernel(options: {
    label: string;
    input: GPUBuffer;
    means: GPUBuffer;
    samples: GPUBuffer;
    rows: number;
    Lv: number;
    stream: number;
    rowOffset?: number;
  }): { dispatch: Dispatch; uniforms: GPUBuffer; view: StructView } {
    this.checkAlive();
    const c = this.conv;
    if (!c) throw new RangeError('convHiddenKernel needs a convolutional RBM; this one is dense');
    const { Lv } = options;
    positiveInteger('convHiddenKernel rows', options.rows);
    positiveInteger('convHiddenKernel Lv', Lv, CONV_LIMITS.Lv);
    if (Lv % c.stride !== 0)
      throw new RangeError(`convHiddenKernel Lv ${Lv} is not divisible by the stride ${c.stride}`);
    if (c.filters > 1 && Lv !== c.Lv) {
      throw new RangeError(
        `convHiddenKernel Lv ${Lv} ≠ the model's ${c.Lv}: only a one-filter RBM runs on another lattice (it has ${c.filters})`,
      );
    }
    const rowOffset = options.rowOffset ?? 0;
    if (!Number.isInteger(rowOffset) || rowOffset < 0 || rowOffset + options.rows > 2 ** 32) {
      throw new RangeError(
        `rowOffset ${rowOffset} + rows ${options.rows} must stay within 2^32 (a u32 counter word)`,
      );
    }
    const o = options;
    return this.layer(o.label, o.input, o.means, o.samples, o.rows, true, o.stream, true, false, {
      Lv,
      rowOffset,
    });
  }

  /** Sets up minibatch CD-k or PCD-k training (buffers, dispatches); needs setData first. */
  configureTraining(options: TrainingOptions): void {
    this.checkAlive();
    if (!this.data) throw new Error('no training data: call setData first');
    const o = this.resolveTraining(options);
    this.releaseTraining();

    const { nv, nh, device } = this;
    const rows = o.batch;
    const chains = o.pcd > 0 ? o.pcd : rows;
    const f = (label: string, n: number): GPUBuffer => createStorageBuffer(device, `rbm ${label}`, n * 4);
    const v0 = f('batch', rows * nv);
    const h0m = f('hidden means (data)', rows * nh);
    const h0s = f('hidden samples (data)', rows * nh);
    const vm = f('visible means (chain)', chains * nv);
    const vs = f('visible samples (chain)', chains * nv);
    const hm = f('hidden means (chain)', chains * nh);
    const hs = f('hidden samples (chain)', chains * nh);
    const rowSample = createStorageBuffer(device, 'rbm batch rows', rows * 4);
    const buffers = [v0, h0m, h0s, vm, vs, hm, hs, rowSample];
    const items: Encodable[] = [];
    const layers: LayerDispatch[] = [];

    const batchProgram = Program.get(device, rbmSources.batch);
    const halfBits = feistelHalfBits(this.samples);
    const batchView = batchProgram.structView('BatchParams');
    batchView.set({
      key: this.key,
      samples: this.samples,
      nv,
      wordsPerSample: this.realData ? nv : Math.ceil(nv / 32),
      rows,
      batchIndex: 0,
      epoch: 0,
      rngStream: streamWord(RngPurpose.rbmShuffle, 0),
      shuffle: o.shuffle ? 1 : 0,
      halfBits,
    });
    const batchUniforms = createUniformBuffer(device, 'rbm batch params', batchView.data);
    const batchGroup = batchProgram.bindGroup(0, {
      params: batchUniforms,
      data: this.data,
      batch: v0,
      rowSample,
    });
    const batchConstants = { isingUnits: this.units === 'ising', workgroupSize: WORKGROUP };
    items.push(
      new Dispatch(device, {
        label: 'rbm permuteBatch',
        pipeline: batchProgram.pipeline('permuteBatch', batchConstants),
        bindGroups: [batchGroup],
        workgroups: Math.ceil(rows / WORKGROUP),
      }),
      new Dispatch(device, {
        label: 'rbm gatherBatch',
        pipeline: batchProgram.pipeline(this.realData ? 'gatherBatchReal' : 'gatherBatch', batchConstants),
        bindGroups: [batchGroup],
        workgroups: Math.ceil((rows * nv) / WORKGROUP),
      }),
    );

    const hiddenStream = (g: number): number => streamWord(RngPurpose.rbmHidden, g);
    const visibleStream = (g: number): number => streamWord(RngPurpose.rbmVisible, g);
    const add = (l: LayerDispatch): void => {
      layers.push(l);
      items.push(l.dispatch);
    };
    add(this.layer('rbm hidden (data)', v0, h0m, h0s, rows, true, hiddenStream(0), o.pcd === 0));
    let chainVisible: GPUBuffer | null = null;
    if (o.pcd > 0) {
      chainVisible = f('persistent chains', chains * nv);
      buffers.push(chainVisible);
      // Chains start from random binary states (Philox, deterministic in the seed).
      const init = new Float32Array(chains * nv);
      const low = this.units === 'ising' ? -1 : 0;
      const stream = streamWord(RngPurpose.rbmInit, 1);
      for (let i = 0; i < init.length; i++)
        init[i] = philox4x32([i, 0, 0, stream], this.key)[0] >>> 31 ? 1 : low;
      uploadBuffer(device, chainVisible, init);
      add(this.layer('rbm hidden (chain start)', chainVisible, hm, hs, chains, true, hiddenStream(0), true));
    }
    for (let g = 1; g <= o.k; g++) {
      const hiddenIn = g === 1 && o.pcd === 0 ? h0s : hs;
      add(this.layer(`rbm visible (step ${g})`, hiddenIn, vm, vs, chains, false, visibleStream(g), true));
      const last = g === o.k;
      const visibleIn = last && o.meanFieldFinal ? vm : vs;
      add(this.layer(`rbm hidden (step ${g})`, visibleIn, hm, hs, chains, true, hiddenStream(g), !last));
    }
    if (chainVisible) items.push(new Copy(vs, 0, chainVisible, 0, chains * nv * 4));

    const c = this.conv;
    const gradientProgram = Program.get(device, c ? rbmSources.convGradient : rbmSources.gradient);
    const gradientView = gradientProgram.structView(c ? 'ConvGradientParams' : 'GradientParams').set({
      rowsPositive: rows,
      rowsNegative: chains,
      nv,
      nh,
      visibleBias: this.visibleBias ? 1 : 0,
      hiddenBias: this.hiddenBias ? 1 : 0,
      ...(c ? { lv: c.Lv, filters: c.filters, kernelSize: c.k, stride: c.stride, side: c.side } : {}),
    });
    const gradientUniforms = createUniformBuffer(device, 'rbm gradient params', gradientView.data);
    buffers.push(gradientUniforms);
    const gradientGroup = gradientProgram.bindGroup(0, {
      params: gradientUniforms,
      visiblePositive: v0,
      hiddenPositive: h0m,
      visibleNegative: o.meanFieldFinal ? vm : vs,
      hiddenNegative: hm,
      gradient: this.gradient,
    });
    items.push(
      c
        ? new Dispatch(device, {
            label: 'rbm weightGradientConv',
            pipeline: gradientProgram.pipeline('weightGradientConv'),
            bindGroups: [gradientGroup],
            workgroups: this.weightCount,
          })
        : new Dispatch(device, {
            label: 'rbm weightGradient',
            pipeline: gradientProgram.pipeline(
              this.matmul === 'direct' ? 'weightGradientDirect' : 'weightGradient',
            ),
            bindGroups: [gradientGroup],
            workgroups: this.productGrid(nh, nv),
          }),
      new Dispatch(device, {
        label: c ? 'rbm biasGradientConv' : 'rbm biasGradient',
        pipeline: gradientProgram.pipeline(c ? 'biasGradientConv' : 'biasGradient'),
        bindGroups: [gradientGroup],
        // conv: one workgroup per tied bias; dense: one invocation per bias.
        workgroups: c ? 1 + c.filters : Math.ceil((nv + nh) / 64),
      }),
    );

    const optimizerProgram = Program.get(device, rbmSources.optimizer);
    const optimizerView = optimizerProgram.structView('OptimizerParams');
    const count = this.weightCount + nv + nh;
    optimizerView.set({ count, weightCount: this.weightCount });
    const optimizerUniforms = createUniformBuffer(device, 'rbm optimiser params', optimizerView.data);
    items.push(
      new Dispatch(device, {
        label: 'rbm updateParameters',
        pipeline: optimizerProgram.pipeline('updateParameters', { workgroupSize: WORKGROUP }),
        bindGroups: [
          optimizerProgram.bindGroup(0, {
            params: optimizerUniforms,
            gradient: this.gradient,
            parameters: this.parameters,
            firstMoment: this.firstMoment,
            secondMoment: this.secondMoment,
          }),
        ],
        workgroups: Math.ceil(count / WORKGROUP),
      }),
    );
    this.training = {
      options: o,
      rows,
      chains,
      buffers,
      items,
      layers,
      batchUniforms,
      batchView,
      optimizerUniforms,
      optimizerView,
      chainVisible,
    };
  }

  /** The training options in force (after defaults), or null before configureTraining. */
  get trainingOptions(): Readonly<TrainingOptions> | null {
    return this.training ? { ...this.training.options } : null;
  }

  /** Parameters, optimiser moments, PCD chains and counters, read from the GPU. */
  async trainingState(): Promise<RbmTrainingState> {
    this.checkAlive();
    const read = async (b: GPUBuffer | null | undefined): Promise<Float32Array> =>
      b ? new Float32Array(await readBuffer(this.device, b)) : new Float32Array(0);
    return {
      parameters: await read(this.parameters),
      firstMoment: await read(this.firstMoment),
      secondMoment: await read(this.secondMoment),
      chains: await read(this.training?.chainVisible),
      updates: this.updates,
      epochs: this.epochsDone,
    };
  }

  /**
   * Restores a state from trainingState() (after setData and configureTraining with the same options):
   * the next update is then bit-identical to the one the saved run would have made.
   */
  restoreTrainingState(state: RbmTrainingState): void {
    this.checkAlive();
    const count = this.weightCount + this.nv + this.nh;
    for (const [name, a] of [
      ['parameters', state.parameters],
      ['firstMoment', state.firstMoment],
      ['secondMoment', state.secondMoment],
    ] as const) {
      if (a.length !== count)
        throw new RangeError(`${name} has ${a.length} values; this RBM has ${count} parameters`);
    }
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(state.parameters[i] as number)) {
        throw new RangeError(`parameters[${i}] = ${state.parameters[i]} is not finite`);
      }
    }
    const chains = this.training?.chainVisible;
    const wanted = chains ? chains.size / 4 : 0;
    if (state.chains.length !== wanted) {
      throw new RangeError(
        `state has ${state.chains.length} chain values; the configured training needs ${wanted}`,
      );
    }
    if (
      !Number.isSafeInteger(state.updates) ||
      state.updates < 0 ||
      !Number.isSafeInteger(state.epochs) ||
      state.epochs < 0
    ) {
      throw new RangeError(
        `state counters updates ${state.updates} / epochs ${state.epochs} must be non-negative integers`,
      );
    }
    if (state.updates > MAX_UPDATES) {
      throw new RangeError(
        `state has ${state.updates} updates; the random-number step counter is u32 (at most ${MAX_UPDATES} updates per run)`,
      );
    }
    this.visibleBiasFromData = false;
    uploadBuffer(this.device, this.parameters, state.parameters);
    uploadBuffer(this.device, this.firstMoment, state.firstMoment);
    uploadBuffer(this.device, this.secondMoment, state.secondMoment);
    if (chains) uploadBuffer(this.device, chains, state.chains);
    this.updates = state.updates;
    this.epochsDone = state.epochs;
  }

  /** Minibatches per epoch: ⌊n / batch⌋ (the n mod batch samples left out change every epoch when shuffling). */
  get batchesPerEpoch(): number {
    if (!this.training) throw new Error('call configureTraining first');
    return Math.floor(this.samples / this.training.rows);
  }

  /**
   * One CD-k / PCD-k update (one submission). `gradientOnly` computes the gradient without updating;
   * `timer` records GPU timestamps per pass (benchmarks).
   */
  step(options: { gradientOnly?: boolean; timer?: GpuTimer } = {}): void {
    this.checkAlive();
    const t = this.training;
    if (!t) throw new Error('call configureTraining first');
    if (this.updates >= MAX_UPDATES)
      throw new RangeError(
        `update ${this.updates + 1} would wrap the u32 random-number step counter (at most ${MAX_UPDATES} updates per run)`,
      );
    const perEpoch = this.batchesPerEpoch;
    const epoch = Math.floor(this.updates / perEpoch);
    const batchIndex = this.updates % perEpoch;
    const o = t.options;
    uploadBuffer(this.device, t.batchUniforms, t.batchView.set({ batchIndex, epoch }).data);
    for (const l of t.layers)
      uploadBuffer(this.device, l.uniforms, l.view.set({ step: this.updates >>> 0 }).data);
    const n = this.updates + 1;
    t.optimizerView.set({
      method: { sgd: 0, momentum: 1, adam: 2 }[o.optimizer],
      lr: learningRate(o.lr, o.schedule, this.updates / perEpoch),
      l1: o.l1,
      l2: o.l2,
      momentum: o.momentum,
      beta1: o.beta1,
      beta2: o.beta2,
      epsilon: o.epsilon,
      correction1: 1 - o.beta1 ** n,
      correction2: 1 - o.beta2 ** n,
    });
    uploadBuffer(this.device, t.optimizerUniforms, t.optimizerView.data);
    const items = options.gradientOnly ? t.items.slice(0, -1) : t.items;
    submitStep(this.device, 'rbm update', items, options.timer);
    if (!options.gradientOnly) this.updates++;
  }

  /** True when every parameter is finite (one GPU reduction: a NaN or ±∞ makes the sum non-finite). */
  async parametersFinite(): Promise<boolean> {
    this.checkAlive();
    this.finiteCheck ??= new SegmentedReduction(this.device, this.parameters, {
      type: 'f32',
      length: this.weightCount + this.nv + this.nh,
      label: 'rbm finite check',
    });
    const [r] = await this.finiteCheck.run();
    return r !== undefined && Number.isFinite(r.sum) && Number.isFinite(r.min) && Number.isFinite(r.max);
  }

  /**
   * Runs `epochs` epochs of updates; resolves when the GPU is done. After every epoch the parameters are
   * checked: non-finite values throw RbmDivergedError naming the epoch (before `onEpoch` sees them, so a
   * caller that checkpoints in `onEpoch` keeps its last good checkpoint). A lost device rejects with
   * DeviceLostError (at the latest at that check; updates submitted meanwhile are gone with the device).
   * An engine stopped mid-epoch (an abort, or a state saved then) first finishes that epoch, so epochs
   * stay aligned with the minibatch order and a resumed run makes the updates an uninterrupted one would.
   */
  async trainEpochs(
    epochs: number,
    options: {
      signal?: AbortSignal;
      onEpoch?: (epoch: number) => void | Promise<void>;
      /**
       * Called with the engine's update count every UPDATES_PER_WAIT updates, once the GPU has done them; a
       * returned promise is awaited before the next update (so it may read the parameters).
       */
      onUpdates?: (updates: number) => void | Promise<void>;
    } = {},
  ): Promise<{ epochsDone: number; aborted: boolean }> {
    positiveInteger('epochs', epochs);
    const perEpoch = this.batchesPerEpoch;
    if (this.updates + epochs * perEpoch > MAX_UPDATES) {
      throw new RangeError(
        `${epochs} epochs of ${perEpoch} updates after ${this.updates} would make ${this.updates + epochs * perEpoch} updates; ` +
          `the random-number step counter is u32 (at most ${MAX_UPDATES} updates per run)`,
      );
    }
    for (let e = 0; e < epochs; e++) {
      for (let q = this.updates % perEpoch; q < perEpoch; q++) {
        if (options.signal?.aborted) return { epochsDone: e, aborted: true };
        this.step();
        // Wait for the GPU now and then: progress and Ctrl-C then act within an epoch, and a long
        // epoch never queues thousands of submissions. The results do not depend on it.
        if ((q + 1) % UPDATES_PER_WAIT === 0 && q + 1 < perEpoch) {
          await workDone(this.device);
          await options.onUpdates?.(this.updates);
        }
      }
      if (!(await this.parametersFinite())) throw new RbmDivergedError(this.epochsDone + 1);
      this.epochsDone++;
      await options.onEpoch?.(this.epochsDone);
    }
    return { epochsDone: epochs, aborted: false };
  }

  /**
   * Samples one layer given the other for explicit rows (tests, sampling): `hidden: true` gives h | v
   * from v rows [rows × nv]; `hidden: false` gives v | h from h rows [rows × nh]. `step` selects the RNG
   * step (counter word z); the sub-stream is 0.
   */
  async conditional(
    input: Float32Array,
    rows: number,
    { hidden, step = 0 }: { hidden: boolean; step?: number },
  ): Promise<{ means: Float32Array; samples: Float32Array }> {
    this.checkAlive();
    positiveInteger('rows', rows);
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff)
      throw new RangeError(
        `step ${step} must be an integer in 0 … 4294967295 (a u32 random-number counter word)`,
      );
    const fanIn = hidden ? this.nv : this.nh;
    const units = hidden ? this.nh : this.nv;
    if (input.length !== rows * fanIn) {
      throw new RangeError(`input has ${input.length} values; expected ${rows} × ${fanIn}`);
    }
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const inBuf = createBuffer(this.device, {
      label: 'rbm conditional input',
      size: input.byteLength,
      usage,
      contents: input,
    });
    const means = createStorageBuffer(this.device, 'rbm conditional means', rows * units * 4);
    const samples = createStorageBuffer(this.device, 'rbm conditional samples', rows * units * 4);
    const stream = streamWord(hidden ? RngPurpose.rbmHidden : RngPurpose.rbmVisible, 0);
    const l = this.layer('rbm conditional', inBuf, means, samples, rows, hidden, stream, true);
    try {
      uploadBuffer(this.device, l.uniforms, l.view.set({ step }).data);
      submitStep(this.device, 'rbm conditional', [l.dispatch]);
      return {
        means: new Float32Array(await readBuffer(this.device, means)),
        samples: new Float32Array(await readBuffer(this.device, samples)),
      };
    } finally {
      for (const b of [inBuf, means, samples, l.uniforms]) b.destroy();
    }
  }

  private releaseTraining(): void {
    if (!this.training) return;
    for (const b of this.training.buffers) b.destroy();
    for (const l of this.training.layers) l.uniforms.destroy();
    this.training.batchUniforms.destroy();
    this.training.optimizerUniforms.destroy();
    this.training = null;
  }

  /** Frees every GPU buffer this engine owns. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.releaseTraining();
    this.finiteCheck?.destroy();
    for (const b of [this.parameters, this.gradient, this.firstMoment, this.secondMoment, this.data])
      b?.destroy();
  }
}
