/**
 * CPU oracle of the block-spin kernels (shaders/rg/*.wgsl and the RBM projector through shaders/rbm/conv.wgsl)
 * and of the MCRG operators, with the same counter-based random numbers:
 * - majority (2D, b = 2): sign of the 2×2 block sum at (2I, 2J); a zero sum → +1 iff word 0 of
 *   philox4x32((I·L_n + J, firstSample + r, step, streamWord(blockSpinTies, n)), seedKey(seed)) is odd;
 * - majority3: sign of the 3×3 block at (3I, 3J) (2D) or of sites 3i … 3i+2 (ring);
 * - decimation: the spin at (2I, 2J) (2D) or site 2i (ring);
 * - RBM projector: μ_j = +1 iff u < sigmoid(2 x_j), x_j = Σ_ab W_ab σ((bI + a) mod L, (bJ + b) mod L),
 *   u = unitFloat(word j mod 4 of philox4x32((⌊j/4⌋, firstSample + r, step, streamWord(rgProjector, n)), key)).
 *   Computed in f64 while the GPU sums in f32: `close` counts draws with |u − p| < 1e-5, the only ones that
 *   could differ (a test asserts none).
 * n is the level being made (1 … levels). Spins are ±1, [batch × sites], site = y·L + x.
 * The operators are written here as lists of offset products (a different form from the kernel's).
 */
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import type { ConvRbm } from '../rbm/model.ts';

export type ReferenceRule = 'majority' | 'majority3' | 'decimation' | { rbm: ConvRbm };

/** Offsets (row, column) of the spins of one product term. */
type Term = readonly (readonly [number, number])[];

/** 'ab cd …' → [[a, b], [c, d], …]: one product term as (row, column) digits. */
function term(text: string): Term {
  return text.split(' ').map((rc) => [Number(rc[0]), Number(rc[1])] as const);
}

/** The 2D operators as sums of product terms over the anchor's 3×3 patch (PHYSICS.md order: 7 even, 4 odd). */
export const OPERATOR_TERMS_2D: readonly (readonly Term[])[] = [
  ['00 01', '00 10'],
  ['00 11', '01 10'],
  ['00 01 10 11'],
  ['00 02', '00 20'],
  ['00 12', '01 20', '00 21', '02 10'],
  ['01 10 12 21'],
  ['00 22', '02 20'],
  ['00'],
  ['00 01 10', '00 01 11', '00 10 11', '01 10 11'],
  ['00 01 02', '00 10 20'],
  ['00 11 22', '02 11 20'],
].map((terms) => terms.map(term));

/** The ring operators: offsets along the ring. */
export const OPERATOR_TERMS_1D: readonly (readonly (readonly number[])[])[] = [[[0, 1]], [[0, 2]], [[0]]];

function siteCount(dims: 1 | 2, L: number): number {
  return dims === 2 ? L * L : L;
}

/** The operators of each configuration of a batch: Int32Array [batch × (11 | 3)]. */
export function measureOperators(
  spins: ArrayLike<number>,
  dims: 1 | 2,
  L: number,
  batch: number,
): Int32Array {
  const sites = siteCount(dims, L);
  if (spins.length !== batch * sites) throw new RangeError(`${spins.length} spins for ${batch} × ${sites}`);
  const count = dims === 2 ? OPERATOR_TERMS_2D.length : OPERATOR_TERMS_1D.length;
  const out = new Int32Array(batch * count);
  for (let r = 0; r < batch; r++) {
    const base = r * sites;
    if (dims === 2) {
      const s = (y: number, x: number): number => spins[base + (y % L) * L + (x % L)] as number;
      OPERATOR_TERMS_2D.forEach((terms, k) => {
        let sum = 0;
        for (let y = 0; y < L; y++) {
          for (let x = 0; x < L; x++) {
            for (const term of terms) sum += term.reduce((p, [dy, dx]) => p * s(y + dy, x + dx), 1);
          }
        }
        out[r * count + k] = sum;
      });
    } else {
      OPERATOR_TERMS_1D.forEach((terms, k) => {
        let sum = 0;
        for (let i = 0; i < L; i++) {
          for (const term of terms)
            sum += term.reduce((p, d) => p * (spins[base + ((i + d) % L)] as number), 1);
        }
        out[r * count + k] = sum;
      });
    }
  }
  return out;
}

export interface BlockLevelOptions {
  dims: 1 | 2;
  /** Side (ring length) of the fine lattice. */
  L: number;
  batch: number;
  rule: ReferenceRule;
  seed: number | bigint;
  /** Measurement index (the counter's step word). */
  step: number;
  /** The level being made (1 … levels): the counter's sub-stream. */
  level: number;
  firstSample?: number;
}

export interface BlockedLevel {
  spins: Int8Array;
  /** Coarse side. */
  L: number;
  /** Majority: 1 where the block sum was 0 (a coin decided it) [batch × coarse sites]. */
  ties: Uint8Array;
  /** RBM projector: draws within 1e-5 of their probability (f64 here, f32 on the GPU). */
  close: number;
}

/** One blocking of a batch of configurations. */
export function blockLevel(spins: ArrayLike<number>, o: BlockLevelOptions): BlockedLevel {
  const { dims, L, batch, rule, step, level } = o;
  const firstSample = o.firstSample ?? 0;
  const key = seedKey(o.seed);
  const rbm = typeof rule === 'object' ? rule.rbm : null;
  const b = rbm ? rbm.stride : rule === 'majority3' ? 3 : 2;
  if (L % b !== 0) throw new RangeError(`L ${L} is not divisible by b = ${b}`);
  const Lc = L / b;
  const fine = siteCount(dims, L);
  const sites = siteCount(dims, Lc);
  if (spins.length !== batch * fine) throw new RangeError(`${spins.length} spins for ${batch} × ${fine}`);
  const out = new Int8Array(batch * sites);
  const ties = new Uint8Array(batch * sites);
  let close = 0;
  for (let r = 0; r < batch; r++) {
    const s = (y: number, x: number): number =>
      spins[r * fine + (dims === 2 ? (y % L) * L + (x % L) : x % L)] as number;
    for (let c = 0; c < sites; c++) {
      const I = dims === 2 ? Math.floor(c / Lc) : 0;
      const J = dims === 2 ? c % Lc : c;
      let mu: number;
      if (rbm) {
        let x = 0;
        for (let a = 0; a < rbm.k; a++) {
          for (let d = 0; d < rbm.k; d++)
            x += Math.fround(rbm.W[a * rbm.k + d] as number) * s(b * I + a, b * J + d);
        }
        const p = 1 / (1 + Math.exp(-2 * x));
        const stream = streamWord(RngPurpose.rgProjector, level);
        const u = unitFloat(philox4x32([c >>> 2, firstSample + r, step, stream], key)[c & 3] as number);
        if (Math.abs(u - p) < 1e-5) close++;
        mu = u < p ? 1 : -1;
      } else if (rule === 'decimation') {
        mu = s(2 * I, 2 * J);
      } else {
        let sum = 0;
        for (let a = 0; a < (dims === 2 ? b : 1); a++)
          for (let d = 0; d < b; d++) sum += s(b * I + a, b * J + d);
        if (sum === 0) {
          const stream = streamWord(RngPurpose.blockSpinTies, level);
          const word = philox4x32([c, firstSample + r, step, stream], key)[0];
          mu = word & 1 ? 1 : -1;
          ties[r * sites + c] = 1;
        } else mu = Math.sign(sum);
      }
      out[r * sites + c] = mu;
    }
  }
  return { spins: out, L: Lc, ties, close };
}

export interface BlockRunOptions {
  dims: 1 | 2;
  L: number;
  batch: number;
  levels: number;
  rule: ReferenceRule;
  seed: number | bigint;
  step: number;
  firstSample?: number;
}

/**
 * Every level 0 … levels of a batch and the operators of each: `operators` is Int32Array
 * [batch × (levels + 1) × (11 | 3)], the GPU pipeline's layout of one slot.
 */
export function blockAndMeasure(
  spins: ArrayLike<number>,
  o: BlockRunOptions,
): { levels: Int8Array[]; sizes: number[]; operators: Int32Array; close: number } {
  const levels: Int8Array[] = [Int8Array.from(spins)];
  const sizes = [o.L];
  let close = 0;
  for (let n = 1; n <= o.levels; n++) {
    const blocked = blockLevel(levels[n - 1]!, { ...o, L: sizes[n - 1]!, level: n });
    levels.push(blocked.spins);
    sizes.push(blocked.L);
    close += blocked.close;
  }
  const count = o.dims === 2 ? OPERATOR_TERMS_2D.length : OPERATOR_TERMS_1D.length;
  const operators = new Int32Array(o.batch * (o.levels + 1) * count);
  levels.forEach((lattice, n) => {
    const perLevel = measureOperators(lattice, o.dims, sizes[n]!, o.batch);
    for (let r = 0; r < o.batch; r++) {
      operators.set(perLevel.subarray(r * count, (r + 1) * count), (r * (o.levels + 1) + n) * count);
    }
  });
  return { levels, sizes, operators, close };
}
