import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../src/stats/index.ts';

describe('χ² survival function', () => {
  it('matches exp(−x/2) for 2 dof and tabulated quantiles for 1, 10 and 30 dof', () => {
    for (const x of [0.1, 1, 5, 20, 60]) {
      expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
    }
    // 1 dof: P(χ² ≥ 3.841458820694124) = 0.05; 10 dof: P(χ² ≥ 23.209251158954356) = 0.01; 30 dof: 0.001 at 59.70306.
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(23.209251158954356, 10)).toBeCloseTo(0.01, 12);
    expect(chiSquareSurvival(59.70306, 30)).toBeCloseTo(0.001, 7);
    expect(chiSquareSurvival(0, 7)).toBe(1);
  });
});
