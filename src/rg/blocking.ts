/**
 * Block-spin transforms on the GPU: a batch of ±1 configurations blocked level after level (majority rule,
 * decimation, or a stochastic RBM projector), with the MCRG operators measured at every level and kept on
 * the GPU until read back. PHYSICS.md: "Monte Carlo renormalization group", "RBM-learned RG projector".
 *
 * Random numbers (shards reproduce the unsplit run): every counter carries the global sample
 * firstSample + r. Majority ties: Philox((coarse block, global sample, step, stream(blockSpinTies, n)), seed),
 * +1 iff word 0 is odd. RBM projector: the RBM engine's conv hidden sampling with rngStream =
 * stream(rgProjector, n), row offset firstSample, the same step. n is the level being made (1 … levels);
 * step is the measurement index the caller passes to `encode`.
 *
 * @example
 * const rg = new BlockSpinPipeline(device, { dims: 2, L: 32, batch: 64, levels: 3, rule: 'majority', seed: 1, slots: 16 });
 * for (let m = 0; m < 16; m++) {
 *   await ising.run({ sweeps: 10 }); // an IsingEngine with 64 replicas of 32×32
 *   submitStep(device, 'rg', [...rg.fromPackedSpins(ising.spins, ising.config.words), ...rg.encode(m, m)]);
 * }
 * const ops = await rg.readOperators(); // i32 [16 × 64 × 4 × 11]
 */
import { createStorageBuffer, createUniformBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.ts';
import { Dispatch, Program, type Encodable } from '../gpu/kernel.ts';
import type { StructView } from '../gpu/reflect.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { RbmEngine } from '../rbm/engine.ts';
import { checkRbm, type ConvRbm } from '../rbm/model.ts';
import { MAX_OPERATOR_SITES, operatorCount, operatorDispatch } from './operators.ts';
import { rgSources } from './shaders.ts';

/**
 * How a level is blocked: 'majority' (2D, 2×2 block-sum sign, ties a fair coin), 'majority3' (3×3 in 2D,
 * 3 consecutive sites on a ring), 'decimation' (2D: the top-left spin of each 2×2 block; ring: the even
 * sites), or a stochastic RBM projector μ ~ P(μ|σ) (a one-filter ±1 conv RBM without biases; b = its stride).
 */
export type BlockingRule = 'majority' | 'majority3' | 'decimation' | { rbm: ConvRbm };

export interface BlockSpinOptions {
  dims: 1 | 2;
  /** Side of the square lattice (2D) or ring length (1D) at level 0. */
  L: number;
  /** Configurations blocked together. */
  batch: number;
  /** Blockings: levels 0 (the original) … levels are measured. */
  levels: number;
  rule: BlockingRule;
  /** Seed of the ties' and the projector's random numbers (integer 0 … 2^64 − 1). */
  seed: number | bigint;
  /** Global index of local sample 0 in every Philox counter (shards of one run; default 0). */
  firstSample?: number;
  /** Operator results kept on the GPU: measurements before a read-back (default 1). */
  slots?: number;
}

const WORKGROUP = 64;
const U32_MAX = 0xffffffff;
/** Deeper runs would need L ≥ 2^31 even for b = 2. */
const MAX_LEVELS = 30;

function isRbmRule(rule: BlockingRule): rule is { rbm: ConvRbm } {
  return typeof rule === 'object' && rule !== null && 'rbm' in rule;
}

/** A rule's name for messages ('majority', …, 'rbm'). */
export function ruleName(rule: BlockingRule): string {
  return isRbmRule(rule) ? 'rbm' : String(rule);
}

function checkDims(dims: unknown): asserts dims is 1 | 2 {
  if (dims !== 1 && dims !== 2) throw new RangeError(`dims ${String(dims)} must be 1 (a ring) or 2 (square)`);
}

/** The blocking factor b of a rule (the side of a block; the RBM projector's stride). */
export function blockingFactor(rule: BlockingRule, dims: 1 | 2): number {
  checkDims(dims);
  if (isRbmRule(rule)) {
    if (dims === 1) {
      throw new RangeError(
        "the RBM projector is a 2D convolution; a ring (dims 1) takes 'majority3' (b = 3) or 'decimation' (b = 2)",
      );
    }
    return rule.rbm.stride;
  }
  switch (rule) {
    case 'majority':
      if (dims === 1) {
        throw new RangeError(
          "blocking rule 'majority' (2×2 blocks) is 2D only; a ring (dims 1) takes 'majority3' (b = 3) or 'decimation' (b = 2)",
        );
      }
      return 2;
    case 'majority3':
      return 3;
    case 'decimation':
      return 2;
    default:
      throw new RangeError(
        `blocking rule '${String(rule)}' is not one of 'majority', 'majority3', 'decimation' or { rbm }`,
      );
  }
}

/** Throws unless `rbm` can serve as a block-spin projector of an L×L lattice (before any GPU work). */
function checkProjector(rbm: ConvRbm, L: number): void {
  checkRbm(rbm);
  if (rbm.units !== 'ising') {
    throw new RangeError(`RBM projector units '${rbm.units}' must be 'ising': block spins are ±1`);
  }
  if (rbm.filters !== 1) {
    throw new RangeError(`RBM projector has ${rbm.filters} filters; a block spin takes exactly 1`);
  }
  if (rbm.stride < 2) {
    throw new RangeError(
      `RBM projector stride ${rbm.stride} must be at least 2 (it is the blocking factor b)`,
    );
  }
  if (rbm.Lv !== L) {
    throw new RangeError(`RBM projector lattice Lv ${rbm.Lv} does not match L ${L} of the configurations`);
  }
  for (let i = 0; i < rbm.W.length; i++) {
    if (!Number.isFinite(rbm.W[i]))
      throw new RangeError(`RBM projector weight W[${i}] = ${rbm.W[i]} is not finite`);
  }
  const why = 'biases mix the even and odd sectors; the projector has none (Chung & Kao)';
  if ((rbm.a ?? 0) !== 0) throw new RangeError(`RBM projector visible bias a = ${rbm.a} must be 0: ${why}`);
  const b = rbm.b ?? [];
  for (let f = 0; f < b.length; f++) {
    if (b[f] !== 0) throw new RangeError(`RBM projector hidden bias b[${f}] = ${b[f]} must be 0: ${why}`);
  }
}

/**
 * Throws a RangeError (naming the value and the limit) unless `levels` blockings of rule `rule` fit an
 * L-site ring or L×L lattice: L divisible by b^levels, a final side ≥ 4, a matching RBM projector.
 */
export function checkBlockingGeometry(dims: 1 | 2, L: number, levels: number, rule: BlockingRule): void {
  const b = blockingFactor(rule, dims);
  if (!Number.isInteger(levels) || levels < 1 || levels > MAX_LEVELS) {
    throw new RangeError(`levels ${levels} must be an integer in 1 … ${MAX_LEVELS}`);
  }
  if (!Number.isSafeInteger(L) || L < 1) throw new RangeError(`L ${L} is not a positive integer`);
  const block = b ** levels;
  if (L % block !== 0) {
    throw new RangeError(
      `L ${L} is not divisible by ${b}^${levels} = ${block} for ${levels} level${levels > 1 ? 's' : ''} of b = ${b}`,
    );
  }
  const final = L / block;
  if (final < 4) {
    throw new RangeError(
      `${levels} level${levels > 1 ? 's' : ''} of b = ${b} leave ${final} from L ${L}; the last lattice must be at least 4 ` +
        `(smaller makes the distance-2 operators coincide with others): at most ${Math.max(0, Math.floor(Math.log(L / 4) / Math.log(b)))} levels`,
    );
  }
  const sites = dims === 2 ? L * L : L;
  if (sites > MAX_OPERATOR_SITES) {
    throw new RangeError(
      `${dims === 2 ? `${L}×${L}` : `ring of ${L}`} has ${sites} sites, over ${MAX_OPERATOR_SITES}, the most whose operator sums fit in i32`,
    );
  }
  if (isRbmRule(rule)) checkProjector(rule.rbm, L);
}

interface BlockLayer {
  dispatch: Dispatch;
  uniforms: GPUBuffer;
  view: StructView;
}

/**
 * A batch of configurations and its blocked levels on the GPU, with the operators of every level.
 * Layouts: level n is f32 ±1 [batch × sites_n] (site = y·L_n + x); `operators` is i32
 * [slots × batch × (levels + 1) × operatorCount]. Each encode() in one submission must use its own slot.
 */
export class BlockSpinPipeline {
  readonly dims: 1 | 2;
  readonly batch: number;
  readonly levels: number;
  readonly firstSample: number;
  readonly slots: number;
  readonly rule: BlockingRule;
  /** The blocking factor. */
  readonly b: number;
  /** Side (2D) or ring length (1D) of each level 0 … levels. */
  readonly sizes: readonly number[];
  /** 11 in 2D, 3 on a ring. */
  readonly operatorCount: number;
  /** f32 ±1 [batch × sites_n] per level. */
  readonly levelBuffers: readonly GPUBuffer[];
  /** i32 [slots × batch × (levels + 1) × operatorCount]. */
  readonly operators: GPUBuffer;
  private readonly key: [number, number];
  /** Per slot: blocking of levels 1 … levels. */
  private readonly blockLayers: BlockLayer[][] = [];
  /** Per slot: the operator dispatches of levels 0 … levels. */
  private readonly measureLayers: Dispatch[][] = [];
  private readonly owned: GPUBuffer[] = [];
  private readonly unpackers = new Map<GPUBuffer, Map<number, Dispatch>>();
  private readonly projector: RbmEngine | null = null;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    options: BlockSpinOptions,
  ) {
    const { dims, L, levels, rule } = options;
    checkBlockingGeometry(dims, L, levels, rule);
    const batch = options.batch;
    if (!Number.isInteger(batch) || batch < 1 || batch > U32_MAX) {
      throw new RangeError(`batch ${batch} must be an integer in 1 … ${U32_MAX}`);
    }
    const firstSample = options.firstSample ?? 0;
    if (!Number.isInteger(firstSample) || firstSample < 0 || firstSample + batch > U32_MAX + 1) {
      throw new RangeError(
        `firstSample ${firstSample} + batch ${batch} must stay within 2^32 (a u32 random-number counter word)`,
      );
    }
    const slots = options.slots ?? 1;
    if (!Number.isInteger(slots) || slots < 1 || slots > U32_MAX) {
      throw new RangeError(`slots ${slots} must be an integer in 1 … ${U32_MAX}`);
    }
    this.dims = dims;
    this.batch = batch;
    this.levels = levels;
    this.firstSample = firstSample;
    this.slots = slots;
    this.rule = rule;
    this.key = seedKey(options.seed);
    const b = (this.b = blockingFactor(rule, dims));
    this.sizes = Array.from({ length: levels + 1 }, (_, n) => L / b ** n);
    this.operatorCount = operatorCount(dims);
    const ops = this.operatorCount;
    const sites = (n: number): number => (dims === 2 ? this.sizes[n]! ** 2 : this.sizes[n]!);
    const shape = (n: number): string =>
      dims === 2 ? `${this.sizes[n]}×${this.sizes[n]}` : `ring ${this.sizes[n]}`;
    const perSlot = batch * (levels + 1) * ops;
    if (slots * perSlot > U32_MAX) {
      throw new RangeError(`slots ${slots} × ${perSlot} operator values exceed 2^32, the index range`);
    }
    const levelBuffers: GPUBuffer[] = [];
    this.levelBuffers = levelBuffers;
    this.operators = createStorageBuffer(
      device,
      `block-spin operators ${slots}×${batch}×${levels + 1}×${ops}`,
      slots * perSlot * 4,
    );
    try {
      for (let n = 0; n <= levels; n++) {
        levelBuffers.push(
          createStorageBuffer(
            device,
            `block-spin level ${n} (${shape(n)}, batch ${batch})`,
            batch * sites(n) * 4,
          ),
        );
      }
      let means: GPUBuffer | null = null;
      if (isRbmRule(rule)) {
        const rbm = rule.rbm;
        this.projector = new RbmEngine(device, {
          conv: { Lv: L, filters: 1, k: rbm.k, stride: b },
          units: 'ising',
          visibleBias: false,
          hiddenBias: false,
          seed: options.seed,
          parameters: { W: rbm.W },
        });
        // The kernel writes the units' means too; nothing reads them.
        means = createStorageBuffer(
          device,
          `block-spin projector means (batch ${batch})`,
          batch * sites(1) * 4,
        );
        this.owned.push(means);
      }
      const blockProgram = Program.get(device, rgSources.block);
      const entry = rule === 'majority' ? 'majority2x2' : rule === 'majority3' ? 'majority3' : 'decimate';
      for (let slot = 0; slot < slots; slot++) {
        const blocks: BlockLayer[] = [];
        for (let n = 1; n <= levels; n++) {
          const label = `block-spin ${ruleName(rule)} level ${n} slot ${slot}`;
          if (this.projector && means) {
            const layer = this.projector.convHiddenKernel({
              label,
              input: levelBuffers[n - 1]!,
              means,
              samples: levelBuffers[n]!,
              rows: batch,
              Lv: this.sizes[n - 1]!,
              stream: streamWord(RngPurpose.rgProjector, n),
              rowOffset: firstSample,
            });
            this.owned.push(layer.uniforms);
            blocks.push(layer);
            continue;
          }
          const view = blockProgram.structView('BlockParams').set({
            key: this.key,
            batch,
            firstSample,
            fineSide: this.sizes[n - 1]!,
            coarseSide: this.sizes[n]!,
            step: 0,
            stream: streamWord(RngPurpose.blockSpinTies, n),
          });
          const uniforms = createUniformBuffer(device, `${label} params`, view.data);
          this.owned.push(uniforms);
          const dispatch = new Dispatch(device, {
            label,
            pipeline: blockProgram.pipeline(entry, { workgroupSize: WORKGROUP, dims }),
            bindGroups: [
              blockProgram.bindGroup(
                0,
                { params: uniforms, fine: levelBuffers[n - 1]!, coarse: levelBuffers[n]! },
                label,
              ),
            ],
            workgroups: Math.ceil((batch * sites(n)) / WORKGROUP),
          });
          blocks.push({ dispatch, uniforms, view });
        }
        this.blockLayers.push(blocks);
        const measures: Dispatch[] = [];
        for (let n = 0; n <= levels; n++) {
          const m = operatorDispatch(device, {
            label: `block-spin operators level ${n} slot ${slot}`,
            dims,
            side: this.sizes[n]!,
            batch,
            spins: levelBuffers[n]!,
            operators: this.operators,
            outputOffset: slot * perSlot + n * ops,
            sampleStride: (levels + 1) * ops,
          });
          this.owned.push(m.uniforms);
          measures.push(m.dispatch);
        }
        this.measureLayers.push(measures);
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this BlockSpinPipeline was destroyed');
  }

  private sites(n: number): number {
    const side = this.sizes[n]!;
    return this.dims === 2 ? side * side : side;
  }

  /**
   * The dispatch that fills level 0 from the Ising engine's bit-packed spins (IsingEngine.spins, bit 1 = +1;
   * replica r's site i is bit i mod 32 of word r·wordsPerReplica + ⌊i/32⌋); its replicas are the batch.
   */
  fromPackedSpins(spins: GPUBuffer, wordsPerReplica: number): Encodable[] {
    this.checkAlive();
    const sites = this.sites(0);
    if (!Number.isInteger(wordsPerReplica) || wordsPerReplica < Math.ceil(sites / 32)) {
      throw new RangeError(
        `wordsPerReplica ${wordsPerReplica} cannot hold ${sites} spins (at least ${Math.ceil(sites / 32)} words)`,
      );
    }
    if (spins.size < this.batch * wordsPerReplica * 4) {
      throw new RangeError(
        `${spins.label} has ${spins.size} bytes; ${this.batch} replicas × ${wordsPerReplica} words need ${this.batch * wordsPerReplica * 4}`,
      );
    }
    let perBuffer = this.unpackers.get(spins);
    if (!perBuffer) this.unpackers.set(spins, (perBuffer = new Map()));
    let dispatch = perBuffer.get(wordsPerReplica);
    if (!dispatch) {
      const program = Program.get(this.device, rgSources.unpack);
      const view = program
        .structView('UnpackParams')
        .set({ batch: this.batch, sites, words: wordsPerReplica });
      const label = `block-spin level 0 from ${spins.label}`;
      const uniforms = createUniformBuffer(this.device, `${label} params`, view.data);
      this.owned.push(uniforms);
      dispatch = new Dispatch(this.device, {
        label,
        pipeline: program.pipeline('unpackSpins', { workgroupSize: WORKGROUP }),
        bindGroups: [
          program.bindGroup(0, { params: uniforms, packed: spins, spins: this.levelBuffers[0]! }, label),
        ],
        workgroups: Math.ceil((this.batch * sites) / WORKGROUP),
      });
      perBuffer.set(wordsPerReplica, dispatch);
    }
    return [dispatch];
  }

  /** Replaces level 0 with ±1 values [batch × L^dims] (row-major per sample). */
  upload(values: Int8Array | Float32Array): void {
    this.checkAlive();
    const sites = this.sites(0);
    if (values.length !== this.batch * sites) {
      throw new RangeError(
        `${values.length} spins; a batch of ${this.batch} × ${sites} sites needs ${this.batch * sites}`,
      );
    }
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const s = values[i]!;
      if (s !== 1 && s !== -1) {
        throw new RangeError(
          `spin ${i} (sample ${Math.floor(i / sites)}, site ${i % sites}) is ${s}; spins must be ±1`,
        );
      }
      data[i] = s;
    }
    uploadBuffer(this.device, this.levelBuffers[0]!, data);
  }

  /**
   * Blocks every level from level 0 (random numbers of measurement `step`) and measures the operators of
   * levels 0 … levels into `slot`. Writes the slot's step uniforms now: the returned items must be
   * submitted before this slot is encoded again.
   */
  encode(step: number, slot = 0): Encodable[] {
    this.checkAlive();
    if (!Number.isInteger(step) || step < 0 || step > U32_MAX) {
      throw new RangeError(
        `step ${step} must be an integer in 0 … ${U32_MAX} (a u32 random-number counter word)`,
      );
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) {
      throw new RangeError(`slot ${slot} must be an integer in 0 … ${this.slots - 1} (slots ${this.slots})`);
    }
    const measures = this.measureLayers[slot]!;
    const items: Encodable[] = [measures[0]!];
    this.blockLayers[slot]!.forEach((layer, i) => {
      uploadBuffer(this.device, layer.uniforms, layer.view.set({ step }).data);
      items.push(layer.dispatch, measures[i + 1]!);
    });
    return items;
  }

  /** The operators of the first `slots` slots: i32 [slots × batch × (levels + 1) × operatorCount]. */
  async readOperators(slots = this.slots): Promise<Int32Array> {
    this.checkAlive();
    if (!Number.isInteger(slots) || slots < 1 || slots > this.slots) {
      throw new RangeError(`slots ${slots} must be an integer in 1 … ${this.slots}`);
    }
    const bytes = slots * this.batch * (this.levels + 1) * this.operatorCount * 4;
    return new Int32Array(await readBuffer(this.device, this.operators, 0, bytes));
  }

  /** The ±1 spins of level n: [batch × sites_n]. */
  async readLevel(n: number): Promise<Int8Array> {
    this.checkAlive();
    if (!Number.isInteger(n) || n < 0 || n > this.levels) {
      throw new RangeError(`level ${n} must be an integer in 0 … ${this.levels}`);
    }
    const values = new Float32Array(
      await readBuffer(this.device, this.levelBuffers[n]!, 0, this.batch * this.sites(n) * 4),
    );
    return Int8Array.from(values);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const buffer of [...this.levelBuffers, ...this.owned, this.operators]) buffer.destroy();
    this.projector?.destroy();
  }
}

/**
 * A one-filter projector oriented so that ΣW ≥ 0. W and −W are the same projector up to flipping every block
 * spin (P(μ|σ; −W) = P(−μ|σ; W)): the even sector and y_t are unchanged, but a negative filter flips the block
 * magnetisation at every step, which makes the odd sector's leading eigenvalue (λ_h) negative.
 */
export function orientProjector(rbm: ConvRbm): { rbm: ConvRbm; negated: boolean } {
  let sum = 0;
  for (const w of rbm.W) sum += w;
  if (sum >= 0) return { rbm, negated: false };
  return { rbm: { ...rbm, W: Float64Array.from(rbm.W, (x) => -x) }, negated: true };
}
