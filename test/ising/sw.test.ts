/**
 * Swendsen–Wang on the GPU (shaders/ising/sw.wgsl) and the engine's `firstReplica`:
 * - bit for bit against the CPU oracle (src/reference/swendsen-wang.ts through IsingReference) over several
 *   sweeps, on square and non-square lattices, several replicas at different temperatures, both kernels;
 * - shards: replicas f … f + R − 1 of a larger run are reproduced exactly by an engine with firstReplica f;
 * - the right distribution: 4×4 histograms against exact enumeration (χ²), energies against Kaufman;
 * - the point of it: τ_int(|m|) at K_c on 32² far below checkerboard Metropolis's, both measured here;
 * - bad input refused before GPU work.
 */
import { describe, expect, it } from 'vitest';
import { enumerateIsing, kaufman, K_C } from '../../src/exact/ising.ts';
import { resolveIsingConfig, type IsingOptions } from '../../src/ising/config.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { IsingReference } from '../../src/reference/ising.ts';
import { swSweep } from '../../src/reference/swendsen-wang.ts';
import { integratedAutocorrelationTime, meanWithError } from '../../src/stats/index.ts';
import { chiSquare, increment } from '../helpers/chi-square.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

/** Runs `body` with a fresh engine inside the validation scopes, destroying it afterwards. */
async function withEngine<T>(options: IsingOptions, body: (engine: IsingEngine) => Promise<T>): Promise<T> {
  const device = gpu().device;
  return checked(device, async () => {
    const engine = new IsingEngine(device, options);
    try {
      return await body(engine);
    } finally {
      engine.destroy();
    }
  });
}

async function packedWords(engine: IsingEngine): Promise<Uint32Array> {
  return (await engine.snapshot()).spins;
}

describe('Swendsen–Wang kernel vs CPU oracle', () => {
  const cases: [string, IsingOptions][] = [
    ['6×4, 3 replicas at T = 1.5, T_c, 4', { L: 6, Ly: 4, replicas: 3, T: [1.5, 1 / K_C, 4], seed: 31 }],
    ['2×6 (doubled horizontal bonds)', { L: 2, Ly: 6, replicas: 2, T: [1.2, 2.5], seed: 32 }],
    ['10×6, J per replica (rows cross words)', { L: 10, Ly: 6, replicas: 2, T: 2.2, J: [1, 0.6], seed: 33 }],
    ['16×16 at K_c, 2 replicas', { L: 16, replicas: 2, T: 1 / K_C, seed: 34 }],
    ['packed 32×8, 2 replicas', { L: 32, Ly: 8, replicas: 2, T: [2.0, 3.0], kernel: 'packed', seed: 35 }],
    ['firstReplica 7, 8×4', { L: 8, Ly: 4, replicas: 2, firstReplica: 7, T: 2.3, seed: 36 }],
    // Spanning clusters: many unions race on the same roots (SwiftShader runs invocations on several threads).
    [
      'packed 64×96 at K_c and below, 3 replicas',
      { L: 64, Ly: 96, replicas: 3, T: [1 / K_C, 2.0, 1.5], kernel: 'packed', seed: 30 },
    ],
  ];

  it.each(cases)('%s: spins and observables bit for bit over 6 sweeps', async (_name, options) => {
    const full = { ...options, algorithm: 'sw' as const };
    await withEngine(full, async (engine) => {
      const oracle = new IsingReference(full);
      const c = engine.config;
      const start = await packedWords(engine);
      expect(start).toEqual(oracle.words);
      let changed = 0;
      for (let sweep = 0; sweep < 6; sweep++) {
        await engine.run({ sweeps: 1, measureEvery: 1 });
        const before = oracle.words.slice();
        oracle.step();
        expect(await packedWords(engine)).toEqual(oracle.words);
        changed += oracle.words.reduce((n, w, i) => n + (w !== before[i] ? 1 : 0), 0);
      }
      expect(changed).toBeGreaterThan(0); // clusters did flip
      const { records, data } = await engine.rawSeries();
      expect(records).toBe(6);
      const last = data.subarray(5 * 2 * c.replicas);
      for (let r = 0; r < c.replicas; r++) {
        const o = oracle.observables(r);
        expect(last[r]).toBe(o.bonds);
        expect(last[c.replicas + r]).toBe(o.magnetization);
      }
    });
  });

  it('IsingReference(sw) is swSweep on the unpacked spins (the oracle the kernel is held to)', () => {
    const options: IsingOptions = { L: 6, Ly: 4, replicas: 2, T: [1.7, 3], algorithm: 'sw', seed: 5 };
    const ref = new IsingReference(options);
    const spins = new Int8Array(2 * 24);
    const unpack = (): void => {
      for (let i = 0; i < spins.length; i++) spins[i] = ref.bit(Math.floor(i / 24), i % 24) ? 1 : -1;
    };
    unpack();
    const expected = spins.slice();
    for (let t = 0; t < 4; t++) {
      swSweep(expected, 6, 4, [1 / 1.7, 1 / 3], 5, t);
      ref.step();
    }
    unpack();
    expect(Array.from(spins)).toEqual(Array.from(expected));
  });

  it('many sweeps per submission, interleaved with measurements, equal one sweep per submission', async () => {
    const options: IsingOptions = { L: 12, Ly: 8, replicas: 3, T: [2, 2.4, 2.8], algorithm: 'sw', seed: 37 };
    const oracle = new IsingReference(options);
    for (let t = 0; t < 20; t++) oracle.step();
    await withEngine(options, async (engine) => {
      await engine.run({ sweeps: 20, measureEvery: 3, sweepsPerSubmit: 20 });
      expect(await packedWords(engine)).toEqual(oracle.words);
      expect((await engine.rawSeries()).records).toBe(6);
    });
  });

  it('setTemperature changes the bond thresholds from the next sweep', async () => {
    const options: IsingOptions = { L: 8, Ly: 6, replicas: 2, T: 2, algorithm: 'sw', seed: 39 };
    await withEngine(options, async (engine) => {
      const before = new IsingReference(options);
      await engine.run({ sweeps: 2 });
      before.step();
      before.step();
      engine.setTemperature([4, 1.2]);
      await engine.run({ sweeps: 3 });
      const after = new IsingReference({ ...options, T: [4, 1.2] });
      after.words.set(before.words);
      after.sweep = before.sweep;
      for (let t = 0; t < 3; t++) after.step();
      expect(await packedWords(engine)).toEqual(after.words);
      for (let t = 0; t < 3; t++) before.step(); // the old temperature gives other spins: the test can fail
      expect(before.words).not.toEqual(after.words);
    });
  });

  it('switches algorithm mid-run: metropolis, then sw, then heat-bath, as the oracle does', async () => {
    const options: IsingOptions = { L: 8, Ly: 6, replicas: 2, T: 2.1, seed: 38 };
    await withEngine(options, async (engine) => {
      const oracle = new IsingReference(options);
      await engine.run({ sweeps: 2 });
      oracle.step();
      oracle.step();
      engine.setAlgorithm('sw');
      expect(engine.config.algorithm).toBe('sw');
      await engine.run({ sweeps: 3 });
      const sw = new IsingReference({ ...options, algorithm: 'sw' });
      sw.words.set(oracle.words);
      sw.sweep = oracle.sweep;
      for (let t = 0; t < 3; t++) sw.step();
      expect(await packedWords(engine)).toEqual(sw.words);
      engine.setAlgorithm('heatbath');
      await engine.run({ sweeps: 1 });
      oracle.words.set(sw.words);
      oracle.sweep = sw.sweep;
      oracle.step(true);
      expect(await packedWords(engine)).toEqual(oracle.words);
    });
  });
});

describe('firstReplica: shards reproduce the replicas of a larger run', () => {
  const cases: [string, IsingOptions][] = [
    ['simple metropolis 8×6', { L: 8, Ly: 6, T: [1.8, 2.2, 2.6, 3.0], seed: 41 }],
    ['simple heat-bath 6×6', { L: 6, T: 2.4, algorithm: 'heatbath', seed: 42 }],
    ['packed metropolis 32×4', { L: 32, Ly: 4, T: [1.8, 2.2, 2.6, 3.0], kernel: 'packed', seed: 43 }],
    ['sw 12×8', { L: 12, Ly: 8, T: [1.8, 2.2, 2.6, 3.0], algorithm: 'sw', seed: 44 }],
    ['sw packed 32×4', { L: 32, Ly: 4, T: 2.269, algorithm: 'sw', kernel: 'packed', seed: 45 }],
  ];

  it.each(cases)('%s: replicas 2…3 of 4 = an engine with firstReplica 2', async (_name, options) => {
    const T = options.T;
    const words = resolveIsingConfig({ ...options, replicas: 4 }).words;
    const whole = await withEngine({ ...options, replicas: 4 }, async (engine) => {
      await engine.run({ sweeps: 4 });
      return packedWords(engine);
    });
    const shard = await withEngine(
      { ...options, replicas: 2, firstReplica: 2, T: Array.isArray(T) ? T.slice(2) : T },
      async (engine) => {
        await engine.run({ sweeps: 4 });
        return packedWords(engine);
      },
    );
    expect(shard).toEqual(whole.subarray(2 * words));
    // Not vacuous: without firstReplica the two replicas are different ones.
    const unshifted = await withEngine(
      { ...options, replicas: 2, T: Array.isArray(T) ? T.slice(2) : T },
      async (engine) => {
        await engine.run({ sweeps: 4 });
        return packedWords(engine);
      },
    );
    expect(unshifted).not.toEqual(shard);
  });

  it('snapshots carry firstReplica: a resumed sw run continues exactly', async () => {
    const options: IsingOptions = {
      L: 10,
      Ly: 6,
      replicas: 2,
      firstReplica: 5,
      T: 2.3,
      algorithm: 'sw',
      seed: 46,
    };
    const device = gpu().device;
    const straight = await withEngine(options, async (engine) => {
      await engine.run({ sweeps: 6, measureEvery: 2 });
      return { words: await packedWords(engine), series: (await engine.rawSeries()).data.slice() };
    });
    await checked(device, async () => {
      const first = new IsingEngine(device, options);
      let snapshot;
      try {
        await first.run({ sweeps: 3, measureEvery: 2 });
        snapshot = await first.snapshot();
      } finally {
        first.destroy();
      }
      expect(snapshot.options.firstReplica).toBe(5);
      expect(snapshot.options.algorithm).toBe('sw');
      const resumed = IsingEngine.fromSnapshot(device, snapshot);
      try {
        expect(resumed.config.firstReplica).toBe(5);
        await resumed.run({ sweeps: 3, measureEvery: 2 });
        expect(await packedWords(resumed)).toEqual(straight.words);
      } finally {
        resumed.destroy();
      }
    });
  });

  it('CPU oracles: IsingReference and swSweep take firstReplica the same way', () => {
    const whole = new IsingReference({ L: 6, Ly: 4, replicas: 3, T: 2.2, algorithm: 'sw', seed: 47 });
    const shard = new IsingReference({
      L: 6,
      Ly: 4,
      replicas: 1,
      firstReplica: 2,
      T: 2.2,
      algorithm: 'sw',
      seed: 47,
    });
    for (let t = 0; t < 3; t++) {
      whole.step();
      shard.step();
    }
    expect(Array.from(shard.words)).toEqual(Array.from(whole.words.subarray(2)));
  });
});

/** Per-spin series of every replica after `therm` unmeasured sweeps. */
async function seriesAfter(
  engine: IsingEngine,
  therm: number,
  sweeps: number,
  measureEvery: number,
): Promise<{ energy: Float64Array[]; magnetization: Float64Array[] }> {
  await engine.run({ sweeps: therm });
  engine.clearMeasurements();
  await engine.run({ sweeps, measureEvery });
  const energy: Float64Array[] = [];
  const magnetization: Float64Array[] = [];
  for (let r = 0; r < engine.config.replicas; r++) {
    const s = await engine.series(r);
    energy.push(s.energy);
    magnetization.push(s.magnetization);
  }
  return { energy, magnetization };
}

/** Per-measurement average over replicas (same τ_int as one replica, R times less variance). */
function replicaAverage(series: Float64Array[]): Float64Array {
  const out = new Float64Array(series[0]!.length);
  for (const s of series) s.forEach((x, t) => (out[t]! += x / series.length));
  return out;
}

describe('Swendsen–Wang samples the Ising distribution', () => {
  // 1024 replicas × 20 records 3 sweeps apart (τ_int(E) ≈ 1 sweep on 4×4): 20480 nearly independent
  // states; Pearson χ² of E and M against exact enumeration; the same data must reject K 5 % off.
  for (const K of [K_C, 0.3]) {
    it(`4×4 at K = ${K.toFixed(4)}: E and M histograms match exact enumeration (χ²)`, async () => {
      const options: IsingOptions = { L: 4, replicas: 1024, T: 1 / K, algorithm: 'sw', seed: 51 };
      await withEngine(options, async (engine) => {
        await engine.run({ sweeps: 30 });
        engine.clearMeasurements();
        await engine.run({ sweeps: 60, measureEvery: 3 });
        const { records, data } = await engine.rawSeries();
        const R = engine.config.replicas;
        const energy = new Map<number, number>();
        const M = new Map<number, number>();
        for (let t = 0; t < records; t++) {
          for (let r = 0; r < R; r++) {
            increment(energy, -data[t * 2 * R + r]!);
            increment(M, data[t * 2 * R + R + r]!);
          }
        }
        const exact = enumerateIsing(4, 4, K);
        const fitE = chiSquare(energy, exact.energyHistogram);
        const fitM = chiSquare(M, exact.magnetizationHistogram);
        expect(fitE.samples).toBe(20 * 1024);
        expect(fitE.p, `E: χ² ${fitE.chi2.toFixed(1)} / ${fitE.dof}`).toBeGreaterThan(1e-4);
        expect(fitM.p, `M: χ² ${fitM.chi2.toFixed(1)} / ${fitM.dof}`).toBeGreaterThan(1e-4);
        const wrong = chiSquare(energy, enumerateIsing(4, 4, 1.05 * K).energyHistogram);
        expect(wrong.p, `χ² ${wrong.chi2.toFixed(1)} against K·1.05`).toBeLessThan(1e-4);
      });
    });
  }

  // ⟨e⟩ over 32 replicas × 400 sweeps against Kaufman's exact torus, errors from τ_int of the replica
  // average (cross-checked by the spread of the replicas' means); the bound is 4σ and σ must be small
  // enough that a 2 % error in K would fail.
  const kaufmanCases: [string, number, number, number][] = [
    ['16×16 at K_c', 16, 16, K_C],
    ['16×12 at K = 0.5 (ordered)', 16, 12, 0.5],
    ['12×16 at K = 0.35 (disordered)', 12, 16, 0.35],
  ];
  it.each(kaufmanCases)('%s: energy per spin matches Kaufman', async (_name, Lx, Ly, K) => {
    const options: IsingOptions = { L: Lx, Ly, replicas: 32, T: 1 / K, algorithm: 'sw', seed: 52 };
    await withEngine(options, async (engine) => {
      const { energy } = await seriesAfter(engine, 50, 400, 1);
      const est = meanWithError(replicaAverage(energy));
      const means = energy.map((e) => e.reduce((a, b) => a + b, 0) / e.length);
      const spread = Math.sqrt(
        means.reduce((a, m) => a + (m - est.mean) ** 2, 0) / (means.length - 1) / means.length,
      );
      const err = Math.max(est.err, spread);
      const exact = kaufman(K, Lx, Ly).energyPerSpin;
      const what = `${est.mean} ± ${err} (τ_int ${est.tauInt.toFixed(2)}) vs exact ${exact}`;
      expect(Math.abs(est.mean - exact), what).toBeLessThan(4 * err);
      expect(est.tauInt, 'SW decorrelates E within a few sweeps').toBeLessThan(10);
      const shifted = kaufman(1.02 * K, Lx, Ly).energyPerSpin;
      expect(Math.abs(shifted - exact), 'the test could fail').toBeGreaterThan(8 * err);
    });
  });

  // The point of cluster updates. Both start from an SW-equilibrated state (Metropolis would need
  // thousands of sweeps to get there). τ_int(|m|) pools the 16 independent replicas: their |m| series are
  // concatenated into one (Sokal window, Madras–Sokal error with n = 16 × samples); the R − 1 joins make a
  // fraction ≈ t/n of the lag-t pairs uncorrelated, which lowers τ by ≈ τ/n (2 % for Metropolis here,
  // against it). Metropolis is sampled every 2 sweeps (τ_int in sweeps ≈ 2 × τ_int in samples, τ ≫ 2).
  it('τ_int(|m|) at K_c on 32×32: SW at least 5× shorter than checkerboard Metropolis', async () => {
    const tauOf = async (algorithm: 'sw' | 'metropolis', sweeps: number, every: number, seed: number) =>
      withEngine({ L: 32, replicas: 16, T: 1 / K_C, algorithm: 'sw', seed }, async (engine) => {
        await engine.run({ sweeps: 60 });
        engine.setAlgorithm(algorithm);
        const { magnetization } = await seriesAfter(engine, 0, sweeps, every);
        const pooled = new Float64Array(magnetization.length * magnetization[0]!.length);
        magnetization.forEach((m, r) => pooled.set(m.map(Math.abs), r * m.length));
        const tau = integratedAutocorrelationTime(pooled);
        expect(tau.converged, `${algorithm}: window converged`).toBe(true);
        return { tau: every * tau.tauInt, err: every * tau.tauIntError };
      });
    const sw = await tauOf('sw', 300, 1, 53);
    const metropolis = await tauOf('metropolis', 1600, 2, 54);
    const report = `τ_int(|m|): SW ${sw.tau.toFixed(2)} ± ${sw.err.toFixed(2)}, Metropolis ${metropolis.tau.toFixed(1)} ± ${metropolis.err.toFixed(1)} sweeps`;
    expect(sw.tau, report).toBeLessThan(6);
    expect(metropolis.tau / sw.tau, report).toBeGreaterThan(5);
    // Decisive: the margin over 5× is more than two combined standard errors.
    expect(metropolis.tau - 5 * sw.tau, report).toBeGreaterThan(2 * Math.hypot(metropolis.err, 5 * sw.err));
  });
});

describe('Swendsen–Wang: bad input', () => {
  it('refuses a field, the ring, J ≤ 0, and too many replicas for the counters, before GPU work', () => {
    const base: IsingOptions = { L: 8, T: 2, algorithm: 'sw' };
    expect(() => resolveIsingConfig({ ...base, h: 0.1 })).toThrow(/'sw' needs zero field; h = 0.1/);
    expect(() => resolveIsingConfig({ ...base, replicas: 2, h: [0, -0.2] })).toThrow(/h\[1\] = -0.2/);
    expect(() => resolveIsingConfig({ ...base, dims: 1 })).toThrow(/'sw' .* is 2D only; dims = 1/);
    expect(() => resolveIsingConfig({ ...base, J: -1 })).toThrow(/J > 0 .*J = -1, T = 2/);
    expect(() => resolveIsingConfig({ ...base, J: 0 })).toThrow(/J > 0 .*J = 0/);
    expect(() => resolveIsingConfig({ ...base, L: 7 })).toThrow(/L = 7 must be even/);
    expect(() => resolveIsingConfig({ ...base, firstReplica: 2 ** 32 - 1, replicas: 2 })).toThrow(
      /firstReplica 4294967295 \+ replicas 2 = 4294967297 exceeds 2\^32/,
    );
    expect(() => resolveIsingConfig({ ...base, firstReplica: 1.5 })).toThrow(
      /firstReplica 1.5 must be an integer/,
    );
    // The label buffer (one u32 per site) against the adapter's storage limit.
    const limits = { maxStorageBufferBindingSize: 2 ** 19, maxBufferSize: 2 ** 30 };
    const big = { ...base, L: 512, maxDistance: 8 };
    expect(() => resolveIsingConfig(big, limits)).toThrow(
      /Swendsen–Wang labels of 1 × 512×512 sites \(u32 each\) needs 1.0 MiB; this adapter allows 0.5 MiB/,
    );
    expect(() => resolveIsingConfig({ ...big, algorithm: 'metropolis' }, limits)).not.toThrow();
  });

  it('setAlgorithm("sw") and setField check the same rules on a live engine', async () => {
    await withEngine({ L: 8, T: 2, h: 0.2 }, async (engine) => {
      expect(() => engine.setAlgorithm('sw')).toThrow(/zero field; h = 0.2/);
      expect(engine.config.algorithm).toBe('metropolis');
      engine.setField(0);
      engine.setAlgorithm('sw');
      expect(() => engine.setField(0.1)).toThrow(/zero field/);
      expect(engine.config.h).toEqual([0]);
    });
    await withEngine({ L: 8, dims: 1, T: 2 }, async (engine) => {
      expect(() => engine.setAlgorithm('sw')).toThrow(/2D only/);
    });
  });
});
