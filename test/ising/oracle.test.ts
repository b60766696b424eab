/** The GPU kernels against the CPU oracle, bit for bit: state, RNG streams, measurements. */
import { describe, expect, it } from 'vitest';
import type { IsingOptions } from '../../src/ising/config.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { IsingReference } from '../../src/reference/ising.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const cases: [string, IsingOptions][] = [
  [
    'simple metropolis 6×6, per-replica T and h',
    { L: 6, replicas: 3, T: [1.5, 2.269, 4], h: [0, 0.3, -0.7], seed: 11 },
  ],
  ['simple heat-bath 8×4', { L: 8, Ly: 4, replicas: 2, T: 2.0, h: 0.1, algorithm: 'heatbath', seed: 12 }],
  ['simple 2×2 (doubled bonds)', { L: 2, replicas: 4, T: 1.0, seed: 13 }],
  ['simple 1D ring N=10', { L: 10, dims: 1, replicas: 3, T: 0.8, h: 0.2, seed: 14 }],
  ['simple 10×6 (rows cross words)', { L: 10, Ly: 6, replicas: 2, T: 2.5, J: [1, -1], seed: 15 }],
  // Whole rows per word (lx < 32 divides 32): the word-parallel bond count of measureWords.
  ['simple 16×6 (two rows per word)', { L: 16, Ly: 6, replicas: 3, T: [1.8, 2.269, 3], h: 0.2, seed: 18 }],
  ['simple 4×8 (the replica in one word)', { L: 4, Ly: 8, replicas: 2, T: 2.269, J: [1, -1], seed: 19 }],
  [
    'packed metropolis 32×4',
    { L: 32, Ly: 4, replicas: 2, T: [2.0, 3.0], h: [0, 0.5], kernel: 'packed', seed: 16 },
  ],
  [
    'packed heat-bath 64×6',
    { L: 64, Ly: 6, replicas: 2, T: 2.269, kernel: 'packed', algorithm: 'heatbath', seed: 17 },
  ],
  // L ≡ 32 (mod 64): each colour row's last word of the colour-separated layout holds 16 sites.
  [
    'packed heat-bath 96×6 (half-full colour words)',
    {
      L: 96,
      Ly: 6,
      replicas: 2,
      T: [1.8, 2.6],
      h: [0.2, 0],
      kernel: 'packed',
      algorithm: 'heatbath',
      seed: 22,
    },
  ],
  // h = 0 everywhere: the Metropolis kernel's 5-class (aligned-neighbour) path, ferro- and antiferromagnetic.
  [
    'packed metropolis 64×16, h = 0, J = ±1',
    { L: 64, Ly: 16, replicas: 2, T: [2.269, 1.5], J: [1, -1], kernel: 'packed', seed: 24 },
  ],
  // Large enough that spins tie with their threshold's top byte and draw the extra 24 bits.
  [
    'packed metropolis 128×32 with ties',
    { L: 128, Ly: 32, replicas: 2, T: [2.269, 3.5], h: [0, -0.4], kernel: 'packed', seed: 20 },
  ],
  // More tied words per half-sweep (~12 % of 1024) than resolveTies has invocations (1024 / 16 = 64): its
  // invocations each take several entries of the tie list.
  [
    'packed heat-bath 128×128×4, tie list longer than its dispatch',
    { L: 128, replicas: 4, T: [2.269, 2.0, 3.0, 1.5], kernel: 'packed', algorithm: 'heatbath', seed: 25 },
  ],
  // The same with entries reserved per workgroup (the GPU path; 'auto' picks per-word atomics on SwiftShader).
  [
    'packed heat-bath 128×128×4, tie list reserved per workgroup',
    {
      L: 128,
      replicas: 4,
      T: [2.269, 2.0, 3.0, 1.5],
      kernel: 'packed',
      algorithm: 'heatbath',
      tieList: 'workgroup',
      seed: 25,
    },
  ],
  // The code shaped for GPUs ('auto' picks the CPU shape on SwiftShader): shifts for Threefry's rotations,
  // classes skipped by branches, and (by default with it) tie-list entries reserved per workgroup.
  [
    'packed metropolis 128×32, GPU-shaped code',
    { L: 128, Ly: 32, replicas: 2, T: [2.269, 3.5], h: [0, -0.4], kernel: 'packed', tuning: 'gpu', seed: 20 },
  ],
  [
    'packed metropolis 64×16, h = 0, J = ±1, GPU-shaped code',
    { L: 64, Ly: 16, replicas: 2, T: [2.269, 1.5], J: [1, -1], kernel: 'packed', tuning: 'gpu', seed: 24 },
  ],
  [
    'packed heat-bath 64×32, GPU-shaped code',
    {
      L: 64,
      Ly: 32,
      replicas: 2,
      T: [2.269, 1.5],
      kernel: 'packed',
      algorithm: 'heatbath',
      tuning: 'gpu',
      seed: 26,
    },
  ],
  // And the CPU shape named explicitly, whatever the adapter.
  [
    'packed metropolis 128×32, CPU-shaped code',
    { L: 128, Ly: 32, replicas: 2, T: [2.269, 3.5], h: [0, -0.4], kernel: 'packed', tuning: 'cpu', seed: 21 },
  ],
];

describe('Ising kernels vs CPU oracle', () => {
  const gpu = useGpu();

  it.each(cases)('%s: spins and observables bit for bit over 5 sweeps', async (_name, options) => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, options);
      const oracle = new IsingReference(options);
      try {
        const c = engine.config;
        const spins0 = await engine.getSpins();
        let flipsSeen = 0;
        for (let sweep = 0; sweep < 5; sweep++) {
          await engine.run({ sweeps: 1, measureEvery: 1, correlationEvery: 1 });
          oracle.step();
          const gpuSpins = await engine.getSpins();
          const words = new Uint32Array(await (async () => (await engine.snapshot()).spins)());
          expect(words).toEqual(oracle.words);
          flipsSeen += gpuSpins.reduce((n, s, i) => n + (s !== spins0[i] ? 1 : 0), 0);
        }
        expect(flipsSeen).toBeGreaterThan(0); // the test is not vacuous
        // The tie path (resolveTies, further Threefry blocks) is compared too.
        if (c.kernel === 'packed' && c.sites >= 4096) expect(oracle.refinements).toBeGreaterThan(0);
        const { records, data } = await engine.rawSeries();
        expect(records).toBe(5);
        // Final record against the oracle's final state.
        const last = data.subarray(4 * 2 * c.replicas);
        for (let r = 0; r < c.replicas; r++) {
          const o = oracle.observables(r);
          expect(last[r]).toBe(o.bonds);
          expect(last[c.replicas + r]).toBe(o.magnetization);
        }
        const corr = await engine.correlations();
        expect(corr.records).toBe(5);
        const norm = c.dims === 2 ? 2 * c.sites : c.sites;
        for (let r = 0; r < c.replicas; r++) {
          const expected = oracle.correlationSums(r).map((x) => x / norm);
          const got = Array.from(
            corr.values.subarray((4 * c.replicas + r) * c.distances, (4 * c.replicas + r + 1) * c.distances),
          );
          expect(got).toEqual(expected);
          expect(got[0]).toBe(1);
        }
      } finally {
        engine.destroy();
      }
    });
  });
});

describe('packed sweeps in one submission', () => {
  const gpu = useGpu();

  it('consecutive sweeps, measurements between them, algorithm and field changes match the oracle', async () => {
    const device = gpu().device;
    const options: IsingOptions = { L: 96, Ly: 8, replicas: 2, T: [2.269, 3], kernel: 'packed', seed: 23 };
    await checked(device, async () => {
      const engine = new IsingEngine(device, options);
      let oracle = new IsingReference(options);
      try {
        const c = engine.config;
        // 7 sweeps in submissions of 4, a measurement after sweeps 3 and 6: the colour-separated copy goes
        // back to rows before each measurement and at the end of each submission.
        await engine.run({ sweeps: 7, measureEvery: 3, sweepsPerSubmit: 4 });
        const expected: number[] = [];
        for (let t = 1; t <= 7; t++) {
          oracle.step();
          if (t % 3 === 0) {
            for (let r = 0; r < c.replicas; r++) expected.push(oracle.observables(r).bonds);
            for (let r = 0; r < c.replicas; r++) expected.push(oracle.observables(r).magnetization);
          }
        }
        expect(Array.from((await engine.rawSeries()).data)).toEqual(expected);
        expect((await engine.snapshot()).spins).toEqual(oracle.words);
        engine.setAlgorithm('heatbath');
        await engine.run({ sweeps: 3 });
        for (let t = 0; t < 3; t++) oracle.step(true);
        expect((await engine.snapshot()).spins).toEqual(oracle.words);
        // A field leaves the h = 0 specialisation: the sweeps are rebuilt.
        engine.setAlgorithm('metropolis');
        engine.setField([0.4, -0.2]);
        const next = new IsingReference({ ...options, h: [0.4, -0.2] });
        next.words.set(oracle.words);
        next.sweep = oracle.sweep;
        oracle = next;
        await engine.run({ sweeps: 3 });
        for (let t = 0; t < 3; t++) oracle.step();
        expect((await engine.snapshot()).spins).toEqual(oracle.words);
        expect(engine.sweeps).toBe(13);
      } finally {
        engine.destroy();
      }
    });
  });
});

describe('IsingEngine.observables', () => {
  const gpu = useGpu();
  it('matches the oracle for the current state without recording', async () => {
    const device = gpu().device;
    const options: IsingOptions = { L: 12, Ly: 8, replicas: 3, T: 2.5, h: [0, 0.4, -0.2], seed: 21 };
    await checked(device, async () => {
      const engine = new IsingEngine(device, options);
      const oracle = new IsingReference(options);
      try {
        await engine.run({ sweeps: 3 });
        for (let i = 0; i < 3; i++) oracle.step();
        const { energy, magnetization } = await engine.observables();
        const c = engine.config;
        for (let r = 0; r < c.replicas; r++) {
          const o = oracle.observables(r);
          expect(energy[r]).toBeCloseTo((-o.bonds - (c.h[r] as number) * o.magnetization) / c.sites, 12);
          expect(magnetization[r]).toBe(o.magnetization / c.sites);
        }
        expect(engine.measurementCount).toBe(0);
        expect((await engine.rawSeries()).records).toBe(0);
      } finally {
        engine.destroy();
      }
    });
  });
});
