/**
 * Autocorrelation analysis of Monte Carlo time series (PHYSICS.md, "Monte Carlo error bars").
 *
 * Conventions, used throughout:
 * - Autocovariance Γ(t) = 1/(n−t) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄) (UWerr's normalisation), Γ(0) = Σ (x_i − x̄)²/n,
 *   and ρ(t) = Γ(t)/Γ(0), so ρ(0) = 1.
 * - τ_int(W) = ½ + Σ_{t=1}^{W} ρ(t); Sokal's automatic window is the smallest W ≥ c·τ_int(W) (c = 6 by default).
 * - Error of the mean: σ² = 2 τ_int s²/n with the unbiased sample variance s² (divisor n − 1); for iid data
 *   (τ_int = ½) this is the textbook s²/n.
 * - A constant series has no fluctuations: ρ(t) = 0 for t ≥ 1, τ_int = ½, every error 0 (never NaN).
 *
 * ρ(t) is computed lazily: the first lags by direct O(n) sums (a 10⁶-sample series with a window of ~60 costs
 * ~6·10⁷ multiply-adds); once a lag beyond DIRECT_LAG_LIMIT is needed, every lag is computed at once by FFT in
 * O(n log n), so slowly decorrelating series never cost O(n²).
 */

/** Lags computed by direct sums before switching to one FFT for all lags. */
const DIRECT_LAG_LIMIT = 64;

/** Options of Sokal's automatic windowing. */
export interface WindowOptions {
  /** Window factor: the window is the smallest W with W ≥ c·τ_int(W) (default 6; PHYSICS.md suggests 5–6). */
  c?: number;
  /** Largest window tried (default ⌊n/2⌋); reaching it without meeting the criterion gives `converged: false`. */
  maxWindow?: number;
}

/** Integrated autocorrelation time with its window. */
export interface TauIntResult {
  /** τ_int = ½ + Σ_{t=1}^{W} ρ(t) (½ for uncorrelated data; in units of the series' sampling interval). */
  tauInt: number;
  /** Madras–Sokal statistical error: τ_int·√(2(2W+1)/n). */
  tauIntError: number;
  /** The window W. */
  window: number;
  /** False when no W ≤ maxWindow satisfied W ≥ c·τ_int(W): the series is too short for its τ_int. */
  converged: boolean;
}

/** Mean of a correlated series with its τ_int-corrected error bar. */
export interface MeanWithError extends TauIntResult {
  mean: number;
  /** √(2 τ_int s²/n), s² with divisor n − 1. */
  err: number;
  /** Series length. */
  n: number;
}

/** Mean and error from non-overlapping bins. */
export interface BinningResult {
  /** Mean of the samples that were binned. */
  mean: number;
  /** Standard error of the bin means: √(Σ (b_k − b̄)² / (B(B−1))). */
  err: number;
  /** Number of bins B. */
  bins: number;
  binSize: number;
  /** Leading samples left out so that B·binSize samples remain (n mod binSize; the earliest, least equilibrated). */
  discarded: number;
}

/** How to cut a series into blocks (bins, jackknife blocks). */
export interface BlockOptions {
  /** Most blocks (default 32). */
  maxBlocks?: number;
  /** Fewest blocks used even when that makes blocks shorter than minBlockTau·τ_int (default 8). */
  minBlocks?: number;
  /** Wanted block length in units of τ_int (default 4). */
  minBlockTau?: number;
}

/** A block count chosen from τ_int. */
export interface BlockChoice {
  blocks: number;
  blockSize: number;
  /** True when blockSize ≥ minBlockTau·τ_int; false when the series was too short and minBlocks won. */
  wellBlocked: boolean;
}

/**
 * Centred copy of a series with Γ(0), answering ρ(t) on demand (direct sums for small t, FFT beyond).
 * Throws RangeError for fewer than `minLength` samples or a non-finite sample.
 */
export class Autocovariance {
  readonly n: number;
  readonly mean: number;
  /** Γ(0) = Σ (x_i − x̄)²/n. */
  readonly gamma0: number;
  /** All samples equal (or fluctuations below f64 resolution): ρ(t ≥ 1) = 0. */
  readonly constant: boolean;
  private readonly centred: Float64Array;
  private lagSums: Float64Array | null = null;

  /** Validates and centres `series`; `name` is used in error messages. */
  constructor(series: ArrayLike<number>, name = 'series', minLength = 2) {
    const n = checkSeries(series, name, minLength);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = series[i] as number;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    let mean = sum / n;
    // Second pass corrects the rounding of the first: x̄ ← x̄ + Σ(x − x̄)/n.
    let residual = 0;
    for (let i = 0; i < n; i++) residual += (series[i] as number) - mean;
    mean += residual / n;
    if (min === max) mean = min;
    const centred = new Float64Array(n);
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = (series[i] as number) - mean;
      centred[i] = d;
      ss += d * d;
    }
    this.n = n;
    this.mean = mean;
    this.gamma0 = ss / n;
    this.constant = min === max || ss === 0;
    this.centred = centred;
  }

  /** Normalised autocorrelation ρ(t) for 0 ≤ t < n. */
  rho(t: number): number {
    if (t === 0) return 1;
    if (this.constant) return 0;
    const n = this.n;
    const d = this.centred;
    let s: number;
    if (this.lagSums) {
      s = this.lagSums[t] as number;
    } else if (t <= DIRECT_LAG_LIMIT) {
      s = 0;
      for (let i = 0, j = t; j < n; i++, j++) s += (d[i] as number) * (d[j] as number);
    } else {
      this.lagSums = lagProductSums(d);
      s = this.lagSums[t] as number;
    }
    return s / (n - t) / this.gamma0;
  }

  /** Unbiased sample variance s² (divisor n − 1). */
  variance(): number {
    return (this.gamma0 * this.n) / (this.n - 1);
  }
}

/** Throws RangeError unless `series` has ≥ minLength finite samples; returns its length. */
export function checkSeries(series: ArrayLike<number>, name = 'series', minLength = 1): number {
  const n = series.length;
  if (n < minLength) throw new RangeError(`${name} has ${n} samples; at least ${minLength} are needed`);
  for (let i = 0; i < n; i++) {
    const x = series[i] as number;
    if (!Number.isFinite(x)) throw new RangeError(`${name}[${i}] = ${x} is not finite`);
  }
  return n;
}

/** Normalised autocorrelation ρ(0…maxLag) of `series` (ρ(0) = 1; default maxLag = n − 1). */
export function autocorrelation(series: ArrayLike<number>, maxLag?: number): Float64Array {
  const acov = new Autocovariance(series);
  const lastLag = maxLag ?? acov.n - 1;
  if (!Number.isInteger(lastLag) || lastLag < 0 || lastLag > acov.n - 1) {
    throw new RangeError(
      `maxLag ${lastLag} must be an integer in [0, ${acov.n - 1}] (series length ${acov.n})`,
    );
  }
  const out = new Float64Array(lastLag + 1);
  for (let t = 0; t <= lastLag; t++) out[t] = acov.rho(t);
  return out;
}

/** Sokal's automatic windowing on an Autocovariance (shared by τ_int, meanWithError and the Ising estimators). */
export function windowedTauInt(acov: Autocovariance, options: WindowOptions = {}): TauIntResult {
  const n = acov.n;
  const c = options.c ?? 6;
  if (!Number.isFinite(c) || c <= 0) throw new RangeError(`window factor c = ${c} must be finite and > 0`);
  const limit = Math.floor(n / 2);
  const maxWindow = options.maxWindow ?? limit;
  if (!Number.isInteger(maxWindow) || maxWindow < 0 || maxWindow > n - 1) {
    throw new RangeError(`maxWindow ${maxWindow} must be an integer in [0, ${n - 1}] (series length ${n})`);
  }
  if (acov.constant) return { tauInt: 0.5, tauIntError: 0, window: 0, converged: true };
  let tau = 0.5;
  for (let w = 1; w <= maxWindow; w++) {
    tau += acov.rho(w);
    if (w >= c * tau) return { tauInt: tau, tauIntError: madrasSokal(tau, w, n), window: w, converged: true };
  }
  return { tauInt: tau, tauIntError: madrasSokal(tau, maxWindow, n), window: maxWindow, converged: false };
}

function madrasSokal(tau: number, window: number, n: number): number {
  return Math.abs(tau) * Math.sqrt((2 * (2 * window + 1)) / n);
}

/** Integrated autocorrelation time of `series` with Sokal's automatic window (default c = 6). */
export function integratedAutocorrelationTime(
  series: ArrayLike<number>,
  options: WindowOptions = {},
): TauIntResult {
  return windowedTauInt(new Autocovariance(series), options);
}

/** Mean of `series` with error √(2 τ_int s²/n) (s² with divisor n − 1; τ_int by automatic windowing). */
export function meanWithError(series: ArrayLike<number>, options: WindowOptions = {}): MeanWithError {
  const acov = new Autocovariance(series);
  const tau = windowedTauInt(acov, options);
  return { mean: acov.mean, err: errorFromTau(acov, tau.tauInt), n: acov.n, ...tau };
}

/**
 * √(2 τ s²/n). A strongly alternating series can give τ_int < 0 (Σρ oscillates); τ is then clamped at 0 and the
 * error reads 0 — use binningError for such data.
 */
export function errorFromTau(acov: Autocovariance, tauInt: number): number {
  if (acov.constant) return 0;
  return Math.sqrt((2 * Math.max(tauInt, 0) * acov.variance()) / acov.n);
}

/** Mean and standard error from ⌊n/binSize⌋ contiguous bins (the n mod binSize leading samples are dropped). */
export function binningError(series: ArrayLike<number>, binSize: number): BinningResult {
  const n = checkSeries(series, 'series', 2);
  if (!Number.isInteger(binSize) || binSize < 1 || binSize > n / 2) {
    throw new RangeError(
      `bin size ${binSize} must be an integer in [1, ${Math.floor(n / 2)}] (≥ 2 bins of ${n} samples)`,
    );
  }
  const bins = Math.floor(n / binSize);
  const discarded = n - bins * binSize;
  const means = new Float64Array(bins);
  let total = 0;
  for (let b = 0; b < bins; b++) {
    let s = 0;
    const start = discarded + b * binSize;
    for (let i = start; i < start + binSize; i++) s += series[i] as number;
    means[b] = s / binSize;
    total += s / binSize;
  }
  const mean = total / bins;
  let ss = 0;
  for (let b = 0; b < bins; b++) ss += ((means[b] as number) - mean) ** 2;
  return { mean, err: Math.sqrt(ss / (bins * (bins - 1))), bins, binSize, discarded };
}

/**
 * Block count for a series of n samples with autocorrelation time τ_int: min(maxBlocks, ⌊n/⌈minBlockTau·τ⌉⌋),
 * but never fewer than minBlocks (nor more than n). When the series is too short for minBlocks blocks of
 * minBlockTau·τ_int samples, minBlocks shorter blocks are used and `wellBlocked` is false: errors from such
 * blocks miss part of the correlation and come out too small.
 */
export function chooseBlocks(n: number, tauInt: number, options: BlockOptions = {}): BlockChoice {
  const maxBlocks = options.maxBlocks ?? 32;
  const minBlockTau = options.minBlockTau ?? 4;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`series length ${n} must be an integer ≥ 2`);
  if (!Number.isFinite(tauInt)) throw new RangeError(`τ_int = ${tauInt} is not finite`);
  if (!Number.isInteger(maxBlocks) || maxBlocks < 2)
    throw new RangeError(`maxBlocks ${maxBlocks} must be an integer ≥ 2`);
  const minBlocks = Math.min(options.minBlocks ?? 8, maxBlocks);
  if (!Number.isInteger(minBlocks) || minBlocks < 2)
    throw new RangeError(`minBlocks ${minBlocks} must be an integer ≥ 2`);
  if (!Number.isFinite(minBlockTau) || minBlockTau < 0) {
    throw new RangeError(`minBlockTau ${minBlockTau} must be finite and ≥ 0`);
  }
  const tau = Math.max(tauInt, 0.5);
  const wanted = Math.max(1, Math.ceil(minBlockTau * tau));
  const byTau = Math.floor(n / wanted);
  const blocks = Math.min(maxBlocks, Math.max(byTau, minBlocks), n);
  const blockSize = Math.floor(n / blocks);
  return { blocks, blockSize, wellBlocked: blockSize >= minBlockTau * tau };
}

/** Binning error with the bin size chosen from τ_int by chooseBlocks; also reports τ_int. */
export function autoBinningError(
  series: ArrayLike<number>,
  options: WindowOptions & BlockOptions = {},
): BinningResult & TauIntResult & { wellBlocked: boolean } {
  const acov = new Autocovariance(series);
  const tau = windowedTauInt(acov, options);
  const choice = chooseBlocks(acov.n, tau.tauInt, options);
  return { ...binningError(series, choice.blockSize), ...tau, wellBlocked: choice.wellBlocked };
}

/** S(t) = Σ_{i<n−t} d_i d_{i+t} for all t < n, by zero-padded FFT (Wiener–Khinchin). */
function lagProductSums(d: Float64Array): Float64Array {
  const n = d.length;
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  re.set(d);
  fft(re, im);
  for (let k = 0; k < size; k++) {
    re[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
    im[k] = 0;
  }
  // The power spectrum is real and even, so the forward transform equals size × the inverse one.
  fft(re, im);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = (re[t] as number) / size;
  return out;
}

/** In-place iterative radix-2 complex FFT (length a power of two), X_k = Σ x_j e^{−2πijk/size}. */
function fft(re: Float64Array, im: Float64Array): void {
  const size = re.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  // Twiddles from Math.cos/sin directly (no recurrence), so rounding does not accumulate across stages.
  const half = size >> 1;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / size);
    sin[k] = -Math.sin((2 * Math.PI * k) / size);
  }
  for (let len = 2; len <= size; len <<= 1) {
    const h = len >> 1;
    const step = size / len;
    for (let start = 0; start < size; start += len) {
      for (let k = 0; k < h; k++) {
        const wr = cos[k * step] as number;
        const wi = sin[k * step] as number;
        const a = start + k;
        const b = a + h;
        const br = re[b] as number;
        const bi = im[b] as number;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a] as number;
        const ai = im[a] as number;
        re[b] = ar - xr;
        im[b] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
      }
    }
  }
}
