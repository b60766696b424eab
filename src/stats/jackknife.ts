/**
 * Delete-one-block jackknife for nonlinear functions of means (specific heat, susceptibility, Binder cumulant,
 * exponents from eigenvalues). The time series of P primary quantities is cut into B contiguous blocks
 * (`blockMeans`); with blocks much longer than τ_int the block means are nearly independent, so the jackknife
 * also absorbs the autocorrelation.
 *
 * With x̄ the mean of the block means and x̄₍ₖ₎ the mean without block k:
 *   θ̂ = f(x̄), θₖ = f(x̄₍ₖ₎), θ̄ = (1/B) Σ θₖ,
 *   err² = (B−1)/B · Σ (θₖ − θ̄)², bias = (B−1)(θ̄ − θ̂), bias-corrected estimate θ̂ − bias.
 * For a linear f, err is exactly the standard error of the block means and the bias is 0.
 */

import { checkSeries } from './autocorrelation.ts';

/** A jackknife estimate of f(means). */
export interface JackknifeResult {
  /** f evaluated at the means over all blocks (the estimate to report). */
  value: number;
  /** Jackknife standard error. */
  err: number;
  /** Jackknife bias estimate (B−1)(θ̄ − θ̂); O(1/n), usually far below err. */
  bias: number;
  /** value − bias. */
  corrected: number;
  /** Number of blocks B. */
  blocks: number;
}

/**
 * Jackknife of f over B blocks, each a vector of P block means (`blocks[k][p]`); f receives a fresh Float64Array
 * of P means.
 * @example jackknife(blockMeans([e, e2], 32), ([m1, m2]) => m2 - m1 * m1)
 */
export function jackknife(
  blocks: ArrayLike<ArrayLike<number>>,
  f: (means: Float64Array) => number,
): JackknifeResult {
  const nBlocks = blocks.length;
  if (nBlocks < 2) throw new RangeError(`jackknife needs at least 2 blocks; got ${nBlocks}`);
  const first = blocks[0] as ArrayLike<number>;
  const p = first.length;
  if (p < 1) throw new RangeError('jackknife blocks hold 0 quantities; at least 1 is needed');
  const totals = new Float64Array(p);
  for (let k = 0; k < nBlocks; k++) {
    const block = blocks[k] as ArrayLike<number>;
    if (block.length !== p) {
      throw new RangeError(`block ${k} holds ${block.length} quantities; block 0 holds ${p}`);
    }
    checkSeries(block, `block ${k}`);
    for (let j = 0; j < p; j++) totals[j] = (totals[j] as number) + (block[j] as number);
  }
  const full = new Float64Array(p);
  for (let j = 0; j < p; j++) full[j] = (totals[j] as number) / nBlocks;
  const value = f(full.slice());
  const loo = new Float64Array(nBlocks);
  let sum = 0;
  for (let k = 0; k < nBlocks; k++) {
    const block = blocks[k] as ArrayLike<number>;
    const means = new Float64Array(p);
    for (let j = 0; j < p; j++) means[j] = ((totals[j] as number) - (block[j] as number)) / (nBlocks - 1);
    const theta = f(means);
    loo[k] = theta;
    sum += theta;
  }
  const average = sum / nBlocks;
  let ss = 0;
  for (let k = 0; k < nBlocks; k++) ss += ((loo[k] as number) - average) ** 2;
  const bias = (nBlocks - 1) * (average - value);
  return {
    value,
    err: Math.sqrt(((nBlocks - 1) / nBlocks) * ss),
    bias,
    corrected: value - bias,
    blocks: nBlocks,
  };
}

/**
 * Cuts P equally long series (`columns[p][i]`) into `blocks` contiguous blocks of ⌊n/blocks⌋ samples and returns
 * the per-block means, `result[k][p]`. The n mod blocks leading samples (the earliest, least equilibrated) are
 * dropped so that all blocks weigh the same.
 */
export function blockMeans(columns: ArrayLike<ArrayLike<number>>, blocks: number): Float64Array[] {
  const p = columns.length;
  if (p < 1) throw new RangeError('blockMeans needs at least 1 column; got 0');
  const n = (columns[0] as ArrayLike<number>).length;
  for (let j = 0; j < p; j++) {
    const column = columns[j] as ArrayLike<number>;
    if (column.length !== n)
      throw new RangeError(`column ${j} has ${column.length} samples; column 0 has ${n}`);
    checkSeries(column, `column ${j}`);
  }
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > n) {
    throw new RangeError(`block count ${blocks} must be an integer in [1, ${n}] (series length ${n})`);
  }
  const size = Math.floor(n / blocks);
  const skip = n - blocks * size;
  const out: Float64Array[] = [];
  for (let k = 0; k < blocks; k++) {
    const means = new Float64Array(p);
    const start = skip + k * size;
    for (let j = 0; j < p; j++) {
      const column = columns[j] as ArrayLike<number>;
      let s = 0;
      for (let i = start; i < start + size; i++) s += column[i] as number;
      means[j] = s / size;
    }
    out.push(means);
  }
  return out;
}

/** jackknife(blockMeans(columns, blocks), f): jackknife of f over contiguous blocks of the raw series. */
export function jackknifeSeries(
  columns: ArrayLike<ArrayLike<number>>,
  blocks: number,
  f: (means: Float64Array) => number,
): JackknifeResult {
  return jackknife(blockMeans(columns, blocks), f);
}
