/**
 * The arithmetic behind the Ising room's live traces, apart from the DOM so that it runs (and is tested) in
 * Node: a growing time series of readouts with its running mean, τ_int-corrected error (src/stats), a burn-in
 * that is left out of the estimate, and the `mean(error)` notation the room prints (`−1.4532(41)`).
 */
import { meanError, meanWithError } from '../stats/index.ts';

/** A running estimate of one observable over the measured part of a trace. */
export interface RunningEstimate {
  /** Mean over the measured readouts (NaN with none). */
  mean: number;
  /**
   * √(2 τ s²/n) with τ = max(τ_int, ½): the error of the mean of a correlated series, never below the error of
   * independent readouts (a τ_int estimate under ½ is noise in the anticorrelations; NaN with < 2 readouts).
   */
  err: number;
  /** τ_int in readouts (Sokal's automatic window; NaN with fewer than 2 readouts). */
  tauInt: number;
  /** Madras–Sokal error of τ_int (NaN with fewer than 2 readouts). */
  tauIntError: number;
  /** False while the series is too short for its τ_int (the window never closed): the error is too small. */
  converged: boolean;
  /** Readouts in the estimate. */
  n: number;
  /** Leading readouts left out as burn-in. */
  discarded: number;
}

/** Options of {@link RunningSeries}. */
export interface RunningSeriesOptions {
  /** Fraction of the leading readouts left out of the estimate as burn-in (default 0.2; 0 … <1). */
  burnIn?: number;
  /** Sokal's window factor c (default 6, as src/stats). */
  c?: number;
}

/**
 * One observable's readouts since the last reset, with a running mean and τ_int-corrected error.
 * The first `burnIn` fraction of readouts is left out (the chain relaxing from its start or from a change of
 * settings); the estimate is recomputed from the stored series on each call (O(n log n) at worst, cheap for the
 * few thousand readouts of a live session).
 *
 * @example
 * const e = new RunningSeries({ burnIn: 0.2 });
 * for (const x of readouts) e.push(x);
 * formatEstimate(e.estimate()) // "−1.4532(41)"
 */
export class RunningSeries {
  readonly burnIn: number;
  private readonly c: number;
  private data: number[] = [];

  constructor(options: RunningSeriesOptions = {}) {
    const burnIn = options.burnIn ?? 0.2;
    if (!(burnIn >= 0 && burnIn < 1)) throw new RangeError(`burnIn ${burnIn} must be in [0, 1)`);
    const c = options.c ?? 6;
    if (!(c > 0 && Number.isFinite(c))) throw new RangeError(`window factor c = ${c} must be finite and > 0`);
    this.burnIn = burnIn;
    this.c = c;
  }

  /** Appends one readout (a non-finite value is an error: it would poison every later mean). */
  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`readout ${x} is not finite`);
    this.data.push(x);
  }

  /** Forgets every readout (settings changed: a new equilibrium). */
  clear(): void {
    this.data = [];
  }

  /** Readouts since the last clear. */
  get length(): number {
    return this.data.length;
  }

  /** The readouts since the last clear (read-only view). */
  get values(): readonly number[] {
    return this.data;
  }

  /** Leading readouts the estimate leaves out: ⌊burnIn · n⌋. */
  get discarded(): number {
    return Math.floor(this.burnIn * this.data.length);
  }

  /** Mean, τ_int-corrected error and τ_int of the readouts after the burn-in. */
  estimate(): RunningEstimate {
    const discarded = this.discarded;
    const measured = this.data.slice(discarded);
    const n = measured.length;
    if (n === 0) {
      return { mean: NaN, err: NaN, tauInt: NaN, tauIntError: NaN, converged: false, n, discarded };
    }
    if (n === 1) {
      return {
        mean: measured[0] as number,
        err: NaN,
        tauInt: NaN,
        tauIntError: NaN,
        converged: false,
        n,
        discarded,
      };
    }
    const r = meanWithError(measured, { c: this.c });
    // τ_int < ½ would claim anticorrelated readouts beat independent ones: use the independent error then.
    const err = r.tauInt < 0.5 ? meanError(measured).err : r.err;
    return {
      mean: r.mean,
      err,
      tauInt: r.tauInt,
      tauIntError: r.tauIntError,
      converged: r.converged,
      n,
      discarded,
    };
  }
}

const MINUS = '\u2212';

/**
 * `mean(error)` with the error to `digits` significant digits (default 2) and the mean to the same decimal
 * place, minus as U+2212: `formatMeanError(-1.45321, 0.00412)` is `−1.4532(41)`. An error of 0 prints the mean
 * alone to 6 significant digits; a missing (NaN) error prints `mean(?)`; a NaN mean prints `—`.
 */
export function formatMeanError(mean: number, err: number, digits = 2): string {
  if (!Number.isFinite(mean)) return '—';
  const sign = mean < 0 ? MINUS : '';
  if (!Number.isFinite(err) || err < 0) return `${sign}${trim(Math.abs(mean).toPrecision(5))}(?)`;
  if (err === 0) return `${sign}${trim(Math.abs(mean).toPrecision(6))}`;
  let decimals = digits - 1 - Math.floor(Math.log10(err));
  let errDigits = Math.round(err * 10 ** decimals);
  // 0.0996 at two digits rounds to 100: one decimal fewer (10).
  if (errDigits >= 10 ** digits) {
    decimals -= 1;
    errDigits = Math.round(err * 10 ** decimals);
  }
  if (decimals <= 0) {
    // Error ≥ 10^(digits−1): integers, the error in the mean's own units.
    const scale = 10 ** -decimals;
    const m = Math.round(Math.abs(mean) / scale) * scale;
    return `${sign}${m.toFixed(0)}(${(errDigits * scale).toFixed(0)})`;
  }
  return `${sign}${Math.abs(mean).toFixed(decimals)}(${errDigits})`;
}

/** formatMeanError of an estimate. */
export function formatEstimate(e: Pick<RunningEstimate, 'mean' | 'err'>, digits = 2): string {
  return formatMeanError(e.mean, e.err, digits);
}

/** τ_int to 2 significant digits (`3.1`, `12`, `—` when unknown). */
export function formatTau(tau: number): string {
  if (!Number.isFinite(tau)) return '—';
  return tau >= 10 ? Math.round(tau).toString() : tau.toFixed(1);
}

function trim(s: string): string {
  return s.includes('e') || !s.includes('.') ? s : s.replace(/0+$/, '').replace(/\.$/, '');
}
