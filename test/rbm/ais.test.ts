/** Annealed importance sampling against exact enumeration (both unit types, dense and conv), and across conversion. */
import { describe, expect, it } from 'vitest';
import {
  ais,
  baseRateBiases,
  linearBetas,
  logPartitionExact,
  randomConvRbm,
  randomDenseRbm,
  type AisResult,
  type Rbm,
} from '../../src/reference/rbm.ts';
import { conversionLogZOffset, isingToBernoulliRbm } from '../../src/rbm/convert.ts';
import { randomBatch } from './helpers.ts';

/** |AIS − exact| within 3 standard errors plus a small slack for AIS's low bias; the error bar itself small. */
function expectAgreement(result: AisResult, exact: number): void {
  expect(result.stderr).toBeGreaterThan(0);
  expect(result.stderr).toBeLessThan(0.05);
  expect(Math.abs(result.logZ - exact)).toBeLessThan(3 * result.stderr + 0.01);
  expect(result.logZLow).toBeLessThan(result.logZ);
  expect(result.logZHigh).toBeGreaterThan(result.logZ);
  expect(result.effectiveSampleSize).toBeGreaterThan(result.runs / 2);
}

describe('AIS estimates ln Z within its error bar', () => {
  const cases: [string, Rbm][] = [
    ['±1 dense 12×8', randomDenseRbm('ising', 12, 8, { seed: 3, weightScale: 1, biasScale: 0.5 })],
    ['{0,1} dense 12×8', randomDenseRbm('bernoulli', 12, 8, { seed: 4, weightScale: 2, biasScale: 0.5 })],
    [
      '±1 conv Lv=4 F=2 k=3 s=2',
      randomConvRbm(
        'ising',
        { Lv: 4, filters: 2, k: 3, stride: 2 },
        { seed: 5, weightScale: 0.5, biases: true },
      ),
    ],
  ];
  for (const [name, rbm] of cases) {
    it(name, () => {
      const result = ais(rbm, { betas: 1000, runs: 100, seed: 7 });
      expect(result.runs).toBe(100);
      expect(result.logWeights).toHaveLength(100);
      expectAgreement(result, logPartitionExact(rbm));
    });
  }

  it('the {0,1} equivalent of a ±1 model gives ln Z01 = ln Z± − C within the error bar', () => {
    const pm = randomDenseRbm('ising', 12, 8, { seed: 3, weightScale: 1, biasScale: 0.5 });
    const zo = isingToBernoulliRbm(pm);
    expectAgreement(
      ais(zo, { betas: 1000, runs: 100, seed: 8 }),
      logPartitionExact(pm) - conversionLogZOffset(pm),
    );
  });

  it('a base-rate base model from data works and the run is reproducible from its seed', () => {
    const rbm = randomDenseRbm('bernoulli', 12, 8, { seed: 6, weightScale: 1, biasScale: 1 });
    const data = randomBatch(50, 12, 'bernoulli', 2);
    const options = {
      betas: linearBetas(500),
      runs: 50,
      seed: 9,
      baseVisibleBias: baseRateBiases(data, 12, 'bernoulli'),
    };
    const first = ais(rbm, options);
    expectAgreement(first, logPartitionExact(rbm));
    expect(Array.from(ais(rbm, options).logWeights)).toEqual(Array.from(first.logWeights));
    expect(ais(rbm, { ...options, seed: 10 }).logWeights[0]).not.toBe(first.logWeights[0]);
  });

  it('refuses bad schedules', () => {
    const rbm = randomDenseRbm('ising', 3, 2);
    expect(() => ais(rbm, { betas: [0, 0.5], runs: 2, seed: 1 })).toThrow(
      /must run from 0 to 1; got 0 … 0.5/,
    );
    expect(() => ais(rbm, { betas: [0, 0.6, 0.4, 1], runs: 2, seed: 1 })).toThrow(
      /0.4 at index 2 is below 0.6/,
    );
    expect(() => ais(rbm, { betas: 10, runs: 0, seed: 1 })).toThrow(/AIS run count 0/);
    expect(() => ais(rbm, { betas: 10, runs: 2, seed: 1, baseVisibleBias: [0, 0] })).toThrow(
      /base visible bias has 2 values; expected 3/,
    );
  });
});
