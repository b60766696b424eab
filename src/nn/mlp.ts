/**
 * A dense feed-forward classifier (multilayer perceptron) trained on the GPU: forward products fused
 * with bias and activation, softmax cross-entropy, backpropagation and the optimiser update all run as
 * one submission per minibatch; the training set, parameters and optimiser state stay on the GPU. It is
 * handed a `GPUDevice`; it never creates one. CPU oracle: src/reference/mlp.ts.
 *
 * Conventions: W[l] is [sizes[l] × sizes[l+1]] row-major; hidden layers relu (default) or tanh, the
 * output layer linear + softmax; loss = mean over the minibatch's rows of −log p_label. Parameters live
 * in one f32 buffer [W[0] | W[1] | … | b[0] | b[1] | …] (weights first, so the shared optimiser applies
 * L2 to the weights only), as do the gradient and the optimiser moments. Every sum runs in a fixed order
 * (no atomics), so the same seed, data and options give bit-identical parameters.
 *
 * @example
 * const mlp = new MlpEngine(device, { sizes: [100, 64, 25], seed: 1 });
 * mlp.setData(x, labels, n);                       // x: [n × 100] f32, labels in 0 … 24
 * mlp.configureTraining({ batch: 64, lr: 1e-3, optimizer: 'adam' });
 * await mlp.trainEpochs(10);
 * const { accuracy } = await mlp.evaluate(xTest, labelsTest, nTest);
 */
import {
  createStorageBuffer,
  createUniformBuffer,
  readBuffer,
  readBuffers,
  uploadBuffer,
} from '../gpu/buffers.ts';
import { isSoftwareAdapter } from '../gpu/device.ts';
import { Dispatch, Program, submitStep, type Encodable } from '../gpu/kernel.ts';
import { watchDeviceLoss, workDone } from '../gpu/lost.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { SegmentedReduction } from '../gpu/reduce.ts';
import type { StructView } from '../gpu/reflect.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { rbmSources } from '../rbm/shaders.ts';
import { feistelHalfBits } from '../rbm/shuffle.ts';
import { nnSources } from './shaders.ts';

/** Hidden-layer nonlinearity. */
export type MlpActivation = 'relu' | 'tanh';

/** Kernels of the dense products: workgroup tiles (GPUs) or register blocks straight from the buffers (CPUs). */
export type MlpMatmul = 'tiled' | 'direct';

/** Rows per chunk of predict / evaluate (buffers sized for one chunk, reused). */
export const MLP_CHUNK_ROWS = 8192;

/** Updates trainEpochs submits before it waits for the GPU (progress and aborts act within an epoch). */
export const MLP_UPDATES_PER_WAIT = 32;

/** Largest layer width and depth the engine accepts. */
export const MLP_LIMITS = { width: 1 << 20, layers: 64 } as const;

/** Network shape and initial parameters. */
export interface MlpOptions {
  /** [inputs, hidden…, classes]: at least 2 entries, each a positive integer (classes ≥ 2). */
  sizes: number[];
  /** Hidden-layer nonlinearity (default 'relu'). */
  activation?: MlpActivation;
  /** Seed of the initialisation and the minibatch shuffle (default 1). */
  seed?: number | bigint;
  /**
   * Initial parameters (W[l]: sizes[l]·sizes[l+1] values, b[l]: sizes[l+1]); without them weights are
   * He normal N(0, 2/fanIn) for relu, Glorot normal N(0, 2/(fanIn + fanOut)) for tanh, biases 0.
   */
  parameters?: { W: ArrayLike<number>[]; b: ArrayLike<number>[] };
  /** 'auto' (default): direct on a software adapter (SwiftShader), tiled otherwise. */
  matmul?: MlpMatmul | 'auto';
}

/** Minibatch training settings. */
export interface MlpTrainingOptions {
  /** Rows per minibatch, 1 … n. Each epoch makes ⌊n / batch⌋ updates; the n mod batch rest is left out. */
  batch: number;
  /** Learning rate (> 0). */
  lr: number;
  /** Default 'sgd'. */
  optimizer?: 'sgd' | 'momentum' | 'adam';
  /** Momentum μ (default 0.9). */
  momentum?: number;
  /** Adam β1 (default 0.9). */
  beta1?: number;
  /** Adam β2 (default 0.999). */
  beta2?: number;
  /** Adam ε (default 1e-8). */
  epsilon?: number;
  /** L2 weight decay on the weights (not the biases), default 0: the update uses ∇L + l2·W. */
  l2?: number;
  /** A fresh seeded permutation of the samples every epoch (default true); false visits them in order. */
  shuffle?: boolean;
}

/** Parameters read from the GPU. */
export interface MlpParameters {
  /** W[l]: [sizes[l] × sizes[l+1]] row-major. */
  W: Float32Array[];
  /** b[l]: [sizes[l+1]]. */
  b: Float32Array[];
}

/** Thrown when training produced NaN or ±∞ parameters; `epoch` is the first bad epoch. */
export class MlpDivergedError extends Error {
  override name = 'MlpDivergedError';
  constructor(readonly epoch: number) {
    super(
      `MLP training diverged: non-finite parameters after epoch ${epoch} (lower the learning rate, or check the data)`,
    );
  }
}

const WORKGROUP = 64;
/** Output block (rows × columns) of one product workgroup, tiled and direct alike. */
const PRODUCT_BLOCK = 64;

function positiveInteger(name: string, value: unknown, max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} ${String(value)} must be an integer in 1 … ${max}`);
  }
  return value;
}

function finite(
  name: string,
  value: unknown,
  { min = -Infinity, exclusiveMin = false, below = Infinity } = {},
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (exclusiveMin && value === min) ||
    value >= below
  ) {
    const upper = below < Infinity ? ` and < ${below}` : '';
    throw new RangeError(
      `${name} ${String(value)} must be a finite number ${exclusiveMin ? '>' : '≥'} ${min}${upper}`,
    );
  }
  return value;
}

/** Where each layer's weights and biases start in the flat parameter buffer (in f32 elements). */
function layout(sizes: readonly number[]): {
  wOffset: number[];
  bOffset: number[];
  weights: number;
  count: number;
} {
  const wOffset: number[] = [];
  const bOffset: number[] = [];
  let weights = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    wOffset.push(weights);
    weights += sizes[l]! * sizes[l + 1]!;
  }
  let count = weights;
  for (let l = 0; l + 1 < sizes.length; l++) {
    bOffset.push(count);
    count += sizes[l + 1]!;
  }
  return { wOffset, bOffset, weights, count };
}

interface Plan {
  rows: number;
  /** Layer inputs/outputs: acts[0] the input rows, acts[L] the probabilities (after the softmax). */
  acts: GPUBuffer[];
  rowSample: GPUBuffer;
  /** Labels read through rowSample (the training set's, or a chunk's own). */
  labels: GPUBuffer;
  rowLoss: GPUBuffer;
  /** Buffers this plan owns (destroyed with it). */
  owned: GPUBuffer[];
  forward: Encodable[];
  backward: Encodable[];
}

interface Training {
  options: Required<MlpTrainingOptions>;
  plan: Plan;
  gather: Encodable[];
  batchUniforms: GPUBuffer;
  batchView: StructView;
  optimizer: Encodable;
  optimizerUniforms: GPUBuffer;
  optimizerView: StructView;
  /** Minibatch index inside the current epoch. */
  position: number;
  /** Optimiser updates since configureTraining (Adam's t − 1). */
  steps: number;
}

/** A multilayer-perceptron classifier whose training runs on the GPU (see the module comment). */
export class MlpEngine {
  /** [inputs, hidden…, classes]. */
  readonly sizes: readonly number[];
  /** Hidden-layer nonlinearity. */
  readonly activation: MlpActivation;
  /** The products' kernels ('auto' resolved for this device's adapter). */
  readonly matmul: MlpMatmul;
  /** [W[0] | … | W[L−1] | b[0] | … | b[L−1]], f32. */
  readonly parameters: GPUBuffer;
  /** The last gradient as an ascent direction −∇L, same layout as `parameters`. */
  readonly gradientBuffer: GPUBuffer;
  private readonly firstMoment: GPUBuffer;
  private readonly secondMoment: GPUBuffer;
  private readonly offsets: ReturnType<typeof layout>;
  private readonly key: [number, number];
  private data: GPUBuffer | null = null;
  private dataLabels: GPUBuffer | null = null;
  private samples = 0;
  private training: Training | null = null;
  private finiteCheck: SegmentedReduction | null = null;
  private updates = 0;
  private epochs = 0;
  private destroyed = false;

  /** Allocates the parameters and optimiser state on `device` and initialises them. */
  constructor(
    readonly device: GPUDevice,
    options: MlpOptions,
  ) {
    const sizes = options.sizes as unknown;
    if (!Array.isArray(sizes) || sizes.length < 2 || sizes.length > MLP_LIMITS.layers + 1) {
      throw new RangeError(
        `sizes ${Array.isArray(sizes) ? `[${sizes.join(', ')}]` : String(sizes)} must have 2 … ${MLP_LIMITS.layers + 1} entries ([inputs, hidden…, classes])`,
      );
    }
    sizes.forEach((s, l) => positiveInteger(`sizes[${l}]`, s, MLP_LIMITS.width));
    if ((sizes[sizes.length - 1] as number) < 2) {
      throw new RangeError(
        `sizes[${sizes.length - 1}] = ${String(sizes[sizes.length - 1])} classes must be ≥ 2`,
      );
    }
    this.sizes = Object.freeze([...(sizes as number[])]);
    this.activation = options.activation ?? 'relu';
    if (this.activation !== 'relu' && this.activation !== 'tanh') {
      throw new RangeError(`activation '${String(this.activation)}' must be 'relu' or 'tanh'`);
    }
    const matmul = options.matmul ?? 'auto';
    if (matmul !== 'auto' && matmul !== 'tiled' && matmul !== 'direct') {
      throw new RangeError(`matmul '${String(matmul)}' must be 'auto', 'tiled' or 'direct'`);
    }
    this.matmul = matmul === 'auto' ? (isSoftwareAdapter(device.adapterInfo) ? 'direct' : 'tiled') : matmul;
    this.key = seedKey(options.seed ?? 1);
    this.offsets = layout(this.sizes);
    watchDeviceLoss(device);
    const bytes = this.offsets.count * 4;
    const label = `mlp ${this.sizes.join('-')}`;
    this.parameters = createStorageBuffer(device, `${label} parameters`, bytes);
    this.gradientBuffer = createStorageBuffer(device, `${label} gradient`, bytes);
    this.firstMoment = createStorageBuffer(device, `${label} optimiser moment 1`, bytes);
    this.secondMoment = createStorageBuffer(device, `${label} optimiser moment 2`, bytes);
    try {
      if (options.parameters) this.setParameters(options.parameters);
      else this.initialise();
    } catch (err) {
      this.destroy(); // nothing allocated survives a rejected option
      throw err;
    }
  }

  /** He (relu) or Glorot (tanh) normal weights from Philox Box–Muller, biases 0. */
  private initialise(): void {
    const all = new Float32Array(this.offsets.count);
    const stream = streamWord(RngPurpose.mlp, 1);
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const std = Math.sqrt(this.activation === 'relu' ? 2 / fanIn : 2 / (fanIn + fanOut));
      const o = this.offsets.wOffset[l]!;
      const count = fanIn * fanOut;
      for (let i = 0; i < count; i += 2) {
        const [u, v] = philox4x32([i >>> 1, l, 0, stream], this.key);
        const radius = Math.sqrt(-2 * Math.log(unitFloat(u) + 2 ** -25)); // u1 in (0, 1)
        const angle = 2 * Math.PI * unitFloat(v);
        all[o + i] = std * radius * Math.cos(angle);
        if (i + 1 < count) all[o + i + 1] = std * radius * Math.sin(angle);
      }
    }
    uploadBuffer(this.device, this.parameters, all);
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this MlpEngine was destroyed; create a new one');
  }

  /** Number of parameter updates done so far. */
  get updateCount(): number {
    return this.updates;
  }

  /** Number of complete passes over the training data (by step or trainEpochs). */
  get epochCount(): number {
    return this.epochs;
  }

  /** Minibatches per epoch: ⌊n / batch⌋ (the n mod batch samples left out change every epoch when shuffling). */
  get batchesPerEpoch(): number {
    if (!this.training) throw new Error('call configureTraining first');
    return Math.floor(this.samples / this.training.options.batch);
  }

  /** Replaces all parameters (W[l] [sizes[l] × sizes[l+1]] row-major, b[l] [sizes[l+1]]). */
  setParameters(p: { W: ArrayLike<number>[]; b: ArrayLike<number>[] }): void {
    this.checkAlive();
    const L = this.sizes.length - 1;
    if (p.W?.length !== L || p.b?.length !== L) {
      throw new RangeError(
        `parameters have ${p.W?.length} weight and ${p.b?.length} bias arrays; this network has ${L} layers`,
      );
    }
    const all = new Float32Array(this.offsets.count);
    const put = (name: string, values: ArrayLike<number>, length: number, offset: number): void => {
      if (values.length !== length)
        throw new RangeError(`${name} has ${values.length} values; expected ${length}`);
      for (let i = 0; i < length; i++) {
        const x = values[i] as number;
        if (!Number.isFinite(x)) throw new RangeError(`${name}[${i}] = ${x} is not finite`);
        all[offset + i] = x;
      }
    };
    for (let l = 0; l < L; l++) {
      put(`W[${l}]`, p.W[l]!, this.sizes[l]! * this.sizes[l + 1]!, this.offsets.wOffset[l]!);
      put(`b[${l}]`, p.b[l]!, this.sizes[l + 1]!, this.offsets.bOffset[l]!);
    }
    uploadBuffer(this.device, this.parameters, all);
  }

  /** Splits a flat [W… | b…] array into per-layer copies. */
  private split(all: Float32Array): MlpParameters {
    const L = this.sizes.length - 1;
    const W: Float32Array[] = [];
    const b: Float32Array[] = [];
    for (let l = 0; l < L; l++) {
      const w = this.offsets.wOffset[l]!;
      const o = this.offsets.bOffset[l]!;
      W.push(all.slice(w, w + this.sizes[l]! * this.sizes[l + 1]!));
      b.push(all.slice(o, o + this.sizes[l + 1]!));
    }
    return { W, b };
  }

  /** Reads the parameters from the GPU. */
  async getParameters(): Promise<MlpParameters> {
    this.checkAlive();
    return this.split(new Float32Array(await readBuffer(this.device, this.parameters)));
  }

  /** Checks x [n × inputs] (finite) and labels (integers in 0 … classes − 1); returns the labels as u32. */
  private checkRows(x: Float32Array, labels: ArrayLike<number> | null, n: number): Uint32Array {
    positiveInteger('row count n', n);
    const inputs = this.sizes[0]!;
    const classes = this.sizes[this.sizes.length - 1]!;
    if (!(x instanceof Float32Array)) throw new TypeError('x must be a Float32Array');
    if (x.length !== n * inputs) {
      throw new RangeError(`x has ${x.length} values; n ${n} × inputs ${inputs} = ${n * inputs}`);
    }
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw new RangeError(
          `x[${i}] (row ${Math.floor(i / inputs)}, input ${i % inputs}) = ${x[i]} is not finite`,
        );
      }
    }
    const out = new Uint32Array(n);
    if (labels === null) return out;
    if (labels.length !== n) throw new RangeError(`labels has ${labels.length} entries; expected n = ${n}`);
    for (let r = 0; r < n; r++) {
      const y = labels[r] as number;
      if (!Number.isInteger(y) || y < 0 || y >= classes) {
        throw new RangeError(
          `label ${y} of row ${r} must be an integer in 0 … ${classes - 1} (${classes} classes)`,
        );
      }
      out[r] = y;
    }
    return out;
  }

  /**
   * Uploads the training set once: x [n × inputs] row-major, labels integers in 0 … classes − 1.
   * A configured training is rebuilt for the new data (its epoch position restarts).
   */
  setData(x: Float32Array, labels: ArrayLike<number>, n: number): void {
    this.checkAlive();
    const y = this.checkRows(x, labels, n);
    this.data?.destroy();
    this.dataLabels?.destroy();
    this.data = null;
    this.dataLabels = null;
    this.data = createStorageBuffer(this.device, `mlp data ${n}×${this.sizes[0]}`, x.byteLength, x);
    this.dataLabels = createStorageBuffer(this.device, `mlp labels ${n}`, y.byteLength, y);
    this.samples = n;
    if (this.training) this.configureTraining({ ...this.training.options });
  }

  /**
   * Replaces the training rows in place: the same number of rows, each keeping its label, and the training
   * keeps its optimiser state and its place in the epoch (setData would restart both). For data augmentation,
   * e.g. a fresh random symmetry of every configuration before each epoch.
   */
  replaceData(x: Float32Array): void {
    this.checkAlive();
    if (!this.data) throw new Error('no training data to replace: call setData first');
    this.checkRows(x, null, this.samples);
    uploadBuffer(this.device, this.data, x);
  }

  /** The product dispatch for C[rows × cols] = A·B with the given strides and epilogue. */
  private product(
    label: string,
    owned: GPUBuffer[],
    o: {
      rows: number;
      cols: number;
      inner: number;
      a: GPUBuffer;
      aOffset?: number;
      aRowStride: number;
      aColStride: number;
      b: GPUBuffer;
      bOffset: number;
      bRowStride: number;
      bColStride: number;
      biasOffset?: number;
      aux?: GPUBuffer;
      c: GPUBuffer;
      cOffset?: number;
      epilogue: 0 | 1 | 2;
      activation: 0 | 1 | 2;
    },
  ): Dispatch {
    const program = Program.get(this.device, nnSources.matmul);
    const view = program.structView('ProductParams').set({
      rows: o.rows,
      cols: o.cols,
      inner: o.inner,
      aOffset: o.aOffset ?? 0,
      aRowStride: o.aRowStride,
      aColStride: o.aColStride,
      bOffset: o.bOffset,
      bRowStride: o.bRowStride,
      bColStride: o.bColStride,
      biasOffset: o.biasOffset ?? 0,
      cOffset: o.cOffset ?? 0,
    });
    const uniforms = createUniformBuffer(this.device, `${label} params`, view.data);
    owned.push(uniforms);
    return new Dispatch(this.device, {
      label,
      pipeline: program.pipeline(this.matmul === 'direct' ? 'multiplyDirect' : 'multiplyTiled', {
        epilogue: o.epilogue,
        activation: o.activation,
      }),
      bindGroups: [
        program.bindGroup(0, { params: uniforms, a: o.a, b: o.b, aux: o.aux ?? o.a, c: o.c }, label),
      ],
      workgroups: [Math.ceil(o.cols / PRODUCT_BLOCK), Math.ceil(o.rows / PRODUCT_BLOCK), 1],
    });
  }

  /**
   * Buffers and dispatches for `rows` rows: forward + softmax (+ loss and its delta scaled by 1/rows
   * when `backward`, then the gradient of every layer into gradientBuffer). `input`, `labels` and
   * `rowSample` are the caller's when given (training: the gathered batch and the data's labels).
   */
  private plan(
    rows: number,
    backward: boolean,
    shared: { input?: GPUBuffer; labels?: GPUBuffer; rowSample?: GPUBuffer } = {},
  ): Plan {
    const { device, sizes } = this;
    const L = sizes.length - 1;
    const owned: GPUBuffer[] = [];
    const f = (label: string, n: number): GPUBuffer => {
      const buffer = createStorageBuffer(device, `mlp ${label}`, n * 4);
      owned.push(buffer);
      return buffer;
    };
    try {
      const acts = [shared.input ?? f('input rows', rows * sizes[0]!)];
      for (let l = 1; l <= L; l++)
        acts.push(f(l < L ? `layer ${l} output` : 'probabilities', rows * sizes[l]!));
      const rowSample = shared.rowSample ?? f('row samples', rows);
      if (!shared.rowSample)
        uploadBuffer(
          device,
          rowSample,
          Uint32Array.from({ length: rows }, (_, i) => i),
        );
      const labels = shared.labels ?? f('row labels', rows);
      const rowLoss = f('row losses', rows);
      const deltas: GPUBuffer[] = [];
      for (let l = 1; l <= L; l++) deltas[l] = backward ? f(`layer ${l} delta`, rows * sizes[l]!) : rowLoss;
      const hidden = this.activation === 'relu' ? 1 : 2;
      const forward: Encodable[] = [];
      for (let l = 1; l <= L; l++) {
        forward.push(
          this.product(`mlp forward ${l}`, owned, {
            rows,
            cols: sizes[l]!,
            inner: sizes[l - 1]!,
            a: acts[l - 1]!,
            aRowStride: sizes[l - 1]!,
            aColStride: 1,
            b: this.parameters,
            bOffset: this.offsets.wOffset[l - 1]!,
            bRowStride: sizes[l]!,
            bColStride: 1,
            biasOffset: this.offsets.bOffset[l - 1]!,
            c: acts[l]!,
            epilogue: 0,
            activation: l < L ? hidden : 0,
          }),
        );
      }
      const lossProgram = Program.get(device, nnSources.loss);
      const lossView = lossProgram.structView('LossParams').set({
        rows,
        classes: sizes[L]!,
        scale: 1 / rows,
        writeDelta: backward ? 1 : 0,
      });
      const lossUniforms = createUniformBuffer(device, 'mlp loss params', lossView.data);
      owned.push(lossUniforms);
      // Without backward the delta binding needs some writable buffer other than the logits: a dummy.
      const delta = backward ? deltas[L]! : f('unused delta', 1);
      forward.push(
        new Dispatch(device, {
          label: 'mlp softmaxCrossEntropy',
          pipeline: lossProgram.pipeline('softmaxCrossEntropy', { workgroupSize: WORKGROUP }),
          bindGroups: [
            lossProgram.bindGroup(0, {
              params: lossUniforms,
              logits: acts[L]!,
              labels,
              rowSample,
              rowLoss,
              delta,
            }),
          ],
          workgroups: Math.ceil(rows / WORKGROUP),
        }),
      );
      const back: Encodable[] = [];
      if (backward) {
        const biasProgram = Program.get(device, nnSources.biasGradient);
        for (let l = L; l >= 1; l--) {
          back.push(
            this.product(`mlp weight gradient ${l}`, owned, {
              rows: sizes[l - 1]!,
              cols: sizes[l]!,
              inner: rows,
              a: acts[l - 1]!,
              aRowStride: 1,
              aColStride: sizes[l - 1]!,
              b: deltas[l]!,
              bOffset: 0,
              bRowStride: sizes[l]!,
              bColStride: 1,
              c: this.gradientBuffer,
              cOffset: this.offsets.wOffset[l - 1]!,
              epilogue: 2,
              activation: 0,
            }),
          );
          const biasView = biasProgram.structView('BiasParams').set({
            rows,
            cols: sizes[l]!,
            cOffset: this.offsets.bOffset[l - 1]!,
          });
          const biasUniforms = createUniformBuffer(device, `mlp bias gradient ${l} params`, biasView.data);
          owned.push(biasUniforms);
          back.push(
            new Dispatch(device, {
              label: `mlp bias gradient ${l}`,
              pipeline: biasProgram.pipeline('biasGradient', { workgroupSize: WORKGROUP }),
              bindGroups: [
                biasProgram.bindGroup(0, {
                  params: biasUniforms,
                  delta: deltas[l]!,
                  gradient: this.gradientBuffer,
                }),
              ],
              workgroups: Math.ceil(sizes[l]! / WORKGROUP),
            }),
          );
          if (l > 1) {
            back.push(
              this.product(`mlp input delta ${l}`, owned, {
                rows,
                cols: sizes[l - 1]!,
                inner: sizes[l]!,
                a: deltas[l]!,
                aRowStride: sizes[l]!,
                aColStride: 1,
                b: this.parameters,
                bOffset: this.offsets.wOffset[l - 1]!,
                bRowStride: 1,
                bColStride: sizes[l]!,
                aux: acts[l - 1]!,
                c: deltas[l - 1]!,
                epilogue: 1,
                activation: hidden,
              }),
            );
          }
        }
      }
      return { rows, acts, rowSample, labels, rowLoss, owned, forward, backward: back };
    } catch (err) {
      for (const b of owned) b.destroy();
      throw err;
    }
  }

  private resolveTraining(options: MlpTrainingOptions): Required<MlpTrainingOptions> {
    const o: Required<MlpTrainingOptions> = {
      batch: positiveInteger('batch', options.batch, this.samples),
      lr: finite('lr', options.lr, { min: 0, exclusiveMin: true }),
      optimizer: options.optimizer ?? 'sgd',
      momentum: finite('momentum', options.momentum ?? 0.9, { min: 0, below: 1 }),
      beta1: finite('beta1', options.beta1 ?? 0.9, { min: 0, below: 1 }),
      beta2: finite('beta2', options.beta2 ?? 0.999, { min: 0, below: 1 }),
      epsilon: finite('epsilon', options.epsilon ?? 1e-8, { min: 0, exclusiveMin: true }),
      l2: finite('l2', options.l2 ?? 0, { min: 0 }),
      shuffle: options.shuffle ?? true,
    };
    if (!['sgd', 'momentum', 'adam'].includes(o.optimizer)) {
      throw new RangeError(`optimizer '${String(o.optimizer)}' must be 'sgd', 'momentum' or 'adam'`);
    }
    return o;
  }

  /**
   * Sets up minibatch training on the data from setData (buffers, dispatches). The optimiser state
   * (moments, Adam's step count) and the position inside the epoch restart here; parameters are kept.
   */
  configureTraining(options: MlpTrainingOptions): void {
    this.checkAlive();
    if (!this.data || !this.dataLabels) throw new Error('no training data: call setData first');
    const o = this.resolveTraining(options);
    this.releaseTraining();
    const { device } = this;
    const rows = o.batch;
    const inputs = this.sizes[0]!;
    const input = createStorageBuffer(device, 'mlp batch', rows * inputs * 4);
    const rowSample = createStorageBuffer(device, 'mlp batch rows', rows * 4);
    let plan: Plan;
    try {
      plan = this.plan(rows, true, { input, labels: this.dataLabels, rowSample });
    } catch (err) {
      input.destroy();
      rowSample.destroy();
      throw err;
    }
    plan.owned.push(input, rowSample);
    const batchProgram = Program.get(device, rbmSources.batch);
    const batchView = batchProgram.structView('BatchParams').set({
      key: this.key,
      samples: this.samples,
      nv: inputs,
      wordsPerSample: inputs,
      rows,
      batchIndex: 0,
      epoch: 0,
      rngStream: streamWord(RngPurpose.mlp, 0),
      shuffle: o.shuffle ? 1 : 0,
      halfBits: feistelHalfBits(this.samples),
    });
    const batchUniforms = createUniformBuffer(device, 'mlp batch params', batchView.data);
    const batchGroup = batchProgram.bindGroup(0, {
      params: batchUniforms,
      data: this.data,
      batch: input,
      rowSample,
    });
    const gather: Encodable[] = [
      new Dispatch(device, {
        label: 'mlp permuteBatch',
        pipeline: batchProgram.pipeline('permuteBatch', { workgroupSize: WORKGROUP }),
        bindGroups: [batchGroup],
        workgroups: Math.ceil(rows / WORKGROUP),
      }),
      new Dispatch(device, {
        label: 'mlp gatherBatchReal',
        pipeline: batchProgram.pipeline('gatherBatchReal', { workgroupSize: WORKGROUP }),
        bindGroups: [batchGroup],
        workgroups: Math.ceil((rows * inputs) / WORKGROUP),
      }),
    ];
    const optimizerProgram = Program.get(device, rbmSources.optimizer);
    const optimizerView = optimizerProgram.structView('OptimizerParams').set({
      count: this.offsets.count,
      weightCount: this.offsets.weights,
    });
    const optimizerUniforms = createUniformBuffer(device, 'mlp optimiser params', optimizerView.data);
    const optimizer = new Dispatch(device, {
      label: 'mlp updateParameters',
      pipeline: optimizerProgram.pipeline('updateParameters', { workgroupSize: WORKGROUP }),
      bindGroups: [
        optimizerProgram.bindGroup(0, {
          params: optimizerUniforms,
          gradient: this.gradientBuffer,
          parameters: this.parameters,
          firstMoment: this.firstMoment,
          secondMoment: this.secondMoment,
        }),
      ],
      workgroups: Math.ceil(this.offsets.count / WORKGROUP),
    });
    const zeros = new Float32Array(this.offsets.count);
    uploadBuffer(device, this.firstMoment, zeros);
    uploadBuffer(device, this.secondMoment, zeros);
    this.training = {
      options: o,
      plan,
      gather,
      batchUniforms,
      batchView,
      optimizer,
      optimizerUniforms,
      optimizerView,
      position: 0,
      steps: 0,
    };
  }

  /** One minibatch update (gather, forward, loss, backward, optimiser): one submission, no read-back. */
  step(): void {
    this.checkAlive();
    const t = this.training;
    if (!t) throw new Error('call configureTraining first');
    const o = t.options;
    uploadBuffer(
      this.device,
      t.batchUniforms,
      t.batchView.set({ batchIndex: t.position, epoch: this.epochs >>> 0 }).data,
    );
    const n = t.steps + 1;
    t.optimizerView.set({
      method: { sgd: 0, momentum: 1, adam: 2 }[o.optimizer],
      lr: o.lr,
      l1: 0,
      l2: o.l2,
      momentum: o.momentum,
      beta1: o.beta1,
      beta2: o.beta2,
      epsilon: o.epsilon,
      correction1: 1 - o.beta1 ** n,
      correction2: 1 - o.beta2 ** n,
    });
    uploadBuffer(this.device, t.optimizerUniforms, t.optimizerView.data);
    submitStep(this.device, 'mlp update', [...t.gather, ...t.plan.forward, ...t.plan.backward, t.optimizer]);
    t.steps++;
    this.updates++;
    t.position++;
    if (t.position === this.batchesPerEpoch) {
      t.position = 0;
      this.epochs++;
    }
  }

  /** True when every parameter is finite (one GPU reduction: a NaN or ±∞ makes the sum non-finite). */
  async parametersFinite(): Promise<boolean> {
    this.checkAlive();
    this.finiteCheck ??= new SegmentedReduction(this.device, this.parameters, {
      type: 'f32',
      length: this.offsets.count,
      label: 'mlp finite check',
    });
    const [r] = await this.finiteCheck.run();
    return r !== undefined && Number.isFinite(r.sum) && Number.isFinite(r.min) && Number.isFinite(r.max);
  }

  /**
   * Runs `epochs` epochs (an epoch left unfinished by step() or an abort is completed first); resolves
   * when the GPU is done. After each epoch the parameters are checked: non-finite values throw
   * MlpDivergedError naming the epoch, before `onEpoch` sees them. `signal` stops between updates.
   */
  async trainEpochs(
    epochs: number,
    options: { signal?: AbortSignal; onEpoch?: (epoch: number) => void | Promise<void> } = {},
  ): Promise<{ epochsDone: number; aborted: boolean }> {
    this.checkAlive();
    positiveInteger('epochs', epochs);
    const t = this.training;
    if (!t) throw new Error('call configureTraining first');
    for (let e = 0; e < epochs; e++) {
      const target = this.epochs + 1;
      let sinceWait = 0;
      while (this.epochs < target) {
        if (options.signal?.aborted) {
          await workDone(this.device);
          return { epochsDone: e, aborted: true };
        }
        this.step();
        if (++sinceWait === MLP_UPDATES_PER_WAIT) {
          sinceWait = 0;
          await workDone(this.device);
        }
      }
      if (!(await this.parametersFinite())) throw new MlpDivergedError(this.epochs);
      await options.onEpoch?.(this.epochs);
    }
    return { epochsDone: epochs, aborted: false };
  }

  /**
   * Runs the network over n rows in chunks of MLP_CHUNK_ROWS; `take` receives each chunk's
   * probabilities and per-row losses (labels all 0 when none are given).
   */
  private async inference(
    x: Float32Array,
    labels: Uint32Array,
    n: number,
    take: (start: number, rows: number, probabilities: Float32Array, losses: Float32Array) => void,
  ): Promise<void> {
    const inputs = this.sizes[0]!;
    const rows = Math.min(n, MLP_CHUNK_ROWS);
    const plan = this.plan(rows, false);
    try {
      for (let start = 0; start < n; start += rows) {
        const count = Math.min(rows, n - start);
        uploadBuffer(this.device, plan.acts[0]!, x.subarray(start * inputs, (start + count) * inputs));
        uploadBuffer(this.device, plan.labels, labels.subarray(start, start + count));
        submitStep(this.device, 'mlp inference', plan.forward);
        const classes = this.sizes[this.sizes.length - 1]!;
        // A short last chunk runs the stale rows after it too; only the first `count` rows are read.
        const [p, loss] = await readBuffers(
          this.device,
          [
            { buffer: plan.acts[plan.acts.length - 1]!, size: count * classes * 4 },
            { buffer: plan.rowLoss, size: count * 4 },
          ],
          'mlp inference read-back',
        );
        take(start, count, new Float32Array(p!), new Float32Array(loss!));
      }
    } finally {
      for (const b of plan.owned) b.destroy();
    }
  }

  /** Softmax probabilities [n × classes] of x [n × inputs] (any n: processed in chunks). */
  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    this.checkAlive();
    const labels = this.checkRows(x, null, n);
    const classes = this.sizes[this.sizes.length - 1]!;
    const out = new Float32Array(n * classes);
    await this.inference(x, labels, n, (start, _rows, p) => out.set(p, start * classes));
    return out;
  }

  /**
   * Mean loss, accuracy (argmax, ties to the lower class) and the confusion matrix
   * [classes × classes] (row = true class, column = predicted) over n labelled rows.
   */
  async evaluate(
    x: Float32Array,
    labels: ArrayLike<number>,
    n: number,
  ): Promise<{ loss: number; accuracy: number; confusion: Uint32Array }> {
    this.checkAlive();
    const y = this.checkRows(x, labels, n);
    const classes = this.sizes[this.sizes.length - 1]!;
    const confusion = new Uint32Array(classes * classes);
    let lossSum = 0;
    let correct = 0;
    await this.inference(x, y, n, (start, rows, p, losses) => {
      for (let r = 0; r < rows; r++) {
        lossSum += losses[r]!;
        let best = 0;
        for (let c = 1; c < classes; c++) if (p[r * classes + c]! > p[r * classes + best]!) best = c;
        const truth = y[start + r]!;
        confusion[truth * classes + best]!++;
        if (best === truth) correct++;
      }
    });
    return { loss: lossSum / n, accuracy: correct / n, confusion };
  }

  /**
   * The gradient of the mean loss over n rows (all in one pass, so n is limited by buffer sizes), and
   * that loss; the parameters are not changed. For tests and diagnostics.
   */
  async gradient(
    x: Float32Array,
    labels: ArrayLike<number>,
    n: number,
  ): Promise<{ dW: Float32Array[]; db: Float32Array[]; loss: number }> {
    this.checkAlive();
    const y = this.checkRows(x, labels, n);
    const plan = this.plan(n, true);
    try {
      uploadBuffer(this.device, plan.acts[0]!, x);
      uploadBuffer(this.device, plan.labels, y);
      submitStep(this.device, 'mlp gradient', [...plan.forward, ...plan.backward]);
      const [g, losses] = await readBuffers(
        this.device,
        [{ buffer: this.gradientBuffer }, { buffer: plan.rowLoss }],
        'mlp gradient read-back',
      );
      // The buffer holds the ascent direction −∇L.
      const all = new Float32Array(g!).map((v) => -v);
      const loss = new Float32Array(losses!).reduce((s, v) => s + v, 0) / n;
      const { W, b } = this.split(all);
      return { dW: W, db: b, loss };
    } finally {
      for (const b of plan.owned) b.destroy();
    }
  }

  private releaseTraining(): void {
    if (!this.training) return;
    for (const b of this.training.plan.owned) b.destroy();
    this.training.batchUniforms.destroy();
    this.training.optimizerUniforms.destroy();
    this.training = null;
  }

  /** Frees every GPU buffer this engine owns; later calls throw. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.releaseTraining();
    this.finiteCheck?.destroy();
    for (const b of [
      this.parameters,
      this.gradientBuffer,
      this.firstMoment,
      this.secondMoment,
      this.data,
      this.dataLabels,
    ])
      b?.destroy();
  }
}
