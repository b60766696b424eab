/**
 * The mehta-schwab study: the receptive-field geometry on the CPU against exact values (a single site, ideal
 * blocks, a uniform field, wrap-around on the torus, matrix products, permutations), then the `test` preset end
 * to end on the GPU (every headline name finite with an error, figures render), a cancelled run's partial
 * output, resuming from checkpoints, and bad options refused before any GPU work with errors naming the value.
 */
import { describe, expect, it } from 'vitest';
import { memoryCheckpoints } from '../../src/studies/checkpoints.ts';
import { renderFigure } from '../../src/studies/figures.ts';
import {
  MEHTA_SCHWAB_PRESETS,
  mehtaSchwabStudy,
  type MehtaSchwabOptions,
} from '../../src/studies/mehta-schwab.ts';
import {
  blockField,
  blockSpinRadius,
  halfMassRadius,
  meanAbsCosine,
  median,
  permuteEntries,
  randomPermutation,
  receptiveFields,
  torusCentre,
  uniformRadius,
  unscrambleRows,
} from '../../src/studies/receptive-fields.ts';
import type { StudyContext, StudyOutput } from '../../src/studies/study.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function context(device: GPUDevice, extra: Partial<StudyContext> = {}): StudyContext & { lines: string[] } {
  const lines: string[] = [];
  return { device, progress: () => {}, log: (line) => lines.push(line), lines, ...extra };
}

function entry(out: StudyOutput, name: string) {
  const e = out.results.find((r) => r.name === name);
  expect(e, name).toBeDefined();
  return e!;
}

describe('receptive fields (CPU)', () => {
  it('a field on one site has radius 0, wherever the site is', () => {
    for (const [r, c] of [
      [0, 0],
      [7, 3],
      [39, 39],
    ] as const) {
      const f = new Float64Array(40 * 40);
      f[r * 40 + c] = -2.5;
      expect(torusCentre(f, 40)).toEqual({ row: expect.closeTo(r, 9), col: expect.closeTo(c, 9) });
      expect(halfMassRadius(f, 40)).toBe(0);
    }
  });

  it('ideal b×b blocks: exact radii (piecewise-linear mass profile)', () => {
    // 2×2: all four sites at √½ from the centre → half the mass at ½·√½.
    expect(blockSpinRadius(40, 2)).toBeCloseTo(Math.SQRT1_2 / 2, 12);
    // 4×4: 4 sites at √0.5, 8 at √2.5, 4 at √4.5; half (8) is reached halfway into the √2.5 shell.
    expect(blockSpinRadius(40, 4)).toBeCloseTo(Math.sqrt(0.5) + 0.5 * (Math.sqrt(2.5) - Math.sqrt(0.5)), 12);
    // 1×1 is a single site; radii grow with b.
    expect(blockSpinRadius(40, 1)).toBe(0);
    const r = [2, 4, 8, 10].map((b) => blockSpinRadius(40, b));
    for (let i = 1; i < r.length; i++) expect(r[i]!).toBeGreaterThan(r[i - 1]!);
    // Sign does not matter (|w|), nor the scale.
    const f = blockField(40, 4, 10, 20).map((x, i) => (i % 2 ? -3 * x : 3 * x));
    expect(halfMassRadius(f, 40)).toBeCloseTo(blockSpinRadius(40, 4), 12);
  });

  it('a uniform field: half the sites within r, r ≈ √(L²/2π) (a disc of half the area)', () => {
    for (const L of [16, 40]) {
      const r = uniformRadius(L);
      expect(Math.abs(r - Math.sqrt((L * L) / 2 / Math.PI))).toBeLessThan(0.5);
      // Checked by counting: fewer than half the sites lie strictly inside r, at least half within the next shell.
      const d: number[] = [];
      for (let i = 0; i < L * L; i++) {
        const dr = Math.min(Math.floor(i / L), L - Math.floor(i / L));
        const dc = Math.min(i % L, L - (i % L));
        d.push(Math.hypot(dr, dc));
      }
      const next = Math.min(...d.filter((x) => x >= r - 1e-9));
      expect(d.filter((x) => x < r - 1e-9).length).toBeLessThanOrEqual((L * L) / 2);
      expect(d.filter((x) => x <= next + 1e-9).length).toBeGreaterThanOrEqual((L * L) / 2);
    }
  });

  it('the torus wraps: a block straddling the boundary has the radius of one in the middle', () => {
    for (const b of [2, 3, 4, 8]) {
      const mid = halfMassRadius(blockField(40, b, 15, 17), 40);
      for (const [r, c] of [
        [39, 0],
        [38, 38],
        [0, 39],
        [40 - Math.floor(b / 2), 40 - Math.floor(b / 2)],
      ] as const)
        expect(halfMassRadius(blockField(40, b, r, c), 40)).toBeCloseTo(mid, 9);
    }
  });

  it('products of weight matrices match a hand computation', () => {
    // W1: 3 × 2, W2: 2 × 2 (row-major).
    const W1 = [1, 2, 3, 4, 5, 6];
    const W2 = [1, -1, 2, 0.5];
    const [P1, P2] = receptiveFields([W1, W2], [3, 2, 2]);
    expect(Array.from(P1!)).toEqual(W1);
    // [1 2; 3 4; 5 6] · [1 −1; 2 0.5] = [5 0; 11 −1; 17 −2]
    expect(Array.from(P2!)).toEqual([5, 0, 11, -1, 17, -2]);
    expect(() => receptiveFields([W1], [3, 3])).toThrow(/weights\[0\] has 6 entries; 3 × 3 needs 9/);
  });

  it('permutations keep the multiset of weights, are seeded, and unscrambling inverts a site shuffle', () => {
    const w = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * i);
    const p = permuteEntries(w, 3);
    expect([...p].sort((a, b) => a - b)).toEqual([...w].sort((a, b) => a - b));
    expect(Array.from(permuteEntries(w, 3))).toEqual(Array.from(p));
    expect(Array.from(permuteEntries(w, 4))).not.toEqual(Array.from(p));
    const perm = randomPermutation(16, 5);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    // A field local on the lattice, seen by a network whose input i is site perm[i] …
    const field = blockField(4, 2, 1, 1);
    const seen = Float64Array.from({ length: 16 }, (_, i) => field[perm[i]!]!);
    // … comes back to the lattice when unscrambled.
    expect(Array.from(unscrambleRows(seen, perm, 1))).toEqual(Array.from(field));
    // Field similarity: disjoint blocks 0, copies (of either sign) 1.
    const two = new Float64Array(16 * 2);
    blockField(4, 2, 0, 0).forEach((x, i) => (two[i * 2] = x));
    blockField(4, 2, 2, 2).forEach((x, i) => (two[i * 2 + 1] = x));
    expect(meanAbsCosine(two, 16, 2)).toBe(0);
    blockField(4, 2, 0, 0).forEach((x, i) => (two[i * 2 + 1] = -3 * x));
    expect(meanAbsCosine(two, 16, 2)).toBeCloseTo(1, 12);
    expect(median([3, 1, 2, NaN])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('mehta-schwab study', () => {
  const gpu = useGpu();

  it('test preset: every headline radius finite with an error, nulls and comparisons, figures render', async () => {
    const device = gpu().device;
    const o = MEHTA_SCHWAB_PRESETS.test;
    const curves: string[] = [];
    const live: string[] = [];
    const checkpoints = memoryCheckpoints();
    const ctx = context(device, {
      checkpoints,
      update: (u) => {
        if (u.kind === 'curve') curves.push(u.model);
        if (u.kind === 'figure') live.push(u.figure.name);
      },
    });
    const out = await checked(device, () => mehtaSchwabStudy.run(o, ctx));
    expect(out.complete).toBe(true);
    const suffixes = ['', '.K0.3', '.K0.6', '.permuted', '.shuffledSites', '.shuffledSites.unscrambled'];
    for (let l = 1; l <= 3; l++) {
      for (const s of suffixes) {
        const e = entry(out, `mehta.rfRadius.layer${l}${s}`);
        expect(Number.isFinite(e.value)).toBe(true);
        expect(e.value).toBeGreaterThanOrEqual(0);
        // No radius exceeds the largest distance on the torus (√2 · L/2).
        expect(e.value).toBeLessThanOrEqual(Math.SQRT2 * (o.L / 2));
        expect(e.err).toBeGreaterThan(0);
        expect(e.source).toBeUndefined();
      }
      expect(entry(out, `mehta.rfRadius.layer${l}.blockSpin`).value).toBeCloseTo(
        blockSpinRadius(o.L, [2, 4, 8][l - 1]!),
        12,
      );
    }
    expect(entry(out, 'mehta.rfRadius.uniform').value).toBe(uniformRadius(o.L));
    for (let l = 1; l <= 3; l++) {
      const s = entry(out, `mehta.fieldSimilarity.layer${l}`);
      expect(s.value).toBeGreaterThanOrEqual(0);
      expect(s.value).toBeLessThanOrEqual(1);
    }
    const g = entry(out, 'mehta.rfRadius.growth');
    expect(Number.isFinite(g.value) && g.err > 0).toBe(true);
    const tau = entry(out, 'mehta.data.tauInt');
    expect(tau.value).toBeGreaterThan(0.4);
    expect(tau.err).toBeGreaterThan(0);
    expect(entry(out, 'mehta.data.interval').value).toBeGreaterThanOrEqual(2 * tau.value - 1);
    // Live curves for every layer and seed of every data set.
    expect(new Set(curves)).toContain('layer 1 (seed 1)');
    expect(new Set(curves)).toContain('layer 3 (seed 2, K = 0.6)');
    // Each trained layer's receptive fields, sent live (one figure per layer, replaced network after network).
    expect(new Set(live)).toEqual(
      new Set(['live-fields-layer1', 'live-fields-layer2', 'live-fields-layer3']),
    );
    expect(checkpoints.names()).toContain('data');
    expect(checkpoints.names()).toContain('dbn-critical-seed2');
    expect(out.markdown).toContain('## Layer 3: 4 units (block 8×8)');
    expect(out.markdown).toContain('What agrees and what does not');
    expect(out.figures.map((f) => f.name)).toEqual([
      'fields-layer1',
      'fields-layer2',
      'fields-layer3',
      'fields-nulls',
      'radius-by-layer',
      'radius-histograms',
      'reconstruction',
    ]);
    for (const f of out.figures) expect(await renderFigure(f)).toMatch(/^<svg/);
    const fields = out.arrays.find((a) => a.name === 'fields.layer3')!;
    expect(fields.npy.shape).toEqual([4, 16, 16]);

    // Resumed from the checkpoints: no training, the same numbers.
    const again = context(device, { checkpoints });
    const resumed = await checked(device, () => mehtaSchwabStudy.run(o, again));
    expect(again.lines.some((l) => l.includes('taken from the checkpoint'))).toBe(true);
    expect(resumed.results).toEqual(out.results);
  });

  it('a cancelled run returns a partial report', async () => {
    const device = gpu().device;
    const controller = new AbortController();
    const ctx = context(device, {
      signal: controller.signal,
      progress: (stage) => {
        if (stage === 'data (sample)') controller.abort();
      },
    });
    const out = await checked(device, () => mehtaSchwabStudy.run(MEHTA_SCHWAB_PRESETS.test, ctx));
    expect(out.complete).toBe(false);
    expect(out.markdown).toContain('Partial report');
    expect(out.results.some((r) => r.name === 'mehta.rfRadius.layer1')).toBe(false);
    expect(out.stages.map((s) => s.stage)).toEqual(['data']);
  });

  it('bad options are refused before any GPU work, naming the value', async () => {
    const t = MEHTA_SCHWAB_PRESETS.test;
    const bad: [Partial<MehtaSchwabOptions>, RegExp][] = [
      [{ L: 2 }, /L 2 must be an integer in 4 … 256/],
      [{ K: -0.4 }, /K -0.4 must be a finite number > 0/],
      [{ hidden: [60, 16, 4] }, /hidden\[0\] 60: L²\/n = 4.267 must be b² with b a divisor of L 16/],
      [{ hidden: [64, 128] }, /hidden\[1\] 128 must be an integer in 1 … 64/],
      [{ epochs: [1, 2] }, /epochs \[1,2\] must give one count per layer \(3\)/],
      [{ epochs: [1, 0, 1] }, /epochs\[1\] 0 must be an integer in 1/],
      [{ seeds: 1 }, /seeds 1 must be an integer in 2 … 100/],
      [{ batch: 10_000 }, /batch 10000 must be an integer in 1 … 300/],
      [{ momentum: 1 }, /momentum 1 must be a number in \[0, 1\)/],
      [{ l1: -1 }, /l1 -1 must be a finite number ≥ 0/],
      [{ offCritical: [0.408] }, /offCritical\[0\] 0.408 equals K 0.408/],
      [{ offCritical: [0.3, 0.3] }, /offCritical\[1\] 0.3 appears twice/],
    ];
    const noDevice = context(undefined as unknown as GPUDevice);
    for (const [patch, message] of bad)
      await expect(mehtaSchwabStudy.run({ ...t, ...patch }, noDevice)).rejects.toThrow(message);
    await expect(mehtaSchwabStudy.run({ ...t, lr: Number.NaN }, noDevice)).rejects.toBeInstanceOf(RangeError);
  });
});
