/**
 * isingEstimators on 4×4 Ising data whose exact answers come from enumeration: iid samples drawn from the exact
 * Boltzmann distribution, and strongly correlated single-spin Metropolis chains (error bars must cover the
 * exact values at the advertised rate).
 */
import { describe, expect, it } from 'vitest';
import { isingEstimators, type IsingEstimates } from '../../src/stats/index.ts';
import { enumerateIsing } from '../../src/exact/ising.ts';
import { mulberry32 } from '../../src/reference/prng.ts';

const L = 4;
const N = L * L;
const K = 0.4;

/** Neighbour table of the L×L torus. */
const NEIGHBOURS = Array.from({ length: N }, (_, i) => {
  const x = i % L;
  const y = Math.floor(i / L);
  return [y * L + ((x + 1) % L), y * L + ((x + L - 1) % L), ((y + 1) % L) * L + x, ((y + L - 1) % L) * L + x];
});

/** Total energy and magnetisation of the state encoded by the bits of `bits`. */
function energyAndMagnetization(bits: number): [number, number] {
  const spin = (i: number): number => ((bits >> i) & 1 ? -1 : 1);
  let E = 0;
  let M = 0;
  for (let i = 0; i < N; i++) {
    const [r, , d] = NEIGHBOURS[i] as number[];
    E -= spin(i) * (spin(r as number) + spin(d as number));
    M += spin(i);
  }
  return [E, M];
}

/** n iid samples (e, m per spin) from the exact 4×4 Boltzmann distribution at K: CDF over all 2^16 states. */
function exactSamples(n: number, seed: number): { e: Float64Array; m: Float64Array } {
  const states = 1 << N;
  const cdf = new Float64Array(states);
  const em: [number, number][] = [];
  let total = 0;
  for (let b = 0; b < states; b++) {
    const [E, M] = energyAndMagnetization(b);
    em.push([E, M]);
    total += Math.exp(-K * E - 2 * K * N); // shifted by the ground-state energy −2N
    cdf[b] = total;
  }
  const u = mulberry32(seed);
  const e = new Float64Array(n);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const target = u() * total;
    let lo = 0;
    let hi = states - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) <= target) lo = mid + 1;
      else hi = mid;
    }
    const [E, M] = em[lo] as [number, number];
    e[i] = E / N;
    m[i] = M / N;
  }
  return { e, m };
}

/** The exact values isingEstimators should find. */
function exactValues(): Record<
  'energy' | 'absMagnetization' | 'm2' | 'm4' | 'binder' | 'susceptibility' | 'specificHeat',
  number
> {
  const x = enumerateIsing(L, L, K);
  return {
    energy: x.energyPerSpin,
    absMagnetization: x.absMagnetization,
    m2: x.m2,
    m4: x.m4,
    binder: 1 - x.m4 / (3 * x.m2 ** 2),
    susceptibility: K * N * (x.m2 - x.absMagnetization ** 2),
    specificHeat: x.specificHeatPerSpin,
  };
}

const OBSERVABLES = [
  'energy',
  'absMagnetization',
  'm2',
  'm4',
  'binder',
  'susceptibility',
  'specificHeat',
] as const;

/** (estimate − exact)/err for every observable. */
function zScores(r: IsingEstimates, exact: ReturnType<typeof exactValues>): number[] {
  return OBSERVABLES.map((k) => (r[k].mean - exact[k]) / r[k].err);
}

describe('isingEstimators', () => {
  it('recovers exact 4×4 values from iid Boltzmann samples, with τ_int ≈ ½ and 32 blocks', () => {
    const n = 200_000;
    const { e, m } = exactSamples(n, 11);
    const r = isingEstimators({ e, m, beta: K, N });
    const exact = exactValues();
    for (const z of zScores(r, exact)) expect(Math.abs(z)).toBeLessThan(4);
    for (const k of OBSERVABLES) expect(r[k].err).toBeGreaterThan(0);
    for (const t of [
      r.tauInt.energy,
      r.tauInt.absMagnetization,
      r.tauInt.m2,
      r.tauInt.m4,
      r.tauInt.energySquared,
    ]) {
      expect(Math.abs(t - 0.5)).toBeLessThan(0.05);
    }
    expect(r.blocking).toEqual({ blocks: 32, blockSize: 6250, wellBlocked: true, converged: true });
    expect(r.n).toBe(n);
    // The jackknife bias of C is O(1/n): far below its error bar.
    expect(Math.abs(r.specificHeat.bias)).toBeLessThan(0.2 * r.specificHeat.err);
  });

  it('treats R replicas as one run with R times the statistics', () => {
    const n = 40_000;
    const { e, m } = exactSamples(4 * n, 12);
    const single = isingEstimators({ e, m, beta: K, N });
    const split = (x: Float64Array): Float64Array[] =>
      [0, 1, 2, 3].map((r) => x.subarray(r * n, (r + 1) * n));
    const rep = isingEstimators({ e: split(e), m: split(m), beta: K, N });
    expect(rep.n).toBe(n);
    // Same data, same pooled moments: the values agree to rounding (C and χ pool within-replica fluctuations).
    for (const k of OBSERVABLES) {
      expect(Math.abs(rep[k].mean - single[k].mean)).toBeLessThan(1e-12);
      expect(Math.abs(rep[k].err / single[k].err - 1)).toBeLessThan(0.3);
    }
    const one = isingEstimators({ e: [e], m: [m], beta: K, N });
    expect(one.specificHeat).toEqual(single.specificHeat);
    expect(() => isingEstimators({ e: split(e), m: split(m).slice(0, 3), beta: K, N })).toThrow(
      /3 magnetisation replicas/,
    );
    expect(() => isingEstimators({ e: [e, e.subarray(1)], m: [m, m], beta: K, N })).toThrow(
      /e\[1\] has 159999 samples/,
    );
  });

  it('gives error bars that cover the exact values at the right rate for correlated Metropolis chains', () => {
    // Single-spin Metropolis, measured after every attempted flip: τ_int of tens of samples.
    const exact = exactValues();
    const chains = 40;
    const n = 20_000;
    const sumZ2 = new Float64Array(OBSERVABLES.length);
    let minTau = Infinity;
    for (let c = 0; c < chains; c++) {
      const u = mulberry32(500 + c);
      const s = new Int8Array(N).fill(1);
      let E = -2 * N;
      let M = N;
      const e = new Float64Array(n);
      const m = new Float64Array(n);
      // Long burn-in: relaxing from the all-up start takes far longer than τ_int(E) ≈ 40 (2000 steps left a
      // visible bias in ⟨E⟩).
      for (let step = -50_000; step < n; step++) {
        const i = Math.floor(u() * N);
        const nb = NEIGHBOURS[i] as number[];
        const si = s[i] as number;
        const dE = 2 * si * nb.reduce((a, j) => a + (s[j] as number), 0);
        if (dE <= 0 || u() < Math.exp(-K * dE)) {
          s[i] = -si;
          E += dE;
          M -= 2 * si;
        }
        if (step >= 0) {
          e[step] = E / N;
          m[step] = M / N;
        }
      }
      const r = isingEstimators({ e, m, beta: K, N });
      expect(r.blocking.wellBlocked).toBe(true);
      expect(r.blocking.converged).toBe(true);
      minTau = Math.min(minTau, r.tauInt.energy);
      zScores(r, exact).forEach((z, k) => (sumZ2[k] = (sumZ2[k] as number) + z * z));
    }
    expect(minTau).toBeGreaterThan(5); // strongly correlated: iid error bars would be far too small
    // ⟨z²⟩ over 40 chains is 1 ± 0.22 when the error bars are right; √(2τ) too small errors give ⟨z²⟩ ≈ 2τ ≫ 1.
    if (process.env.BLOCKSPIN_DEBUG)
      console.log(
        '⟨z²⟩',
        [...sumZ2].map((s) => s / chains),
        'min τ(E)',
        minTau,
      );
    for (const s of sumZ2) {
      expect(s / chains).toBeGreaterThan(0.4);
      expect(s / chains).toBeLessThan(1.8);
    }
  });

  it('falls back to 8 short blocks and says so when the series is too short for 4τ blocks', () => {
    const u = mulberry32(3);
    const n = 400;
    const e = new Float64Array(n);
    const m = new Float64Array(n);
    let a = 0;
    for (let i = 0; i < n; i++) {
      a = 0.98 * a + (u() - 0.5); // τ_int ≈ 50 samples
      e[i] = -1.5 + 0.1 * a;
      m[i] = 0.5 + 0.1 * a;
    }
    const r = isingEstimators({ e, m, beta: 0.4, N: 16 });
    expect(r.blocking.blocks).toBe(8);
    expect(r.blocking.blockSize).toBe(50);
    expect(r.blocking.wellBlocked).toBe(false);
    const few = isingEstimators({ e, m, beta: 0.4, N: 16, blocks: 4 });
    expect(few.blocking.blocks).toBe(4);
  });

  it('handles constant series (a frozen ground state) without NaN', () => {
    const r = isingEstimators({ e: new Array(100).fill(-2), m: new Array(100).fill(1), beta: 2, N: 16 });
    expect(r.energy).toEqual({ mean: -2, err: 0 });
    expect(r.binder.mean).toBeCloseTo(2 / 3, 15);
    expect(r.specificHeat.mean).toBe(0);
    expect(r.susceptibility.err).toBe(0);
    expect(r.tauInt.energy).toBe(0.5);
  });

  it('rejects bad inputs with RangeError naming the value', () => {
    const e = [-1, -1.5, -1.2];
    const m = [0.1, 0.2, 0.3];
    expect(() => isingEstimators({ e, m: [0.1, 0.2], beta: 0.4, N: 16 })).toThrow(
      /2 samples; energy series has 3/,
    );
    expect(() => isingEstimators({ e: [], m: [], beta: 0.4, N: 16 })).toThrow(/0 samples/);
    expect(() => isingEstimators({ e, m: [0.1, NaN, 0.3], beta: 0.4, N: 16 })).toThrow(/m\[1\] = NaN/);
    expect(() => isingEstimators({ e, m, beta: -1, N: 16 })).toThrow(/beta = -1/);
    expect(() => isingEstimators({ e, m, beta: 0.4, N: 0 })).toThrow(/N = 0/);
    expect(() => isingEstimators({ e, m, beta: 0.4, N: 16, blocks: 1 })).toThrow(/maxBlocks 1/);
  });
});
