/**
 * Physical thermometers: exact-curve inversion (round trip, bounds, slope error), the ring's exact curve against
 * a direct enumeration, exact ring samples read back (and a mixture refused), and on the GPU held-out 10×10
 * equilibrium data read back against a reference scan, with a two-temperature mixture refused.
 */
import { describe, expect, it } from 'vitest';
import { isingRing, kaufman, ringEnergyDistribution } from '../../src/exact/ising.ts';
import { generateDataset, type Dataset } from '../../src/ising/dataset.ts';
import { mulberry32 } from '../../src/reference/prng.ts';
import {
  THERMAL_LIMITS,
  bayesClassifierAccuracy,
  configurationObservables,
  exactLogPartition,
  energyTemperature,
  exactCurve,
  magnetizationTemperature,
  meanOverGroups,
  readGeneration,
  referenceScan,
  type Lattice,
  type ReferenceScan,
} from '../../src/studies/thermometers.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

/** Direct enumeration of the ring of N spins: ⟨e⟩, var(E)/N, ⟨|m|⟩, distribution of E, and every state's weight. */
function enumerateRing(K: number, N: number) {
  const states = 2 ** N;
  const E = new Float64Array(states);
  const absM = new Float64Array(states);
  for (let s = 0; s < states; s++) {
    let bonds = 0;
    let M = 0;
    for (let i = 0; i < N; i++) {
      const a = (s >> i) & 1 ? 1 : -1;
      const b = (s >> ((i + 1) % N)) & 1 ? 1 : -1;
      bonds += a * b;
      M += a;
    }
    E[s] = -bonds;
    absM[s] = Math.abs(M) / N;
  }
  const w = Float64Array.from(E, (e) => Math.exp(-K * (e + N)));
  const Z = w.reduce((a, b) => a + b, 0);
  const p = w.map((x) => x / Z);
  let e = 0;
  let m = 0;
  p.forEach((pk, s) => {
    e += pk * (E[s] as number);
    m += pk * (absM[s] as number);
  });
  let v = 0;
  p.forEach((pk, s) => (v += pk * ((E[s] as number) - e) ** 2));
  const dist = new Map<number, number>();
  p.forEach((pk, s) => dist.set(E[s] as number, (dist.get(E[s] as number) ?? 0) + pk));
  return { lnZ: Math.log(Z) - K * N, e: e / N, v: v / N, m, dist, p };
}

/** `count` exact equilibrium configurations of the ring of N ≤ 20 at temperature T (seeded). */
function sampleRing(N: number, T: number, count: number, seed: number): Int8Array {
  const { p } = enumerateRing(1 / T, N);
  const cdf = new Float64Array(p.length);
  p.reduce((acc, x, i) => (cdf[i] = acc + x), 0);
  const rand = mulberry32(seed);
  const out = new Int8Array(count * N);
  for (let c = 0; c < count; c++) {
    const u = rand() * (cdf[cdf.length - 1] as number);
    let s = 0;
    while ((cdf[s] as number) <= u) s++;
    for (let i = 0; i < N; i++) out[c * N + i] = (s >> i) & 1 ? 1 : -1;
  }
  return out;
}

describe('the Bayes limit of a temperature classifier (CPU)', () => {
  it('ln Z: Kaufman on the torus continues into the low-T form, and the ring matches enumeration', () => {
    const torus: Lattice = { kind: 'square', L: 10 };
    // Just above K = 3 the low-T form, just below Kaufman: they meet.
    // (d lnZ/dK ≈ 2N = 200 there, so the 1e-9 step moves ln Z by 2e-7.)
    expect(exactLogPartition(torus, 3 + 1e-9) - 200e-9).toBeCloseTo(kaufman(3, 10, 10).lnZ, 8);
    // Ring: ln Σ_s e^{−K E(s)} over the 2^8 states, E = −Σ s_i s_{i+1}.
    let Z = 0;
    for (let st = 0; st < 256; st++) {
      let bonds = 0;
      for (let i = 0; i < 8; i++) bonds += ((st >> i) & 1 ? 1 : -1) * ((st >> ((i + 1) % 8)) & 1 ? 1 : -1);
      Z += Math.exp(0.7 * bonds);
    }
    expect(exactLogPartition({ kind: 'ring', N: 8 }, 0.7)).toBeCloseTo(Math.log(Z), 10);
    expect(() => exactLogPartition(torus, 0)).toThrow(/coupling K = 0 must be finite and > 0/);
  });

  it('on exact ring draws equals the enumerated Bayes accuracy within 4 errors', () => {
    const N = 8;
    const lattice: Lattice = { kind: 'ring', N };
    const classT = [0, 0.5, 1, 1.5, 2, 3, 4];
    // Exact: Σ_s max_c p(s | c) / C over all 2^N states (T = 0: ½ on each ordered state).
    const perClass = classT.map((T) => {
      if (T > 0) return enumerateRing(1 / T, N).p;
      const p = new Float64Array(2 ** N);
      p[0] = 0.5;
      p[2 ** N - 1] = 0.5;
      return p;
    });
    let exact = 0;
    for (let s = 0; s < 2 ** N; s++) exact += Math.max(...perClass.map((p) => p[s] as number));
    exact /= classT.length;
    const count = 2000;
    const sets = classT.map((T, c) => {
      if (T > 0) return sampleRing(N, T, count, 900 + c);
      const out = new Int8Array(count * N);
      for (let i = 0; i < count; i++) out.fill(i % 2 ? 1 : -1, i * N, (i + 1) * N);
      return out;
    });
    const got = bayesClassifierAccuracy(lattice, sets, count, classT);
    expect(got.err).toBeGreaterThan(0);
    expect(Math.abs(got.mean - exact)).toBeLessThan(4 * got.err);
    // Far-apart classes are easy, and nearly equal ones are not.
    expect(exact).toBeGreaterThan(1 / classT.length);
    expect(exact).toBeLessThan(1);
  });

  it('refuses mismatched sets and bad class temperatures', () => {
    const lattice: Lattice = { kind: 'ring', N: 4 };
    const one = new Int8Array(4).fill(1);
    expect(() => bayesClassifierAccuracy(lattice, [one], 1, [0, 1])).toThrow(
      /1 sets of configurations for 2 classes/,
    );
    expect(() => bayesClassifierAccuracy(lattice, [one], 1, [-1])).toThrow(
      /class temperature -1 must be finite/,
    );
  });
});

describe('exact curves and their inversion (CPU)', () => {
  const square = exactCurve({ kind: 'square', L: 10 });
  const ring = exactCurve({ kind: 'ring', N: 8 });

  it('the ring sum equals (2cosh K)^N + (2sinh K)^N and a direct enumeration', () => {
    for (const N of [2, 3, 8, 11]) {
      for (const K of [0.05, 0.3, 1, 2.5]) {
        const r = isingRing(K, N);
        const closed = Math.log((2 * Math.cosh(K)) ** N + (2 * Math.sinh(K)) ** N);
        expect(r.lnZ).toBeCloseTo(closed, 12);
        const t = Math.tanh(K);
        if (N > 2) expect(r.energyPerSpin).toBeCloseTo(-(t + t ** (N - 1)) / (1 + t ** N), 14);
        const x = enumerateRing(K, N);
        expect(r.energyPerSpin).toBeCloseTo(x.e, 13);
        expect(r.energyVariancePerSpin).toBeCloseTo(x.v, 12);
        expect(r.specificHeatPerSpin).toBeCloseTo(K * K * x.v, 12);
        expect(r.absMagnetization).toBeCloseTo(x.m, 13);
        const dist = ringEnergyDistribution(K, N);
        for (const [E, q] of x.dist) expect(dist.get(E)).toBeCloseTo(q, 12);
        // d⟨|m|⟩/dK against a finite difference
        const h = 1e-5;
        const fd = (isingRing(K + h, N).absMagnetization - isingRing(K - h, N).absMagnetization) / (2 * h);
        expect(r.absMagnetizationSlope).toBeCloseTo(fd, 7);
      }
    }
    // K = 0: T = ∞, var(E)/N = 1 on a ring of N ≥ 3, ⟨|m|⟩ the binomial value
    expect(isingRing(0, 8).energyPerSpin).toBe(0);
    expect(isingRing(0, 8).energyVariancePerSpin).toBeCloseTo(1, 14);
    expect(isingRing(0, 8).absMagnetization).toBeCloseTo(enumerateRing(0, 8).m, 14);
  });

  it('the torus curve is Kaufman’s and stays finite and monotone from T = 0.05 to ∞', () => {
    const K = 0.4;
    expect(square.atCoupling(K).energy).toBe(kaufman(K, 10, 10).energyPerSpin);
    let prev = -2;
    for (const T of [0, 0.05, 0.2, 0.3, 0.33, 0.34, 0.5, 1, 2.27, 5, 100, 999, 1001, 1e6, Infinity]) {
      const p = square.at(T);
      expect(Number.isFinite(p.energy) && Number.isFinite(p.specificHeat) && p.energyVariance >= 0).toBe(
        true,
      );
      expect(p.energy).toBeGreaterThanOrEqual(prev);
      prev = p.energy;
    }
    // both sides of the switches at K = 3 and K = 1e-3 agree
    expect(square.atCoupling(3 - 1e-9).specificHeat / square.atCoupling(3 + 1e-9).specificHeat).toBeCloseTo(
      1,
      6,
    );
    expect(square.atCoupling(1e-3 - 1e-12).energy / square.atCoupling(1e-3 + 1e-12).energy).toBeCloseTo(1, 6);
  });

  it('e(T) → T round trip to 1e-9 for T in [0.5, 6] on L = 10 and a ring of 8', () => {
    for (const curve of [square, ring]) {
      for (let T = 0.5; T <= 6.0001; T += 0.25) {
        const r = energyTemperature(curve, curve.at(T).energy, 0.001);
        expect(r.bound).toBeUndefined();
        expect(Math.abs(r.T - T)).toBeLessThan(1e-9);
      }
    }
  });

  it('the slope error err/c(T) matches a finite difference of the inversion', () => {
    for (const curve of [square, ring]) {
      for (const T of [0.8, 2.27, 4]) {
        const e = curve.at(T).energy;
        const err = 1e-3;
        const d = 1e-6;
        const fd =
          ((energyTemperature(curve, e + d, 0).T - energyTemperature(curve, e - d, 0).T) / (2 * d)) * err;
        expect(energyTemperature(curve, e, err).err / fd).toBeCloseTo(1, 5);
      }
    }
  });

  it('means at or below the ground state, or ≥ 0, are bounds, never NaN', () => {
    const below = energyTemperature(square, -2.1, 0.01);
    expect(below).toMatchObject({ T: 0, err: 0, bound: 'ground' });
    expect(below.limit).toBeGreaterThan(0);
    expect(below.limit).toBeLessThan(1.5);
    expect(energyTemperature(square, -2, 0)).toEqual({ T: 0, err: 0, bound: 'ground', limit: 0 });
    expect(energyTemperature(ring, -1, 0)).toMatchObject({ T: 0, bound: 'ground' });
    const hot = energyTemperature(square, 0.01, 0.02);
    expect(hot).toMatchObject({ T: Infinity, bound: 'infinite' });
    expect(hot.limit).toBeCloseTo(energyTemperature(square, -0.01, 0).T, 6);
    expect(energyTemperature(square, 0, 0)).toMatchObject({
      T: Infinity,
      bound: 'infinite',
      limit: Infinity,
    });
    // deep in the tails: finite readings, or the ground state once e + 2 underflows (T = 0.1: e + 2 ~ 1e-34)
    const cold = energyTemperature(square, square.at(0.4).energy, 1e-12);
    expect(cold.T).toBeCloseTo(0.4, 8);
    expect(energyTemperature(square, square.at(0.1).energy, 0)).toMatchObject({ T: 0, bound: 'ground' });
    const far = energyTemperature(square, square.at(1e4).energy, 1e-9);
    expect(far.T / 1e4).toBeCloseTo(1, 5);
  });

  it('meanOverGroups averages within groups, then errs over groups', () => {
    expect(
      meanOverGroups([
        [2.4, 2.5],
        [2.3, 2.4],
      ]),
    ).toEqual({ mean: 2.4, err: expect.closeTo(0.05, 12) });
    expect(() => meanOverGroups([[1]])).toThrow(/≥ 2 groups; got 1/);
    expect(() => meanOverGroups([[1], [Infinity]])).toThrow(/group 1 value 0 = Infinity/);
  });

  it('refuses bad input, naming the value and the limit', () => {
    const lat: Lattice = { kind: 'square', L: 4 };
    expect(() => configurationObservables(lat, new Int8Array(15).fill(1), 1)).toThrow(
      /15 spin values for 1 configurations of 16 spins; expected count × N = 16/,
    );
    const bad = new Int8Array(16).fill(1);
    bad[5] = 0;
    expect(() => configurationObservables(lat, bad, 1)).toThrow(/spin value 0 at index 5 is not ±1/);
    expect(() =>
      configurationObservables(lat, Float32Array.of(...new Array<number>(16).fill(0.5)), 1),
    ).toThrow(/spin value 0.5 at index 0/);
    expect(() => exactCurve({ kind: 'square', L: 1 })).toThrow(/L = 1 must be an integer ≥ 2/);
    expect(() => exactCurve({ kind: 'ring', N: 1.5 })).toThrow(/N = 1.5 must be an integer ≥ 2/);
    expect(() => energyTemperature(square, -1, -0.1)).toThrow(/error -0.1 .* must be finite and ≥ 0/);
    expect(() => energyTemperature(square, NaN, 0.1)).toThrow(/NaN must be finite/);
    const scan: ReferenceScan = {
      lattice: { kind: 'ring', N: 4 },
      temperatures: [1, 2, 2],
      energy: [Float64Array.of(-1, -1), Float64Array.of(-1, 0), Float64Array.of(0, 0)],
      absM: [Float64Array.of(1, 1), Float64Array.of(1, 0.5), Float64Array.of(0, 0.5)],
    };
    expect(() => magnetizationTemperature(scan, 0.5, 0.1)).toThrow(
      /scan temperature 2 at index 2 must exceed the previous 2/,
    );
    expect(() => magnetizationTemperature(square, 0.5, 0.1)).toThrow(/only on the ring/);
    expect(() => readGeneration(lat, new Int8Array(16).fill(1), 1)).toThrow(
      /chains 1 must be an integer in 2 … count 1/,
    );
  });
});

describe('ring of 8: exact samples read back (CPU)', () => {
  const lattice: Lattice = { kind: 'ring', N: 8 };
  const curve = exactCurve(lattice);
  const count = 1000;

  it('equilibrium samples read their T by energy and |m| and are thermal; a mixture is not', () => {
    for (const [T, seed] of [
      [0.7, 1],
      [1.5, 2],
      [3, 3],
    ] as const) {
      for (let rep = 0; rep < 5; rep++) {
        const r = readGeneration(lattice, sampleRing(8, T, count, seed * 100 + rep), count, { curve });
        expect(Math.abs(r.TE.T - T)).toBeLessThan(4 * r.TE.err);
        const Tm = r.Tm as NonNullable<typeof r.Tm>;
        expect(Math.abs(Tm.T - T)).toBeLessThan(4 * Tm.err);
        expect(r.histogram?.reference).toBe('exact');
        expect(r.thermal, JSON.stringify(r)).toBe(true);
      }
    }
    const mix = new Int8Array(count * 8);
    mix.set(sampleRing(8, 0.5, count / 2, 7));
    mix.set(sampleRing(8, 4, count / 2, 8), (count / 2) * 8);
    const r = readGeneration(lattice, mix, count, { curve });
    expect(r.TE.T).toBeGreaterThan(0.5);
    expect(r.TE.T).toBeLessThan(4);
    expect(r.thermal).toBe(false);
    expect(Math.abs(r.variance.z) > THERMAL_LIMITS.z || (r.histogram?.p ?? 1) < THERMAL_LIMITS.p).toBe(true);
  });

  it('all-up configurations read as the ground state, thermal, without NaN', () => {
    const r = readGeneration(lattice, new Int8Array(10 * 8).fill(1), 10, { curve });
    expect(r.TE).toMatchObject({ T: 0, bound: 'ground' });
    expect(r.Tm).toMatchObject({ T: 0, bound: 'ground' });
    expect(r.variance.z).toBe(0);
    expect(r.thermal).toBe(true);
  });
});

describe('10×10 torus: held-out equilibrium data against a reference scan (GPU)', () => {
  const gpu = useGpu();
  const lattice: Lattice = { kind: 'square', L: 10 };
  const curve = exactCurve(lattice);
  const truth = [1.5, 2.27, 3.5];

  async function dataset(temperatures: number[], samples: number, seed: number): Promise<Dataset> {
    const device = gpu().device;
    const d = await checked(device, () =>
      generateDataset(device, {
        L: 10,
        temperatures,
        samples,
        chains: 8,
        therm: 200,
        tauSweeps: 200,
        every: 2,
        algorithm: 'sw',
        init: 'up',
        seed,
      }),
    );
    return d;
  }

  it('reads the true T within 4 errors by energy and |m|, thermal; a 1.5/3.5 mixture is not', async () => {
    const held = await dataset(truth, 1000, 21);
    const scanT = Array.from({ length: 31 }, (_, i) => Math.round((1 + 0.1 * i) * 10) / 10);
    const scan = referenceScan(lattice, (await dataset(scanT, 400, 22)).temperatures);
    held.temperatures.forEach((t) => {
      const r = readGeneration(lattice, t.spins, t.samples, { curve, scan });
      const Tm = r.Tm as NonNullable<typeof r.Tm>;
      console.log(
        `T=${t.T}: T_E=${r.TE.T.toFixed(4)}±${r.TE.err.toFixed(4)} T_m=${Tm.T.toFixed(4)}±${Tm.err.toFixed(4)} ` +
          `var z=${r.variance.z.toFixed(2)} χ²=${r.histogram?.chi2.toFixed(1)}/${r.histogram?.dof} ` +
          `p=${r.histogram?.p.toExponential(2)} agree z=${r.agreement?.z.toFixed(2)}`,
      );
      expect(r.TE.bound).toBeUndefined();
      expect(Math.abs(r.TE.T - t.T)).toBeLessThan(4 * r.TE.err);
      expect(Tm.bound).toBeUndefined();
      expect(Math.abs(Tm.T - t.T)).toBeLessThan(4 * Tm.err);
      expect(r.histogram?.reference).toBe('reweighted');
      expect(r.thermal).toBe(true);
      // the same data as 8 interleaved chains still reads the right T
      const byChain = readGeneration(lattice, t.spins, t.samples, { curve, scan, chains: 8 });
      expect(Math.abs(byChain.TE.T - t.T)).toBeLessThan(5 * byChain.TE.err);
    });
    const half = 500 * 100;
    const mix = new Int8Array(2 * half);
    mix.set((held.temperatures[0] as Dataset['temperatures'][0]).spins.subarray(0, half));
    mix.set((held.temperatures[2] as Dataset['temperatures'][0]).spins.subarray(0, half), half);
    const r = readGeneration(lattice, mix, 1000, { curve, scan });
    console.log(
      `mixture: T_E=${r.TE.T.toFixed(3)} var z=${r.variance.z.toFixed(1)} p=${r.histogram?.p.toExponential(2)} ` +
        `agree z=${r.agreement?.z.toFixed(2)}`,
    );
    expect(r.TE.T).toBeGreaterThan(1.5);
    expect(r.TE.T).toBeLessThan(3.5);
    expect(r.thermal).toBe(false);
    expect(Math.abs(r.variance.z) > THERMAL_LIMITS.z || (r.histogram?.p ?? 1) < THERMAL_LIMITS.p).toBe(true);
  }, 60_000);
});
