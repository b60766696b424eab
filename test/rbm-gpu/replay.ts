/**
 * CPU replay of the RBM update kernels (f64) with the engine's Philox counters, shared by the GPU tests:
 * the same draws give the same decisions, so gradients can be compared to f32 rounding.
 */
import { expect } from 'vitest';
import { RngPurpose, streamWord } from '../../src/gpu/rng.ts';
import type { RbmUnits } from '../../src/rbm/engine.ts';
import { philox4x32, unitFloat } from '../../src/gpu/philox.ts';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface Model {
  nv: number;
  nh: number;
  units: RbmUnits;
  W: Float32Array;
  a: Float32Array;
  b: Float32Array;
}

/** Layer means and samples for explicit rows, with the engine's counters; tracks near-threshold draws. */
export function layer(
  m: Model,
  input: number[][],
  hidden: boolean,
  step: number,
  stream: number,
  key: [number, number],
) {
  const low = m.units === 'ising' ? -1 : 0;
  let close = 0;
  const means: number[][] = [];
  const samples: number[][] = [];
  input.forEach((row, r) => {
    const units = hidden ? m.nh : m.nv;
    const mr: number[] = [];
    const sr: number[] = [];
    for (let j = 0; j < units; j++) {
      let x = hidden ? (m.b[j] as number) : (m.a[j] as number);
      row.forEach(
        (v, k) => (x += v * (hidden ? (m.W[k * m.nh + j] as number) : (m.W[j * m.nh + k] as number))),
      );
      mr.push(m.units === 'ising' ? Math.tanh(x) : sigmoid(x));
      const p = m.units === 'ising' ? sigmoid(2 * x) : sigmoid(x);
      const u = unitFloat(philox4x32([j >>> 2, r, step, stream], key)[j & 3] as number);
      if (Math.abs(u - p) < 1e-5) close++;
      sr.push(u < p ? 1 : low);
    }
    means.push(mr);
    samples.push(sr);
  });
  return { means, samples, close };
}

/** CD-k (chains = data rows) or PCD-k (explicit chain start) gradient, replayed on the CPU. */
export function replayGradient(
  m: Model,
  v0: number[][],
  k: number,
  step: number,
  key: [number, number],
  chainStart?: number[][],
) {
  const H = (g: number): number => streamWord(RngPurpose.rbmHidden, g);
  const V = (g: number): number => streamWord(RngPurpose.rbmVisible, g);
  const pos = layer(m, v0, true, step, H(0), key);
  let close = pos.close;
  let hs = pos.samples;
  if (chainStart) {
    const start = layer(m, chainStart, true, step, H(0), key);
    hs = start.samples;
    close += start.close;
  }
  let vs: number[][] = [];
  let hm: number[][] = [];
  for (let g = 1; g <= k; g++) {
    const vis = layer(m, hs, false, step, V(g), key);
    vs = vis.samples;
    const hid = layer(m, vs, true, step, H(g), key);
    hm = hid.means;
    hs = hid.samples;
    close += vis.close + (g < k ? hid.close : 0);
  }
  const P = v0.length;
  const Q = vs.length;
  const dW = new Float64Array(m.nv * m.nh);
  const da = new Float64Array(m.nv);
  const db = new Float64Array(m.nh);
  for (let i = 0; i < m.nv; i++) {
    for (let j = 0; j < m.nh; j++) {
      let p = 0;
      let q = 0;
      for (let r = 0; r < P; r++) p += (v0[r]![i] as number) * (pos.means[r]![j] as number);
      for (let r = 0; r < Q; r++) q += (vs[r]![i] as number) * (hm[r]![j] as number);
      dW[i * m.nh + j] = p / P - q / Q;
    }
    da[i] =
      v0.reduce((s, row) => s + (row[i] as number), 0) / P -
      vs.reduce((s, row) => s + (row[i] as number), 0) / Q;
  }
  for (let j = 0; j < m.nh; j++) {
    db[j] =
      pos.means.reduce((s, row) => s + (row[j] as number), 0) / P -
      hm.reduce((s, row) => s + (row[j] as number), 0) / Q;
  }
  return { dW, da, db, close, chainEnd: vs };
}

/**
 * Norm-wise relative agreement: max |got − want| ≤ tol · max |want| (the "relative error ≤ 1e-5 in
 * f32" for gradients and updates; element-wise relative error is meaningless for entries near zero).
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  expect(scale).toBeGreaterThan(0);
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

export function model(units: RbmUnits, nv: number, nh: number, seed: number): Model {
  const rand = lcg(seed);
  return {
    nv,
    nh,
    units,
    W: Float32Array.from({ length: nv * nh }, () => (rand() - 0.5) * 0.8),
    a: Float32Array.from({ length: nv }, () => (rand() - 0.5) * 0.5),
    b: Float32Array.from({ length: nh }, () => (rand() - 0.5) * 0.5),
  };
}
