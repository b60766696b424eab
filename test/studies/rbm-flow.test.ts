/**
 * The rbm-flow study: the `test` preset end to end on the GPU, asserting only what holds for every seed at that
 * size (the thermometers read held-out equilibrium data back, the untrained null flows to disorder, every
 * fixed point is a finite reading with an error), a cancelled run's partial output, and bad options refused
 * before any GPU work with errors that name the value. The data helpers are checked on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { isingRing } from '../../src/exact/ising.ts';
import {
  checkTemperatureGrid,
  gaussianWeights,
  halfUpStates,
  permuted,
  randomSymmetries,
  ringData,
} from '../../src/studies/rbm-flow-data.ts';
import { RBM_FLOW_PRESETS, rbmFlowStudy, type RbmFlowOptions } from '../../src/studies/rbm-flow.ts';
import { memoryCheckpoints } from '../../src/studies/checkpoints.ts';
import type { StudyContext, StudyOutput } from '../../src/studies/study.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function context(device: GPUDevice, extra: Partial<StudyContext> = {}): StudyContext & { lines: string[] } {
  const lines: string[] = [];
  return { device, progress: () => {}, log: (line) => lines.push(line), lines, ...extra };
}

const noDevice = (): StudyContext => context(undefined as unknown as GPUDevice);

function entry(out: StudyOutput, name: string) {
  const e = out.results.find((r) => r.name === name);
  expect(e, name).toBeDefined();
  return e!;
}

describe('rbm-flow data helpers', () => {
  it('ring data are exact Boltzmann draws: mean energy per spin within 5σ of the exact ring', () => {
    const N = 8;
    const d = ringData({ N, temperatures: [0, 0.5, 1.5, 4], sets: 2, count: 3000, seed: 9 });
    expect(d.sets).toHaveLength(2);
    for (const [c, T] of [
      [1, 0.5],
      [2, 1.5],
      [3, 4],
    ] as const) {
      const s = d.sets[0]!.spins[c]!;
      const e = new Float64Array(3000);
      for (let r = 0; r < 3000; r++) {
        let E = 0;
        for (let i = 0; i < N; i++) E -= s[r * N + i]! * s[r * N + ((i + 1) % N)]!;
        e[r] = E / N;
      }
      const mean = e.reduce((x, y) => x + y, 0) / e.length;
      const exact = isingRing(1 / T, N);
      const sd = Math.sqrt(exact.energyVariancePerSpin / N / e.length);
      expect(Math.abs(mean - exact.energyPerSpin)).toBeLessThan(5 * sd + 1e-12);
    }
    // T = 0: the ordered states, both signs.
    const ground = d.sets[1]!.spins[0]!;
    expect(new Set(Array.from(ground.subarray(0, N)))).toEqual(new Set([1]));
    expect(new Set(Array.from(ground.subarray(N, 2 * N)))).toEqual(new Set([-1]));
  });

  it('half-up states have exactly half the spins up; permutations and Gaussian weights are seeded', () => {
    const s = halfUpStates(50, 100, 3);
    for (let r = 0; r < 50; r++)
      expect(s.subarray(r * 100, (r + 1) * 100).reduce((a, x) => a + x, 0)).toBe(0);
    expect(Array.from(halfUpStates(2, 10, 3))).toEqual(Array.from(halfUpStates(2, 10, 3)));
    const w = [1, 2, 3, 4, 5, 6, 7, 8];
    const p = permuted(w, 4);
    expect([...p].sort((x, y) => x - y)).toEqual(w);
    expect(Array.from(permuted(w, 4))).toEqual(Array.from(p));
    const g = gaussianWeights(20000, 5, 1, -0.001, 0.0015);
    const mean = g.reduce((a, x) => a + x, 0) / g.length;
    const sd = Math.sqrt(g.reduce((a, x) => a + (x - mean) ** 2, 0) / g.length);
    expect(Math.abs(mean + 0.001)).toBeLessThan(5 * (0.0015 / Math.sqrt(20000)));
    expect(Math.abs(sd / 0.0015 - 1)).toBeLessThan(0.03);
    expect(Array.from(gaussianWeights(4, 5, 2, 0, 1))).not.toEqual(
      Array.from(gaussianWeights(4, 5, 1, 0, 1)),
    );
  });

  /** The orbit of a configuration under the generators (BFS): every image the symmetry group can make. */
  function orbit(start: number[], moves: ((c: number[]) => number[])[]): Set<string> {
    const seen = new Set([start.join(',')]);
    const queue = [start];
    while (queue.length > 0) {
      const c = queue.pop()!;
      for (const move of moves) {
        const d = move(c);
        const k = d.join(',');
        if (!seen.has(k)) {
          seen.add(k);
          queue.push(d);
        }
      }
    }
    return seen;
  }

  it('random symmetries: every row is an image of itself under the lattice group, all images drawn, seeded', () => {
    const L = 4;
    const at = (c: number[], x: number, y: number) => c[(((y % L) + L) % L) * L + (((x % L) + L) % L)]!;
    const square = (f: (x: number, y: number) => [number, number]) => (c: number[]) =>
      Array.from({ length: L * L }, (_, i) => at(c, ...f(i % L, Math.floor(i / L))));
    const moves = [
      square((x, y) => [x - 1, y]), // translate
      square((x, y) => [y, L - 1 - x]), // rotate by 90°
      square((x, y) => [L - 1 - x, y]), // reflect
      (c: number[]) => c.map((s) => -s), // flip every spin
    ];
    // An asymmetric configuration: its orbit has 16 translations × 8 × 2 = 256 images.
    const c = [1, 1, 1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1];
    const images = orbit(c, moves);
    expect(images.size).toBe(256);
    const n = 4096;
    const rows = Int8Array.from({ length: n * L * L }, (_, i) => c[i % (L * L)]!);
    const out = randomSymmetries({ kind: 'square', L }, rows, n, 9, 0);
    const counts = new Map<string, number>();
    for (let r = 0; r < n; r++) {
      const k = Array.from(out.subarray(r * L * L, (r + 1) * L * L)).join(',');
      expect(images.has(k), `row ${r}: ${k}`).toBe(true);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(256);
    // Uniform over the group: χ² of the 256 counts (mean 16) within its 5σ band.
    const chi2 = [...counts.values()].reduce((a, k) => a + (k - 16) ** 2 / 16, 0);
    expect(Math.abs(chi2 - 255)).toBeLessThan(5 * Math.sqrt(2 * 255));
    // Seeded: the same (seed, epoch) gives the same rows, another epoch others.
    expect(Array.from(randomSymmetries({ kind: 'square', L }, rows, n, 9, 0))).toEqual(Array.from(out));
    expect(Array.from(randomSymmetries({ kind: 'square', L }, rows, n, 9, 1))).not.toEqual(Array.from(out));

    const N = 8;
    const ringMoves = [
      (r: number[]) => r.map((_, i) => r[(i + N - 1) % N]!),
      (r: number[]) => r.map((_, i) => r[N - 1 - i]!),
      (r: number[]) => r.map((s) => -s),
    ];
    const ring = [1, 1, -1, 1, -1, -1, -1, -1];
    const ringImages = orbit(ring, ringMoves);
    expect(ringImages.size).toBe(32);
    const ringRows = Int8Array.from({ length: 1000 * N }, (_, i) => ring[i % N]!);
    const ringOut = randomSymmetries({ kind: 'ring', N }, ringRows, 1000, 9, 3);
    const seen = new Set<string>();
    for (let r = 0; r < 1000; r++) {
      const k = Array.from(ringOut.subarray(r * N, (r + 1) * N)).join(',');
      expect(ringImages.has(k), `ring row ${r}: ${k}`).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(32);

    expect(() => randomSymmetries({ kind: 'square', L }, rows.subarray(1), n, 9, 0)).toThrow(
      /65535 spins are not n 4096 rows of 16 sites/,
    );
    expect(() => randomSymmetries({ kind: 'ring', N }, ringRows, 1000, 9, -1)).toThrow(/epoch -1 must be/);
  });

  it('temperature grids: increasing, > 0 except a leading 0 (the ordered states)', () => {
    expect(() => checkTemperatureGrid([0, 0.5, 1])).not.toThrow();
    expect(() => checkTemperatureGrid([0.5, 0.25])).toThrow(
      /must increase: temperatures\[1\] = 0.25 follows 0.5/,
    );
    expect(() => checkTemperatureGrid([0.5, 0])).toThrow(/temperatures\[1\] = 0/);
    expect(() => checkTemperatureGrid([-1, 2])).toThrow(/temperatures\[0\] = -1/);
    expect(() => checkTemperatureGrid([1])).toThrow(/1 value\(s\); a thermometer needs at least 2/);
  });
});

describe('rbm-flow study', () => {
  const gpu = useGpu();

  it('test preset: thermometers, flows with three readings, the untrained null flows to disorder', async () => {
    const device = gpu().device;
    const o = RBM_FLOW_PRESETS.test;
    const ctx = context(device);
    const out = await checked(device, () => rbmFlowStudy.run(o, ctx));
    expect(out.complete).toBe(true);
    expect(out.stages.map((s) => s.stage)).toEqual([
      'data and thermometer (main)',
      'experiment all',
      'experiment untrained',
      'data and thermometer (ring)',
      'experiment ring1d',
    ]);
    for (const name of ['all', 'untrained', 'ring1d']) {
      const m = entry(out, `mstar.${name}`);
      expect(m.value).toBeGreaterThan(0);
      expect(m.value).toBeLessThanOrEqual(1);
      expect(m.err).toBeGreaterThan(0);
      const mlp = entry(out, `tstar.${name}.mlp`);
      expect(mlp.value).toBeGreaterThanOrEqual(0);
      expect(mlp.value).toBeLessThanOrEqual(6);
      entry(out, `tstar.${name}.mlp.meanfield`);
    }
    // Weights of size 10⁻³ leave the visible spins fair coins: |m| of 100 coins is ≈ 0.08, far below any
    // ordered state, and the energy reads hot (T_E > 4, or the infinite-T bound).
    expect(entry(out, 'mstar.untrained').value).toBeLessThan(0.2);
    const hot = out.results.find((r) => r.name === 'tstar.untrained.energy');
    if (hot) expect(hot.value).toBeGreaterThan(4);
    expect(entry(out, 'tstar.all.energy').err).toBeGreaterThan(0);
    expect(entry(out, 'thermometer.L10.accuracy').value).toBeGreaterThan(0);
    expect(entry(out, 'thermometer.ring8.accuracy').value).toBeGreaterThan(0);
    // No classifier beats the exact posterior's Bayes limit on the same held-out sets (up to sampling error).
    for (const tag of ['L10', 'L10.veiga', 'ring8']) {
      const acc = entry(out, `thermometer.${tag}.accuracy`);
      const bayes = entry(out, `thermometer.${tag.split('.')[0]}.bayes`);
      expect(bayes.value).toBeGreaterThan(1 / 25);
      expect(acc.value).toBeLessThan(bayes.value + 4 * Math.hypot(acc.err, bayes.err));
    }
    // Veiga's own classifier is trained beside de Gier's (the untrained null is a Veiga model) and reads it.
    expect(entry(out, 'thermometer.L10.veiga.accuracy').method).toContain('MLP 100-512-256-64-25');
    expect(out.results.some((r) => r.name === 'thermometer.ring8.veiga.accuracy')).toBe(false);
    expect(out.markdown).toContain("Veiga & Vicente's for theirs");
    expect(out.markdown).toMatch(/\*\*untrained\*\*: .*read by the MLP 100-512-256-64-25\./);
    expect(out.markdown).toMatch(/\*\*all\*\*: .*read by the MLP 100-64-25\./);
    expect(entry(out, 'tstar.all.mlp').source?.value).toBe(2.5);
    // Fans: one per experiment and step kind; arrays [starts × generations+1 × 4].
    expect(out.figures.map((f) => f.name)).toContain('flow-all-sampled');
    const fan = out.arrays.find((a) => a.name === 'flows.all.sampled')!;
    expect(fan.npy.shape).toEqual([o.temperatures.length + 1, o.generations + 1, 4]);
    expect(out.markdown).toContain('Does the flow go to T_c?');
  });

  it("experiment 'mnist' runs de Gier's MNIST flows inside the study and reports them", async () => {
    const device = gpu().device;
    const out = await checked(device, () =>
      rbmFlowStudy.run({ ...RBM_FLOW_PRESETS.test, experiments: ['mnist'] }, context(device)),
    );
    expect(out.complete).toBe(true);
    expect(out.stages.map((s) => s.stage)).toEqual(['experiment mnist']);
    const p4 = entry(out, 'mnist.48.plain.p4');
    const p8 = entry(out, 'mnist.48.plain.p8');
    expect(p4.value + p8.value).toBeLessThanOrEqual(1 + 1e-6);
    expect(entry(out, 'mnist.classifier.accuracy').value).toBeGreaterThan(0.5);
    expect(out.markdown).toContain('MNIST flows');
    expect(out.figures.some((f) => f.name.startsWith('mnist-'))).toBe(true);
  });

  it("Veiga's L = 100 experiments (at the test preset's L = 12) train on their own grid and report mstar.L100*", async () => {
    const device = gpu().device;
    const t = RBM_FLOW_PRESETS.test;
    const o: RbmFlowOptions = { ...t, generations: 4, driftLag: 2, experiments: ['L100', 'L100extremes'] };
    const out = await checked(device, () => rbmFlowStudy.run(o, context(device)));
    expect(out.complete).toBe(true);
    expect(out.stages.map((s) => s.stage)).toEqual([
      'data and thermometer (veigaLarge)',
      'experiment L100',
      'experiment L100extremes',
    ]);
    const L = t.veigaLarge.L;
    expect(entry(out, `thermometer.L${L}.accuracy`).value).toBeGreaterThan(0);
    expect(entry(out, `thermometer.L${L}.veiga.accuracy`).value).toBeGreaterThan(0);
    for (const name of ['L100', 'L100extremes']) {
      const m = entry(out, `mstar.${name}`);
      expect(m.value).toBeGreaterThan(0);
      expect(m.value).toBeLessThanOrEqual(1);
    }
    expect(entry(out, 'mstar.L100').source?.value).toBe(0.3447);
    expect(entry(out, 'mstar.L100extremes').source?.value).toBe(0.3332);
    // Starts: every grid temperature above 0, all up and half up; the grid is the lattice's own.
    const fan = out.arrays.find((a) => a.name === 'flows.L100.sampled')!;
    expect(fan.npy.shape).toEqual([t.veigaLarge.temperatures.length + 1, 5, 4]);
    expect(out.markdown).toContain('trained on 3 temperature(s) (1, 2.25, 3.5)');
    expect(out.markdown).toContain('trained on 2 temperature(s) (0, ∞)');
  });

  it('resumes finished experiments from their checkpoints with identical results', async () => {
    const device = gpu().device;
    const t = RBM_FLOW_PRESETS.test;
    const o: RbmFlowOptions = {
      ...t,
      samplesPerSet: 20,
      flowChains: 10,
      generations: 3,
      driftLag: 1,
      scan: { ...t.scan, samples: 20 },
      mlp: { ...t.mlp, epochs: 1 },
      experiments: ['untrained'],
    };
    const checkpoints = memoryCheckpoints();
    const first = await checked(device, () => rbmFlowStudy.run(o, context(device, { checkpoints })));
    expect(checkpoints.names()).toContain('experiment-untrained');
    const ctx = context(device, { checkpoints });
    const again = await checked(device, () => rbmFlowStudy.run(o, ctx));
    expect(ctx.lines.some((l) => l.includes('untrained: taken from the checkpoint'))).toBe(true);
    expect(again.results).toEqual(first.results);
    expect(again.settings.resumed).toEqual(['untrained']);
    // The resumed stage reports the time the first run spent on it, not the moment it took to read it back.
    const seconds = (out: typeof first) =>
      out.stages.find((s) => s.stage === 'experiment untrained')!.seconds;
    expect(seconds(again)).toBeGreaterThanOrEqual(seconds(first));
  });

  it('a cancelled run returns a partial report', async () => {
    const device = gpu().device;
    const controller = new AbortController();
    const ctx = context(device, {
      signal: controller.signal,
      progress: (stage) => {
        if (stage.startsWith('reference scan')) controller.abort();
      },
    });
    const out = await checked(device, () =>
      rbmFlowStudy.run({ ...RBM_FLOW_PRESETS.test, experiments: ['all'] }, ctx),
    );
    expect(out.complete).toBe(false);
    expect(out.markdown).toContain('Partial report');
    expect(out.results.some((r) => r.name.startsWith('tstar.'))).toBe(false);
  });

  it('bad options are refused before any GPU work, naming the value', async () => {
    const t = RBM_FLOW_PRESETS.test;
    const bad: [Partial<RbmFlowOptions>, RegExp][] = [
      [{ temperatures: [0, 1, 0.5] }, /temperatures must increase: temperatures\[2\] = 0.5 follows 1/],
      [{ temperatures: [0, -1] }, /temperatures\[1\] = -1/],
      [{ generations: 0 }, /generations 0 must be an integer in 1/],
      [
        { flowChains: t.samplesPerSet + 1 },
        new RegExp(`flowChains ${t.samplesPerSet + 1} must be an integer in 1 … ${t.samplesPerSet}`),
      ],
      [{ experiments: ['sideways' as never] }, /experiment 'sideways' is not one of all, lowT/],
      [{ experiments: [] }, /experiments is empty/],
      [{ L: 1 }, /L 1 must be an integer in 2/],
      [{ mlp: { ...t.mlp, lr: 0 } }, /mlp.lr 0 must be a finite number > 0/],
      [{ ring: { ...t.ring, N: 40 } }, /ring.N 40 must be an integer in 3 … 20/],
      [{ checkFraction: 1 }, /checkFraction 1 must lie strictly between 0 and 1/],
      [
        { veigaLarge: { ...t.veigaLarge, temperatures: [1, 0.5] } },
        /veigaLarge.temperatures must increase: veigaLarge.temperatures\[1\] = 0.5 follows 1/,
      ],
      [
        { veigaLarge: { ...t.veigaLarge, temperatures: [1, 2] }, experiments: ['L100extremes'] },
        /veigaLarge.temperatures must start with 0 \(the ordered states\) for L100extremes; it starts with 1/,
      ],
      [{ veigaLarge: { ...t.veigaLarge, L: 300 } }, /veigaLarge.L 300 must be an integer in 2 … 256/],
    ];
    for (const [over, message] of bad) {
      await expect(rbmFlowStudy.run({ ...t, ...over }, noDevice())).rejects.toThrow(message);
    }
  });
});
