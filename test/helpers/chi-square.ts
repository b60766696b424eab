/** Pearson's χ² goodness of fit against an exact distribution, for the statistical tests. */
import { chiSquareSurvival } from '../../src/stats/index.ts';

export interface ChiSquare {
  chi2: number;
  dof: number;
  p: number;
  samples: number;
}

/**
 * Pearson's χ² of observed values against an exact distribution (key → probability). Observed keys are
 * matched to exact keys within 1e-9 (keys may be non-integer f64 with a field); a value with no exact key
 * fails the test at once. Adjacent bins (in key order) are merged until each expects ≥ 5 counts.
 */
export function chiSquare(observed: Map<number, number>, exact: Map<number, number>): ChiSquare {
  const keys = [...exact.keys()].sort((a, b) => a - b);
  const counts = new Map<number, number>(keys.map((k) => [k, 0]));
  let samples = 0;
  for (const [value, n] of observed) {
    const key = keys.find((k) => Math.abs(k - value) < 1e-9);
    if (key === undefined)
      throw new Error(`sampled value ${value} is impossible (not in the exact histogram)`);
    counts.set(key, (counts.get(key) as number) + n);
    samples += n;
  }
  const groups: { expected: number; observed: number }[] = [];
  let current = { expected: 0, observed: 0 };
  for (const k of keys) {
    current.expected += samples * (exact.get(k) as number);
    current.observed += counts.get(k) as number;
    if (current.expected >= 5) {
      groups.push(current);
      current = { expected: 0, observed: 0 };
    }
  }
  const last = groups[groups.length - 1];
  if (current.expected > 0 || current.observed > 0) {
    if (last) {
      last.expected += current.expected;
      last.observed += current.observed;
    } else {
      groups.push(current);
    }
  }
  const chi2 = groups.reduce((s, g) => s + (g.observed - g.expected) ** 2 / g.expected, 0);
  const dof = groups.length - 1;
  return { chi2, dof, p: dof > 0 ? chiSquareSurvival(chi2, dof) : 1, samples };
}

/** Adds one count for `key`. */
export function increment(map: Map<number, number>, key: number): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
