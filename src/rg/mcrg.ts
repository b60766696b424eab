/**
 * MCRG analysis from per-block sufficient statistics (src/rg/statistics.ts; PHYSICS.md, "Monte Carlo
 * renormalization group" and "MCRG practice").
 *
 * For each RG step n = 1 … levels (N_r = n) and each truncation N_c (the first N_c even, or the first N_c odd,
 * operators): A_ac = ⟨S_a⁽ⁿ⁾S_c⁽ⁿ⁾⟩ − ⟨S_a⁽ⁿ⁾⟩⟨S_c⁽ⁿ⁾⟩, B_ab = ⟨S_a⁽ⁿ⁾S_b⁽ⁿ⁻¹⁾⟩ − ⟨S_a⁽ⁿ⁾⟩⟨S_b⁽ⁿ⁻¹⁾⟩ from the pooled sums of
 * all blocks, T = A⁻¹B (ml-matrix's LU solve), its eigenvalues (ml-matrix's EigenvalueDecomposition, which
 * handles non-symmetric matrices), λ = the eigenvalue with the largest real part and y = ln λ / ln b (complex
 * logarithm: value ln|λ|/ln b, imaginary part arg λ / ln b reported when λ is complex). Even and odd operators
 * do not mix at h = 0, so the two sectors are analysed separately: y_t from the even, y_h from the odd one.
 *
 * Errors: the delete-one-block jackknife of src/stats (`jackknife`) over the blocks, applied to the blocks' raw
 * sums v_k = [count, ΣS, ΣSS, ΣS⁽ⁿ⁾S⁽ⁿ⁻¹⁾]. Every estimate is a ratio of these sums (homogeneous of degree 0), so
 * the jackknife's f(Σ_{j≠k} v_j / (B−1)) is exactly the pooled estimate without block k, whatever the blocks'
 * counts — a block cut short by the end of a run weighs by its count. The variance formula (B−1)/B Σ(θ_k − θ̄)²
 * needs no weights to first order in count_k/n: θ_k − θ̂ scales as count_k times the block's deviation, whose
 * variance scales as 1/count_k, so each block contributes in proportion to its count, as it should.
 */

import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';
import { jackknife } from '../stats/index.ts';
import {
  checkBlock,
  checkLayout,
  operatorCount,
  operatorName,
  type McrgBlock,
  type OperatorLayout,
} from './statistics.ts';

/** One entry of a y or λ table. */
export interface McrgEstimate {
  /** RG step N_r (1 … levels): the transformation from lattice step − 1 to lattice step. */
  step: number;
  /** Operators in the truncation, N_c. */
  nc: number;
  /** The estimate from all blocks (real part for a complex eigenvalue). */
  value: number;
  /** Jackknife standard error. */
  err: number;
  /** Imaginary part of the estimate, present only when the leading eigenvalue is complex. */
  imag?: number;
}

/** The exponents and eigenvalues of an MCRG run, each list ordered by step, then nc. */
export interface McrgAnalysis {
  /** Measurements analysed (Σ counts over blocks and replicas). */
  samples: number;
  /** Blocks stored (each blockLength measurements of one replica, or fewer where a run stopped). */
  blocks: number;
  /** Blocks of the jackknife: `blocks`, or maxJackknifeBlocks groups of consecutive blocks. */
  jackknifeBlocks: number;
  /** Nominal measurements per block. */
  blockLength: number;
  /** y_t from the even sector, N_c = 1 … even. */
  yt: McrgEstimate[];
  /** y_h from the odd sector, N_c = 1 … odd. */
  yh: McrgEstimate[];
  /** Leading eigenvalue of the even T. */
  lambdaEven: McrgEstimate[];
  /** Leading eigenvalue of the odd T. */
  lambdaOdd: McrgEstimate[];
}

/** Options of analyseMcrg. */
export interface McrgAnalysisOptions {
  layout: OperatorLayout;
  /** Linear scale factor of one blocking (integer ≥ 2). */
  b: number;
  /** Nominal block length, reported (default: the largest block count). */
  blockLength?: number;
  /** Fewest blocks for a jackknife (default 10). */
  minBlocks?: number;
  /**
   * Most jackknife blocks (default: no limit). With more stored blocks, consecutive blocks (in the given order,
   * canonically (seed, replica, start)) are summed into this many groups of nearly equal numbers of blocks: the
   * same estimate (to rounding), an error from fewer, longer blocks, and B× less work (each jackknife sample costs one
   * eigen-decomposition per step and N_c). Useful for live tables over 10⁴ blocks and more.
   */
  maxJackknifeBlocks?: number;
  /**
   * A is refused as (nearly) singular when the condition number of its correlation matrix
   * A_ac/√(A_aa A_cc) exceeds this (default 1e10: the cancellation in ⟨SS⟩ − ⟨S⟩⟨S⟩ leaves ~12 digits on 128²).
   */
  conditionLimit?: number;
}

/** A complex eigenvalue. */
export interface Eigenvalue {
  re: number;
  im: number;
}

/** Eigenvalues of a square (possibly non-symmetric) matrix by ml-matrix, as {re, im}. */
export function eigenvalues(T: Matrix): Eigenvalue[] {
  const evd = new EigenvalueDecomposition(T);
  return evd.realEigenvalues.map((re, i) => ({ re, im: evd.imaginaryEigenvalues[i] as number }));
}

/** The eigenvalue with the largest real part (of a complex pair, the one with positive imaginary part). */
export function leadingEigenvalue(T: Matrix): Eigenvalue {
  let best: Eigenvalue | null = null;
  for (const e of eigenvalues(T)) {
    if (!Number.isFinite(e.re) || !Number.isFinite(e.im))
      throw new RangeError(`T has a non-finite eigenvalue ${e.re} + ${e.im}i`);
    if (!best || e.re > best.re || (e.re === best.re && e.im > best.im)) best = e;
  }
  if (!best) throw new RangeError('T is empty');
  return best;
}

/**
 * Pooled sums of a step and sector as one reduced vector per block:
 * [count, ΣS⁽ⁿ⁾ (k), ΣS⁽ⁿ⁻¹⁾ (k), ΣS⁽ⁿ⁾S⁽ⁿ⁾ (k×k), ΣS⁽ⁿ⁾S⁽ⁿ⁻¹⁾ (k×k)] over the sector's k operators.
 */
function sectorVector(block: McrgBlock, p: number, step: number, first: number, k: number): Float64Array {
  const v = new Float64Array(1 + 2 * k + 2 * k * k);
  v[0] = block.count;
  for (let a = 0; a < k; a++) {
    v[1 + a] = block.sums[step * p + first + a] as number;
    v[1 + k + a] = block.sums[(step - 1) * p + first + a] as number;
    for (let c = 0; c < k; c++) {
      v[1 + 2 * k + a * k + c] = block.products[(step * p + first + a) * p + first + c] as number;
      v[1 + 2 * k + k * k + a * k + c] = block.cross[((step - 1) * p + first + a) * p + first + c] as number;
    }
  }
  return v;
}

/** Connected A (level n, n) and B (level n vs n − 1) of the first nc operators of a sector vector (any scale). */
function connected(v: ArrayLike<number>, k: number, nc: number): { A: Matrix; B: Matrix } {
  const count = v[0] as number;
  const A = new Matrix(nc, nc);
  const B = new Matrix(nc, nc);
  for (let a = 0; a < nc; a++) {
    const ma = (v[1 + a] as number) / count;
    for (let c = 0; c < nc; c++) {
      const mc = (v[1 + c] as number) / count;
      const mPrev = (v[1 + k + c] as number) / count;
      A.set(a, c, (v[1 + 2 * k + a * k + c] as number) / count - ma * mc);
      B.set(a, c, (v[1 + 2 * k + k * k + a * k + c] as number) / count - ma * mPrev);
    }
  }
  return { A, B };
}

/** T = A⁻¹B of the first nc operators of a sector vector. */
function transfer(v: ArrayLike<number>, k: number, nc: number): Matrix {
  const { A, B } = connected(v, k, nc);
  return solve(A, B);
}

/**
 * Connected matrices of step `step` (A at level step, B between levels step and step − 1) for the first `nc`
 * operators of a sector, from pooled blocks; for tests and diagnostics.
 */
export function connectedMatrices(
  blocks: readonly McrgBlock[],
  layout: OperatorLayout,
  step: number,
  sector: 'even' | 'odd',
  nc?: number,
): { A: Matrix; B: Matrix; T: Matrix } {
  checkLayout(layout);
  const p = operatorCount(layout);
  const k = sector === 'even' ? layout.even : layout.odd;
  const first = sector === 'even' ? 0 : layout.even;
  const n = nc ?? k;
  if (!Number.isInteger(step) || step < 1 || step > layout.levels)
    throw new RangeError(`step ${step} must be an integer in 1 … ${layout.levels}`);
  if (!Number.isInteger(n) || n < 1 || n > k)
    throw new RangeError(`N_c = ${n} must be an integer in 1 … ${k}`);
  const total = new Float64Array(1 + 2 * k + 2 * k * k);
  for (const block of blocks) {
    const v = sectorVector(block, p, step, first, k);
    for (let i = 0; i < v.length; i++) total[i] = (total[i] as number) + (v[i] as number);
  }
  const { A, B } = connected(total, k, n);
  return { A, B, T: solve(A, B) };
}

/** Sums consecutive vectors into `groups` groups: group j holds vectors ⌊jB/G⌋ … ⌊(j+1)B/G⌋ − 1. */
function groupSums(vectors: Float64Array[], groups: number): Float64Array[] {
  const B = vectors.length;
  if (groups >= B) return vectors;
  const out: Float64Array[] = [];
  for (let j = 0; j < groups; j++) {
    const sum = new Float64Array(vectors[0]!.length);
    for (let i = Math.floor((j * B) / groups); i < Math.floor(((j + 1) * B) / groups); i++) {
      const v = vectors[i] as Float64Array;
      for (let x = 0; x < v.length; x++) sum[x] = (sum[x] as number) + (v[x] as number);
    }
    out.push(sum);
  }
  return out;
}

/**
 * Throws RangeError when A of a sector at level `level` is singular or nearly so, naming the degenerate operators:
 * an operator without variance, or a set whose standardised combination (the correlation matrix's eigenvector of
 * its smallest eigenvalue) nearly vanishes, i.e. one is a linear combination of the others.
 */
function checkConditioning(
  total: ArrayLike<number>,
  k: number,
  layout: OperatorLayout,
  first: number,
  level: number,
  limit: number,
): void {
  const sector = first === 0 ? 'even' : 'odd';
  const { A } = connected(total, k, k);
  const count = total[0] as number;
  const flat: string[] = [];
  for (let a = 0; a < k; a++) {
    const raw = (total[1 + 2 * k + a * k + a] as number) / count;
    if (!(A.get(a, a) > raw / limit)) flat.push(operatorName(layout, first + a));
  }
  if (flat.length > 0)
    throw new RangeError(
      `MCRG: A at level ${level} (${sector} sector) is singular: ${flat.join(', ')} ` +
        `${flat.length > 1 ? 'have' : 'has'} no variance (constant on this lattice: is it too small for the operator?)`,
    );
  const R = new Matrix(k, k);
  for (let a = 0; a < k; a++)
    for (let c = 0; c < k; c++) R.set(a, c, A.get(a, c) / Math.sqrt(A.get(a, a) * A.get(c, c)));
  const evd = new EigenvalueDecomposition(R, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  let iMin = 0;
  let max = -Infinity;
  values.forEach((x, i) => {
    if (x < (values[iMin] as number)) iMin = i;
    max = Math.max(max, x);
  });
  const min = values[iMin] as number;
  if (min > max / limit) return;
  const v = evd.eigenvectorMatrix.getColumn(iMin);
  const vmax = Math.max(...v.map(Math.abs));
  const involved = v
    .map((x, a) => ({ x, a }))
    .filter(({ x }) => Math.abs(x) >= 0.05 * vmax)
    .map(({ x, a }, i) => {
      const c = Math.abs(x / vmax).toFixed(3);
      return `${x < 0 ? (i === 0 ? '−' : ' − ') : i === 0 ? '' : ' + '}${c}·${operatorName(layout, first + a)}`;
    });
  throw new RangeError(
    `MCRG: A at level ${level} (${sector} sector) is singular or nearly so: condition number ` +
      `${min > 0 ? (max / min).toExponential(2) : '∞'} of the correlation matrix exceeds ${limit.toExponential(0)}; ` +
      `these operators are (nearly) linearly dependent, the combination ${involved.join('')} of standardised ` +
      `operators has no variance`,
  );
}

/**
 * Exponents y_t (even) and y_h (odd) and the leading eigenvalues for every step and truncation, with jackknife
 * errors over the blocks (see the file comment).
 * @example analyseMcrg(acc.blocks(), { layout: layout2d(3), b: 2 }).yt.find((e) => e.step === 1 && e.nc === 7)
 */
export function analyseMcrg(blocks: readonly McrgBlock[], options: McrgAnalysisOptions): McrgAnalysis {
  const layout = checkLayout(options.layout);
  const { b } = options;
  if (!Number.isInteger(b) || b < 2) throw new RangeError(`scale factor b = ${b} must be an integer ≥ 2`);
  const minBlocks = options.minBlocks ?? 10;
  if (!Number.isInteger(minBlocks) || minBlocks < 2)
    throw new RangeError(`minBlocks ${minBlocks} must be an integer ≥ 2`);
  const limit = options.conditionLimit ?? 1e10;
  if (!(limit > 1)) throw new RangeError(`conditionLimit ${limit} must be > 1`);
  let samples = 0;
  let longest = 0;
  blocks.forEach((block, i) => {
    checkBlock(
      block,
      layout,
      `block ${i} (replica ${block?.replica}, start ${block?.start})`,
      Infinity,
      false,
    );
    samples += block.count;
    longest = Math.max(longest, block.count);
  });
  const blockLength = options.blockLength ?? longest;
  if (blocks.length < minBlocks)
    throw new RangeError(
      `MCRG jackknife: ${blocks.length} blocks (${samples} samples, block length ${blockLength}); at least ` +
        `${minBlocks} are needed: measure longer, use more replicas or shorter blocks`,
    );
  const maxGroups = options.maxJackknifeBlocks ?? Infinity;
  if (maxGroups !== Infinity && (!Number.isInteger(maxGroups) || maxGroups < minBlocks))
    throw new RangeError(`maxJackknifeBlocks ${maxGroups} must be an integer ≥ minBlocks = ${minBlocks}`);
  const groups = Math.min(blocks.length, maxGroups);
  const p = operatorCount(layout);
  const lnb = Math.log(b);
  const out: McrgAnalysis = {
    samples,
    blocks: blocks.length,
    jackknifeBlocks: groups,
    blockLength,
    yt: [],
    yh: [],
    lambdaEven: [],
    lambdaOdd: [],
  };
  for (const sector of ['even', 'odd'] as const) {
    const k = sector === 'even' ? layout.even : layout.odd;
    const first = sector === 'even' ? 0 : layout.even;
    for (let step = 1; step <= layout.levels; step++) {
      const vectors = groupSums(
        blocks.map((block) => sectorVector(block, p, step, first, k)),
        groups,
      );
      const total = new Float64Array(vectors[0]?.length ?? 0);
      for (const v of vectors)
        for (let i = 0; i < v.length; i++) total[i] = (total[i] as number) + (v[i] as number);
      checkConditioning(total, k, layout, first, step, limit);
      for (let nc = 1; nc <= k; nc++) {
        const where = `MCRG step ${step}, ${sector} sector, N_c = ${nc}`;
        const lead = (v: ArrayLike<number>, jack: boolean): Eigenvalue => {
          const e = leadingEigenvalue(transfer(v, k, nc));
          if (!(e.re > 0))
            throw new RangeError(
              `${where}: the leading eigenvalue of T is ${e.re}${e.im ? ` ${e.im < 0 ? '−' : '+'} ${Math.abs(e.im)}i` : ''} ` +
                `(real part ≤ 0)${jack ? ' in a jackknife sample (one block left out)' : ''}, so y = ln λ / ln b is undefined`,
            );
          return e;
        };
        const e = lead(total, false);
        const lambda = jackknife(vectors, (m) => lead(m, true).re);
        const y = jackknife(vectors, (m) => {
          const x = lead(m, true);
          return Math.log(Math.hypot(x.re, x.im)) / lnb;
        });
        const complex = e.im !== 0;
        const lambdaEntry: McrgEstimate = { step, nc, value: lambda.value, err: lambda.err };
        const yEntry: McrgEstimate = { step, nc, value: y.value, err: y.err };
        if (complex) {
          lambdaEntry.imag = e.im;
          yEntry.imag = Math.atan2(e.im, e.re) / lnb;
        }
        (sector === 'even' ? out.lambdaEven : out.lambdaOdd).push(lambdaEntry);
        (sector === 'even' ? out.yt : out.yh).push(yEntry);
      }
    }
  }
  return out;
}

/**
 * `value(err)` with the error's leading significant digit (two when it is a 1), e.g. 0.967(3), 1.0001(11),
 * 123(12). A zero or non-finite error prints the value alone.
 */
export function formatValueError(value: number, err: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (!Number.isFinite(err) || err <= 0) return value.toPrecision(6);
  const e = Math.floor(Math.log10(err));
  const digits = Math.floor(err / 10 ** e) === 1 ? 2 : 1;
  const rounded = Number(err.toPrecision(digits));
  const decimals = digits - 1 - e;
  if (decimals <= 0) return `${value.toFixed(0)}(${Math.round(err).toFixed(0)})`;
  return `${value.toFixed(decimals)}(${Math.round(rounded * 10 ** decimals)})`;
}

/**
 * A table laid out like Chung & Kao's Table 1: one row per N_c, one column per N_r, cells `value(err)`; a `*`
 * marks a complex leading eigenvalue (its imaginary part is listed below the table).
 * @example formatMcrgTable(analysis.yt, { title: 'y_t', exact: 1 })
 */
export function formatMcrgTable(
  entries: readonly McrgEstimate[],
  options: { title?: string; exact?: number } = {},
): string {
  const steps = [...new Set(entries.map((e) => e.step))].sort((x, y) => x - y);
  const ncs = [...new Set(entries.map((e) => e.nc))].sort((x, y) => x - y);
  const head = ['N_c', ...steps.map((s) => `N_r = ${s}`)];
  const notes: string[] = [];
  const rows = ncs.map((nc) => [
    String(nc),
    ...steps.map((step) => {
      const e = entries.find((x) => x.step === step && x.nc === nc);
      if (!e) return '—';
      if (e.imag !== undefined)
        notes.push(`* N_r = ${step}, N_c = ${nc}: imaginary part ${e.imag.toPrecision(3)}`);
      return formatValueError(e.value, e.err) + (e.imag !== undefined ? '*' : '');
    }),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => c.padEnd(widths[j] as number))
      .join('  ')
      .trimEnd();
  const title =
    options.title !== undefined
      ? [`${options.title}${options.exact !== undefined ? ` (exact ${options.exact})` : ''}`]
      : [];
  return [...title, line(head), ...rows.map(line), ...notes].join('\n');
}
