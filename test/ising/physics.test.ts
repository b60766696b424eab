/**
 * The Ising engine samples the right distribution: histograms against exact enumeration (χ² tests), energies
 * against Kaufman's finite-torus solution, the 1D ring's exact G(x), and the four kernel × algorithm variants
 * against each other. Fixed seeds and bit-exact kernels make every outcome deterministic; the tolerances are
 * 4 standard errors (or χ² p > 1e-4) so a correct engine passes with a wide margin, and each test also checks
 * that it could fail (errors small enough, a wrong temperature rejected).
 */
import { describe, expect, it } from 'vitest';
import type { IsingOptions } from '../../src/ising/config.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { isingRunEstimates } from '../../src/ising/estimates.ts';
import { enumerateIsing, kaufman, ringCorrelation, T_C } from '../../src/exact/ising.ts';
import { meanWithError, type Estimate } from '../../src/stats/index.ts';
import { chiSquare, increment } from '../helpers/chi-square.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

// ---------------------------------------------------------------------------------------------------------

/** Runs `therm` sweeps, forgets them, then `sweeps` measured ones; returns the engine (caller destroys). */
async function equilibrated(
  device: GPUDevice,
  options: IsingOptions,
  therm: number,
  run: { sweeps: number; measureEvery: number; correlationEvery?: number },
): Promise<IsingEngine> {
  const engine = new IsingEngine(device, options);
  try {
    await engine.run({ sweeps: therm });
    engine.clearMeasurements();
    await engine.run(run);
    return engine;
  } catch (err) {
    engine.destroy();
    throw err;
  }
}

/** isingRunEstimates over the replicas r0 … r1 − 1 (all at the same temperature). */
async function estimatesFor(engine: IsingEngine, r0: number, r1: number, T: number) {
  const series = [];
  for (let r = r0; r < r1; r++) series.push(await engine.series(r)); // one at a time: see state.test.ts
  return isingRunEstimates({
    energy: series.map((s) => s.energy),
    magnetization: series.map((s) => s.magnetization),
    beta: 1 / T,
    N: engine.config.sites,
    replicas: r1 - r0,
  });
}

/**
 * ⟨e⟩ and ⟨|m|⟩ over replicas r0 … r1 − 1 with the error taken as the larger of the τ_int error and the spread
 * of the per-replica means / √R. Independent replicas make the second immune to a τ_int window that misses a
 * slow mode (energy at T_c on 32×32 with ~50 τ_int of data); it is itself uncertain by ~1/√(2R).
 */
async function robustEstimates(engine: IsingEngine, r0: number, r1: number, T: number) {
  const est = await estimatesFor(engine, r0, r1, T);
  const means = { energy: [] as number[], absMagnetization: [] as number[] };
  for (let r = r0; r < r1; r++) {
    const { energy, magnetization } = await engine.series(r);
    means.energy.push(energy.reduce((a, b) => a + b, 0) / energy.length);
    means.absMagnetization.push(magnetization.reduce((a, b) => a + Math.abs(b), 0) / magnetization.length);
  }
  const spread = (x: number[]): number => {
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1) / x.length);
  };
  return {
    energy: { mean: est.energy.mean, err: Math.max(est.energy.err, spread(means.energy)) },
    absMagnetization: {
      mean: est.absMagnetization.mean,
      err: Math.max(est.absMagnetization.err, spread(means.absMagnetization)),
    },
  };
}

/** |a − b| within `sigmas` combined standard errors. */
function expectCompatible(a: Estimate, b: Estimate, sigmas = 4, what = ''): void {
  const bound = sigmas * Math.hypot(a.err, b.err);
  expect(Math.abs(a.mean - b.mean), `${what}: ${a.mean} ± ${a.err} vs ${b.mean} ± ${b.err}`).toBeLessThan(
    bound,
  );
}

describe('Ising engine vs exact enumeration (χ², simple kernel)', () => {
  const gpu = useGpu();
  const REPLICAS = 2048;
  const MEASURE_EVERY = 10; // ≫ τ_int at L ≤ 4: the samples of one replica are nearly independent
  const RECORDS = 20;

  /** Energy (and magnetisation) histograms from R replicas × RECORDS records. */
  async function sample(
    options: IsingOptions,
  ): Promise<{ energy: Map<number, number>; M: Map<number, number> }> {
    const device = gpu().device;
    return checked(device, async () => {
      const engine = await equilibrated(device, { replicas: REPLICAS, ...options }, 100, {
        sweeps: RECORDS * MEASURE_EVERY,
        measureEvery: MEASURE_EVERY,
      });
      try {
        const { records, data } = await engine.rawSeries();
        expect(records).toBe(RECORDS);
        const R = engine.config.replicas;
        const h = engine.config.h[0] as number;
        const energy = new Map<number, number>();
        const M = new Map<number, number>();
        for (let t = 0; t < records; t++) {
          for (let r = 0; r < R; r++) {
            const b = data[t * 2 * R + r] as number;
            const m = data[t * 2 * R + R + r] as number;
            increment(energy, -b - h * m); // the same f64 expression as enumerateIsing's keys
            increment(M, m);
          }
        }
        return { energy, M };
      } finally {
        engine.destroy();
      }
    });
  }

  // Metropolis starts ordered: a random 4×4 start can land (p ≈ 1e-3) in a state with zero field at every site,
  // which the checkerboard Metropolis sweep flips back and forth forever (see src/ising/tables.ts).
  const cases: [string, number, number, IsingOptions['algorithm'], number, IsingOptions['init']][] = [
    ['4×4 Metropolis T = 2.269', 4, 2.269, 'metropolis', 101, 'up'],
    ['4×4 Metropolis T = 1.8', 4, 1.8, 'metropolis', 102, 'up'],
    ['4×4 heat-bath T = 2.269', 4, 2.269, 'heatbath', 103, 'random'],
    ['4×4 heat-bath T = 1.8', 4, 1.8, 'heatbath', 104, 'random'],
    ['2×2 (doubled bonds) heat-bath T = 2.269', 2, 2.269, 'heatbath', 105, 'random'],
    ['2×2 (doubled bonds) heat-bath T = 1.5', 2, 1.5, 'heatbath', 106, 'random'],
  ];

  it.each(cases)('%s: energy histogram', async (_name, L, T, algorithm, seed, init) => {
    const { energy } = await sample({ L, T, algorithm, seed, init });
    const exact = enumerateIsing(L, L, 1 / T);
    const fit = chiSquare(energy, exact.energyHistogram);
    expect(fit.samples).toBe(REPLICAS * RECORDS);
    expect(fit.dof).toBeGreaterThanOrEqual(L === 4 ? 6 : 1);
    expect(fit.p, `χ² = ${fit.chi2.toFixed(2)} with ${fit.dof} dof`).toBeGreaterThan(1e-4);
    // The test has power: the same samples are rejected against a temperature 5% off.
    const wrong = chiSquare(energy, enumerateIsing(L, L, 1 / (1.05 * T)).energyHistogram);
    expect(wrong.p, `χ² = ${wrong.chi2.toFixed(2)} vs T·1.05`).toBeLessThan(1e-4);
  });

  /**
   * The 2×2 torus by hand: a = (0,0), b = (1,1) (colour 0), c = (1,0), d = (0,1); every bond is doubled, so
   * E = −2(a + b)(c + d). States with a ≠ b and c ≠ d have zero field at every site.
   */
  function twoByTwo(K: number, withTraps: boolean): Map<number, number> {
    const weights = new Map<number, number>();
    let Z = 0;
    for (let bits = 0; bits < 16; bits++) {
      const [a, b, c, d] = [0, 1, 2, 3].map((i) => ((bits >> i) & 1 ? 1 : -1)) as [
        number,
        number,
        number,
        number,
      ];
      if (!withTraps && a !== b && c !== d) continue;
      const E = -2 * (a + b) * (c + d);
      const w = Math.exp(-K * E);
      weights.set(E, (weights.get(E) ?? 0) + w);
      Z += w;
    }
    return new Map([...weights].map(([E, w]) => [E, w / Z]));
  }

  it('2×2 (doubled bonds) Metropolis: ergodic only outside the zero-field states, which are traps', async () => {
    const T = 2.269;
    const K = 1 / T;
    // The hand enumeration is the engine's convention.
    const full = twoByTwo(K, true);
    for (const [E, p] of enumerateIsing(2, 2, K).energyHistogram) expect(full.get(E)).toBeCloseTo(p, 14);
    // From the ordered start the sweep samples exp(−βE) restricted to the other 12 states.
    const { energy } = await sample({ L: 2, T, algorithm: 'metropolis', seed: 107, init: 'up' });
    const fit = chiSquare(energy, twoByTwo(K, false));
    expect(fit.p, `χ² = ${fit.chi2.toFixed(2)} with ${fit.dof} dof`).toBeGreaterThan(1e-4);
    expect(chiSquare(energy, full).p).toBeLessThan(1e-4);
    // A trap state (a ≠ b, c ≠ d) flips entirely every sweep and never leaves E = 0.
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 2, replicas: 2, T, seed: 108 });
      try {
        // Row-major 2×2: [(0,0), (1,0); (0,1), (1,1)] = [a, c; d, b].
        const trap = [1, 1, -1, -1];
        engine.setSpins([...trap, ...trap.map((s) => -s)]);
        await engine.run({ sweeps: 50, measureEvery: 1 });
        const { data } = await engine.rawSeries();
        expect(Array.from(data).every((x) => x === 0)).toBe(true); // bonds and M are 0 at every record
        expect(Array.from(await engine.getSpins())).toEqual([...trap, ...trap.map((s) => -s)]); // 50 flips: back
      } finally {
        engine.destroy();
      }
    });
  });

  it('4×4 Metropolis in a field h = 0.3, T = 2.269: energy and magnetisation histograms', async () => {
    const T = 2.269;
    const h = 0.3;
    const { energy, M } = await sample({ L: 4, T, h, seed: 321 });
    const exact = enumerateIsing(4, 4, 1 / T, h);
    const fitE = chiSquare(energy, exact.energyHistogram);
    expect(fitE.p, `energy χ² = ${fitE.chi2.toFixed(2)} with ${fitE.dof} dof`).toBeGreaterThan(1e-4);
    expect(fitE.dof).toBeGreaterThanOrEqual(10);
    const fitM = chiSquare(M, exact.magnetizationHistogram);
    expect(fitM.p, `M χ² = ${fitM.chi2.toFixed(2)} with ${fitM.dof} dof`).toBeGreaterThan(1e-4);
    // Power: the field matters (h = 0.25 is rejected).
    const wrong = enumerateIsing(4, 4, 1 / T, 0.25).magnetizationHistogram;
    expect(chiSquare(M, wrong).p).toBeLessThan(1e-4);
  });
});

describe('Ising engine vs Kaufman (16×16, Metropolis, simple kernel)', () => {
  const gpu = useGpu();
  it('energy per spin at T = 2.0, T_c and 3.0 within 4σ, σ ≤ 0.003', async () => {
    const device = gpu().device;
    // More replicas at T_c, where the variance and τ_int are largest. Ordered start: no stripe states at T = 2.
    const groups = [
      { T: 2.0, replicas: 32 },
      { T: T_C, replicas: 128 },
      { T: 3.0, replicas: 32 },
    ];
    const T = groups.flatMap((g) => new Array<number>(g.replicas).fill(g.T));
    await checked(device, async () => {
      const engine = await equilibrated(
        device,
        { L: 16, replicas: T.length, T, init: 'up', seed: 2024 },
        500,
        {
          sweeps: 1000,
          measureEvery: 1,
        },
      );
      try {
        let r0 = 0;
        for (const g of groups) {
          const est = await estimatesFor(engine, r0, r0 + g.replicas, g.T);
          r0 += g.replicas;
          const exact = kaufman(1 / g.T, 16, 16).energyPerSpin;
          const what = `T = ${g.T}: ${est.energy.mean} ± ${est.energy.err} vs exact ${exact} (τ_int ${est.tauInt.energy})`;
          expect(est.energy.err, what).toBeLessThanOrEqual(0.003);
          expect(est.energy.err, what).toBeGreaterThan(0);
          expect(Math.abs(est.energy.mean - exact), what).toBeLessThan(4 * est.energy.err);
          expect(est.blocking.converged, what).toBe(true);
        }
      } finally {
        engine.destroy();
      }
    });
  });
});

describe('1D ring vs exact results', () => {
  const gpu = useGpu();
  const REPLICAS = 64; // per coupling

  const rings: [number, 'metropolis' | 'heatbath', number][] = [
    [10, 'metropolis', 7010],
    [16, 'metropolis', 7016],
    [10, 'heatbath', 7110],
  ];
  it.each(rings)(
    'N = %i, %s, K = 0.5 and 1.0: G(x) for x = 0 … N/2 and the energy',
    async (N, algorithm, seed) => {
      const device = gpu().device;
      const couplings = [0.5, 1.0];
      const T = couplings.flatMap((K) => new Array<number>(REPLICAS).fill(1 / K));
      await checked(device, async () => {
        const engine = await equilibrated(
          device,
          { L: N, dims: 1, replicas: T.length, T, algorithm, seed },
          200,
          {
            sweeps: 1200,
            measureEvery: 2,
            correlationEvery: 1,
          },
        );
        try {
          const corr = await engine.correlations();
          const R = engine.config.replicas;
          expect(corr.distances).toBe(N / 2 + 1);
          expect(corr.records).toBe(600);
          for (const [g, K] of couplings.entries()) {
            let power = 0;
            for (let x = 0; x <= N / 2; x++) {
              // Replica average per record, then the mean with its τ_int error.
              const series = new Float64Array(corr.records);
              for (let t = 0; t < corr.records; t++) {
                let s = 0;
                for (let r = g * REPLICAS; r < (g + 1) * REPLICAS; r++) {
                  s += corr.values[(t * R + r) * corr.distances + x] as number;
                }
                series[t] = s / REPLICAS;
              }
              const exact = ringCorrelation(K, N, x);
              if (x === 0) {
                expect(series.every((v) => v === 1)).toBe(true);
                continue;
              }
              const est = meanWithError(series);
              const what = `K = ${K}, x = ${x}: ${est.mean} ± ${est.err} (τ_int ${est.tauInt}) vs exact ${exact}`;
              expect(est.err, what).toBeGreaterThan(0);
              expect(est.err, what).toBeLessThan(0.01);
              expect(Math.abs(est.mean - exact), what).toBeLessThan(4 * est.err);
              power = Math.max(power, Math.abs(Math.tanh(K) ** x - exact) / est.err);
            }
            // The periodic form matters at this precision: the open-chain t^x is far outside the error bars.
            if (K === 1.0) expect(power).toBeGreaterThan(10);

            // Energy per spin: −⟨s_i s_{i+1}⟩ = −(t + t^{N−1})/(1 + t^N).
            const est = await estimatesFor(engine, g * REPLICAS, (g + 1) * REPLICAS, 1 / K);
            const exactEnergy = -ringCorrelation(K, N, 1);
            const what = `K = ${K} energy ${est.energy.mean} ± ${est.energy.err} vs ${exactEnergy}`;
            expect(est.energy.err, what).toBeLessThan(0.01);
            expect(Math.abs(est.energy.mean - exactEnergy), what).toBeLessThan(4 * est.energy.err);
          }
        } finally {
          engine.destroy();
        }
      });
    },
  );
});

describe('kernels and algorithms agree (and match Kaufman)', () => {
  const gpu = useGpu();

  interface Variant {
    kernel: 'simple' | 'packed';
    algorithm: 'metropolis' | 'heatbath';
  }
  const variants: Variant[] = [
    { kernel: 'simple', algorithm: 'metropolis' },
    { kernel: 'packed', algorithm: 'metropolis' },
    { kernel: 'simple', algorithm: 'heatbath' },
    { kernel: 'packed', algorithm: 'heatbath' },
  ];

  /**
   * ⟨e⟩ and ⟨|m|⟩ of one variant from `start` (replicas × Ly × Lx spins). At T_c every variant starts from the
   * same configurations, equilibrated beforehand by 2000 packed Metropolis sweeps: coarsening from a random start
   * at L = 32 takes longer than the whole measurement and would bias ⟨e⟩ differently for each dynamics.
   * At T = 2 they start ordered (no metastable stripes). Series are read one replica at a time (see state.test.ts).
   */
  async function measure(
    v: Variant,
    Lx: number,
    Ly: number,
    T: number,
    replicas: number,
    seed: number,
    start: Int8Array | null,
  ) {
    const device = gpu().device;
    return checked(device, async () => {
      const engine = new IsingEngine(device, { L: Lx, Ly, T, replicas, seed, init: 'up', ...v });
      try {
        if (start) engine.setSpins(start);
        await engine.run({ sweeps: start ? 100 : 200 });
        engine.clearMeasurements();
        await engine.run(start ? { sweeps: 1600, measureEvery: 2 } : { sweeps: 400, measureEvery: 1 });
        return await robustEstimates(engine, 0, replicas, T);
      } finally {
        engine.destroy();
      }
    });
  }

  async function equilibratedSpins(
    Lx: number,
    Ly: number,
    T: number,
    replicas: number,
    seed: number,
  ): Promise<Int8Array> {
    const device = gpu().device;
    return checked(device, async () => {
      const engine = new IsingEngine(device, { L: Lx, Ly, T, replicas, seed, kernel: 'packed' });
      try {
        await engine.run({ sweeps: 2000 });
        return await engine.getSpins();
      } finally {
        engine.destroy();
      }
    });
  }

  const sizes: [number, number, number, Variant[]][] = [
    [32, 32, 16, variants],
    [64, 32, 8, variants.filter((v) => v.algorithm === 'metropolis')],
  ];
  for (const [Lx, Ly, replicas, list] of sizes) {
    for (const T of [2.269, 2.0]) {
      it(`${Lx}×${Ly}, T = ${T}: ${list.map((v) => `${v.kernel}/${v.algorithm}`).join(', ')}`, async () => {
        const critical = T > 2.2;
        const start = critical ? await equilibratedSpins(Lx, Ly, T, replicas, 800) : null;
        const results = [];
        for (const [i, v] of list.entries())
          results.push(await measure(v, Lx, Ly, T, replicas, 900 + i, start));
        const exact = kaufman(1 / T, Lx, Ly).energyPerSpin;
        results.forEach((res, i) => {
          const name = `${list[i]?.kernel}/${list[i]?.algorithm}`;
          expect(res.energy.err, name).toBeLessThan(critical ? 0.01 : 0.003);
          // At T_c the error of ⟨|m|⟩ is mostly the spread of the replicas' means, itself uncertain by ~25 % with
          // 8 replicas: 6 seeds each of simple and packed Metropolis on 64×32 gave 0.015 … 0.041 alike.
          expect(res.absMagnetization.err, name).toBeLessThan(critical ? 0.05 : 0.004);
          expectCompatible(res.energy, { mean: exact, err: 0 }, 4, `${name} ⟨e⟩ vs Kaufman`);
        });
        // Every pair: packed vs simple, Metropolis vs heat-bath.
        for (let i = 0; i < results.length; i++) {
          for (let j = i + 1; j < results.length; j++) {
            const a = results[i]!;
            const b = results[j]!;
            const names = `${list[i]?.kernel}/${list[i]?.algorithm} vs ${list[j]?.kernel}/${list[j]?.algorithm}`;
            expectCompatible(a.energy, b.energy, 4, `${names} ⟨e⟩`);
            expectCompatible(a.absMagnetization, b.absMagnetization, 4, `${names} ⟨|m|⟩`);
          }
        }
      });
    }
  }
});
