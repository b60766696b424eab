/**
 * The chung-kao study: the `test` preset end to end on the GPU, asserting only what holds for every seed at that
 * size (training lowers the loss and the reconstruction error and starts concentrating the filter; MCRG runs to
 * the end with finite errors for both rules on the same samples), a cancelled run's partial output, and bad input
 * refused before any GPU work with errors that name the value.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { T_C } from '../../src/exact/ising.ts';
import type { TrainingData } from '../../src/rbm/data.ts';
import type { ConvRbm, DenseRbm } from '../../src/rbm/model.ts';
import {
  BLOB_BROKEN,
  CHUNG_KAO_PRESETS,
  blobBreak,
  chungKao,
  combineFilters,
  windowShare,
  type ChungKaoOptions,
} from '../../src/studies/chung-kao.ts';
import { memoryCheckpoints } from '../../src/studies/checkpoints.ts';
import type { StudyContext, StudyOutput } from '../../src/studies/study.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function context(device: GPUDevice, extra: Partial<StudyContext> = {}): StudyContext & { lines: string[] } {
  const lines: string[] = [];
  return { device, progress: () => {}, log: (line) => lines.push(line), lines, ...extra };
}

/** A context whose device must never be touched (input refused before GPU work). */
const noDevice = (): StudyContext => context(undefined as unknown as GPUDevice);

const filter = (over: Partial<ConvRbm> = {}): ConvRbm => ({
  units: 'ising',
  Lv: 16,
  filters: 1,
  k: 8,
  stride: 2,
  W: new Float64Array(64).fill(0.1),
  ...over,
});

function entry(out: StudyOutput, name: string) {
  const e = out.results.find((r) => r.name === name);
  expect(e, name).toBeDefined();
  return e!;
}

describe('chung-kao study', () => {
  const gpu = useGpu();

  it('test preset: data, training (cross-entropy and reconstruction error down, filter concentrating), MCRG with errors', async () => {
    const device = gpu().device;
    const stages = new Set<string>();
    const ctx = context(device, { progress: (stage) => stages.add(stage) });
    const out = await checked(device, () => chungKao.run(CHUNG_KAO_PRESETS.test, ctx));
    const o = CHUNG_KAO_PRESETS.test;
    expect(out.complete).toBe(true);
    expect(out.stages.map((s) => s.stage)).toEqual(['data', 'train filter 1', 'mcrg 16²']);
    expect(out.stages.every((s) => s.seconds >= 0)).toBe(true);
    expect([...stages]).toContain('train filter 1 of 1');
    // The data set: interval ≥ 2 τ_int, as files in the generate format.
    const data = out.settings.data as {
      interval: number;
      tauInt: { energy: number; absMagnetization: number };
    };
    expect(data.interval).toBeGreaterThanOrEqual(
      2 * Math.max(data.tauInt.energy, data.tauInt.absMagnetization),
    );
    const names = (out.files ?? []).map((f) => f.name);
    expect(names).toContain('data/dataset.json');
    expect(names).toContain('models/filter1/W.npy');
    for (const i of [1]) {
      const filters = out.arrays.find((a) => a.name === `filters.filter${i}`)!.npy;
      expect(filters.shape).toEqual([o.training.epochs, 8, 8]);
      const last = filters.data.subarray((o.training.epochs - 1) * 64);
      // A uniform filter puts 16/64 = 25 % of Σ|W| in any 4×4 window; training concentrates it (seeds 2–7: 0.37–0.45).
      expect(windowShare(last, 8)).toBeGreaterThan(0.33);
      // Columns: free-energy loss, cross-entropy (the code's monitoring cost), reconstruction error. The
      // free-energy difference has no fixed sign once the model learns, so only the other two are asserted.
      const history = out.arrays.find((a) => a.name === `training.filter${i}`)!.npy;
      const E = o.training.epochs;
      expect(history.shape).toEqual([E + 1, 3]);
      expect(Number.isFinite(history.data[3 * E]!)).toBe(true);
      expect(history.data[3 * E + 1]!).toBeLessThan(history.data[1]!);
      expect(history.data[3 * E + 2]!).toBeLessThan(history.data[2]!);
    }
    // MCRG: both rules on the same samples, every y_t and y_h with a finite positive error.
    for (const name of [
      'yt.learned.n1.c7',
      'yt.majority.n1.c7',
      'yt.learned.n2.c1',
      'yh.learned.n1.c4',
      'yh.majority.n2.c1',
    ]) {
      const e = entry(out, name);
      expect(Number.isFinite(e.value) && Number.isFinite(e.err) && e.err > 0, name).toBe(true);
    }
    const learned = entry(out, 'yt.learned.n1.c7');
    expect(learned.source).toEqual({
      value: 1.0001,
      err: 0.0011,
      where: 'Table 1, optimal, N_r = 1, N_c = 7',
    });
    expect(learned.z).toBeCloseTo((learned.value - 1.0001) / Math.hypot(learned.err, 0.0011), 10);
    expect(entry(out, 'yt.majority.n2.c7').source?.value).toBe(0.997);
    expect(out.results.some((r) => r.name.startsWith('yt.learned.n3'))).toBe(false); // 16 → 4: two steps
    expect(out.figures.map((f) => f.name)).toEqual(
      expect.arrayContaining(['filter-evolution', 'filters-final', 'yt-vs-nc-n1', 'yt-vs-nc-n2']),
    );
    expect(out.markdown).toContain('## MCRG: Table 1');
    expect(out.markdown).toContain('1.0001(11)');
  }, 120_000);

  it('a given projector (a trained filter, a test fixture): MCRG only, both rules with errors', async () => {
    const device = gpu().device;
    const fixture = JSON.parse(
      readFileSync(new URL('../fixtures/chung-kao-filter.json', import.meta.url), 'utf8'),
    ) as { W: number[] };
    const trained = filter({ Lv: 32, W: Float64Array.from(fixture.W) }); // trained on 32², applied to 16²
    const out = await checked(device, () =>
      chungKao.run({ ...CHUNG_KAO_PRESETS.test, projectors: [trained] }, context(device)),
    );
    expect(out.complete).toBe(true);
    expect(out.stages.map((s) => s.stage)).toEqual(['mcrg 16²']);
    expect(out.files).toEqual([]); // no data set, no model: nothing was generated or trained
    expect(out.settings.orientation).toEqual([-1]); // the fixture's ΣW < 0: applied as −W
    for (const name of ['yt.learned.n1.c7', 'yt.majority.n1.c7', 'yh.learned.n2.c4']) {
      const e = entry(out, name);
      expect(Number.isFinite(e.value) && Number.isFinite(e.err) && e.err > 0, name).toBe(true);
    }
    expect(out.figures.map((f) => f.name)).toEqual(['filters-final', 'yt-vs-nc-n1', 'yt-vs-nc-n2']);
  }, 60_000);

  it('a run cancelled during MCRG keeps the data and filters and says it is partial', async () => {
    const device = gpu().device;
    const abort = new AbortController();
    const options: ChungKaoOptions = {
      ...CHUNG_KAO_PRESETS.test,
      data: { samples: 100, chains: 10, therm: 20, tauSweeps: 30, every: 1 },
      training: { ...CHUNG_KAO_PRESETS.test.training, epochs: 1, filters: 1 },
    };
    const ctx = context(device, {
      signal: abort.signal,
      progress: (stage) => {
        if (stage.startsWith('mcrg')) abort.abort();
      },
    });
    const out = await checked(device, () => chungKao.run(options, ctx));
    expect(out.complete).toBe(false);
    expect(out.settings.stopped).toBe('interrupted');
    expect(out.arrays.map((a) => a.name)).toContain('filters.filter1');
    expect((out.files ?? []).map((f) => f.name)).toContain('data/dataset.json');
    expect(out.markdown).toContain('**Partial run**');
    expect(out.stages.map((s) => s.stage)).toEqual(['data', 'train filter 1', 'mcrg 16²']);
  }, 60_000);

  it('resumes from its checkpoints bit for bit: stopped in training, then in MCRG, then finished', async () => {
    const device = gpu().device;
    // The test preset, smaller: 4 runs of it must stay within the suite's budget.
    const o: ChungKaoOptions = {
      ...CHUNG_KAO_PRESETS.test,
      data: { samples: 200, chains: 8, therm: 20, tauSweeps: 30, every: 1 },
      training: { ...CHUNG_KAO_PRESETS.test.training, epochs: 3 },
      trajectory: [1, 2],
      mcrg: { samples: 16 * 24, replicas: 16, therm: 10 },
    };
    const straight = await checked(device, () => chungKao.run(o, context(device)));
    const store = memoryCheckpoints();
    const stopWhen = (when: (stage: string, done: number) => boolean) => {
      const abort = new AbortController();
      return context(device, {
        signal: abort.signal,
        checkpoints: store,
        progress: (stage, done) => {
          if (when(stage, done)) abort.abort();
        },
      });
    };
    // Stopped after 2 epochs of training: the data set and the filter's state are kept.
    const first = await checked(device, () =>
      chungKao.run(
        o,
        stopWhen((stage, done) => stage.startsWith('train') && done >= 2),
      ),
    );
    expect(first.complete).toBe(false);
    expect(store.names().sort()).toEqual(['data', 'filter-1']);
    // Resumed, stopped during MCRG measurements (8 or more of 24 per chain done).
    const second = await checked(device, () =>
      chungKao.run(
        o,
        stopWhen((stage, done) => stage.startsWith('mcrg') && done >= o.mcrg.therm + 16),
      ),
    );
    expect(second.complete).toBe(false);
    expect(second.settings.resumed).toEqual([
      'the data set',
      `filter 1 after 2 of ${o.training.epochs} epoch(s)`,
    ]);
    expect(store.names().sort()).toEqual(['data', 'filter-1', 'mcrg-16']);
    // Resumed again to the end: the same numbers as the run that never stopped.
    const third = await checked(device, () => chungKao.run(o, context(device, { checkpoints: store })));
    expect(third.complete).toBe(true);
    expect((third.settings.resumed as string[])[2]).toMatch(
      /^mcrg 16² after 10 thermalisation sweep\(s\) and (8|9|1\d) of 24/,
    );
    const numbers = (out: StudyOutput) => out.results.map((r) => [r.name, r.value, r.err]);
    expect(numbers(third)).toEqual(numbers(straight));
    expect(third.arrays).toEqual(straight.arrays);
    // The source's Fig. 2: filter 1 after epochs 1, 2 and 3 (its final one) on the same samples.
    const names = third.results.map((r) => r.name);
    for (const e of [1, 2, 3]) expect(names).toContain(`yt.trajectory.e${e}.n1.c7`);
    expect(third.figures.map((f) => f.name)).toContain('yt-vs-training');
    expect(third.markdown).toContain('## y_t over training (the source’s Fig. 2)');
    // Stage times add up over the runs: the data set's generation time is kept in its checkpoint.
    const time = (out: StudyOutput, stage: string) => out.stages.find((x) => x.stage === stage)!.seconds;
    expect(time(third, 'data')).toBe(time(first, 'data'));
    expect(time(third, 'train filter 1')).toBeGreaterThanOrEqual(time(second, 'train filter 1'));
  }, 120_000);

  it('refuses checkpoints of another run, naming what differs', async () => {
    const device = gpu().device;
    const store = memoryCheckpoints();
    const abort = new AbortController();
    const o = CHUNG_KAO_PRESETS.test;
    await chungKao.run(
      o,
      context(device, {
        signal: abort.signal,
        checkpoints: store,
        progress: (stage) => {
          if (stage.startsWith('train')) abort.abort();
        },
      }),
    );
    expect(store.names()).toContain('data');
    await expect(
      chungKao.run({ ...o, data: { ...o.data, samples: 900 } }, context(device, { checkpoints: store })),
    ).rejects.toThrow(
      /checkpoint data: generated with other settings \(samples: 1000 in the checkpoint, 900 in this run\)/,
    );
    await expect(
      chungKao.run({ ...o, training: { ...o.training, lr: 2e-3 } }, context(device, { checkpoints: store })),
    ).rejects.toThrow(
      /checkpoint filter-1 was trained with other options \(lr: 0.001 in the checkpoint, 0.002 in this run\)/,
    );
  }, 60_000);

  it('warns about training data not at T_c, naming the T in its metadata', async () => {
    const device = gpu().device;
    const abort = new AbortController();
    abort.abort(); // stop at the first training epoch: only the check is wanted here
    const data: TrainingData = {
      data: new Float32Array(20 * 256).fill(1),
      n: 20,
      nv: 256,
      shape: [16, 16],
      units: 'ising',
      source: 'fake set',
      labels: new Float64Array(20).fill(2.5),
      labelKind: 'temperature',
    };
    const ctx = context(device, { signal: abort.signal });
    const out = await checked(device, () =>
      chungKao.run({ ...CHUNG_KAO_PRESETS.test, trainingData: data }, ctx),
    );
    expect(ctx.lines.join('\n')).toMatch(/fake set has T = 2\.500000 .*not T_c = 2\.269185/);
    expect(out.complete).toBe(false);
    expect(T_C).toBeCloseTo(2.269185, 6);
  }, 30_000);
});

describe('chung-kao bad input (refused before GPU work)', () => {
  const run = (over: Partial<ChungKaoOptions>) =>
    chungKao.run({ ...CHUNG_KAO_PRESETS.test, ...over }, noDevice());

  it('a projector that is not a ±1 conv RBM with one filter and stride 2', async () => {
    const dense: DenseRbm = {
      units: 'ising',
      nv: 4,
      nh: 2,
      W: new Float64Array(8),
      a: new Float64Array(4),
      b: new Float64Array(2),
    };
    await expect(run({ projectors: [dense] })).rejects.toThrow(/projector 0 is a dense RBM \(4 × 2\)/);
    await expect(run({ projectors: [filter({ stride: 4 })] })).rejects.toThrow(/projector 0 has stride 4/);
    await expect(run({ projectors: [filter({ units: 'bernoulli' })] })).rejects.toThrow(/units 'bernoulli'/);
    await expect(run({ projectors: [filter({ filters: 2, W: new Float64Array(128) })] })).rejects.toThrow(
      /has 2 filters/,
    );
    await expect(run({ projectors: [filter({ k: 4, W: new Float64Array(16) })] })).rejects.toThrow(
      /4×4 filter; this run uses 8×8/,
    );
    await expect(run({ projectors: [filter({ b: new Float64Array([0.5]) })] })).rejects.toThrow(/has biases/);
  });

  it('a lattice the projector does not fit', async () => {
    await expect(run({ L: 20, levels: 3 })).rejects.toThrow(/L 20 is not divisible by 2\^3 = 8/);
    await expect(run({ L: 16, levels: 3 })).rejects.toThrow(/leave 2 from L 16/);
    await expect(run({ L: 16, levels: 2, filterSize: 16 })).rejects.toThrow(
      /the 16×16 filter does not fit the 8×8 lattice it blocks at step 2/,
    );
    await expect(run({ larger: [{ L: 48, samples: 100, replicas: 10, therm: 1 }] })).rejects.toThrow(
      /larger L 48 must be 16·2\^j/,
    );
  });

  it('MCRG sizes the jackknife cannot use', async () => {
    await expect(run({ mcrg: { samples: 4, replicas: 2, therm: 10 } })).rejects.toThrow(
      /4 samples over 2 replicas give 2 blocks .* at least 10/,
    );
  });

  it('training data of the wrong size or units', async () => {
    const data: TrainingData = {
      data: new Float32Array(20 * 64),
      n: 20,
      nv: 64,
      shape: [8, 8],
      units: 'ising',
      source: 'small set',
    };
    await expect(run({ trainingData: data })).rejects.toThrow(
      /small set holds 8×8 configurations; this run trains on 16×16/,
    );
    await expect(run({ trainingData: { ...data, units: 'bernoulli' } })).rejects.toThrow(/units 'bernoulli'/);
  });
});

describe('combineFilters', () => {
  it('mean, sample standard deviation, and √(mean error² + spread²)', () => {
    const c = combineFilters([
      { value: 1.0, err: 0.01 },
      { value: 1.02, err: 0.03 },
      { value: 0.98, err: 0.02 },
    ]);
    expect(c.value).toBeCloseTo(1.0, 12);
    expect(c.spread).toBeCloseTo(0.02, 12);
    expect(c.statistical).toBeCloseTo(0.02, 12);
    expect(c.err).toBeCloseTo(Math.hypot(0.02, 0.02), 12);
    expect(combineFilters([{ value: 0.9, err: 0.1 }])).toMatchObject({ value: 0.9, err: 0.1, spread: 0 });
    expect(() => combineFilters([])).toThrow(/no filter estimates/);
  });

  it('windowShare: 1 for a filter inside one 4×4 window, 1/4 for a uniform one', () => {
    const W = new Float64Array(64);
    W[2 * 8 + 3] = 1;
    W[5 * 8 + 6] = -2;
    expect(windowShare(W, 8)).toBe(1);
    expect(windowShare(new Float64Array(64).fill(-0.3), 8)).toBeCloseTo(0.25, 12);
  });

  it('blobBreak: 1 for a symmetric 2×2 blob, the peak over the 4th largest once one site dominates', () => {
    const W = new Float64Array(64).fill(0.01);
    for (const i of [27, 28, 35, 36]) W[i] = 0.75;
    expect(blobBreak(W)).toBe(1);
    W[35] = -2.4; // the sign does not matter
    W[36] = 0.6;
    expect(blobBreak(W)).toBeCloseTo(2.4 / 0.6, 12);
    expect(blobBreak(W)).toBeGreaterThan(BLOB_BROKEN);
  });
});
