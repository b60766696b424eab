/**
 * The Ising room's running estimates: the mean, τ_int and error of a trace after its burn-in agree with
 * src/stats on the same readouts and with the exact τ_int of an AR(1) process, and `mean(error)` is printed
 * with the error's two significant digits.
 */
import { describe, expect, it } from 'vitest';
import {
  formatEstimate,
  formatMeanError,
  formatTau,
  RunningSeries,
} from '../../src/elements/ising-room-stats.ts';
import { integratedAutocorrelationTime, meanError, meanWithError } from '../../src/stats/index.ts';

/** mulberry32: a small seeded uniform generator, so the series is the same on every run. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** x_t = φ x_{t−1} + ε_t with Gaussian ε (Box–Muller), started at x_0 = start. */
function ar1(n: number, phi: number, seed: number, start = 0, offset = 0): number[] {
  const u = uniform(seed);
  const out: number[] = [];
  let x = start;
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    x = phi * x + g;
    out.push(x + offset);
  }
  return out;
}

describe('RunningSeries', () => {
  it('is empty, then has a mean without an error, then both', () => {
    const s = new RunningSeries({ burnIn: 0 });
    expect(s.estimate()).toMatchObject({ n: 0, discarded: 0 });
    expect(s.estimate().mean).toBeNaN();
    s.push(-1.5);
    expect(s.estimate().mean).toBe(-1.5);
    expect(s.estimate().err).toBeNaN();
    s.push(-1.7);
    const e = s.estimate();
    expect(e.mean).toBeCloseTo(-1.6, 15);
    expect(e.n).toBe(2);
    expect(Number.isFinite(e.err)).toBe(true);
  });

  it('agrees with meanWithError on the readouts after the burn-in, for an AR(1) series', () => {
    const values = ar1(5000, 0.8, 7, 0, -1.45);
    const s = new RunningSeries({ burnIn: 0.2 });
    for (const x of values) s.push(x);
    const e = s.estimate();
    expect(e.discarded).toBe(1000);
    expect(e.n).toBe(4000);
    const reference = meanWithError(values.slice(1000));
    expect(e.mean).toBeCloseTo(reference.mean, 12);
    expect(e.err).toBeCloseTo(reference.err, 12);
    expect(e.tauInt).toBeCloseTo(reference.tauInt, 12);
    expect(e.converged).toBe(true);
    expect(e.tauInt).toBeCloseTo(integratedAutocorrelationTime(values.slice(1000)).tauInt, 12);
  });

  it('finds the exact τ_int = (1 + φ)/(2(1 − φ)) of AR(1) and an error √(2τ_int) times the naive one', () => {
    const phi = 0.8; // τ_int = 4.5
    const values = ar1(40_000, phi, 11);
    const s = new RunningSeries({ burnIn: 0 });
    for (const x of values) s.push(x);
    const e = s.estimate();
    expect(e.tauInt).toBeGreaterThan(4.5 * 0.85);
    expect(e.tauInt).toBeLessThan(4.5 * 1.15);
    const naive = meanError(values).err;
    expect(e.err / naive).toBeCloseTo(Math.sqrt(2 * e.tauInt), 9);
    // The stationary sd of the mean of AR(1): σ/(1 − φ)/√n with σ = 1; the error estimate is within 15 % of it.
    const exactErr = 1 / (1 - phi) / Math.sqrt(values.length);
    expect(Math.abs(e.err / exactErr - 1)).toBeLessThan(0.15);
    // The true mean 0 is within 3 error bars.
    expect(Math.abs(e.mean)).toBeLessThan(3 * e.err);
  });

  it('never reports an error below that of independent readouts (τ_int < ½ of anticorrelated data)', () => {
    const values = ar1(4000, -0.6, 5); // τ_int = (1 + φ)/(2(1 − φ)) = 0.125
    const s = new RunningSeries({ burnIn: 0 });
    for (const x of values) s.push(x);
    const e = s.estimate();
    expect(e.tauInt).toBeLessThan(0.5);
    expect(meanWithError(values).err).toBeLessThan(meanError(values).err);
    expect(e.err).toBe(meanError(values).err);
  });

  it('leaves a relaxing start out of the estimate (burn-in)', () => {
    // The chain starts 50 σ away and relaxes: with burn-in the mean is the equilibrium one.
    const values = ar1(2000, 0.9, 3, 500, 0);
    const withBurnIn = new RunningSeries({ burnIn: 0.25 });
    const without = new RunningSeries({ burnIn: 0 });
    for (const x of values) {
      withBurnIn.push(x);
      without.push(x);
    }
    expect(Math.abs(withBurnIn.estimate().mean)).toBeLessThan(4 * withBurnIn.estimate().err);
    expect(without.estimate().mean).toBeGreaterThan(1);
  });

  it('clears, and refuses non-finite readouts and a bad burn-in', () => {
    const s = new RunningSeries();
    s.push(1);
    s.push(2);
    s.clear();
    expect(s.length).toBe(0);
    expect(() => s.push(NaN)).toThrow(/not finite/);
    expect(() => new RunningSeries({ burnIn: 1 })).toThrow(/burnIn 1/);
    expect(() => new RunningSeries({ burnIn: -0.1 })).toThrow(/burnIn/);
  });

  it('gives a zero error for a constant trace', () => {
    const s = new RunningSeries({ burnIn: 0 });
    for (let i = 0; i < 10; i++) s.push(-2);
    expect(s.estimate()).toMatchObject({ mean: -2, err: 0, tauInt: 0.5 });
  });
});

describe('formatMeanError', () => {
  it.each([
    [-1.45321, 0.00412, '−1.4532(41)'],
    [0.5, 0.0123, '0.500(12)'],
    [2.269, 0.0996, '2.27(10)'],
    [0.1234567, 0.000015, '0.123457(15)'],
    [1234.5, 56, '1235(56)'],
    [1234.5, 123, '1230(120)'],
    [-0.0042, 0.0009, '−0.00420(90)'],
  ])('%d ± %d → %s', (mean, err, text) => {
    expect(formatMeanError(mean, err)).toBe(text);
  });

  it('prints a missing error as (?), a zero error as the mean alone, and NaN as a dash', () => {
    expect(formatMeanError(-1.5, NaN)).toBe('−1.5(?)');
    expect(formatMeanError(-2, 0)).toBe('−2');
    expect(formatMeanError(NaN, 0.1)).toBe('—');
    expect(formatEstimate({ mean: 0.25, err: 0.031 }, 1)).toBe('0.25(3)');
  });

  it('prints τ_int to two significant digits', () => {
    expect(formatTau(3.14)).toBe('3.1');
    expect(formatTau(12.4)).toBe('12');
    expect(formatTau(NaN)).toBe('—');
  });
});
