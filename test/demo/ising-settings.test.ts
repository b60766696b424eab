/**
 * The demo's URL parameters: every value the engine would refuse for the chosen kernel is reported as a
 * parameter problem (naming the parameter and the rule) before any engine is built.
 */
import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  chooseAlgorithm,
  chooseField,
  DEFAULT_SETTINGS,
  settingsFromQuery,
} from '../../src/elements/ising-settings.ts';
import { resolveIsingConfig } from '../../src/ising/config.ts';

describe('settingsFromQuery', () => {
  it('takes good parameters', () => {
    expect(settingsFromQuery('?L=128&T=2.0&kernel=simple')).toEqual({
      settings: { ...DEFAULT_SETTINGS, L: 128, T: 2, kernel: 'simple' },
      problems: [],
    });
    expect(settingsFromQuery('?L=64')).toEqual({ settings: { ...DEFAULT_SETTINGS, L: 64 }, problems: [] });
    expect(settingsFromQuery('?L=100&kernel=simple').problems).toEqual([]);
    expect(settingsFromQuery('').problems).toEqual([]);
  });

  // Regression: ?L=15 and ?L=100 passed the URL check (an integer in 4 … 8192), and the default packed kernel
  // then refused them when the engine was built.
  it.each([
    ['?L=15', '?L=15: L = 15 must be even (the checkerboard update needs two sublattices)'],
    [
      '?L=100',
      "?L=100: kernel 'packed' needs L a multiple of 32; got L = 100 (add &kernel=simple for any even L)",
    ],
    ['?L=15&kernel=simple', '?L=15&kernel=simple: L = 15 must be even'],
    ['?L=48&kernel=packed', "?L=48&kernel=packed: kernel 'packed' needs L a multiple of 32; got L = 48"],
  ])('%s is a parameter problem, named with the rule', (search, message) => {
    const { problems } = settingsFromQuery(search);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('a URL lattice is accepted exactly when the engine accepts it for the chosen kernel', () => {
    for (const kernel of ['packed', 'simple'] as const) {
      for (let L = 4; L <= 300; L++) {
        let engineOk = true;
        try {
          resolveIsingConfig({ L, T: 2, kernel });
        } catch {
          engineOk = false;
        }
        expect(settingsFromQuery(`?L=${L}&kernel=${kernel}`).problems.length === 0, `L=${L} ${kernel}`).toBe(
          engineOk,
        );
      }
    }
  });

  it('keeps the earlier range messages', () => {
    const { problems } = settingsFromQuery('?L=abc&T=9&kernel=fast');
    expect(problems).toEqual([
      '?L=abc: L must be an integer in 4 … 8192',
      '?T=9: T must be a number in 0.5 … 5',
      "?kernel=fast: kernel must be 'packed' or 'simple'",
    ]);
  });
});

describe('algorithm and field choices', () => {
  it('offers Swendsen–Wang; choosing it sets h = 0, and a field leaves it for Metropolis', () => {
    expect(ALGORITHMS.map((a) => a.value)).toEqual(['metropolis', 'heatbath', 'sw']);
    const inField = { ...DEFAULT_SETTINGS, h: 0.3 };
    const sw = chooseAlgorithm(inField, 'sw');
    expect(sw).toEqual({ ...inField, algorithm: 'sw', h: 0 });
    expect(() => resolveIsingConfig({ L: sw.L, T: sw.T, h: sw.h, algorithm: sw.algorithm })).not.toThrow();
    expect(chooseAlgorithm(inField, 'heatbath')).toEqual({ ...inField, algorithm: 'heatbath' });
    expect(chooseField(sw, 0)).toEqual(sw);
    expect(chooseField(sw, -0.2)).toEqual({ ...sw, h: -0.2, algorithm: 'metropolis' });
    expect(chooseField(inField, 0.5)).toEqual({ ...inField, h: 0.5 });
  });
});
