/**
 * Sufficient statistics of a Monte Carlo renormalization-group run (PHYSICS.md, "Monte Carlo renormalization
 * group"): everything the analysis needs, A = ⟨S⁽ⁿ⁾S⁽ⁿ⁾⟩ − ⟨S⁽ⁿ⁾⟩⟨S⁽ⁿ⁾⟩ and B = ⟨S⁽ⁿ⁾S⁽ⁿ⁻¹⁾⟩ − ⟨S⁽ⁿ⁾⟩⟨S⁽ⁿ⁻¹⁾⟩ with their
 * jackknife errors, is a function of per-block sums, so a run keeps only these:
 *   count, ΣS_a⁽ⁿ⁾ (every level), ΣS_a⁽ⁿ⁾S_c⁽ⁿ⁾ (same level), ΣS_a⁽ⁿ⁾S_b⁽ⁿ⁻¹⁾ (n = 1 … levels),
 * per block of `blockLength` consecutive measurements of one replica, tagged (replica, first measurement).
 * Runs made anywhere merge by taking the union of their blocks (src/rg/result-files.ts).
 *
 * Exactness: operator values are integers with |S| ≤ maxAbs; a block sums at most blockLength products, each
 * |S_a S_c| ≤ maxAbs², so every partial sum is an integer of magnitude ≤ blockLength·maxAbs². The accumulator
 * refuses a blockLength with blockLength·maxAbs² > 2^53, and then every block sum is exact in f64 (all integers
 * up to 2^53 are representable and each addition of two of them with an in-range result is exact).
 *
 * Operator layout (src/rg contract): per lattice `even` even operators first, then `odd` odd ones; lattices
 * n = 0 (the original) … levels. 2D: 7 + 4 (PHYSICS.md order), 1D ring: 2 + 1 ([nn, nnn | Σs]).
 */

import { integratedAutocorrelationTime, type TauIntResult, type WindowOptions } from '../stats/index.ts';

/** Operators per lattice (even first, then odd) and the number of blockings (lattices n = 0 … levels). */
export type OperatorLayout = { levels: number; even: number; odd: number };

/** The 2D layout (7 even, 4 odd operators of PHYSICS.md) for `levels` blockings. */
export function layout2d(levels: number): OperatorLayout {
  return checkLayout({ levels, even: 7, odd: 4 });
}

/** The 1D ring layout ([nearest neighbour, next-nearest | Σs]) for `levels` blockings. */
export function layout1d(levels: number): OperatorLayout {
  return checkLayout({ levels, even: 2, odd: 1 });
}

/** Operators per lattice (even + odd). */
export function operatorCount(layout: OperatorLayout): number {
  return layout.even + layout.odd;
}

/** Throws RangeError unless levels ≥ 1, even ≥ 1 and odd ≥ 1 are integers; returns the layout. */
export function checkLayout(layout: OperatorLayout): OperatorLayout {
  const { levels, even, odd } = layout ?? ({} as OperatorLayout);
  const check = (name: string, x: unknown, max: number): void => {
    if (!Number.isInteger(x) || (x as number) < 1 || (x as number) > max)
      throw new RangeError(`operator layout: ${name} = ${String(x)} must be an integer in 1 … ${max}`);
  };
  check('levels', levels, 64);
  check('even', even, 64);
  check('odd', odd, 64);
  return layout;
}

/** Operator names per dimension, even then odd (the order of the operator index; PHYSICS.md). */
export const OPERATOR_NAMES = {
  1: { even: ['nearest neighbour', 'next-nearest neighbour'], odd: ['magnetisation'] },
  2: {
    even: [
      'nearest neighbour',
      'diagonal next-nearest',
      'plaquette',
      'distance 2 along an axis',
      "knight's moves",
      'four-spin diamond',
      'distance (2,2) diagonal',
    ],
    odd: ['magnetisation', 'three-spin corners', 'three in a row', 'three on a diagonal'],
  },
} as const satisfies Record<1 | 2, { even: readonly string[]; odd: readonly string[] }>;
const NAMES_2D = OPERATOR_NAMES[2];
const NAMES_1D = OPERATOR_NAMES[1];

/**
 * A readable name of operator `index` (0-based over even + odd) for messages, e.g. `even operator 2 (diagonal)`.
 * The descriptive part is given for the standard 2D (7 + 4) and 1D (2 + 1) layouts.
 */
export function operatorName(layout: OperatorLayout, index: number): string {
  const names =
    layout.even === 7 && layout.odd === 4
      ? NAMES_2D
      : layout.even === 2 && layout.odd === 1
        ? NAMES_1D
        : null;
  const odd = index >= layout.even;
  const k = odd ? index - layout.even : index;
  const label = names ? (odd ? names.odd : names.even)[k] : undefined;
  return `${odd ? 'odd' : 'even'} operator ${k + 1}${label ? ` (${label})` : ''}`;
}

/**
 * Largest |S| of any operator on the level-0 lattice (the largest), the accumulator's exactness bound: each 2D
 * operator has at most 4 terms per anchor site (the knight's moves), so |S| ≤ 4L²; each 1D operator has one,
 * |S| ≤ L.
 */
export function operatorMaxAbs(dims: 1 | 2, L: number): number {
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`lattice size L = ${L} must be an integer ≥ 1`);
  if (dims === 2) return 4 * L * L;
  if (dims === 1) return L;
  throw new RangeError(`dims = ${String(dims)} must be 1 or 2`);
}

/** 2^53: every block sum stays at or below it, so it is an exact f64 integer. */
export const EXACT_LIMIT = 2 ** 53;

/** Longest block whose sums stay exact: ⌊2^53 / maxAbs²⌋. */
export function maxExactBlockLength(maxAbs: number): number {
  if (!Number.isSafeInteger(maxAbs) || maxAbs < 1)
    throw new RangeError(`operator bound maxAbs = ${maxAbs} must be a safe integer ≥ 1`);
  return Math.floor(EXACT_LIMIT / (maxAbs * maxAbs));
}

/**
 * Sums of one block: `count` consecutive measurements of one replica starting at measurement `start`.
 * P = even + odd; all entries are exact integers.
 */
export interface McrgBlock {
  /** Global replica index. */
  replica: number;
  /** Measurement index of the block's first measurement. */
  start: number;
  /** Measurements in the block (blockLength, or fewer for a block cut short by the end of a run). */
  count: number;
  /** ΣS_a⁽ⁿ⁾: [(levels + 1) × P], index n·P + a. */
  sums: Float64Array;
  /** ΣS_a⁽ⁿ⁾S_c⁽ⁿ⁾: [(levels + 1) × P × P], index (n·P + a)·P + c (symmetric in a, c). */
  products: Float64Array;
  /** ΣS_a⁽ⁿ⁾S_b⁽ⁿ⁻¹⁾ for n = 1 … levels: [levels × P × P], index ((n − 1)·P + a)·P + b. */
  cross: Float64Array;
}

/** Lengths of a block's arrays for a layout. */
export function blockSizes(layout: OperatorLayout): { sums: number; products: number; cross: number } {
  const p = operatorCount(layout);
  return {
    sums: (layout.levels + 1) * p,
    products: (layout.levels + 1) * p * p,
    cross: layout.levels * p * p,
  };
}

/**
 * Throws RangeError (naming the block and the entry) unless `block` fits `layout`: array lengths, a count in
 * 1 … maxCount, non-negative integer tags, every sum an integer of magnitude ≤ 2^53 (with `exact` false, merely
 * finite: bins joined from several blocks may leave the exact range), products symmetric with non-negative
 * diagonal, and (ΣS)² ≤ count·ΣS² (Cauchy–Schwarz; fails for corrupted data).
 */
export function checkBlock(
  block: McrgBlock,
  layout: OperatorLayout,
  what = 'block',
  maxCount = Infinity,
  exact = true,
): void {
  const sizes = blockSizes(layout);
  const p = operatorCount(layout);
  const tag = (name: string, x: number, min: number): void => {
    if (!Number.isSafeInteger(x) || x < min)
      throw new RangeError(`${what}: ${name} = ${x} must be an integer ≥ ${min}`);
  };
  tag('replica', block.replica, 0);
  tag('start', block.start, 0);
  tag('count', block.count, 1);
  if (block.count > maxCount)
    throw new RangeError(`${what}: count ${block.count} exceeds the block length ${maxCount}`);
  for (const key of ['sums', 'products', 'cross'] as const) {
    const a = block[key];
    if (!(a instanceof Float64Array) || a.length !== sizes[key])
      throw new RangeError(
        `${what}: ${key} has ${a?.length ?? 'no'} values; layout ${JSON.stringify(layout)} needs ${sizes[key]}`,
      );
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as number;
      if (exact ? !Number.isInteger(x) || Math.abs(x) > EXACT_LIMIT : !Number.isFinite(x))
        throw new RangeError(
          `${what}: ${key}[${i}] = ${x} is not ${exact ? 'an exact integer (|x| ≤ 2^53)' : 'finite'}`,
        );
    }
  }
  for (let n = 0; n <= layout.levels; n++) {
    for (let a = 0; a < p; a++) {
      const diag = block.products[(n * p + a) * p + a] as number;
      if (diag < 0) throw new RangeError(`${what}: level ${n}: ΣS² of operator ${a} is ${diag} < 0`);
      const s = block.sums[n * p + a] as number;
      if (s * s > block.count * diag * (1 + 1e-12))
        throw new RangeError(
          `${what}: level ${n}, operator ${a}: (ΣS)² = ${s * s} > count·ΣS² = ${block.count * diag} (inconsistent sums)`,
        );
      for (let c = a + 1; c < p; c++) {
        const x = block.products[(n * p + a) * p + c] as number;
        const y = block.products[(n * p + c) * p + a] as number;
        if (x !== y)
          throw new RangeError(
            `${what}: level ${n}: ΣS_${a}S_${c} = ${x} but ΣS_${c}S_${a} = ${y} (not symmetric)`,
          );
      }
    }
  }
}

/** Canonical block order: by replica, then by start. */
export function compareBlocks(x: McrgBlock, y: McrgBlock): number {
  return x.replica - y.replica || x.start - y.start;
}

/**
 * A block as one vector v = [count, sums, products, cross]: the input of the jackknife. Every estimate is a
 * ratio of such sums (homogeneous of degree 0), so the pooled estimate without block k is f(Σ_{j≠k} v_j), also
 * for blocks of unequal counts.
 */
export function blockVector(block: McrgBlock): Float64Array {
  const v = new Float64Array(1 + block.sums.length + block.products.length + block.cross.length);
  v[0] = block.count;
  v.set(block.sums, 1);
  v.set(block.products, 1 + block.sums.length);
  v.set(block.cross, 1 + block.sums.length + block.products.length);
  return v;
}

/** Options of the accumulator. */
export interface McrgAccumulatorOptions {
  layout: OperatorLayout;
  /** Measurements per block (≥ 1); blocks are aligned: block k holds measurements k·blockLength … (k+1)·blockLength − 1. */
  blockLength: number;
  /** Bound on |S| of every operator at every level (operatorMaxAbs); values beyond it are refused. */
  maxAbs: number;
  /** Replicas in each measurement. */
  replicas: number;
  /** Global index of the first replica (default 0): shards of a run hold disjoint replica ranges. */
  firstReplica?: number;
}

/** An open block of one replica: the same fields as McrgBlock, products accumulated on the upper triangle only. */
interface OpenBlock {
  start: number;
  count: number;
  sums: Float64Array;
  products: Float64Array;
  cross: Float64Array;
}

/**
 * Accumulates per-block sufficient statistics from exact operator values. Feed it every measurement of every
 * replica in order; stop at any measurement and `blocks()` still gives valid blocks (a block cut short keeps
 * its true count).
 * @example
 * const acc = new McrgAccumulator({ layout: layout2d(3), blockLength: 100, maxAbs: operatorMaxAbs(2, 32), replicas: 64 });
 * acc.add(values, m); // values: Int32Array [64 × 4 × 11] of measurement m
 * const blocks = acc.blocks();
 */
export class McrgAccumulator {
  readonly layout: OperatorLayout;
  readonly blockLength: number;
  readonly maxAbs: number;
  readonly replicas: number;
  readonly firstReplica: number;
  private readonly p: number;
  private readonly stride: number;
  private readonly closed: McrgBlock[] = [];
  private readonly open: (OpenBlock | null)[];
  private next: number | null = null;
  private measured = 0;

  constructor(options: McrgAccumulatorOptions) {
    this.layout = checkLayout(options.layout);
    const { blockLength, maxAbs, replicas } = options;
    const firstReplica = options.firstReplica ?? 0;
    if (!Number.isSafeInteger(maxAbs) || maxAbs < 1)
      throw new RangeError(`operator bound maxAbs = ${maxAbs} must be a safe integer ≥ 1`);
    if (!Number.isInteger(blockLength) || blockLength < 1)
      throw new RangeError(`block length ${blockLength} must be an integer ≥ 1`);
    const longest = maxExactBlockLength(maxAbs);
    if (blockLength > longest)
      throw new RangeError(
        `block length ${blockLength} × maxAbs² = ${blockLength} × ${maxAbs}² = ${blockLength * maxAbs * maxAbs} ` +
          `exceeds 2^53 = ${EXACT_LIMIT}: block sums would not be exact in f64; the longest exact block is ${longest} measurements`,
      );
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new RangeError(`replica count ${replicas} must be an integer ≥ 1`);
    if (!Number.isSafeInteger(firstReplica) || firstReplica < 0)
      throw new RangeError(`first replica ${firstReplica} must be an integer ≥ 0`);
    this.blockLength = blockLength;
    this.maxAbs = maxAbs;
    this.replicas = replicas;
    this.firstReplica = firstReplica;
    this.p = operatorCount(this.layout);
    this.stride = (this.layout.levels + 1) * this.p;
    this.open = new Array<OpenBlock | null>(replicas).fill(null);
  }

  /** Measurements added so far (per replica). */
  get measurements(): number {
    return this.measured;
  }

  /** The measurement index the next `add` must start at (null before the first). */
  get nextMeasurement(): number | null {
    return this.next;
  }

  /**
   * Adds k ≥ 1 consecutive measurements m, m+1, …, m+k−1: `values` is Int32Array (or exact integers in a
   * Float64Array) [k × replicas × (levels + 1) × P]. After the first call, m must be the next measurement index.
   */
  add(values: Int32Array | Float64Array, measurement: number): void {
    const perMeasurement = this.replicas * this.stride;
    if (values.length === 0 || values.length % perMeasurement !== 0)
      throw new RangeError(
        `operator values hold ${values.length} numbers; a measurement of ${this.replicas} replicas × ` +
          `${this.layout.levels + 1} levels × ${this.p} operators is ${perMeasurement}`,
      );
    if (!Number.isSafeInteger(measurement) || measurement < 0)
      throw new RangeError(`measurement index ${measurement} must be an integer ≥ 0`);
    if (this.next !== null && measurement !== this.next)
      throw new RangeError(
        `measurement index ${measurement} given; the next one is ${this.next} (no gaps, no repeats)`,
      );
    const k = values.length / perMeasurement;
    // Validate the whole batch first so a refused batch leaves the state unchanged.
    for (let i = 0; i < values.length; i++) {
      const x = values[i] as number;
      if (!Number.isInteger(x) || Math.abs(x) > this.maxAbs) {
        const offset = i % perMeasurement;
        const r = Math.floor(offset / this.stride);
        const n = Math.floor((offset % this.stride) / this.p);
        const a = offset % this.p;
        throw new RangeError(
          `operator value ${x} (measurement ${measurement + Math.floor(i / perMeasurement)}, replica ` +
            `${this.firstReplica + r}, level ${n}, ${operatorName(this.layout, a)}) is not an integer with |S| ≤ maxAbs = ${this.maxAbs}`,
        );
      }
    }
    for (let j = 0; j < k; j++) {
      const m = measurement + j;
      for (let r = 0; r < this.replicas; r++) this.addOne(values, j * perMeasurement + r * this.stride, r, m);
    }
    this.next = measurement + k;
    this.measured += k;
  }

  private addOne(values: ArrayLike<number>, base: number, r: number, m: number): void {
    const p = this.p;
    const levels = this.layout.levels;
    let block = this.open[r] as OpenBlock | null;
    if (block && Math.floor(block.start / this.blockLength) !== Math.floor(m / this.blockLength)) {
      this.closed.push(this.finish(block, r));
      block = null;
    }
    if (!block) {
      const sizes = blockSizes(this.layout);
      block = {
        start: m,
        count: 0,
        sums: new Float64Array(sizes.sums),
        products: new Float64Array(sizes.products),
        cross: new Float64Array(sizes.cross),
      };
      this.open[r] = block;
    }
    block.count++;
    const { sums, products, cross } = block;
    for (let n = 0; n <= levels; n++) {
      const row = base + n * p;
      for (let a = 0; a < p; a++) {
        const sa = values[row + a] as number;
        sums[n * p + a] = (sums[n * p + a] as number) + sa;
        const pa = (n * p + a) * p;
        for (let c = a; c < p; c++)
          products[pa + c] = (products[pa + c] as number) + sa * (values[row + c] as number);
        if (n > 0) {
          const prev = row - p;
          const ca = ((n - 1) * p + a) * p;
          for (let b = 0; b < p; b++)
            cross[ca + b] = (cross[ca + b] as number) + sa * (values[prev + b] as number);
        }
      }
    }
  }

  /** A copy of an open block as an McrgBlock (products mirrored to the lower triangle). */
  private finish(block: OpenBlock, r: number): McrgBlock {
    const p = this.p;
    const products = block.products.slice();
    for (let n = 0; n <= this.layout.levels; n++)
      for (let a = 0; a < p; a++)
        for (let c = a + 1; c < p; c++)
          products[(n * p + c) * p + a] = products[(n * p + a) * p + c] as number;
    return {
      replica: this.firstReplica + r,
      start: block.start,
      count: block.count,
      sums: block.sums.slice(),
      products,
      cross: block.cross.slice(),
    };
  }

  /**
   * Puts a fresh accumulator in the state of one that was fed `measured` measurements per replica from
   * measurement `first` (default 0) on and gave `blocks` (its `blocks()`, open blocks included): further `add`s
   * from measurement first + measured and `blocks()` are then exactly those of the accumulator that never
   * stopped. Throws RangeError, naming the block and the limit, unless the blocks are exactly the aligned
   * blocks of that range for every replica of this accumulator, each valid (checkBlock) with |ΣS| ≤ count·maxAbs.
   * @example
   * const saved = acc.blocks(); // … later, in another process:
   * const again = new McrgAccumulator(sameOptions);
   * again.restore(saved, acc.measurements);
   */
  restore(blocks: readonly McrgBlock[], measured: number, first = 0): void {
    if (this.next !== null || this.measured !== 0)
      throw new RangeError(
        `restore needs a fresh accumulator; this one holds ${this.measured} measurements per replica`,
      );
    if (!Number.isSafeInteger(measured) || measured < 0)
      throw new RangeError(`measurements ${measured} must be an integer ≥ 0`);
    if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(first + measured))
      throw new RangeError(`first measurement ${first} must be an integer ≥ 0`);
    const end = first + measured;
    const length = this.blockLength;
    // The aligned blocks of measurements first … end − 1: [start, count] each.
    const expected: [number, number][] = [];
    for (let start = first; start < end; start = (Math.floor(start / length) + 1) * length)
      expected.push([start, Math.min(end, (Math.floor(start / length) + 1) * length) - start]);
    if (blocks.length !== this.replicas * expected.length)
      throw new RangeError(
        `${blocks.length} blocks given; ${this.replicas} replicas × ${measured} measurements from measurement ` +
          `${first} in blocks of ${length} make ${this.replicas} × ${expected.length} = ${this.replicas * expected.length}`,
      );
    const sorted = [...blocks].sort(compareBlocks);
    const last = this.firstReplica + this.replicas - 1;
    sorted.forEach((block, i) => {
      const what = `block ${i} (replica ${block?.replica}, start ${block?.start})`;
      if (!block || typeof block !== 'object') throw new RangeError(`${what} is not a block`);
      checkBlock(block, this.layout, what, length);
      const r = Math.floor(i / expected.length);
      if (block.replica < this.firstReplica || block.replica > last)
        throw new RangeError(
          `${what}: replica ${block.replica} is outside this accumulator's replicas ${this.firstReplica} … ${last}`,
        );
      const [start, count] = expected[i % expected.length]!;
      if (block.replica !== this.firstReplica + r || block.start !== start || block.count !== count)
        throw new RangeError(
          `${what}: replica ${block.replica}, start ${block.start}, count ${block.count}; after ${measured} ` +
            `measurements from ${first} in blocks of ${length} it should be replica ${this.firstReplica + r}, ` +
            `start ${start}, count ${count}`,
        );
      const bound = (key: 'sums' | 'products' | 'cross', limit: number): void => {
        const a = block[key];
        for (let j = 0; j < a.length; j++)
          if (Math.abs(a[j] as number) > limit)
            throw new RangeError(
              `${what}: ${key}[${j}] = ${a[j]} exceeds count × ${key === 'sums' ? 'maxAbs' : 'maxAbs²'} = ${limit}`,
            );
      };
      bound('sums', count * this.maxAbs);
      bound('products', count * this.maxAbs * this.maxAbs);
      bound('cross', count * this.maxAbs * this.maxAbs);
    });
    const p = this.p;
    sorted.forEach((block, i) => {
      const copy = {
        start: block.start,
        count: block.count,
        sums: block.sums.slice(),
        products: block.products.slice(),
        cross: block.cross.slice(),
      };
      if ((i + 1) % expected.length !== 0) {
        this.closed.push({ replica: block.replica, ...copy });
        return;
      }
      // The last block of a replica stays open; an open block keeps its products on the upper triangle only.
      for (let n = 0; n <= this.layout.levels; n++)
        for (let a = 0; a < p; a++) for (let c = 0; c < a; c++) copy.products[(n * p + a) * p + c] = 0;
      this.open[block.replica - this.firstReplica] = copy;
    });
    this.measured = measured;
    this.next = measured > 0 ? end : null;
  }

  /**
   * All blocks so far in canonical order (replica, start): the finished ones and, unless `includeOpen` is false,
   * the unfinished block of each replica with its true count. Copies: accumulation may continue.
   */
  blocks(options: { includeOpen?: boolean } = {}): McrgBlock[] {
    const out = this.closed.slice();
    if (options.includeOpen ?? true) {
      this.open.forEach((block, r) => {
        if (block && block.count > 0) out.push(this.finish(block, r));
      });
    }
    return out.sort(compareBlocks);
  }
}

/** τ_int of every operator at every level, in measurements. */
export interface OperatorTauTable {
  /** tau[n][a]: level n, operator a (even first). */
  tau: TauIntResult[][];
  /** The largest τ_int with its error and where it occurs. */
  max: { tauInt: number; tauIntError: number; level: number; operator: number; name: string };
  /** False when some window did not converge (series too short for its τ_int). */
  converged: boolean;
  /** Measurements in each series. */
  n: number;
}

/**
 * Replica-averaged time series of every operator at every level, kept while a run measures, for τ_int. Pooled
 * over replicas as src/stats's Ising estimators do: the series is the per-measurement mean over replicas, whose
 * autocorrelation function is that of one replica; its τ_int error is the Madras–Sokal error of that series.
 */
export class OperatorSeries {
  readonly layout: OperatorLayout;
  readonly replicas: number;
  private readonly stride: number;
  private data: Float64Array;
  private length = 0;

  constructor(layout: OperatorLayout, replicas: number) {
    this.layout = checkLayout(layout);
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new RangeError(`replica count ${replicas} must be an integer ≥ 1`);
    this.replicas = replicas;
    this.stride = (layout.levels + 1) * operatorCount(layout);
    this.data = new Float64Array(this.stride * 64);
  }

  /** Measurements recorded. */
  get measurements(): number {
    return this.length;
  }

  /** Adds k ≥ 1 measurements: `values` [k × replicas × (levels + 1) × P], as McrgAccumulator.add. */
  add(values: ArrayLike<number>): void {
    const per = this.replicas * this.stride;
    if (values.length === 0 || values.length % per !== 0)
      throw new RangeError(
        `operator values hold ${values.length} numbers; a measurement of ${this.replicas} replicas is ${per}`,
      );
    const k = values.length / per;
    if ((this.length + k) * this.stride > this.data.length) {
      const grown = new Float64Array(Math.max(this.data.length * 2, (this.length + k) * this.stride));
      grown.set(this.data.subarray(0, this.length * this.stride));
      this.data = grown;
    }
    for (let j = 0; j < k; j++) {
      const out = (this.length + j) * this.stride;
      for (let r = 0; r < this.replicas; r++) {
        const base = j * per + r * this.stride;
        for (let i = 0; i < this.stride; i++)
          this.data[out + i] = (this.data[out + i] as number) + (values[base + i] as number) / this.replicas;
      }
    }
    this.length += k;
  }

  /** A copy of the recorded series, [measurements × (levels + 1) × P] (what `restore` takes back). */
  values(): Float64Array {
    return this.data.slice(0, this.length * this.stride);
  }

  /**
   * Puts a fresh series in the state `values` (another series' `values()`) describe: further `add`s and
   * `tauInt` continue exactly. Throws RangeError unless the length is whole measurements of finite numbers.
   */
  restore(values: ArrayLike<number>): void {
    if (this.length !== 0)
      throw new RangeError(`restore needs a fresh series; this one holds ${this.length} measurements`);
    if (values.length % this.stride !== 0)
      throw new RangeError(
        `series of ${values.length} numbers is not whole measurements of ${this.layout.levels + 1} levels × ` +
          `${operatorCount(this.layout)} operators = ${this.stride}`,
      );
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i])) throw new RangeError(`series value ${i} = ${values[i]} is not finite`);
    this.data = new Float64Array(Math.max(this.stride * 64, values.length));
    this.data.set(values);
    this.length = values.length / this.stride;
  }

  /** The replica-averaged series of operator `a` at level `n`. */
  series(n: number, a: number): Float64Array {
    const p = operatorCount(this.layout);
    const out = new Float64Array(this.length);
    for (let t = 0; t < this.length; t++) out[t] = this.data[t * this.stride + n * p + a] as number;
    return out;
  }

  /** τ_int (in measurements) of every operator at every level, by src/stats (Sokal's automatic window). */
  tauInt(options: WindowOptions = {}): OperatorTauTable {
    if (this.length < 2)
      throw new RangeError(`τ_int needs at least 2 measurements; ${this.length} were recorded`);
    const p = operatorCount(this.layout);
    const tau: TauIntResult[][] = [];
    let max = { tauInt: -Infinity, tauIntError: 0, level: 0, operator: 0, name: '' };
    let converged = true;
    for (let n = 0; n <= this.layout.levels; n++) {
      const row: TauIntResult[] = [];
      for (let a = 0; a < p; a++) {
        const t = integratedAutocorrelationTime(this.series(n, a), options);
        row.push(t);
        converged &&= t.converged;
        if (t.tauInt > max.tauInt)
          max = {
            tauInt: t.tauInt,
            tauIntError: t.tauIntError,
            level: n,
            operator: a,
            name: operatorName(this.layout, a),
          };
      }
      tau.push(row);
    }
    return { tau, max, converged, n: this.length };
  }
}

/** τ_int table of a whole history [measurements × replicas × (levels + 1) × P] (see OperatorSeries). */
export function operatorTauInt(
  values: ArrayLike<number>,
  layout: OperatorLayout,
  replicas: number,
  options: WindowOptions = {},
): OperatorTauTable {
  const series = new OperatorSeries(layout, replicas);
  series.add(values);
  return series.tauInt(options);
}

/**
 * A jackknife block length of at least `factor` (default 10) × the largest τ_int (in measurements), rounded up;
 * at least `minimum` (default 1). With `maxAbs`, refuses a length beyond the exactness bound, naming both.
 */
export function proposeBlockLength(
  tau: number | OperatorTauTable,
  options: { factor?: number; minimum?: number; maxAbs?: number } = {},
): number {
  const t = typeof tau === 'number' ? tau : tau.max.tauInt;
  const factor = options.factor ?? 10;
  if (!Number.isFinite(t)) throw new RangeError(`τ_int = ${t} is not finite`);
  if (!Number.isFinite(factor) || factor <= 0)
    throw new RangeError(`factor ${factor} must be finite and > 0`);
  const length = Math.max(Math.ceil(factor * Math.max(t, 0.5)), options.minimum ?? 1);
  if (options.maxAbs !== undefined) {
    const longest = maxExactBlockLength(options.maxAbs);
    if (length > longest)
      throw new RangeError(
        `a block of ${factor} × τ_int = ${length} measurements exceeds the exact limit of ${longest} ` +
          `(2^53 / maxAbs², maxAbs = ${options.maxAbs}); measure less often (larger --every) so τ_int shrinks`,
      );
  }
  return length;
}

/**
 * τ_int (in measurements) of every operator at every level from the blocks alone, by binning: with bins of ℓ
 * measurements, τ ≈ ℓ·Var(bin means) / (2·Var(S)) (pooled variance). A function of the blocks only, so a merged
 * result and the unsplit run give the same value. The estimate is biased low by about τ/ℓ, so bins are made as
 * long as the data allow: each replica's consecutive full-length blocks are joined 1, 2, 4, … at a time, and the
 * longest bins of which there are still at least `minBins` give the estimate. Returns the largest τ over
 * operators and levels with where it occurs and the bin length used; null with fewer than 2 full blocks.
 */
export function blockTauInt(
  blocks: readonly McrgBlock[],
  layout: OperatorLayout,
  options: { minBins?: number } = {},
): { tauInt: number; level: number; operator: number; name: string; bins: number; binLength: number } | null {
  const minBins = options.minBins ?? 64;
  const length = blocks.reduce((m, b) => Math.max(m, b.count), 0);
  const full = blocks.filter((b) => b.count === length);
  if (full.length < 2 || length < 1) return null;
  const p = operatorCount(layout);
  const stride = (layout.levels + 1) * p;
  // Pooled mean and variance of every operator, from the full blocks.
  const count = full.length * length;
  const mean = new Float64Array(stride);
  const variance = new Float64Array(stride);
  for (let i = 0; i < stride; i++) {
    const ii = i * p + (i % p);
    let sum = 0;
    let squares = 0;
    for (const b of full) {
      sum += b.sums[i] as number;
      squares += b.products[ii] as number;
    }
    mean[i] = sum / count;
    variance[i] = squares / count - (sum / count) ** 2;
  }
  /** Bins of `f` consecutive full blocks of one replica (sums only). */
  const binsOf = (f: number): Float64Array[] => {
    const out: Float64Array[] = [];
    let run: { replica: number; start: number; n: number; sums: Float64Array } | null = null;
    for (const b of full) {
      if (!run || run.replica !== b.replica || run.start + run.n * length !== b.start) {
        run = { replica: b.replica, start: b.start, n: 0, sums: new Float64Array(stride) };
      }
      for (let i = 0; i < stride; i++) run.sums[i] = (run.sums[i] as number) + (b.sums[i] as number);
      if (++run.n === f) {
        out.push(run.sums);
        run = null;
      }
    }
    return out;
  };
  let f = 1;
  let bins = binsOf(1);
  for (let next = binsOf(2); next.length >= minBins; next = binsOf(f * 2)) {
    f *= 2;
    bins = next;
  }
  if (bins.length < 2) return null;
  const binLength = f * length;
  let best = {
    tauInt: 0,
    level: 0,
    operator: 0,
    name: operatorName(layout, 0),
    bins: bins.length,
    binLength,
  };
  for (let i = 0; i < stride; i++) {
    if (!((variance[i] as number) > 0)) continue;
    let spread = 0;
    for (const bin of bins) spread += ((bin[i] as number) / binLength - (mean[i] as number)) ** 2;
    const tau = (binLength * (spread / (bins.length - 1))) / (2 * (variance[i] as number));
    if (tau > best.tauInt) {
      const a = i % p;
      best = {
        tauInt: tau,
        level: (i - a) / p,
        operator: a,
        name: operatorName(layout, a),
        bins: bins.length,
        binLength,
      };
    }
  }
  return best;
}
