/** τ_int, ρ(t), τ-corrected errors and binning against AR(1) processes with known answers. */
import { describe, expect, it } from 'vitest';
import {
  autoBinningError,
  autocorrelation,
  binningError,
  chooseBlocks,
  integratedAutocorrelationTime,
  meanWithError,
} from '../../src/stats/index.ts';
import { mulberry32 } from '../../src/reference/prng.ts';

/** Standard normal deviates by Box–Muller from mulberry32(seed). */
function gaussian(seed: number): () => number {
  const u = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const theta = 2 * Math.PI * u();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** x_t = φ x_{t−1} + ξ_t, started in the stationary distribution (variance 1/(1 − φ²)). */
function ar1(n: number, phi: number, seed: number): Float64Array {
  const z = gaussian(seed);
  const x = new Float64Array(n);
  let v = z() / Math.sqrt(1 - phi * phi);
  for (let i = 0; i < n; i++) {
    x[i] = v;
    v = phi * v + z();
  }
  return x;
}

const PHI = 0.9;
const TAU_EXACT = (1 + PHI) / (1 - PHI) / 2; // 9.5

describe('autocorrelation', () => {
  it('gives ρ(0) = 1 and ρ(t) ≈ φ^t for an AR(1) process', () => {
    const rho = autocorrelation(ar1(1_000_000, PHI, 1), 10);
    expect(rho.length).toBe(11);
    expect(rho[0]).toBe(1);
    for (let t = 1; t <= 10; t++) expect(Math.abs((rho[t] as number) - PHI ** t)).toBeLessThan(0.01);
  });

  it('agrees between the direct sums (small lags) and the FFT (all lags)', () => {
    const x = ar1(5000, 0.5, 2);
    const rho = autocorrelation(x, 300); // beyond the direct-sum limit: all lags via FFT
    let mean = 0;
    for (const v of x) mean += v / x.length;
    let c0 = 0;
    for (const v of x) c0 += (v - mean) ** 2 / x.length;
    for (const t of [0, 1, 2, 7, 64, 65, 150, 300]) {
      let s = 0;
      for (let i = 0; i + t < x.length; i++) s += ((x[i] as number) - mean) * ((x[i + t] as number) - mean);
      expect(Math.abs((rho[t] as number) - s / (x.length - t) / c0)).toBeLessThan(1e-12);
    }
    const short = autocorrelation(x, 10); // direct sums only
    for (let t = 0; t <= 10; t++)
      expect(Math.abs((short[t] as number) - (rho[t] as number))).toBeLessThan(1e-12);
  });

  it('is 1, 0, 0, … for a constant series (no NaN)', () => {
    expect([...autocorrelation([0.1, 0.1, 0.1, 0.1], 3)]).toEqual([1, 0, 0, 0]);
  });

  it('rejects empty, short and non-finite series and lags out of range, naming the value', () => {
    expect(() => autocorrelation([])).toThrow(RangeError);
    expect(() => autocorrelation([])).toThrow(/0 samples/);
    expect(() => autocorrelation([1, NaN, 2])).toThrow(/series\[1\] = NaN/);
    expect(() => autocorrelation([1, 2, Infinity])).toThrow(/Infinity/);
    expect(() => autocorrelation([1, 2, 3], 3)).toThrow(/maxLag 3/);
    expect(() => autocorrelation([1, 2, 3], -1)).toThrow(RangeError);
  });
});

describe('integratedAutocorrelationTime', () => {
  it('finds τ_int = 9.5 for AR(1) with φ = 0.9 (n = 10⁶) within 10% and within 4 Madras–Sokal errors', () => {
    const r = integratedAutocorrelationTime(ar1(1_000_000, PHI, 3));
    expect(r.converged).toBe(true);
    expect(Math.abs(r.tauInt - TAU_EXACT) / TAU_EXACT).toBeLessThan(0.1);
    expect(Math.abs(r.tauInt - TAU_EXACT)).toBeLessThan(4 * r.tauIntError);
    expect(r.window).toBeGreaterThanOrEqual(6 * r.tauInt);
    expect(r.window - 1).toBeLessThan(6 * TAU_EXACT * 1.2);
    expect(r.tauIntError).toBeCloseTo(r.tauInt * Math.sqrt((2 * (2 * r.window + 1)) / 1_000_000), 12);
  });

  it('gives τ_int ≈ ½ for iid data', () => {
    const z = gaussian(4);
    const x = Float64Array.from({ length: 100_000 }, z);
    const r = integratedAutocorrelationTime(x);
    expect(r.converged).toBe(true);
    expect(Math.abs(r.tauInt - 0.5)).toBeLessThan(0.03);
  });

  it('respects the window factor c', () => {
    const x = ar1(200_000, PHI, 5);
    const c4 = integratedAutocorrelationTime(x, { c: 4 });
    const c8 = integratedAutocorrelationTime(x, { c: 8 });
    expect(c4.window).toBeLessThan(c8.window);
    expect(c4.window).toBeGreaterThanOrEqual(4 * c4.tauInt);
    expect(c8.window).toBeGreaterThanOrEqual(8 * c8.tauInt);
  });

  it('reports converged: false when the series is too short for its τ_int', () => {
    const z = gaussian(6);
    const walk = new Float64Array(200);
    for (let i = 1; i < walk.length; i++) walk[i] = (walk[i - 1] as number) + z();
    const r = integratedAutocorrelationTime(walk);
    expect(r.converged).toBe(false);
    expect(r.window).toBe(100);
    const capped = integratedAutocorrelationTime(ar1(10_000, PHI, 7), { maxWindow: 20 });
    expect(capped.converged).toBe(false);
    expect(capped.window).toBe(20);
  });

  it('handles a constant series: τ_int = ½, error 0, no NaN', () => {
    const r = integratedAutocorrelationTime(new Float64Array(1000).fill(-1.7));
    expect(r).toEqual({ tauInt: 0.5, tauIntError: 0, window: 0, converged: true });
  });

  it('rejects bad inputs with RangeError naming the value', () => {
    expect(() => integratedAutocorrelationTime([])).toThrow(/0 samples/);
    expect(() => integratedAutocorrelationTime([3])).toThrow(/1 samples; at least 2/);
    expect(() => integratedAutocorrelationTime([1, 2, NaN])).toThrow(/series\[2\] = NaN/);
    expect(() => integratedAutocorrelationTime([1, 2, 3], { c: 0 })).toThrow(/c = 0/);
    expect(() => integratedAutocorrelationTime([1, 2, 3], { maxWindow: 5 })).toThrow(/maxWindow 5/);
  });
});

describe('meanWithError', () => {
  it('matches the spread of means over 200 independent AR(1) runs within 15%', () => {
    const n = 10_000;
    const runs = 200;
    const means: number[] = [];
    let errSq = 0;
    for (let r = 0; r < runs; r++) {
      const res = meanWithError(ar1(n, PHI, 1000 + r));
      expect(res.n).toBe(n);
      means.push(res.mean);
      errSq += res.err ** 2 / runs;
    }
    const grand = means.reduce((a, b) => a + b, 0) / runs;
    const spread = Math.sqrt(means.reduce((a, b) => a + (b - grand) ** 2, 0) / (runs - 1));
    const reported = Math.sqrt(errSq);
    expect(Math.abs(reported / spread - 1)).toBeLessThan(0.15);
    // And both agree with the exact asymptotic σ = √(2τ Var/n), Var = 1/(1 − φ²).
    const exact = Math.sqrt((2 * TAU_EXACT) / (1 - PHI * PHI) / n);
    expect(Math.abs(reported / exact - 1)).toBeLessThan(0.1);
    // A naive (τ = ½) error would be √19 ≈ 4.4 times too small: the test can tell.
    expect(reported * Math.sqrt(0.5 / TAU_EXACT)).toBeLessThan(spread / 3);
  });

  it('reduces to s/√n (divisor n − 1) for uncorrelated data', () => {
    const z = gaussian(8);
    const iid = Float64Array.from({ length: 50_000 }, z);
    const m = meanWithError(iid);
    let mean = 0;
    for (const v of iid) mean += v / iid.length;
    let ss = 0;
    for (const v of iid) ss += (v - mean) ** 2;
    const naive = Math.sqrt(ss / (iid.length - 1) / iid.length);
    expect(Math.abs(m.err / (naive * Math.sqrt(2 * m.tauInt)) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(m.err / naive - 1)).toBeLessThan(0.05);
  });

  it('gives error 0 for a constant series', () => {
    const r = meanWithError(new Array(100).fill(2.5));
    expect(r.mean).toBe(2.5);
    expect(r.err).toBe(0);
    expect(r.tauInt).toBe(0.5);
  });
});

describe('binning', () => {
  it('bin size 1 on iid data is the plain standard error', () => {
    const x = [3, 1, 4, 1, 5, 9, 2, 6];
    const r = binningError(x, 1);
    const mean = 31 / 8;
    const ss = x.reduce((a, b) => a + (b - mean) ** 2, 0);
    expect(r.mean).toBeCloseTo(mean, 14);
    expect(r.err).toBeCloseTo(Math.sqrt(ss / 7 / 8), 14);
    expect(r.bins).toBe(8);
    expect(r.discarded).toBe(0);
  });

  it('drops the leading remainder', () => {
    const r = binningError([100, 1, 2, 3, 4], 2);
    expect(r.discarded).toBe(1);
    expect(r.bins).toBe(2);
    expect(r.mean).toBe(2.5);
  });

  it('agrees with the τ_int error for long bins on AR(1) data', () => {
    const x = ar1(1_000_000, PHI, 9);
    const tau = meanWithError(x);
    const bin = binningError(x, 1000); // ~100 τ per bin, 1000 bins
    expect(Math.abs(bin.err / tau.err - 1)).toBeLessThan(0.1);
    const auto = autoBinningError(x);
    expect(auto.wellBlocked).toBe(true);
    expect(auto.binSize).toBeGreaterThanOrEqual(4 * auto.tauInt);
    expect(Math.abs(auto.err / tau.err - 1)).toBeLessThan(0.35); // 32 bins: ±13% statistical, ~10% low bias
  });

  it('rejects bin sizes that leave fewer than 2 bins', () => {
    expect(() => binningError([1, 2, 3, 4, 5], 3)).toThrow(/bin size 3/);
    expect(() => binningError([1, 2, 3, 4, 5], 0)).toThrow(RangeError);
    expect(() => binningError([], 1)).toThrow(/0 samples/);
  });
});

describe('chooseBlocks', () => {
  it('keeps maxBlocks when the series is long, shrinks to fit 4τ blocks, floors at minBlocks', () => {
    expect(chooseBlocks(100_000, 10)).toEqual({ blocks: 32, blockSize: 3125, wellBlocked: true });
    expect(chooseBlocks(2000, 10)).toEqual({ blocks: 32, blockSize: 62, wellBlocked: true });
    expect(chooseBlocks(1000, 10)).toEqual({ blocks: 25, blockSize: 40, wellBlocked: true });
    expect(chooseBlocks(200, 10)).toEqual({ blocks: 8, blockSize: 25, wellBlocked: false });
    expect(chooseBlocks(5, 10)).toEqual({ blocks: 5, blockSize: 1, wellBlocked: false });
    expect(chooseBlocks(1000, 0.5, { maxBlocks: 100 })).toEqual({
      blocks: 100,
      blockSize: 10,
      wellBlocked: true,
    });
  });

  it('rejects bad arguments', () => {
    expect(() => chooseBlocks(1, 1)).toThrow(/length 1/);
    expect(() => chooseBlocks(100, NaN)).toThrow(/NaN/);
    expect(() => chooseBlocks(100, 1, { maxBlocks: 1 })).toThrow(/maxBlocks 1/);
  });
});
