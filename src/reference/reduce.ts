/**
 * CPU oracle of the segmented reductions (src/gpu/reduce.ts, shaders/common/reduce*.wgsl): per segment
 * the sum, the sum of squares, the minimum and the maximum.
 *
 * Integer inputs give exact BigInt sums (`exactSum`, `exactSumSquares`); f32 inputs are summed in f64
 * with Neumaier's compensation (squares of f32 values are exact in f64), so the oracle's own error is
 * about one f64 rounding of the result, far below what the GPU's f32 arithmetic can reach.
 */
import type { ReductionResult } from '../gpu/reduce.ts';

/** Which elements to reduce: segment r is data[inputOffset + r·length … inputOffset + (r+1)·length). */
export interface ReferenceReductionOptions {
  /** Number of segments (default 1). */
  segments?: number;
  /** Elements per segment (default: all elements after `inputOffset`, split evenly over the segments). */
  length?: number;
  /** First element of segment 0 (default 0). */
  inputOffset?: number;
}

// Integer partial sums stay in f64 for CHUNK elements, then flush to BigInt. Every term is below 2^32 in
// magnitude, so CHUNK = 2^20 terms keep each f64 accumulator below 2^52: exact.
const CHUNK = 1 << 20;

/** Per-segment sum, sum of squares, min and max of `data`, as the GPU reduction should report them. */
export function reduceReference(
  data: Uint32Array | Int32Array | Float32Array,
  options: ReferenceReductionOptions = {},
): ReductionResult[] {
  const segments = options.segments ?? 1;
  const inputOffset = options.inputOffset ?? 0;
  const length = options.length ?? Math.floor((data.length - inputOffset) / segments);
  if (!Number.isInteger(segments) || segments < 1)
    throw new RangeError(`segment count ${segments} must be ≥ 1`);
  if (!Number.isInteger(inputOffset) || inputOffset < 0)
    throw new RangeError(`input offset ${inputOffset} must be ≥ 0`);
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`segment length ${length} must be ≥ 1`);
  const end = inputOffset + segments * length;
  if (end > data.length) {
    throw new RangeError(
      `${segments} × ${length} elements from offset ${inputOffset} need ${end}; data has ${data.length}`,
    );
  }
  const out: ReductionResult[] = [];
  for (let r = 0; r < segments; r++) {
    const start = inputOffset + r * length;
    const segment = data.subarray(start, start + length);
    out.push(segment instanceof Float32Array ? reduceFloat(segment) : reduceInteger(segment));
  }
  return out;
}

/** Exact integer statistics: sums split into < 2^32 terms, accumulated in f64 chunks, flushed to BigInt. */
function reduceInteger(segment: Uint32Array | Int32Array): ReductionResult {
  let exactSum = 0n;
  let exactSumSquares = 0n;
  let min = Infinity;
  let max = -Infinity;
  for (let begin = 0; begin < segment.length; begin += CHUNK) {
    const stop = Math.min(begin + CHUNK, segment.length);
    // |x| < 2^32, so a chunk's plain sum stays below 2^52. Squares are split: with |x| = hi·2^16 + lo,
    // x² = hi²·2^32 + hi·lo·2^17 + lo², each term < 2^32.
    let sum = 0;
    let sqHH = 0;
    let sqHL = 0;
    let sqLL = 0;
    for (let i = begin; i < stop; i++) {
      const x = segment[i] as number;
      if (x < min) min = x;
      if (x > max) max = x;
      sum += x;
      const m = Math.abs(x);
      const mHi = Math.floor(m / 65536);
      const mLo = m - mHi * 65536;
      sqHH += mHi * mHi;
      sqHL += mHi * mLo;
      sqLL += mLo * mLo;
    }
    exactSum += BigInt(sum);
    exactSumSquares += (BigInt(sqHH) << 32n) + (BigInt(sqHL) << 17n) + BigInt(sqLL);
  }
  return { sum: Number(exactSum), sumSquares: Number(exactSumSquares), min, max, exactSum, exactSumSquares };
}

/** f64 statistics of f32 values with Neumaier-compensated sums. */
function reduceFloat(segment: Float32Array): ReductionResult {
  const sum = new NeumaierSum();
  const sumSquares = new NeumaierSum();
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < segment.length; i++) {
    const x = segment[i] as number;
    sum.add(x);
    sumSquares.add(x * x); // exact: a 24-bit significand squared fits in f64's 53 bits
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { sum: sum.value, sumSquares: sumSquares.value, min, max };
}

/** Neumaier's improved Kahan–Babuška summation in f64. */
class NeumaierSum {
  private s = 0;
  private c = 0;

  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }

  /** The compensated total (the plain sum once it is infinite or NaN: no error term is meaningful). */
  get value(): number {
    return Number.isFinite(this.s) ? this.s + this.c : this.s;
  }
}
