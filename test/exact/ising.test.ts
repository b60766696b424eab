/**
 * Exact Ising references against published values (PHYSICS.md), against each other (Kaufman ↔ enumeration ↔
 * Onsager) and against independent brute force written here.
 */
import { describe, expect, it } from 'vitest';
import {
  K_C,
  T_C,
  completeEllipticK,
  decimatedCoupling,
  enumerateIsing,
  kaufman,
  onsagerEnergy,
  onsagerMagnetization,
  ringCorrelation,
} from '../../src/exact/ising.ts';

/** |a − b| ≤ tol, with both values in the failure message. */
function expectNear(a: number, b: number, tol: number): void {
  expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol);
}

/** Independent brute force: every state, energies summed site by site (no Gray code, no histogram table). */
function naiveEnumeration(Lx: number, Ly: number, K: number, h: number) {
  const N = Lx * Ly;
  const weights = new Map<number, number>();
  let z = 0;
  let eSum = 0;
  const shift = 2 * N * Math.abs(K) + N * Math.abs(K * h); // keeps exp() in range
  for (let bits = 0; bits < 2 ** N; bits++) {
    const s = (x: number, y: number): number =>
      (bits >> (((y + Ly) % Ly) * Lx + ((x + Lx) % Lx))) & 1 ? -1 : 1;
    let E = 0;
    for (let y = 0; y < Ly; y++) {
      for (let x = 0; x < Lx; x++) E -= s(x, y) * (s(x + 1, y) + s(x, y + 1)) + h * s(x, y);
    }
    const w = Math.exp(-K * E - shift);
    weights.set(E, (weights.get(E) ?? 0) + w);
    z += w;
    eSum += w * E;
  }
  return {
    lnZ: Math.log(z) + shift,
    energyPerSpin: eSum / z / N,
    histogram: new Map([...weights].map(([E, w]) => [E, w / z])),
  };
}

/** ⟨s₀ s_x⟩ on a ring of N spins by summing over all 2^N states. */
function naiveRing(K: number, N: number, x: number): number {
  let z = 0;
  let c = 0;
  for (let bits = 0; bits < 2 ** N; bits++) {
    const s = (i: number): number => ((bits >> (i % N)) & 1 ? -1 : 1);
    let bonds = 0;
    for (let i = 0; i < N; i++) bonds += s(i) * s(i + 1);
    const w = Math.exp(K * bonds);
    z += w;
    c += w * s(0) * s(x);
  }
  return c / z;
}

describe('constants and the elliptic integral', () => {
  it('has K_c and T_c to full precision', () => {
    expectNear(K_C, 0.4406867935097715, 1e-16); // ½ ln(1 + √2) = 0.44068679350977151…
    expectNear(T_C, 2.269185314213022, 1e-15);
    expectNear(Math.sinh(2 * K_C), 1, 1e-15);
  });

  it('computes K(k) by the AGM', () => {
    expect(completeEllipticK(0)).toBe(Math.PI / 2);
    expectNear(completeEllipticK(Math.SQRT1_2), 1.8540746773013719, 1e-15);
    expect(completeEllipticK(1)).toBe(Infinity);
    // Against the trapezoid rule, which converges geometrically for this smooth periodic integrand.
    for (const k of [0.3, 0.9, 0.99]) {
      const steps = 4000;
      let sum = 0;
      for (let i = 0; i <= steps; i++) {
        const theta = (i / steps) * (Math.PI / 2);
        const f = 1 / Math.sqrt(1 - (k * Math.sin(theta)) ** 2);
        sum += i === 0 || i === steps ? f / 2 : f;
      }
      expectNear(completeEllipticK(k), (sum * Math.PI) / 2 / steps, 1e-12);
    }
    expect(() => completeEllipticK(1.5)).toThrow(/k = 1.5/);
  });
});

describe('Onsager', () => {
  it('gives u(K_c) = −√2 and M(0.5) = 0.911319377877', () => {
    expectNear(onsagerEnergy(K_C), -Math.SQRT2, 1e-15);
    expectNear(onsagerMagnetization(0.5), 0.911319377877, 1e-12);
    expect(onsagerMagnetization(K_C)).toBe(0);
    expect(onsagerMagnetization(0.3)).toBe(0);
    expect(onsagerMagnetization(K_C * (1 + 1e-9))).toBeGreaterThan(0);
    expectNear(onsagerMagnetization(5), 1, 1e-15);
  });

  it('agrees with Kaufman on a large torus away from K_c (finite-size effects are exponentially small)', () => {
    for (const K of [0.05, 0.2, 0.3, 0.6, 1, 3])
      expectNear(onsagerEnergy(K), kaufman(K, 256, 256).energyPerSpin, 1e-12);
  });

  it('is continuous through K_c and tends to −2K at high temperature, −2 at low', () => {
    expectNear(onsagerEnergy(K_C * (1 + 1e-10)), -Math.SQRT2, 1e-8);
    expectNear(onsagerEnergy(K_C * (1 - 1e-10)), -Math.SQRT2, 1e-8);
    expectNear(onsagerEnergy(1e-4) / -2e-4, 1, 1e-6);
    expectNear(onsagerEnergy(200), -2, 1e-15);
  });

  it('rejects K ≤ 0 and non-finite K', () => {
    expect(() => onsagerEnergy(0)).toThrow(RangeError);
    expect(() => onsagerEnergy(-0.3)).toThrow(/K = -0.3/);
    expect(() => onsagerMagnetization(NaN)).toThrow(/K = NaN/);
  });
});

describe('Kaufman', () => {
  it('reproduces the published L = 16 values at K_c and L = 32 at K = 0.4', () => {
    const a = kaufman(K_C, 16, 16);
    expectNear(a.energyPerSpin, -1.453064852813, 1e-11);
    expectNear(a.specificHeatPerSpin, 1.4987049594, 1e-11);
    expectNear(kaufman(0.4, 32, 32).energyPerSpin, -1.107291660978, 1e-9);
  });

  it('matches brute-force enumeration at L = 4 (and 2×4, 4×5, 3×5) to 1e-10', () => {
    for (const K of [0.05, 0.2, 0.35, K_C, 0.5, 0.8, 1.5]) {
      for (const [m, n] of [
        [4, 4],
        [2, 4],
        [4, 2],
        [4, 5],
        [5, 3],
      ] as const) {
        const k = kaufman(K, m, n);
        const e = enumerateIsing(m, n, K);
        expectNear(k.lnZ, e.lnZ, 1e-10);
        expectNear(k.energyPerSpin, e.energyPerSpin, 1e-10);
        expectNear(k.specificHeatPerSpin, e.specificHeatPerSpin, 1e-10);
      }
    }
  });

  it('is symmetric in m and n and smooth through K_c (where Z4 changes sign)', () => {
    const a = kaufman(0.43, 8, 12);
    const b = kaufman(0.43, 12, 8);
    expectNear(a.lnZ, b.lnZ, 1e-11);
    expectNear(a.energyPerSpin, b.energyPerSpin, 1e-12);
    expectNear(a.specificHeatPerSpin, b.specificHeatPerSpin, 1e-12);
    const at = kaufman(K_C, 16, 16);
    for (const d of [-1e-9, 1e-9]) {
      const near = kaufman(K_C + d, 16, 16);
      expectNear(near.energyPerSpin, at.energyPerSpin, 1e-7);
      expectNear(near.specificHeatPerSpin, at.specificHeatPerSpin, 1e-6);
    }
  });

  it('has derivatives consistent with finite differences of ln Z', () => {
    for (const K of [0.3, K_C, 0.6]) {
      const h = 1e-4;
      const f = (k: number): number => kaufman(k, 10, 10).lnZ;
      // Fourth-order central differences.
      const d1 = (f(K - 2 * h) - 8 * f(K - h) + 8 * f(K + h) - f(K + 2 * h)) / (12 * h);
      const d2 = (-f(K - 2 * h) + 16 * f(K - h) - 30 * f(K) + 16 * f(K + h) - f(K + 2 * h)) / (12 * h * h);
      const r = kaufman(K, 10, 10);
      expectNear(r.energyPerSpin, -d1 / 100, 1e-8);
      expectNear(r.specificHeatPerSpin, (K * K * d2) / 100, 1e-4);
    }
  });

  it('stays finite at extreme couplings', () => {
    const cold = kaufman(50, 1000, 1000);
    expect(cold.energyPerSpin).toBe(-2);
    expect(Math.abs(cold.specificHeatPerSpin)).toBeLessThan(1e-12);
    const hot = kaufman(1e-3, 64, 64);
    expectNear(hot.energyPerSpin, -2 * Math.tanh(1e-3), 1e-8);
    expectNear(hot.lnZ, 64 * 64 * Math.log(2 * Math.cosh(1e-3) ** 2), 1e-6);
  });

  it('rejects bad couplings and sides', () => {
    expect(() => kaufman(0, 4, 4)).toThrow(/K = 0/);
    expect(() => kaufman(-1, 4, 4)).toThrow(/K = -1/);
    expect(() => kaufman(Infinity, 4, 4)).toThrow(RangeError);
    expect(() => kaufman(0.4, 1, 4)).toThrow(/m = 1/);
    expect(() => kaufman(0.4, 4, 2.5)).toThrow(/n = 2.5/);
  });
});

describe('enumerateIsing', () => {
  it('matches an independent brute force, field included, with the L = 2 double-bond convention', () => {
    for (const [Lx, Ly] of [
      [2, 2],
      [2, 3],
      [3, 3],
      [4, 3],
    ] as const) {
      for (const [K, h] of [
        [0.4, 0],
        [0.7, 0.3],
        [-0.5, 0.1],
        [0, 0],
      ] as const) {
        const fast = enumerateIsing(Lx, Ly, K, h);
        const slow = naiveEnumeration(Lx, Ly, K, h);
        expectNear(fast.lnZ, slow.lnZ, 1e-11);
        expectNear(fast.energyPerSpin, slow.energyPerSpin, 1e-12);
        // With h ≠ 0 the two sum E in different orders: compare on energies rounded to 1e-9.
        const rounded = (map: Map<number, number>): Map<number, number> => {
          const out = new Map<number, number>();
          for (const [E, p] of map) out.set(Math.round(E * 1e9), (out.get(Math.round(E * 1e9)) ?? 0) + p);
          return out;
        };
        const a = rounded(fast.energyHistogram);
        const b = rounded(slow.histogram);
        expect(a.size).toBe(fast.energyHistogram.size);
        expect([...a.keys()].sort((x, y) => x - y)).toEqual([...b.keys()].sort((x, y) => x - y));
        for (const [E, p] of b) expectNear(a.get(E) as number, p, 1e-13);
      }
    }
  });

  it('counts both bonds of a 2-wide torus: the 2×2 ground state has E = −8', () => {
    const r = enumerateIsing(2, 2, 0.3);
    expect([...r.energyHistogram.keys()]).toEqual([-8, 0, 8]);
    // 2 ground states; 2 checkerboards at +8 (each doubled bond frustrated); the other 12 states have E = 0.
    const z = 2 * Math.exp(8 * 0.3) + 12 + 2 * Math.exp(-8 * 0.3);
    expectNear(r.energyHistogram.get(-8) as number, (2 * Math.exp(2.4)) / z, 1e-15);
    expectNear(r.energyHistogram.get(8) as number, (2 * Math.exp(-2.4)) / z, 1e-15);
    expectNear(r.lnZ, Math.log(z), 1e-14);
  });

  it('gives a normalised 4×4 histogram and symmetric magnetisation at h = 0', () => {
    const r = enumerateIsing(4, 4, K_C);
    expect([...r.energyHistogram.keys()]).toEqual([
      -32, -24, -20, -16, -12, -8, -4, 0, 4, 8, 12, 16, 20, 24, 32,
    ]);
    expectNear(
      [...r.energyHistogram.values()].reduce((a, b) => a + b, 0),
      1,
      1e-14,
    );
    expectNear(
      [...r.magnetizationHistogram.values()].reduce((a, b) => a + b, 0),
      1,
      1e-14,
    );
    expectNear(r.magnetization, 0, 1e-15);
    expect(r.m2).toBeGreaterThan(r.absMagnetization ** 2);
    expectNear(
      r.magnetizationHistogram.get(16) as number,
      r.magnetizationHistogram.get(-16) as number,
      1e-15,
    );
  });

  it('decouples to ⟨m⟩ = tanh(Kh) as K → 0 at fixed Kh; a negative field gives ⟨m⟩ < 0', () => {
    // K → 0 with Kh fixed: spins decouple, ⟨m⟩ = tanh(Kh).
    expectNear(enumerateIsing(3, 3, 1e-9, 0.2e9).magnetization, Math.tanh(0.2), 1e-8);
    expect(enumerateIsing(3, 3, 0.3, -0.1).magnetization).toBeLessThan(0);
  });

  it('rejects lattices above 20 spins and bad arguments, naming them', () => {
    expect(() => enumerateIsing(5, 5, 0.4)).toThrow(/5×5 has N = 25 spins; enumeration allows at most 20/);
    expect(() => enumerateIsing(1, 4, 0.4)).toThrow(/Lx = 1/);
    expect(() => enumerateIsing(4, 4, NaN)).toThrow(/K = NaN/);
    expect(() => enumerateIsing(4, 4, 0.4, Infinity)).toThrow(/h = Infinity/);
  });
});

describe('1D ring and decimation', () => {
  it('matches brute force on rings, including negative K and odd N', () => {
    for (const [K, N] of [
      [0.7, 7],
      [1.3, 8],
      [-0.6, 5],
    ] as const) {
      for (let x = 0; x <= N; x++) expectNear(ringCorrelation(K, N, x), naiveRing(K, N, x), 1e-14);
    }
    expect(ringCorrelation(0.5, 10, 0)).toBe(1);
  });

  it('decimates: K′(1) = 0.662501374, K′ = ½ ln cosh 2K, and correlations at even distance carry over', () => {
    expectNear(decimatedCoupling(1), 0.662501374, 1e-9);
    for (const K of [1e-3, 0.2, 0.99, 1, 2.5, 10])
      expectNear(decimatedCoupling(K), 0.5 * Math.log(Math.cosh(2 * K)), 1e-15);
    expectNear(decimatedCoupling(1e-6) / 1e-12, 1, 1e-9); // K′ ≈ K² for small K, without cancellation
    expectNear(decimatedCoupling(1000), 1000 - Math.LN2 / 2, 1e-12); // no atanh(1) = ∞
    for (const x of [1, 2, 5])
      expectNear(ringCorrelation(0.8, 24, 2 * x), ringCorrelation(decimatedCoupling(0.8), 12, x), 1e-14);
  });

  it('rejects bad rings and distances', () => {
    expect(() => ringCorrelation(0.5, 1, 0)).toThrow(/N = 1/);
    expect(() => ringCorrelation(0.5, 10, 11)).toThrow(/x = 11/);
    expect(() => ringCorrelation(NaN, 10, 1)).toThrow(/K = NaN/);
    expect(() => decimatedCoupling(Infinity)).toThrow(/K = Infinity/);
  });
});
