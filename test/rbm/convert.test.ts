/** ±1 ↔ {0,1} conversion: identical distributions, the derived ln Z and free-energy offset, exact round trips. */
import { describe, expect, it } from 'vitest';
import {
  energy,
  exactGradient,
  freeEnergy,
  hiddenProbabilities,
  logLikelihood,
  logPartitionExact,
  randomDenseRbm,
  visibleProbabilities,
} from '../../src/reference/rbm.ts';
import {
  bernoulliToIsingRbm,
  conversionLogZOffset,
  convertData,
  convertRbm,
  isingToBernoulliRbm,
} from '../../src/rbm/convert.ts';
import { maxAbsDiff, randomBatch } from './helpers.ts';

describe('±1 ↔ {0,1} RBM conversion', () => {
  const pm = randomDenseRbm('ising', 7, 5, { seed: 41, weightScale: 0.7, biasScale: 0.6 });
  const zo = isingToBernoulliRbm(pm);
  const C = conversionLogZOffset(pm);
  const spins = randomBatch(11, 7, 'ising', 3);
  const bits = convertData(spins, 'ising', 'bernoulli');

  it('applies W01 = 4W, a01 = 2a − 2Σ_j W, b01 = 2b − 2Σ_i W', () => {
    expect(zo.units).toBe('bernoulli');
    expect(zo.W[3]).toBe(4 * pm.W[3]!);
    let row = 0;
    for (let j = 0; j < 5; j++) row += pm.W[2 * 5 + j]!;
    expect(zo.a[2]).toBeCloseTo(2 * pm.a[2]! - 2 * row, 14);
    let col = 0;
    for (let i = 0; i < 7; i++) col += pm.W[i * 5 + 4]!;
    expect(zo.b[4]).toBeCloseTo(2 * pm.b[4]! - 2 * col, 14);
  });

  it('keeps the exact log-likelihood of the data (1e-10) and the conditionals', () => {
    expect(Math.abs(logLikelihood(pm, spins) - logLikelihood(zo, bits))).toBeLessThan(1e-10);
    expect(maxAbsDiff(hiddenProbabilities(pm, spins), hiddenProbabilities(zo, bits))).toBeLessThan(1e-13);
    const h = Float64Array.from({ length: 5 }, (_, j) => (j % 2 ? 1 : -1));
    const h01 = convertData(h, 'ising', 'bernoulli');
    expect(maxAbsDiff(visibleProbabilities(pm, h), visibleProbabilities(zo, h01))).toBeLessThan(1e-13);
  });

  it('shifts ln Z, F and E by C = ΣW − Σa − Σb: ln Z± = ln Z01 + C, F01 = F± + C, E01 = E± + C', () => {
    expect(Math.abs(logPartitionExact(pm) - logPartitionExact(zo) - C)).toBeLessThan(1e-10);
    for (let s = 0; s < 11; s++) {
      const sv = spins.subarray(s * 7, (s + 1) * 7);
      const bv = bits.subarray(s * 7, (s + 1) * 7);
      expect(freeEnergy(zo, bv) - freeEnergy(pm, sv)).toBeCloseTo(C, 12);
      const sh = randomBatch(1, 5, 'ising', 100 + s);
      expect(energy(zo, bv, convertData(sh, 'ising', 'bernoulli')) - energy(pm, sv, sh)).toBeCloseTo(C, 12);
    }
  });

  it('round-trips both ways and copies for the same units', () => {
    const back = bernoulliToIsingRbm(zo);
    expect(maxAbsDiff(back.W, pm.W)).toBeLessThan(1e-15);
    expect(maxAbsDiff(back.a, pm.a)).toBeLessThan(1e-14);
    expect(maxAbsDiff(back.b, pm.b)).toBeLessThan(1e-14);
    const b01 = randomDenseRbm('bernoulli', 4, 6, { seed: 5, weightScale: 2 });
    const again = isingToBernoulliRbm(bernoulliToIsingRbm(b01));
    expect(maxAbsDiff(again.a, b01.a)).toBeLessThan(1e-14);
    expect(maxAbsDiff(again.b, b01.b)).toBeLessThan(1e-14);
    const copy = convertRbm(pm, 'ising');
    expect(copy).toEqual(pm);
    expect(copy.W).not.toBe(pm.W);
    expect(convertRbm(pm, 'bernoulli')).toEqual(zo);
  });

  it('maps the likelihood gradient by the chain rule (dL/dW± = 4 dL/dW01 − 2 dL/da01 ⊗ 1 − 2 1 ⊗ dL/db01)', () => {
    const g = exactGradient(pm, spins);
    const g01 = exactGradient(zo, bits);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 5; j++) {
        expect(g.dW[i * 5 + j]).toBeCloseTo(4 * g01.dW[i * 5 + j]! - 2 * g01.da[i]! - 2 * g01.db[j]!, 12);
      }
    }
    for (let i = 0; i < 7; i++) expect(g.da[i]).toBeCloseTo(2 * g01.da[i]!, 12);
  });

  it('refuses wrong units and non-unit data values', () => {
    expect(() => isingToBernoulliRbm(zo)).toThrow(/needs units 'ising'; got 'bernoulli'/);
    expect(() => bernoulliToIsingRbm(pm)).toThrow(/needs units 'bernoulli'; got 'ising'/);
    expect(() => convertData([1, -1, 0], 'ising', 'bernoulli')).toThrow(
      /value 0 at index 2 is not a ising unit value \(-1 or 1\)/,
    );
    expect(Array.from(convertData([0, 1, 1], 'bernoulli', 'ising'))).toEqual([-1, 1, 1]);
  });
});
