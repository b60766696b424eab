/**
 * IsingEngine state handling: snapshot/restore and seeding are exact, setSpins/getSpins round-trip,
 * setTemperature/setField apply from the next sweep (checked against the CPU oracle), destroy() is final,
 * and every bad input is refused with a RangeError that names the value.
 */
import { describe, expect, it } from 'vitest';
import type { IsingOptions } from '../../src/ising/config.ts';
import { checkSweepCounter, IsingEngine, MAX_SWEEPS, type IsingSnapshot } from '../../src/ising/engine.ts';
import { IsingReference } from '../../src/reference/ising.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

/** Everything observable about an engine's run: spins, raw series, correlations, counters. */
async function state(engine: IsingEngine) {
  const spins = await engine.getSpins();
  const { records, data } = await engine.rawSeries();
  const corr = await engine.correlations();
  return {
    spins: Array.from(spins),
    records,
    series: Array.from(data),
    correlationRecords: corr.records,
    correlations: Array.from(corr.values),
    sweeps: engine.sweeps,
    measurements: engine.measurementCount,
  };
}

/** A ±1 configuration from a small fixed-seed generator. */
function randomSpins(n: number, seed: number): Int8Array {
  let a = seed >>> 0;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 1 ? 1 : -1;
  }
  return out;
}

const kernels: [string, IsingOptions][] = [
  [
    'simple 10×6, 3 replicas, per-replica T and h',
    { L: 10, Ly: 6, replicas: 3, T: [1.8, 2.269, 3], h: [0, 0.2, -0.1], seed: 41 },
  ],
  [
    'packed 64×4 heat-bath, 2 replicas',
    { L: 64, Ly: 4, replicas: 2, T: [2.0, 2.5], kernel: 'packed', algorithm: 'heatbath', seed: 42 },
  ],
  ['simple 1D ring N = 12, 2 replicas', { L: 12, dims: 1, replicas: 2, T: 1.2, seed: 43 }],
];

describe('IsingEngine snapshot, seeding, spins', () => {
  const gpu = useGpu();
  const run = { measureEvery: 2, correlationEvery: 3 };
  const k = 12; // a multiple of measureEvery, so both runs measure after the same sweeps

  it.each(kernels)(
    '%s: 2k sweeps = k sweeps, snapshot, fromSnapshot, k sweeps (bit for bit)',
    async (_name, options) => {
      const device = gpu().device;
      await checked(device, async () => {
        const whole = new IsingEngine(device, options);
        const first = new IsingEngine(device, options);
        let second: IsingEngine | undefined;
        try {
          await whole.run({ sweeps: 2 * k, ...run });
          await first.run({ sweeps: k, ...run });
          const snapshot = await first.snapshot();
          expect(snapshot.format).toBe('blockspin-ising-snapshot');
          expect(snapshot.sweep).toBe(k);
          second = IsingEngine.fromSnapshot(device, snapshot);
          // The seed comes back as a bigint; everything else is identical.
          expect({ ...second.config, seed: String(second.config.seed) }).toEqual({
            ...first.config,
            seed: String(first.config.seed),
          });
          await second.run({ sweeps: k, ...run });
          const expected = await state(whole);
          expect(expected.records).toBe(k); // 2k / measureEvery
          expect(expected.correlationRecords).toBe(Math.floor(k / 3));
          expect(await state(second)).toEqual(expected);
          // The first engine, continued in place, agrees too (snapshot() has no side effect on the run).
          await first.run({ sweeps: k, ...run });
          expect(await state(first)).toEqual(expected);
        } finally {
          whole.destroy();
          first.destroy();
          second?.destroy();
        }
      });
    },
  );

  it('the same seed gives the same run; another seed does not', async () => {
    const device = gpu().device;
    const options: IsingOptions = { L: 16, replicas: 4, T: 2.269, seed: 2 ** 40 + 7 };
    await checked(device, async () => {
      const engines = [
        new IsingEngine(device, options),
        new IsingEngine(device, options),
        new IsingEngine(device, { ...options, seed: 2n ** 40n + 7n }),
        new IsingEngine(device, { ...options, seed: 2 ** 40 + 8 }),
      ];
      try {
        const states = [];
        for (const e of engines) {
          await e.run({ sweeps: 10, measureEvery: 1, correlationEvery: 2 });
          states.push(await state(e));
        }
        expect(states[1]).toEqual(states[0]);
        expect(states[2]).toEqual(states[0]); // number and bigint seeds are the same seed
        expect(states[3]?.spins).not.toEqual(states[0]?.spins);
        expect(states[3]?.series).not.toEqual(states[0]?.series);
      } finally {
        for (const e of engines) e.destroy();
      }
    });
  });

  it.each(kernels)(
    '%s: setSpins/getSpins round trip; observables() of the set configuration',
    async (_name, options) => {
      const device = gpu().device;
      await checked(device, async () => {
        const engine = new IsingEngine(device, options);
        try {
          const c = engine.config;
          const spins = randomSpins(c.replicas * c.sites, 99);
          engine.setSpins(spins);
          expect(await engine.getSpins()).toEqual(spins);
          engine.setSpins(Array.from(spins, (s) => -s)); // plain arrays are accepted too
          expect(await engine.getSpins()).toEqual(Int8Array.from(spins, (s) => -s));
          engine.setSpins(spins);
          // Energy and magnetisation of the configuration, computed here.
          const { energy, magnetization } = await engine.observables();
          for (let r = 0; r < c.replicas; r++) {
            const s = (x: number, y: number): number =>
              spins[r * c.sites + ((y + c.Ly) % c.Ly) * c.Lx + ((x + c.Lx) % c.Lx)] as number;
            let bonds = 0;
            let m = 0;
            for (let y = 0; y < c.Ly; y++) {
              for (let x = 0; x < c.Lx; x++) {
                m += s(x, y);
                bonds += s(x, y) * s(x + 1, y) + (c.dims === 2 ? s(x, y) * s(x, y + 1) : 0);
              }
            }
            const h = c.h[r] as number;
            expect(magnetization[r]).toBe(m / c.sites);
            expect(energy[r]).toBeCloseTo((-bonds - h * m) / c.sites, 12);
          }
        } finally {
          engine.destroy();
        }
      });
    },
  );

  it('setTemperature and setField apply from the next sweep (CPU oracle)', async () => {
    const device = gpu().device;
    const options: IsingOptions = { L: 12, Ly: 8, replicas: 2, T: [1.5, 2.5], seed: 77 };
    const k = 4;
    await checked(device, async () => {
      const engine = new IsingEngine(device, options);
      try {
        await engine.run({ sweeps: k });
        engine.setTemperature([3.5, 1.2]);
        expect(engine.config.T).toEqual([3.5, 1.2]);
        await engine.run({ sweeps: k });
        engine.setField(0.4);
        expect(engine.config.h).toEqual([0.4, 0.4]);
        await engine.run({ sweeps: k });
        const words = (await engine.snapshot()).spins;

        // The oracle, rebuilt with the new couplings at the same state and sweep counter.
        const a = new IsingReference(options);
        for (let i = 0; i < k; i++) a.step();
        const b = new IsingReference({ ...options, T: [3.5, 1.2] });
        b.words.set(a.words);
        b.sweep = a.sweep;
        for (let i = 0; i < k; i++) b.step();
        const c = new IsingReference({ ...options, T: [3.5, 1.2], h: 0.4 });
        c.words.set(b.words);
        c.sweep = b.sweep;
        for (let i = 0; i < k; i++) c.step();
        expect(words).toEqual(c.words);

        // Not vacuous: the unchanged couplings end elsewhere.
        const unchanged = new IsingReference(options);
        for (let i = 0; i < 3 * k; i++) unchanged.step();
        expect(words).not.toEqual(unchanged.words);

        // A bad temperature is refused and changes nothing.
        expect(() => engine.setTemperature(-1)).toThrow(RangeError);
        expect(() => engine.setTemperature([1, 2, 3])).toThrow(/3 values for 2 replicas/);
        expect(engine.config.T).toEqual([3.5, 1.2]);
      } finally {
        engine.destroy();
      }
    });
  });

  // Regression: concurrent collect() calls (series(r) for every r under Promise.all, as src/cli/ising.ts does)
  // once each appended the same measurements, making n R times too large and error bars √R too small.
  it('concurrent series() calls see each measurement once', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, replicas: 4, T: 2.269, seed: 5 });
      try {
        await engine.run({ sweeps: 10, measureEvery: 1 });
        const all = await Promise.all([0, 1, 2, 3].map((r) => engine.series(r)));
        for (const s of all) expect(s.energy.length).toBe(10);
        expect((await engine.rawSeries()).records).toBe(10);
      } finally {
        engine.destroy();
      }
    });
  });

  it('destroy() makes every later call throw; destroying twice is harmless', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, T: 2 });
      await engine.run({ sweeps: 2, measureEvery: 1 });
      engine.destroy();
      engine.destroy();
      const destroyed = /destroyed/;
      await expect(engine.run({ sweeps: 1 })).rejects.toThrow(destroyed);
      await expect(engine.getSpins()).rejects.toThrow(destroyed);
      await expect(engine.snapshot()).rejects.toThrow(destroyed);
      await expect(engine.observables()).rejects.toThrow(destroyed);
      await expect(engine.series(0)).rejects.toThrow(destroyed);
      await expect(engine.rawSeries()).rejects.toThrow(destroyed);
      await expect(engine.correlations()).rejects.toThrow(destroyed);
      await expect(engine.collect()).rejects.toThrow(destroyed);
      expect(() => engine.setSpins(new Int8Array(64).fill(1))).toThrow(destroyed);
    });
  });

  // Regression: these once wrote to destroyed buffers (a WebGPU validation error) instead of throwing.
  it('setTemperature, setField, clearMeasurements after destroy() throw', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, T: 2 });
      engine.destroy();
      expect(() => engine.setTemperature(3)).toThrow(/destroyed/);
      expect(() => engine.setField(0.1)).toThrow(/destroyed/);
      expect(() => engine.clearMeasurements()).toThrow(/destroyed/);
    });
  });
});

describe('IsingEngine refuses bad input with a RangeError naming the value', () => {
  const gpu = useGpu();

  const bad: [string, IsingOptions, RegExp][] = [
    ['odd L', { L: 7, T: 2 }, /L = 7 must be even/],
    ['L < 2', { L: 1, T: 2 }, /L 1 must be an integer in 2/],
    ['L = 0', { L: 0, T: 2 }, /L 0 must be an integer in 2/],
    ['non-integer L', { L: 8.5, T: 2 }, /L 8\.5 must be an integer/],
    ['odd Ly', { L: 8, Ly: 7, T: 2 }, /Ly = 7 must be even/],
    ['odd ring length', { L: 9, dims: 1, T: 2 }, /N = 9 must be even/],
    ['packed with L not a multiple of 32', { L: 48, T: 2, kernel: 'packed' }, /multiple of 32; got L = 48/],
    ['packed in 1D', { L: 64, dims: 1, T: 2, kernel: 'packed' }, /'packed' is 2D only/],
    ['T = 0', { L: 8, T: 0 }, /T = 0 must be finite and > 0/],
    ['T < 0', { L: 8, T: -1 }, /T = -1 must be finite and > 0/],
    ['T NaN', { L: 8, T: NaN }, /T = NaN must be finite/],
    ['T Infinity', { L: 8, T: Infinity }, /T = Infinity must be finite/],
    ['one bad T of several', { L: 8, replicas: 3, T: [2, 0, 3] }, /T\[1\] = 0 must be finite and > 0/],
    ['T array of the wrong length', { L: 8, replicas: 3, T: [2, 3] }, /T has 2 values for 3 replicas/],
    ['h NaN', { L: 8, T: 2, h: NaN }, /h = NaN must be finite/],
    ['negative replicas', { L: 8, T: 2, replicas: -3 }, /replicas -3 must be an integer in 1/],
    ['zero replicas', { L: 8, T: 2, replicas: 0 }, /replicas 0 must be an integer in 1/],
    ['non-integer replicas', { L: 8, T: 2, replicas: 2.5 }, /replicas 2\.5 must be an integer/],
    ['negative seed', { L: 8, T: 2, seed: -1 }, /seed -1 must be a non-negative integer/],
    ['dims 3', { L: 8, T: 2, dims: 3 as 2 }, /dims 3 must be 1 or 2/],
    ['unknown kernel', { L: 8, T: 2, kernel: 'fast' as 'simple' }, /kernel 'fast'/],
    [
      'unknown tie list',
      { L: 32, T: 2, kernel: 'packed', tieList: 'global' as 'auto' },
      /tieList 'global' must be 'auto', 'workgroup' or 'invocation'/,
    ],
    [
      'unknown tuning',
      { L: 32, T: 2, kernel: 'packed', tuning: 'swiftshader' as 'auto' },
      /tuning 'swiftshader' must be 'auto', 'gpu' or 'cpu'/,
    ],
    ['unknown algorithm', { L: 8, T: 2, algorithm: 'wolff' as 'metropolis' }, /algorithm 'wolff'/],
    [
      'more than 2^31 spins',
      { L: 65536, T: 2, replicas: 16 },
      /65536×65536 = 4294967296 spins exceeds 2\^31/,
    ],
  ];

  it.each(bad)('%s', (_name, options, message) => {
    const device = gpu().device;
    const attempt = (): IsingEngine => new IsingEngine(device, options);
    expect(attempt).toThrow(RangeError);
    expect(attempt).toThrow(message);
  });

  it("a lattice beyond the adapter's storage limit names its size and the limit", () => {
    const device = gpu().device;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    // 16 × 32768² bits = 2 GiB of spins (the 2^31-spin rule allows 32768² per replica).
    const replicas = Math.max(16, 2 ** Math.ceil(Math.log2((2 * limit) / 2 ** 27)));
    const bytes = (n: number): string =>
      n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
    const attempt = (): IsingEngine => new IsingEngine(device, { L: 32768, T: 2, replicas });
    expect(attempt).toThrow(RangeError);
    expect(attempt).toThrow(
      `${replicas} × 32768×32768 spins (1 bit each) needs ${bytes(replicas * 2 ** 27)}; this adapter allows ${bytes(limit)}`,
    );
  });

  it('run() refuses negative or non-integer sweeps, measureEvery, correlationEvery', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, T: 2 });
      try {
        const cases: [Parameters<IsingEngine['run']>[0], RegExp][] = [
          [{ sweeps: -1 }, /sweeps -1 must be an integer/],
          [{ sweeps: 1.5 }, /sweeps 1\.5 must be an integer/],
          [{ sweeps: NaN }, /sweeps NaN must be an integer/],
          [{ sweeps: 1, measureEvery: -2 }, /measureEvery -2 must be an integer/],
          [{ sweeps: 1, measureEvery: 0.5 }, /measureEvery 0\.5 must be an integer/],
          [{ sweeps: 1, correlationEvery: -1 }, /correlationEvery -1 must be an integer/],
          [{ sweeps: 1, sweepsPerSubmit: 0 }, /sweepsPerSubmit 0 must be an integer in 1/],
        ];
        for (const [options, message] of cases) {
          await expect(engine.run(options), message.source).rejects.toThrow(RangeError);
          await expect(engine.run(options)).rejects.toThrow(message);
        }
        expect(engine.sweeps).toBe(0); // nothing ran
        await expect(engine.series(1)).rejects.toThrow(/replica 1 must be < 1/);
        await expect(engine.series(-1)).rejects.toThrow(/replica -1 must be an integer/);
      } finally {
        engine.destroy();
      }
    });
  });

  it('setSpins refuses a wrong length or a value other than ±1, naming it', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, replicas: 2, T: 2 });
      try {
        expect(() => engine.setSpins(new Int8Array(127).fill(1))).toThrow(RangeError);
        expect(() => engine.setSpins(new Int8Array(127).fill(1))).toThrow(
          /127 values; this engine has 2 × 64/,
        );
        const spins = new Int8Array(128).fill(1);
        spins[70] = 0;
        expect(() => engine.setSpins(spins)).toThrow(RangeError);
        expect(() => engine.setSpins(spins)).toThrow(/spin 70 is 0/);
        const plain = new Array<number>(128).fill(-1);
        plain[3] = 2;
        expect(() => engine.setSpins(plain)).toThrow(/spin 3 is 2/);
        // A refused call changes nothing.
        expect((await engine.getSpins()).length).toBe(128);
      } finally {
        engine.destroy();
      }
    });
  });

  // The sweep counter is a u32 word of every Philox counter: a run that would take it past 2^32 − 1 would wrap
  // it to 0 and repeat the random numbers of sweep 0, 1, …; it is refused before anything is submitted.
  it('the u32 sweep counter: exact up to 2^32 − 1 (against the oracle), a run past it is refused', async () => {
    const device = gpu().device;
    const options: IsingOptions = { L: 8, replicas: 2, T: 2.269, seed: 9 };
    const start = MAX_SWEEPS - 3;
    await checked(device, async () => {
      const source = new IsingEngine(device, options);
      let engine: IsingEngine | undefined;
      try {
        await source.run({ sweeps: 5 });
        engine = IsingEngine.fromSnapshot(device, { ...(await source.snapshot()), sweep: start });
        const oracle = new IsingReference(options);
        oracle.words.set((await source.snapshot()).spins);
        oracle.sweep = start;
        await expect(engine.run({ sweeps: 4 })).rejects.toThrow(
          `4 more sweeps after sweep ${start} would take the sweep counter to 4294967296, past 4294967295`,
        );
        expect(engine.sweeps).toBe(start); // nothing was submitted
        await engine.run({ sweeps: 3 }); // sweeps 2^32 − 4 … 2^32 − 2: the last counter values
        for (let i = 0; i < 3; i++) oracle.step();
        expect(engine.sweeps).toBe(MAX_SWEEPS);
        expect(Array.from((await engine.snapshot()).spins)).toEqual(Array.from(oracle.words));
        await expect(engine.run({ sweeps: 1 })).rejects.toThrow(/past 4294967295/);
        expect(() => checkSweepCounter(0, MAX_SWEEPS)).not.toThrow();
      } finally {
        source.destroy();
        engine?.destroy();
      }
    });
  });

  it('fromSnapshot refuses a wrong format, version or spin count', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const engine = new IsingEngine(device, { L: 8, replicas: 2, T: 2 });
      try {
        await engine.run({ sweeps: 2, measureEvery: 1 });
        const good = await engine.snapshot();
        const attempts: [unknown, RegExp][] = [
          [{ ...good, format: 'something-else' }, /format\/version mismatch/],
          [{ ...good, version: 2 }, /format\/version mismatch/],
          [null, /format\/version mismatch/],
          [{ ...good, spins: good.spins.subarray(1) }, /snapshot has 3 spin words; its options need 4/],
          [{ ...good, options: { ...good.options, L: 7 } }, /L = 7 must be even/],
          [{ ...good, sweep: -1 }, /snapshot sweep -1 must be an integer/],
        ];
        for (const [snapshot, message] of attempts) {
          const attempt = (): IsingEngine => IsingEngine.fromSnapshot(device, snapshot as IsingSnapshot);
          expect(attempt, message.source).toThrow(RangeError);
          expect(attempt).toThrow(message);
        }
      } finally {
        engine.destroy();
      }
    });
  });
});
