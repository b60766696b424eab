/**
 * The Swendsen–Wang oracle (src/reference/swendsen-wang.ts): bonds, clusters and the stationary distribution.
 * The GPU kernel (issue 9) is tested bit for bit against this oracle; here the oracle is tested against
 * independent reasoning and exact enumeration.
 */
import { describe, expect, it } from 'vitest';
import { enumerateIsing, K_C } from '../../src/exact/ising.ts';
import { swBondThreshold, swClusters, swSweep } from '../../src/reference/swendsen-wang.ts';
import { chiSquare, increment } from '../helpers/chi-square.ts';

/** Deterministic ±1 spins for tests. */
function spinsFrom(n: number, seed: number): Int8Array {
  let s = seed >>> 0;
  return Int8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 31 ? 1 : -1;
  });
}

/** Components of the active bonds by breadth-first search, each named by its smallest site. */
function componentsByBfs(right: Uint8Array, down: Uint8Array, Lx: number, Ly: number): Int32Array {
  const N = Lx * Ly;
  const adjacent: number[][] = Array.from({ length: N }, () => []);
  for (let y = 0; y < Ly; y++) {
    for (let x = 0; x < Lx; x++) {
      const i = y * Lx + x;
      const r = y * Lx + ((x + 1) % Lx);
      const d = ((y + 1) % Ly) * Lx + x;
      if (right[i]) {
        adjacent[i]!.push(r);
        adjacent[r]!.push(i);
      }
      if (down[i]) {
        adjacent[i]!.push(d);
        adjacent[d]!.push(i);
      }
    }
  }
  const label = new Int32Array(N).fill(-1);
  for (let start = 0; start < N; start++) {
    if (label[start] !== -1) continue;
    const queue = [start];
    label[start] = start; // sites are visited in increasing order: `start` is the component's smallest
    while (queue.length > 0) {
      for (const j of adjacent[queue.pop()!]!) {
        if (label[j] === -1) {
          label[j] = start;
          queue.push(j);
        }
      }
    }
  }
  return label;
}

/** Energy per bond sum E = −Σ⟨ij⟩ s_i s_j of one replica (periodic, each site's right and down bond). */
function energy(s: ArrayLike<number>, Lx: number, Ly: number): number {
  let e = 0;
  for (let y = 0; y < Ly; y++) {
    for (let x = 0; x < Lx; x++) {
      const v = s[y * Lx + x]!;
      e -= v * (s[y * Lx + ((x + 1) % Lx)]! + s[((y + 1) % Ly) * Lx + x]!);
    }
  }
  return e;
}

describe('Swendsen–Wang oracle', () => {
  it('bond threshold: ⌊(1 − e^{−2K})·2³²⌋, capped below 2³², refusing K ≤ 0', () => {
    expect(swBondThreshold(K_C)).toBe(Math.floor((1 - Math.exp(-2 * K_C)) * 2 ** 32));
    expect(swBondThreshold(1000)).toBe(0xffffffff);
    expect(() => swBondThreshold(0)).toThrow(/K = 0 > 0/);
    expect(() => swBondThreshold(Number.NaN)).toThrow(RangeError);
  });

  it('clusters are the components of the active bonds, named by their smallest site; bonds join equal spins only', () => {
    for (const [Lx, Ly] of [
      [6, 4],
      [2, 5],
      [8, 8],
    ] as const) {
      for (let t = 0; t < 20; t++) {
        const s = spinsFrom(Lx * Ly, 17 + t);
        const c = swClusters(s, Lx, Ly, 0.6, 5, 2, t);
        expect(Array.from(c.root)).toEqual(Array.from(componentsByBfs(c.right, c.down, Lx, Ly)));
        for (let i = 0; i < Lx * Ly; i++) {
          const x = i % Lx;
          const y = Math.floor(i / Lx);
          if (c.right[i]) expect(s[i]).toBe(s[y * Lx + ((x + 1) % Lx)]);
          if (c.down[i]) expect(s[i]).toBe(s[((y + 1) % Ly) * Lx + x]);
        }
      }
    }
  });

  it('bonds between equal spins are active with probability 1 − e^{−2K}; replicas and sweeps draw their own', () => {
    const Lx = 16;
    const Ly = 16;
    const K = 0.3;
    const up = new Int8Array(Lx * Ly).fill(1);
    let active = 0;
    let trials = 0;
    for (let t = 0; t < 40; t++) {
      const c = swClusters(up, Lx, Ly, K, 9, 0, t);
      for (let i = 0; i < Lx * Ly; i++) active += c.right[i]! + c.down[i]!;
      trials += 2 * Lx * Ly;
    }
    const p = 1 - Math.exp(-2 * K);
    const sigma = Math.sqrt((p * (1 - p)) / trials);
    expect(Math.abs(active / trials - p)).toBeLessThan(5 * sigma);
    const a = swClusters(up, Lx, Ly, K, 9, 0, 3);
    const b = swClusters(up, Lx, Ly, K, 9, 1, 3);
    const c = swClusters(up, Lx, Ly, K, 9, 0, 4);
    expect(Array.from(a.right)).not.toEqual(Array.from(b.right));
    expect(Array.from(a.right)).not.toEqual(Array.from(c.right));
  });

  it('a sweep flips whole clusters: sites of one cluster either all flip or none', () => {
    const Lx = 10;
    const Ly = 6;
    const before = spinsFrom(2 * Lx * Ly, 3);
    const after = before.slice();
    swSweep(after, Lx, Ly, [0.5, 0.2], 11, 7);
    for (let r = 0; r < 2; r++) {
      const s = before.subarray(r * Lx * Ly, (r + 1) * Lx * Ly);
      const { root } = swClusters(s, Lx, Ly, r === 0 ? 0.5 : 0.2, 11, r, 7);
      const flipped = new Map<number, boolean>();
      for (let i = 0; i < Lx * Ly; i++) {
        const f = after[r * Lx * Ly + i] !== s[i];
        const known = flipped.get(root[i]!);
        if (known === undefined) flipped.set(root[i]!, f);
        else expect(f).toBe(known);
      }
      expect(new Set(flipped.values()).size).toBe(2); // some clusters flip, some do not
    }
    expect(() => swSweep(new Int8Array(15), 4, 4, 0.4, 1, 0)).toThrow(/not whole 4×4 replicas/);
  });

  it('firstReplica: a shard of replicas 2…3 evolves exactly as replicas 2…3 of the whole run', () => {
    const Lx = 6;
    const Ly = 4;
    const N = Lx * Ly;
    const whole = spinsFrom(4 * N, 8);
    const shard = whole.slice(2 * N);
    const plain = shard.slice();
    for (let t = 0; t < 5; t++) {
      swSweep(whole, Lx, Ly, [0.3, 0.4, 0.5, 0.6], 13, t);
      swSweep(shard, Lx, Ly, [0.5, 0.6], 13, t, 2);
      swSweep(plain, Lx, Ly, [0.5, 0.6], 13, t);
    }
    expect(Array.from(shard)).toEqual(Array.from(whole.subarray(2 * N)));
    expect(Array.from(plain)).not.toEqual(Array.from(shard)); // without it they are replicas 0…1
  });

  // 16 replicas × 2500 sweeps, one sample every 5 sweeps (τ_int of E is about a sweep on 4×4): 8000 nearly
  // independent samples per temperature, Pearson χ² against the exact histograms; a 5 % hotter K must fail.
  for (const [Lx, Ly, K] of [
    [4, 4, K_C],
    [4, 4, 0.3],
    [4, 3, 0.6],
  ] as const) {
    it(`${Lx}×${Ly} at K = ${K.toFixed(4)}: energy and magnetisation histograms match exact enumeration (χ²)`, () => {
      const R = 16;
      const N = Lx * Ly;
      const spins = spinsFrom(R * N, 1);
      const energies = new Map<number, number>();
      const magnetizations = new Map<number, number>();
      for (let t = 0; t < 2500; t++) {
        swSweep(spins, Lx, Ly, K, 2024, t);
        if (t < 50 || t % 5 !== 0) continue;
        for (let r = 0; r < R; r++) {
          const s = spins.subarray(r * N, (r + 1) * N);
          increment(energies, energy(s, Lx, Ly));
          increment(
            magnetizations,
            s.reduce((a, b) => a + b, 0),
          );
        }
      }
      const exact = enumerateIsing(Lx, Ly, K);
      const fitE = chiSquare(energies, exact.energyHistogram);
      const fitM = chiSquare(magnetizations, exact.magnetizationHistogram);
      expect(fitE.p, `E: χ² ${fitE.chi2.toFixed(1)} / ${fitE.dof}`).toBeGreaterThan(1e-4);
      expect(fitM.p, `M: χ² ${fitM.chi2.toFixed(1)} / ${fitM.dof}`).toBeGreaterThan(1e-4);
      const wrong = chiSquare(energies, enumerateIsing(Lx, Ly, 1.05 * K).energyHistogram);
      expect(wrong.p).toBeLessThan(1e-4);
    });
  }
});
