/** The jackknife against closed forms: linear functions, the delta method for x̄², and the exact bias of x̄². */
import { describe, expect, it } from 'vitest';
import { binderCumulant, blockMeans, jackknife, jackknifeSeries } from '../../src/stats/index.ts';
import { mulberry32 } from '../../src/reference/prng.ts';

/** n normal deviates N(mu, sigma²) by Box–Muller. */
function normals(n: number, seed: number, mu = 0, sigma = 1): Float64Array {
  const u = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const theta = 2 * Math.PI * u();
    out[i] = mu + sigma * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mu + sigma * r * Math.sin(theta);
  }
  return out;
}

/** Standard error of the mean of `values` (divisor n − 1). */
function standardError(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (values[i] as number) / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] as number) - mean) ** 2;
  return Math.sqrt(ss / (n - 1) / n);
}

describe('blockMeans', () => {
  it('cuts columns into contiguous blocks, dropping the leading remainder', () => {
    const a = [99, 1, 2, 3, 4, 5, 6];
    const b = [0, 10, 20, 30, 40, 50, 60];
    const blocks = blockMeans([a, b], 3);
    expect(blocks.map((x) => [...x])).toEqual([
      [1.5, 15],
      [3.5, 35],
      [5.5, 55],
    ]);
  });

  it('rejects bad shapes and values, naming them', () => {
    expect(() => blockMeans([], 2)).toThrow(/0/);
    expect(() =>
      blockMeans(
        [
          [1, 2, 3],
          [1, 2],
        ],
        2,
      ),
    ).toThrow(/column 1 has 2 samples; column 0 has 3/);
    expect(() => blockMeans([[1, 2, 3]], 4)).toThrow(/block count 4/);
    expect(() => blockMeans([[1, 2, 3]], 0)).toThrow(/block count 0/);
    expect(() => blockMeans([[1, NaN, 3]], 1)).toThrow(/column 0\[1\] = NaN/);
  });
});

describe('jackknife', () => {
  it('equals the standard error of the block means for a linear f, with zero bias', () => {
    const x = normals(64, 1, 3, 2);
    const y = normals(64, 2, -1, 0.5);
    const blocks = Array.from({ length: 64 }, (_, k) => [x[k] as number, y[k] as number]);
    const r = jackknife(blocks, (m) => 2 * (m[0] as number) - 3 * (m[1] as number) + 7);
    const combined = Array.from({ length: 64 }, (_, k) => 2 * (x[k] as number) - 3 * (y[k] as number) + 7);
    expect(r.blocks).toBe(64);
    expect(Math.abs(r.err / standardError(combined) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(r.bias)).toBeLessThan(1e-12);
    expect(r.value).toBeCloseTo(combined.reduce((a, b) => a + b, 0) / 64, 12);
  });

  it('matches the delta method for f = x̄² on iid data (n = 10⁶, 1000 blocks) within 10%', () => {
    const mu = 1.5;
    const n = 1_000_000;
    const data = normals(n, 3, mu, 1);
    const r = jackknifeSeries([data], 1000, (m) => (m[0] as number) ** 2);
    let mean = 0;
    for (const v of data) mean += v / n;
    let ss = 0;
    for (const v of data) ss += (v - mean) ** 2;
    const s = Math.sqrt(ss / (n - 1));
    const delta = (2 * Math.abs(mean) * s) / Math.sqrt(n); // δ-method: |f′(x̄)|·s/√n
    expect(Math.abs(r.err / delta - 1)).toBeLessThan(0.1);
    expect(Math.abs(r.err / ((2 * mu) / Math.sqrt(n)) - 1)).toBeLessThan(0.1); // exact σ = 1
    expect(r.value).toBeCloseTo(mean * mean, 12);
  });

  it('estimates the bias of x̄² as exactly the squared standard error of the block means', () => {
    // E[x̄²] = μ² + Var(x̄): the jackknife bias of x̄² is Σ(b_k − b̄)²/(B(B−1)), which it must return exactly.
    const blocks = [...normals(50, 4, 0.7, 1.3)].map((v) => [v]);
    const r = jackknife(blocks, (m) => (m[0] as number) ** 2);
    const se = standardError(blocks.map((b) => b[0] as number));
    expect(Math.abs(r.bias / se ** 2 - 1)).toBeLessThan(1e-10);
    expect(r.corrected).toBeCloseTo(r.value - r.bias, 15);
  });

  it('passes a fresh copy of the means to f', () => {
    const seen: number[] = [];
    jackknife([[1], [2], [3]], (m) => {
      seen.push(m[0] as number);
      m[0] = 1e9; // must not leak into later calls
      return 0;
    });
    expect(seen).toEqual([2, 2.5, 2, 1.5]);
  });

  it('rejects fewer than 2 blocks, ragged blocks and non-finite means', () => {
    expect(() => jackknife([[1]], (m) => m[0] as number)).toThrow(/at least 2 blocks; got 1/);
    expect(() => jackknife([], (m) => m[0] as number)).toThrow(RangeError);
    expect(() => jackknife([[1, 2], [3]], (m) => m[0] as number)).toThrow(
      /block 1 holds 1 quantities; block 0 holds 2/,
    );
    expect(() => jackknife([[1], [Infinity]], (m) => m[0] as number)).toThrow(/block 1\[0\] = Infinity/);
  });
});

describe('binderCumulant', () => {
  it('is 1 − ⟨m⁴⟩/(3⟨m²⟩²) and ≈ 0 for Gaussian m', () => {
    const m = normals(400_000, 5, 0, 0.3);
    const m2 = m.map((v) => v * v);
    const m4 = m.map((v) => v ** 4);
    const blocks = blockMeans([m2, m4], 40);
    const u = binderCumulant(
      blocks.map((b) => b[0] as number),
      blocks.map((b) => b[1] as number),
    );
    const a2 = m2.reduce((a, b) => a + b, 0) / m.length;
    const a4 = m4.reduce((a, b) => a + b, 0) / m.length;
    expect(u.value).toBeCloseTo(1 - a4 / (3 * a2 * a2), 12);
    expect(Math.abs(u.value)).toBeLessThan(4 * u.err);
    expect(u.err).toBeGreaterThan(0);
    // Ordered phase: m = ±m0 gives U4 = 2/3 exactly, with zero error.
    const ordered = binderCumulant([0.25, 0.25, 0.25], [0.0625, 0.0625, 0.0625]);
    expect(ordered.value).toBeCloseTo(2 / 3, 15);
    expect(ordered.err).toBeLessThan(1e-14);
    expect(() => binderCumulant([1, 2], [1])).toThrow(/2 m² blocks but 1 m⁴ blocks/);
  });
});
