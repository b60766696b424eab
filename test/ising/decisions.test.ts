/**
 * The `packed` kernel's per-spin decisions: 8 random bits per spin against the top byte of an integer threshold,
 * 24 more only on a tie (on the GPU bit-sliced: 32 spins of one colour compared at once, bit plane by bit plane). Exactness of the threshold arithmetic on the CPU, and, on the GPU, the frequency of
 * flips in each (own spin, up neighbours) class over many draws against the exact Metropolis and heat-bath
 * probabilities (χ²): after one sweep from a random start, the colour-0 spins flipped exactly by their
 * half-sweep's decisions, whose classes the starting configuration fixes (colour 1 does not touch them).
 */
import { describe, expect, it } from 'vitest';
import type { IsingAlgorithm } from '../../src/ising/config.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { ALWAYS_THRESHOLD, probabilityThreshold, thresholdDecision } from '../../src/ising/tables.ts';
import { chiSquareSurvival } from '../../src/stats/chi-square.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('integer thresholds (CPU)', () => {
  it('t = floor(p · 2^32), p = 1 → always, p = 0 → never; bad p refused', () => {
    expect(probabilityThreshold(0)).toBe(0);
    expect(probabilityThreshold(1)).toBe(ALWAYS_THRESHOLD);
    expect(probabilityThreshold(0.5)).toBe(2 ** 31);
    expect(probabilityThreshold(Math.exp(-4 / 2.269))).toBe(Math.floor(Math.exp(-4 / 2.269) * 2 ** 32));
    // Just below 1: never mistaken for "always".
    expect(probabilityThreshold(1 - 2 ** -40)).toBe(ALWAYS_THRESHOLD - 1);
    for (const bad of [-0.1, 1.5, Number.NaN]) expect(() => probabilityThreshold(bad)).toThrow(/probability/);
  });

  it('P(yes) over all 2^8 top bytes and a grid of low bits is exactly t / 2^32', () => {
    // Low 24 bits on a grid of 2^12 values spaced 2^12 apart: exact for thresholds whose low 12 bits are 0.
    for (const t of [0, 0x00001000, 0x7fffe000, 0x80000000, 0xc3a51000, 0xfffff000, ALWAYS_THRESHOLD]) {
      let yes = 0;
      let ties = 0;
      for (let top = 0; top < 256; top++) {
        for (let g = 0; g < 4096; g++) {
          if (
            thresholdDecision(t, top, () => {
              ties++;
              return g * 4096;
            })
          )
            yes++;
        }
      }
      const p = t === ALWAYS_THRESHOLD ? 1 : t / 2 ** 32;
      expect(yes / (256 * 4096)).toBe(p);
      // Extra bits are drawn only on a tie with the top byte (none for "always").
      expect(ties).toBe(t === ALWAYS_THRESHOLD ? 0 : 4096);
    }
  });
});

describe('packed decisions per class (GPU, χ²)', () => {
  const gpu = useGpu();

  const exactProbability = (algorithm: IsingAlgorithm, s: number, up: number, beta: number, h: number) => {
    const hLoc = 2 * up - 4 + h;
    if (algorithm === 'heatbath') {
      const pUp = 1 / (1 + Math.exp(-2 * beta * hLoc));
      return s === 1 ? 1 - pUp : pUp; // a flip: the new spin is the other one
    }
    return Math.min(1, Math.exp(-2 * beta * (s === 1 ? 1 : -1) * hLoc));
  };

  it.each([
    ['metropolis', 3.0, 0.3],
    // h = 0: the kernel's 5-class (aligned-neighbour) path.
    ['metropolis', 2.269, 0],
    ['heatbath', 2.269, -0.2],
  ] as const)(
    '%s at T = %s, h = %s: flip frequencies of the 10 classes match the exact probabilities',
    async (algorithm, T, h) => {
      const device = gpu().device;
      const L = 128;
      const replicas = 16;
      await checked(device, async () => {
        const engine = new IsingEngine(device, { L, replicas, T, h, kernel: 'packed', algorithm, seed: 77 });
        try {
          const before = await engine.getSpins();
          await engine.run({ sweeps: 1 });
          const after = await engine.getSpins();
          const n = new Float64Array(10);
          const k = new Float64Array(10);
          for (let r = 0; r < replicas; r++) {
            const o = r * L * L;
            const bit = (x: number, y: number) =>
              before[o + ((y + L) % L) * L + ((x + L) % L)] === 1 ? 1 : 0;
            for (let y = 0; y < L; y++) {
              for (let x = y & 1; x < L; x += 2) {
                const s = bit(x, y);
                const up = bit(x - 1, y) + bit(x + 1, y) + bit(x, y - 1) + bit(x, y + 1);
                n[s * 5 + up]!++;
                if (after[o + y * L + x] !== before[o + y * L + x]) k[s * 5 + up]!++;
              }
            }
          }
          let chi2 = 0;
          let dof = 0;
          for (let s = 0; s < 2; s++) {
            for (let up = 0; up <= 4; up++) {
              const c = s * 5 + up;
              const p = exactProbability(algorithm, s, up, 1 / T, h);
              expect(n[c]).toBeGreaterThan(1000); // every class is well sampled from a random start
              if (p === 1) {
                expect(k[c]).toBe(n[c]); // "always" flips every time
                continue;
              }
              chi2 += (k[c]! - n[c]! * p) ** 2 / (n[c]! * p * (1 - p));
              dof++;
            }
          }
          expect(dof).toBeGreaterThanOrEqual(algorithm === 'heatbath' ? 10 : 4);
          // Fixed seed: deterministic; a correct kernel's p-value is far above 1e-6.
          expect(chiSquareSurvival(chi2, dof)).toBeGreaterThan(1e-6);
        } finally {
          engine.destroy();
        }
      });
    },
  );
});
