/**
 * MNIST RBM flows (de Gier §4.4): the `test` preset end to end on the GPU, asserting only what holds for every
 * seed at that size (finite distributions that sum to 1, a spread in [0, 1], a classifier well above chance);
 * the training sets of the three variants on the CPU (scaled counts, the mixtures' and noisy images' values);
 * bad options refused with errors that name the value.
 */
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/rbm/data.ts';
import {
  checkMnistFlowOptions,
  MIXED_ALPHAS,
  MNIST_FLOW_PRESETS,
  mnistFlowFigures,
  mnistFlowMarkdown,
  mnistFlowResults,
  mnistTrainingSet,
  NOISE_ALPHAS,
  runMnistFlows,
  type MnistFlowOptions,
} from '../../src/studies/rbm-flow-mnist.ts';
import { checkResults } from '../../src/studies/report.ts';
import type { StudyContext } from '../../src/studies/study.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const NV = 784;

/** Element-wise equality of two arrays (one assertion instead of one per value). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** n binary images of one digit from the package (the first n). */
async function digitImages(digit: number, n: number): Promise<Float32Array> {
  const d = await loadMnist({ digits: [digit], count: n }, { units: 'bernoulli' });
  return d.data;
}

describe('MNIST flow training sets', () => {
  it('plain: the binary images, nothing added', async () => {
    const a = await digitImages(4, 30);
    const b = await digitImages(8, 24);
    const s = mnistTrainingSet('plain', a, 30, b, 24, 1);
    expect(s.n).toBe(54);
    expect(s.added).toBe(0);
    expect(s.realValued).toBe(false);
    expect(same(s.rows.subarray(0, 30 * NV), a)).toBe(true);
    expect(same(s.rows.subarray(30 * NV), b)).toBe(true);
  });

  it('mixed: 500 per α on 2700 per digit scaled, values (1 − α)n₁ + αn₂', async () => {
    const [n1, n2] = [300, 240];
    const a = await digitImages(4, n1);
    const b = await digitImages(8, n2);
    const s = mnistTrainingSet('mixed', a, n1, b, n2, 3);
    // round(500 · 270 / 2700) = 50 per α, 9 values of α.
    expect(s.perAlpha).toBe(50);
    expect(s.added).toBe(450);
    expect(s.n).toBe(n1 + n2 + 450);
    expect(s.realValued).toBe(true);
    expect(s.alphas).toEqual([...MIXED_ALPHAS]);
    expect(s.provenance).toHaveLength(450);
    for (const alpha of MIXED_ALPHAS) expect(s.provenance.filter((p) => p.alpha === alpha)).toHaveLength(50);
    // The clean images come first, unchanged.
    expect(same(s.rows.subarray(0, n1 * NV), a)).toBe(true);
    for (const k of [0, 77, 449]) {
      const p = s.provenance[k]!;
      for (const pixel of [0, 200, 350, 406, 500, 783]) {
        const want = (1 - p.alpha) * a[p.a * NV + pixel]! + p.alpha * b[p.b * NV + pixel]!;
        expect(s.rows[p.row * NV + pixel]).toBeCloseTo(want, 6);
      }
    }
    expect(s.rows.every((x) => x >= 0 && x <= 1)).toBe(true);
    // Every added row mixes both digits' images somewhere: not all rows binary.
    expect(s.rows.subarray((n1 + n2) * NV).some((x) => x !== 0 && x !== 1)).toBe(true);
    // Seeded: the same seed gives the same set, another seed another.
    expect(same(mnistTrainingSet('mixed', a, n1, b, n2, 3).rows, s.rows)).toBe(true);
    expect(same(mnistTrainingSet('mixed', a, n1, b, n2, 4).rows, s.rows)).toBe(false);
  });

  it('noise: ⌊n_d/6⌋ per α per digit (450 of 2700), values (1 − α)n + αη with η ∈ {0, 1}', async () => {
    const [n1, n2] = [62, 50];
    const a = await digitImages(4, n1);
    const b = await digitImages(9, n2);
    const s = mnistTrainingSet('noise', a, n1, b, n2, 5);
    expect(s.n).toBe(n1 + n2);
    expect(s.alphas).toEqual([...NOISE_ALPHAS]);
    // ⌊62/6⌋ = 10 and ⌊50/6⌋ = 8 per α > 0, five such α.
    expect(s.added).toBe(5 * 10 + 5 * 8);
    expect(s.perAlpha).toBe(8);
    for (const alpha of NOISE_ALPHAS.filter((x) => x > 0)) {
      expect(s.provenance.filter((p) => p.alpha === alpha && p.slot === 0)).toHaveLength(10);
      expect(s.provenance.filter((p) => p.alpha === alpha && p.slot === 1)).toHaveLength(8);
    }
    expect(new Set(s.provenance.map((p) => p.row)).size).toBe(s.added);
    const noisy = new Set(s.provenance.map((p) => p.row));
    for (let row = 0; row < s.n; row++) {
      const clean =
        row < n1 ? a.subarray(row * NV, (row + 1) * NV) : b.subarray((row - n1) * NV, (row - n1 + 1) * NV);
      const got = s.rows.subarray(row * NV, (row + 1) * NV);
      if (!noisy.has(row)) {
        expect(same(got, clean)).toBe(true);
        continue;
      }
      const alpha = s.provenance.find((p) => p.row === row)!.alpha;
      let etaOn = 0;
      for (let p = 0; p < NV; p++) {
        const off = (1 - alpha) * clean[p]!;
        const ok = Math.abs(got[p]! - off) < 1e-6 || Math.abs(got[p]! - off - alpha) < 1e-6;
        expect(ok, `row ${row} pixel ${p}: ${got[p]} from ${clean[p]} at α ${alpha}`).toBe(true);
        if (Math.abs(got[p]! - off - alpha) < 1e-6) etaOn++;
      }
      // η is a fair coin: 392 ± 14 of 784 on; 6σ.
      expect(Math.abs(etaOn - 392)).toBeLessThan(84);
    }
  });
});

describe('MNIST flow options', () => {
  const ok = MNIST_FLOW_PRESETS.test;
  const bad = (patch: Partial<MnistFlowOptions>, message: RegExp) =>
    expect(() => checkMnistFlowOptions({ ...ok, ...patch })).toThrow(message);

  it('every preset passes; real presets flow ≥ 40 generations', () => {
    for (const o of Object.values(MNIST_FLOW_PRESETS)) checkMnistFlowOptions(o);
    for (const p of ['quick', 'standard', 'paper'] as const)
      expect(MNIST_FLOW_PRESETS[p].generations).toBeGreaterThanOrEqual(40);
  });

  it('bad options → RangeError naming the value and limit', () => {
    bad({ pairs: [[4, 10]] }, /pairs\[0\]\[1\] digit 10 must be an integer in 0 … 9/);
    bad({ pairs: [[4, 4]] }, /pairs\[0\] \[4, 4\] must be two different digits/);
    bad(
      {
        pairs: [
          [4, 8],
          [8, 4],
        ],
      },
      /pairs\[1\] \[8, 4\] is listed twice/,
    );
    bad({ pairs: [] }, /pairs is empty/);
    bad({ generations: 0 }, /generations 0 must be an integer in 1/);
    bad({ variants: [] }, /variants is empty/);
    bad(
      { variants: ['plain', 'blurred' as 'plain'] },
      /variants\[1\] 'blurred' is not one of plain, mixed, noise/,
    );
    bad({ testPerDigit: 800 }, /testPerDigit 800 must be an integer in 1 … 763/);
    bad({ rbm: { ...ok.rbm, lr: -1 } }, /rbm.lr -1 must be a finite number > 0/);
    bad({ classifier: { ...ok.classifier, hidden: [32, 0] } }, /classifier.hidden\[1\] 0 must be an integer/);
    bad({ trainPerDigit: 2 }, /trainPerDigit 2 must be an integer in 6/);
    expect(() => checkMnistFlowOptions({ ...ok, generations: 0 })).toThrow(RangeError);
  });

  it('runMnistFlows refuses bad options before touching the device', async () => {
    const ctx: StudyContext = {
      device: undefined as unknown as GPUDevice,
      progress: () => {},
      log: () => {},
    };
    await expect(runMnistFlows(ctx, { ...ok, pairs: [[3, 3]] })).rejects.toThrow(RangeError);
  });
});

describe('MNIST flows on the GPU', () => {
  const gpu = useGpu();

  it('test preset: finite distributions summing to 1, spread in [0, 1], classifier above 50 %', async () => {
    const { device } = gpu();
    const stages = new Set<string>();
    const ctx: StudyContext = {
      device,
      progress: (stage) => stages.add(stage),
      log: () => {},
    };
    const o = MNIST_FLOW_PRESETS.test;
    const run = await checked(device, () => runMnistFlows(ctx, o));
    expect(run.classifier.sizes).toEqual([784, ...o.classifier.hidden, 10]);
    expect(run.classifier.accuracy).toBeGreaterThan(0.5);
    expect(run.results).toHaveLength(o.pairs.length * o.variants.length);
    for (const r of run.results) {
      const all = [r.end, ...r.endByStart, ...r.byGeneration];
      for (const p of all) {
        expect(p).toHaveLength(10);
        for (const x of p) expect(Number.isFinite(x) && x >= 0 && x <= 1).toBe(true);
        expect(Math.abs(p.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(1e-4);
      }
      expect(r.endByStart).toHaveLength(10);
      expect(r.byGeneration).toHaveLength(o.generations + 1);
      for (const e of r.endErr) expect(Number.isFinite(e) && e >= 0).toBe(true);
      expect(r.spread).toBeGreaterThanOrEqual(0);
      expect(r.spread).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.spreadErr) && Number.isFinite(r.spreadNoise)).toBe(true);
      for (const ex of r.examples) for (const x of ex) expect(x === 0 || x === 1).toBe(true);
    }
    expect(run.results.find((r) => r.variant === 'mixed')!.added).toBeGreaterThan(0);
    expect(stages).toContain('mnist classifier');
    expect(stages).toContain('mnist flow 48 plain');
    const entries = checkResults(mnistFlowResults(run));
    expect(entries.map((e) => e.name)).toContain('mnist.48.plain.p4');
    expect(entries.map((e) => e.name)).toContain('mnist.48.mixed.spread');
    expect(entries.map((e) => e.name)).toContain('mnist.classifier.accuracy');
    const md = mnistFlowMarkdown(run);
    expect(md).toMatch(/^## MNIST flows \(de Gier §4\.4\)/);
    expect(md).toContain('{0,1}');
    expect(md).toContain('**Agreement.**');
    const verdicts = md.match(/: (agrees|disagrees) \(/g) ?? [];
    expect(verdicts).toHaveLength(run.results.length);
    const agreeing = verdicts.filter((v) => v.includes(' agrees')).length;
    expect(md).toContain(`${agreeing} of ${run.results.length} flows agree`);
    const figures = mnistFlowFigures(run);
    expect(figures.map((f) => f.name)).toContain('mnist-end-by-start');
    expect(figures.map((f) => f.name)).toContain('mnist-flowed-48-noise');

    // An aborted run stops with StudyStopped.
    const controller = new AbortController();
    controller.abort();
    await expect(runMnistFlows({ ...ctx, signal: controller.signal }, o)).rejects.toThrow('interrupted');
  }, 120_000);
});
