/**
 * The temperature scan's pure parts: its temperature grid, the validation of its settings (each problem names
 * the field and the limit), and the exact curves it overlays (Kaufman's E and C; χ and U4 by enumeration where
 * N ≤ 20, agreeing with Kaufman on E and C there).
 */
import { describe, expect, it } from 'vitest';
import {
  checkScan,
  DEFAULT_SCAN,
  exactAt,
  scanSettingsFromQuery,
  scanTemperatures,
} from '../../src/elements/ising-scan.ts';
import { enumerateIsing, kaufman } from '../../src/exact/ising.ts';

describe('scanTemperatures', () => {
  it('spaces the points evenly, both ends included', () => {
    expect(scanTemperatures({ tMin: 1.8, tMax: 3, points: 5 })).toEqual(
      [1.8, 2.1, 2.4, 2.7, 3].map((t) => expect.closeTo(t, 12)),
    );
    expect(scanTemperatures(DEFAULT_SCAN)).toHaveLength(13);
  });
});

describe('checkScan', () => {
  it('accepts the defaults', () => {
    expect(checkScan({ ...DEFAULT_SCAN })).toEqual([]);
  });

  it('names each bad field with its value and limit', () => {
    const problems = checkScan({ ...DEFAULT_SCAN, L: 7, tMin: 3, tMax: 2, points: 1, measure: 10 });
    expect(problems.map((p) => p.field).sort()).toEqual(['L', 'measure', 'points', 'tMax']);
    expect(problems.find((p) => p.field === 'L')?.message).toContain('L = 7 must be even');
    expect(problems.find((p) => p.field === 'tMax')?.message).toContain('must exceed T from = 3');
    expect(problems.find((p) => p.field === 'points')?.message).toContain('2 … 33');
    expect(checkScan({ ...DEFAULT_SCAN, tMin: NaN })[0]?.field).toBe('tMin');
  });
});

describe('scanSettingsFromQuery', () => {
  it('reads the prefixed parameters and leaves judging them to checkScan', () => {
    expect(scanSettingsFromQuery('?room=ising&L=64&scanL=8&scanTmin=1.8&scanAlgorithm=sw&scanSeed=')).toEqual(
      {
        L: 8,
        tMin: 1.8,
        algorithm: 'sw',
        seed: NaN,
      },
    );
    const settings = { ...DEFAULT_SCAN, ...scanSettingsFromQuery('?scanPoints=abc') };
    expect(checkScan(settings).map((p) => p.field)).toEqual(['points']);
  });
});

describe('exactAt', () => {
  it('gives Kaufman E and C and no χ or U4 where enumeration is out of reach (8×8)', () => {
    const x = exactAt(8, 2.4);
    const k = kaufman(1 / 2.4, 8, 8);
    expect(x.energy).toBe(k.energyPerSpin);
    expect(x.specificHeat).toBe(k.specificHeatPerSpin);
    expect(x.susceptibility).toBeNull();
    expect(x.binder).toBeNull();
  });

  it('adds χ = N(⟨m²⟩ − ⟨|m|⟩²)/T and U4 by enumeration for 4×4, and Kaufman agrees with enumeration', () => {
    for (const T of [1.5, 2.269, 3.5]) {
      const x = exactAt(4, T);
      const e = enumerateIsing(4, 4, 1 / T);
      expect(x.energy).toBeCloseTo(e.energyPerSpin, 10);
      expect(x.specificHeat).toBeCloseTo(e.specificHeatPerSpin, 9);
      expect(x.susceptibility).toBeCloseTo((16 * (e.m2 - e.absMagnetization ** 2)) / T, 12);
      expect(x.binder).toBeCloseTo(1 - e.m4 / (3 * e.m2 ** 2), 12);
    }
    // Ordered at low T: U4 → 2/3; at high T it falls towards 0.
    expect(exactAt(4, 0.8).binder).toBeCloseTo(2 / 3, 3);
    expect(exactAt(4, 5).binder as number).toBeLessThan(0.4);
  });
});
