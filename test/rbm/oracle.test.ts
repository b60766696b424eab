/**
 * The f64 RBM oracle against brute-force enumeration of the joint distribution: conditionals, free energies,
 * partition functions, likelihoods, pseudo-likelihood, KL; the exact gradient against finite differences of
 * the log-likelihood (sign conventions); conv gradients against the dense gradient of convToDense.
 */
import { describe, expect, it } from 'vitest';
import {
  cdGradient,
  convSites,
  convToDense,
  empiricalDistribution,
  energy,
  exactGradient,
  freeEnergies,
  freeEnergy,
  gibbsSteps,
  gibbsUniforms,
  hiddenCount,
  hiddenFreeEnergy,
  hiddenMeans,
  hiddenProbabilities,
  klDivergence,
  logLikelihood,
  logPartitionExact,
  pcdGradient,
  philoxUniforms,
  pseudoLogLikelihood,
  randomConvRbm,
  randomDenseRbm,
  reconstructionError,
  sampleHidden,
  sampleVisible,
  toDenseRbm,
  visibleCount,
  visibleMeans,
  visibleProbabilities,
  type ConvRbm,
  type Rbm,
  type RbmGradient,
  type RbmUnits,
} from '../../src/reference/rbm.ts';
import { philox4x32, unitFloat } from '../../src/gpu/philox.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { allStates, bruteEnergy, bruteLogZ, logSumExp, maxAbsDiff, randomBatch } from './helpers.ts';

const UNITS: RbmUnits[] = ['bernoulli', 'ising'];

/** Small models of every kind, with weights large enough that mistakes show. */
function tinyModels(units: RbmUnits): { name: string; rbm: Rbm }[] {
  return [
    { name: 'dense 5×4', rbm: randomDenseRbm(units, 5, 4, { seed: 11, weightScale: 0.8, biasScale: 0.5 }) },
    { name: 'dense 3×6', rbm: randomDenseRbm(units, 3, 6, { seed: 12, weightScale: 0.8, biasScale: 0.5 }) },
    {
      name: 'conv Lv=4 F=1 k=3 s=2 (biases)',
      rbm: randomConvRbm(
        units,
        { Lv: 4, filters: 1, k: 3, stride: 2 },
        { seed: 13, weightScale: 0.6, biases: true },
      ),
    },
    {
      name: 'conv Lv=2 F=1 k=3 s=1 (k > Lv, no biases)',
      rbm: randomConvRbm(units, { Lv: 2, filters: 1, k: 3, stride: 1 }, { seed: 14, weightScale: 0.7 }),
    },
    {
      name: 'conv Lv=2 F=2 k=2 s=1 (biases)',
      rbm: randomConvRbm(
        units,
        { Lv: 2, filters: 2, k: 2, stride: 1 },
        { seed: 15, weightScale: 0.5, biases: true },
      ),
    },
  ];
}

describe.each(UNITS)('%s units: conditionals and energies by enumeration', (units) => {
  for (const { name, rbm } of tinyModels(units)) {
    const nv = visibleCount(rbm);
    const nh = hiddenCount(rbm);
    const vs = allStates(nv, units);
    const hs = allStates(nh, units);

    it(`${name}: P(h_j on | v), E[h|v] and F(v) match the joint energy`, () => {
      for (const v of vs.filter((_, c) => nv <= 8 || c % 97 === 0)) {
        const weights = hs.map((h) => Math.exp(-bruteEnergy(rbm, v, h)));
        const z = weights.reduce((s, w) => s + w, 0);
        const p = hiddenProbabilities(rbm, v);
        const mu = hiddenMeans(rbm, v);
        for (let j = 0; j < nh; j++) {
          let on = 0;
          let mean = 0;
          hs.forEach((h, c) => {
            if (h[j] === 1) on += weights[c]!;
            mean += h[j]! * weights[c]!;
          });
          expect(p[j]).toBeCloseTo(on / z, 11);
          expect(mu[j]).toBeCloseTo(mean / z, 11);
        }
        expect(freeEnergy(rbm, v)).toBeCloseTo(-Math.log(z), 11);
        expect(energy(rbm, v, hs[3 % hs.length]!)).toBeCloseTo(bruteEnergy(rbm, v, hs[3 % hs.length]!), 12);
      }
    });

    it(`${name}: P(v_i on | h), E[v|h] and the hidden free energy match the joint energy`, () => {
      for (const h of hs.filter((_, c) => nv <= 8 || c % 8 === 0)) {
        const weights = vs.map((v) => Math.exp(-bruteEnergy(rbm, v, h)));
        const z = weights.reduce((s, w) => s + w, 0);
        const p = visibleProbabilities(rbm, h);
        const mu = visibleMeans(rbm, h);
        for (let i = 0; i < nv; i++) {
          let on = 0;
          let mean = 0;
          vs.forEach((v, c) => {
            if (v[i] === 1) on += weights[c]!;
            mean += v[i]! * weights[c]!;
          });
          expect(p[i]).toBeCloseTo(on / z, 11);
          expect(mu[i]).toBeCloseTo(mean / z, 11);
        }
        expect(hiddenFreeEnergy(rbm, h)).toBeCloseTo(-Math.log(z), 11);
      }
    });

    it(`${name}: ln Z, log-likelihood, pseudo-log-likelihood and KL by enumeration`, () => {
      const logZ = bruteLogZ(rbm);
      expect(logPartitionExact(rbm)).toBeCloseTo(logZ, 11);
      const data = randomBatch(7, nv, units, 99);
      let ll = 0;
      let pll = 0;
      for (let s = 0; s < 7; s++) {
        const v = data.subarray(s * nv, (s + 1) * nv);
        const joint = (x: ArrayLike<number>): number => logSumExp(hs.map((h) => -bruteEnergy(rbm, x, h)));
        ll += (joint(v) - logZ) / 7;
        for (let i = 0; i < nv; i++) {
          const flipped = v.slice();
          flipped[i] = v[i] === 1 ? (units === 'ising' ? -1 : 0) : 1;
          pll += (joint(v) - logSumExp([joint(v), joint(flipped)])) / 7;
        }
      }
      expect(logLikelihood(rbm, data)).toBeCloseTo(ll, 11);
      expect(pseudoLogLikelihood(rbm, data)).toBeCloseTo(pll, 11);
      // KL(p̂ ‖ p) = −H(p̂) − ⟨ln p(v)⟩_p̂ for the empirical distribution p̂ of the data.
      const pHat = empiricalDistribution(data, nv);
      let entropy = 0;
      for (const p of pHat) if (p > 0) entropy -= p * Math.log(p);
      const kl = klDivergence(pHat, rbm);
      expect(kl).toBeCloseTo(-entropy - ll, 10);
      expect(kl).toBeGreaterThan(0);
    });
  }
});

describe('exact gradient = finite difference of the exact log-likelihood (sign conventions)', () => {
  const perturb = (rbm: Rbm, which: 'W' | 'a' | 'b', index: number, eps: number): Rbm => {
    if ('Lv' in rbm) {
      const conv: ConvRbm = { ...rbm, W: rbm.W.slice(), b: rbm.b?.slice() };
      if (which === 'W') conv.W[index]! += eps;
      else if (which === 'a') conv.a = (conv.a ?? 0) + eps;
      else conv.b![index]! += eps;
      return conv;
    }
    const d = { ...rbm, W: rbm.W.slice(), a: rbm.a.slice(), b: rbm.b.slice() };
    d[which][index]! += eps;
    return d;
  };
  for (const units of UNITS) {
    for (const { name, rbm } of tinyModels(units).filter((m) => !m.name.includes('no biases'))) {
      it(`${units} ${name}`, () => {
        const nv = visibleCount(rbm);
        const data = randomBatch(9, nv, units, 5);
        const g = exactGradient(rbm, data);
        const eps = 1e-5;
        for (const which of ['W', 'a', 'b'] as const) {
          const grad = g[`d${which}` as keyof RbmGradient];
          for (let n = 0; n < grad.length; n++) {
            const fd =
              (logLikelihood(perturb(rbm, which, n, eps), data) -
                logLikelihood(perturb(rbm, which, n, -eps), data)) /
              (2 * eps);
            expect(Math.abs(grad[n]! - fd), `${which}[${n}]`).toBeLessThan(1e-6);
          }
        }
      });
    }
  }
});

/** Folds a dense gradient of toDenseRbm(conv) back onto the conv parameters (tied weights summed). */
function foldDense(conv: ConvRbm, g: RbmGradient): RbmGradient {
  const { k, filters } = conv;
  const kk = k * k;
  const nh = hiddenCount(conv);
  const P2 = nh / filters;
  const sites = convSites(conv.Lv, k, conv.stride);
  const dW = new Float64Array(filters * kk);
  const db = new Float64Array(filters);
  for (let f = 0; f < filters; f++) {
    for (let pos = 0; pos < P2; pos++) {
      const j = f * P2 + pos;
      db[f]! += g.db[j]!;
      for (let e = 0; e < kk; e++) dW[f * kk + e]! += g.dW[sites[pos * kk + e]! * nh + j]!;
    }
  }
  return { dW, da: Float64Array.of(g.da.reduce((s, x) => s + x, 0)), db };
}

describe('conv gradients = dense gradients of convToDense with tied weights summed', () => {
  const geometries = [
    { Lv: 4, filters: 2, k: 3, stride: 2 },
    { Lv: 6, filters: 3, k: 2, stride: 2 },
    { Lv: 2, filters: 1, k: 3, stride: 1 },
    { Lv: 8, filters: 1, k: 8, stride: 2 },
  ];
  for (const units of UNITS) {
    for (const geo of geometries) {
      it(`${units} Lv=${geo.Lv} F=${geo.filters} k=${geo.k} s=${geo.stride}`, () => {
        const conv = randomConvRbm(units, geo, { seed: 3, weightScale: 0.4, biases: true });
        const dense = toDenseRbm(conv);
        const nv = visibleCount(conv);
        const nh = hiddenCount(conv);
        expect(dense.W).toEqual(convToDense(conv));
        const batch = randomBatch(6, nv, units, 21);
        expect(maxAbsDiff(hiddenProbabilities(conv, batch), hiddenProbabilities(dense, batch))).toBeLessThan(
          1e-13,
        );
        const hBatch = sampleHidden(
          conv,
          batch,
          gibbsUniforms(4, { chains: 6, nv: 1, nh, steps: 1 }).subarray(0, 6 * nh),
        );
        expect(
          maxAbsDiff(visibleProbabilities(conv, hBatch), visibleProbabilities(dense, hBatch)),
        ).toBeLessThan(1e-13);
        const k = 3;
        const u = gibbsUniforms(7, { chains: 6, nv, nh, steps: k });
        const chains = randomBatch(6, nv, units, 22);
        const cases: [string, RbmGradient, RbmGradient][] = [
          ['CD-3', cdGradient(conv, batch, k, u), cdGradient(dense, batch, k, u)],
          [
            'CD-2 mean-field',
            cdGradient(conv, batch, 2, 'mean-field'),
            cdGradient(dense, batch, 2, 'mean-field'),
          ],
          ['PCD-3', pcdGradient(conv, batch, chains, k, u), pcdGradient(dense, batch, chains, k, u)],
        ];
        if (Math.min(nv, nh) <= 12)
          cases.push(['exact', exactGradient(conv, batch), exactGradient(dense, batch)]);
        for (const [what, gc, gd] of cases) {
          const folded = foldDense(conv, gd);
          expect(maxAbsDiff(gc.dW, folded.dW), `${what} dW`).toBeLessThan(1e-12);
          expect(maxAbsDiff(gc.da, folded.da), `${what} da`).toBeLessThan(1e-12);
          expect(maxAbsDiff(gc.db, folded.db), `${what} db`).toBeLessThan(1e-12);
        }
      });
    }
  }
});

describe('sampling, Gibbs uniforms and CD', () => {
  it('a unit is on iff u < P(on), for both layers and a batch', () => {
    const rbm = randomDenseRbm('ising', 4, 3, { seed: 2, weightScale: 1 });
    const v = randomBatch(2, 4, 'ising', 1);
    const p = hiddenProbabilities(rbm, v);
    const below = p.map((x) => x * (1 - 1e-12));
    expect(Array.from(sampleHidden(rbm, v, below))).toEqual(new Array(6).fill(1));
    expect(Array.from(sampleHidden(rbm, v, p))).toEqual(new Array(6).fill(-1)); // u = p is off
    const h = sampleHidden(rbm, v, new Float64Array(6).fill(0.5));
    const q = visibleProbabilities(rbm, h);
    expect(Array.from(sampleVisible(rbm, h, q))).toEqual(new Array(8).fill(-1));
    expect(() => sampleHidden(rbm, v, new Float64Array(5))).toThrow(/5 values; expected 6/);
    expect(() => sampleHidden(rbm, v, new Float64Array(6).fill(1))).toThrow(
      /uniform 1 at index 0 is not in \[0, 1\)/,
    );
  });

  it('gibbsUniforms follows the documented Philox counter layout and the consumption order', () => {
    const u = gibbsUniforms(42, { chains: 2, nv: 3, nh: 2, steps: 2, firstStep: 5 }, 1);
    expect(u.length).toBe(2 * 2 * (3 + 2));
    const key = seedKey(42);
    // Unit j draws word j mod 4 of the block for counter ⌊j/4⌋ (four neighbouring units share a block).
    const draw = (unit: number, chain: number, step: number, purpose: number): number =>
      unitFloat(philox4x32([unit >>> 2, chain, step, streamWord(purpose, 1)], key)[unit & 3] as number);
    // Step 1 (counter step 6): hidden block at 10, chain 1 unit 1 → 10 + 1·2 + 1; visible block at 14, chain 1 unit 2 → 14 + 3 + 2.
    expect(u[13]).toBe(draw(1, 1, 6, RngPurpose.rbmHidden));
    expect(u[19]).toBe(draw(2, 1, 6, RngPurpose.rbmVisible));
    // gibbsSteps consumes them in that order: replaying by hand gives the same chain end.
    const rbm = randomDenseRbm('bernoulli', 3, 2, { seed: 9, weightScale: 1.5 });
    const v0 = randomBatch(2, 3, 'bernoulli', 3);
    let v = v0;
    for (let t = 0; t < 2; t++) {
      const h = sampleHidden(rbm, v, u.subarray(t * 10, t * 10 + 4));
      v = sampleVisible(rbm, h, u.subarray(t * 10 + 4, t * 10 + 10));
    }
    expect(Array.from(gibbsSteps(rbm, v0, 2, u))).toEqual(Array.from(v));
    expect(() => gibbsSteps(rbm, v0, 3, u)).toThrow(
      /20 values; 3 Gibbs steps of 2 chains × \(2 hidden \+ 3 visible\) needs exactly 30/,
    );
    // 'substream' layout: one step word, sub-stream t for step t's hidden draw and t + 1 for its visible draw.
    const w = gibbsUniforms(42, { chains: 2, nv: 3, nh: 2, steps: 2, firstStep: 5, layout: 'substream' });
    const drawSub = (unit: number, chain: number, sub: number, purpose: number): number =>
      unitFloat(philox4x32([unit >>> 2, chain, 5, streamWord(purpose, sub)], key)[unit & 3] as number);
    expect(w[1]).toBe(drawSub(1, 0, 0, RngPurpose.rbmHidden));
    expect(w[13]).toBe(drawSub(1, 1, 1, RngPurpose.rbmHidden));
    expect(w[19]).toBe(drawSub(2, 1, 2, RngPurpose.rbmVisible));
    const next = philoxUniforms(42);
    expect(Array.from(gibbsSteps(rbm, v0, 2, next))).toHaveLength(6);
  });

  it.each(UNITS)('%s: CD-k from many chains approaches the exact gradient as k grows', (units) => {
    // Strong weights (±1: 1, {0,1}: 4 ≈ the same coupling) so that CD-1 is visibly biased.
    const rbm = randomDenseRbm(units, 4, 3, {
      seed: 8,
      weightScale: units === 'ising' ? 1 : 4,
      biasScale: 0.3,
    });
    const base = randomBatch(4, 4, units, 17);
    const copies = 1500;
    const batch = new Float64Array(copies * base.length);
    for (let c = 0; c < copies; c++) batch.set(base, c * base.length);
    const chains = batch.length / 4;
    const exact = exactGradient(rbm, base);
    const error = (k: number): number => {
      const g = cdGradient(rbm, batch, k, gibbsUniforms(5, { chains, nv: 4, nh: 3, steps: k }));
      return Math.max(maxAbsDiff(g.dW, exact.dW), maxAbsDiff(g.da, exact.da), maxAbsDiff(g.db, exact.db));
    };
    // Model term from 6000 chains: standard error ≈ 0.0065 ({0,1}) and ≲ 0.013 (±1) per entry.
    const tol = units === 'ising' ? 0.04 : 0.02;
    expect(error(20)).toBeLessThan(tol);
    expect(error(1)).toBeGreaterThan(2 * tol);
  });

  it('reconstruction error: deterministic uniforms and the mean-field expectation', () => {
    const rbm = randomDenseRbm('bernoulli', 5, 3, { seed: 4, weightScale: 1 });
    const data = randomBatch(8, 5, 'bernoulli', 6);
    const offFraction = data.reduce((s, x) => s + (x === 0 ? 1 : 0), 0) / data.length;
    // u = 0 < p: every unit on after v → h → v′, so the error is the fraction of off units.
    expect(reconstructionError(rbm, data, new Float64Array(8 * 8))).toBeCloseTo(offFraction, 15);
    const p = visibleProbabilities(rbm, hiddenMeans(rbm, data));
    let expected = 0;
    data.forEach((x, i) => (expected += x === 1 ? 1 - p[i]! : p[i]!));
    expect(reconstructionError(rbm, data, 'mean-field')).toBeCloseTo(expected / data.length, 14);
  });

  it('refuses what enumeration cannot do and inconsistent models', () => {
    const big = randomDenseRbm('ising', 21, 21);
    expect(() => logPartitionExact(big)).toThrow(/2\^21 states; the limit is 20 units/);
    expect(() => klDivergence(new Float64Array(4), randomDenseRbm('ising', 2, 1))).toThrow(/sums to 0/);
    expect(() => freeEnergies(randomDenseRbm('ising', 3, 2), new Float64Array(7))).toThrow(
      /7 values; expected a positive multiple of 3/,
    );
    expect(() =>
      hiddenProbabilities(
        { units: 'ising', Lv: 6, filters: 1, k: 2, stride: 4, W: new Float64Array(4) },
        new Float64Array(36),
      ),
    ).toThrow(/lattice 6 is not divisible by stride 4/);
    expect(() => cdGradient(randomDenseRbm('ising', 3, 2), new Float64Array(3), 0, 'mean-field')).toThrow(
      /CD step count k 0/,
    );
  });

  it('ln Z by enumerating a 17-unit layer (Gray code, 128 input refreshes) agrees with the transposed model', () => {
    const rbm = randomDenseRbm('ising', 17, 18, { seed: 31, weightScale: 0.3 });
    // rbm enumerates its 17 visible units; the transposed model (visible ↔ hidden) enumerates 17 hidden units.
    const transposed = { units: rbm.units, nv: 18, nh: 17, W: new Float64Array(17 * 18), a: rbm.b, b: rbm.a };
    for (let i = 0; i < 17; i++) for (let j = 0; j < 18; j++) transposed.W[j * 17 + i] = rbm.W[i * 18 + j]!;
    expect(logPartitionExact(transposed)).toBeCloseTo(logPartitionExact(rbm), 9);
  });
});
