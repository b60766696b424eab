/**
 * One CD-k / PCD-k update on the GPU vs a CPU replay with the same Philox counters (f64): the gradient
 * ⟨vh⟩_data − ⟨vh⟩_model and the parameter update of SGD, momentum and Adam with L1/L2.
 */
import { describe, expect, it } from 'vitest';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { RbmEngine, type RbmUnits, type TrainingOptions } from '../../src/rbm/engine.ts';
import { philox4x32, unitFloat } from '../../src/reference/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

interface Model {
  nv: number;
  nh: number;
  units: RbmUnits;
  W: Float32Array;
  a: Float32Array;
  b: Float32Array;
}

/** Layer means and samples for explicit rows, with the engine's counters; tracks near-threshold draws. */
function layer(m: Model, input: number[][], hidden: boolean, step: number, stream: number, key: [number, number]) {
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
      row.forEach((v, k) => (x += v * (hidden ? (m.W[k * m.nh + j] as number) : (m.W[j * m.nh + k] as number))));
      mr.push(m.units === 'ising' ? Math.tanh(x) : sigmoid(x));
      const p = m.units === 'ising' ? sigmoid(2 * x) : sigmoid(x);
      const u = unitFloat(philox4x32([j, r, step, stream], key)[0]);
      if (Math.abs(u - p) < 1e-5) close++;
      sr.push(u < p ? 1 : low);
    }
    means.push(mr);
    samples.push(sr);
  });
  return { means, samples, close };
}

/** CD-k (chains = data rows) or PCD-k (explicit chain start) gradient, replayed on the CPU. */
function replayGradient(m: Model, v0: number[][], k: number, step: number, key: [number, number], chainStart?: number[][]) {
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
    da[i] = v0.reduce((s, row) => s + (row[i] as number), 0) / P - vs.reduce((s, row) => s + (row[i] as number), 0) / Q;
  }
  for (let j = 0; j < m.nh; j++) {
    db[j] = pos.means.reduce((s, row) => s + (row[j] as number), 0) / P - hm.reduce((s, row) => s + (row[j] as number), 0) / Q;
  }
  return { dW, da, db, close, chainEnd: vs };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst).toBeLessThan(tol);
}

function model(units: RbmUnits, nv: number, nh: number, seed: number): Model {
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

describe('RBM CD-k / PCD-k update vs CPU replay', () => {
  const gpu = useGpu();

  it.each([
    ['bernoulli', 1],
    ['bernoulli', 3],
    ['ising', 1],
    ['ising', 2],
  ] as const)('%s CD-%i gradient (batch = all samples, no shuffle)', async (units, k) => {
    const device = gpu().device;
    const m = model(units, 23, 18, 7 + k);
    const low = units === 'ising' ? -1 : 0;
    const rand = lcg(3);
    const rows = 20;
    const data = Array.from({ length: rows }, () => Array.from({ length: m.nv }, () => (rand() < 0.4 ? 1 : low)));
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, units, seed: 5, parameters: m });
      try {
        rbm.setData(data.flat(), rows);
        rbm.configureTraining({ batch: rows, k, lr: 0.1, shuffle: false });
        rbm.step({ gradientOnly: true });
        const g = await rbm.getGradient();
        const want = replayGradient(m, data, k, 0, seedKey(5));
        expect(want.close).toBe(0); // no draw within 1e-5 of its threshold: decisions must agree exactly
        expectClose(g.dW, want.dW, 2e-5);
        expectClose(g.da, want.da, 2e-5);
        expectClose(g.db, want.db, 2e-5);
        expect(Math.max(...want.dW.map(Math.abs))).toBeGreaterThan(1e-3); // not vacuous
      } finally {
        rbm.destroy();
      }
    });
  });

  it('PCD-2 with 12 persistent chains for a batch of 8: gradient and chain persistence', async () => {
    const device = gpu().device;
    const m = model('bernoulli', 19, 11, 21);
    const rand = lcg(9);
    const n = 8;
    const data = Array.from({ length: n }, () => Array.from({ length: m.nv }, () => (rand() < 0.5 ? 1 : 0)));
    const key = seedKey(8);
    const chains = 12;
    const initStream = streamWord(RngPurpose.rbmInit, 1);
    const start = Array.from({ length: chains }, (_, c) =>
      Array.from({ length: m.nv }, (_, i) => (philox4x32([c * m.nv + i, 0, 0, initStream], key)[0] >>> 31 ? 1 : 0)),
    );
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, seed: 8, parameters: m });
      try {
        rbm.setData(data.flat(), n);
        rbm.configureTraining({ batch: n, k: 2, pcd: chains, lr: 0.1, shuffle: false });
        rbm.step({ gradientOnly: true });
        const first = replayGradient(m, data, 2, 0, key, start);
        expect(first.close).toBe(0);
        expectClose((await rbm.getGradient()).dW, first.dW, 2e-5);
        // The second gradient-only step (same step counter) starts from the chains the first one left.
        rbm.step({ gradientOnly: true });
        const second = replayGradient(m, data, 2, 0, key, first.chainEnd);
        expect(second.close).toBe(0);
        expectClose((await rbm.getGradient()).dW, second.dW, 2e-5);
      } finally {
        rbm.destroy();
      }
    });
  });

  it.each([
    [{ optimizer: 'sgd', lr: 0.05, l2: 0.01, l1: 0.002 }],
    [{ optimizer: 'momentum', lr: 0.05, momentum: 0.5, l2: 0.01 }],
    [{ optimizer: 'adam', lr: 0.01, l1: 0.001 }],
  ] as [Partial<TrainingOptions>][])('optimiser %j: parameters after two updates', async (opts) => {
    const device = gpu().device;
    const m = model('bernoulli', 17, 9, 33);
    const rand = lcg(4);
    const n = 10;
    const data = Array.from({ length: n * m.nv }, () => (rand() < 0.5 ? 1 : 0));
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, seed: 2, parameters: m });
      try {
        rbm.setData(data, n);
        rbm.configureTraining({ batch: n, k: 1, lr: 0.05, shuffle: false, ...opts });
        const o = { momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, l1: 0, l2: 0, ...opts };
        let theta = Float64Array.from([...m.W, ...m.a, ...m.b]);
        const m1 = new Float64Array(theta.length);
        const m2 = new Float64Array(theta.length);
        for (let t = 1; t <= 2; t++) {
          // The gradient of this update, then the update itself (same counters: gradientOnly keeps the step).
          rbm.step({ gradientOnly: true });
          const g = await rbm.getGradient();
          const grad = [...g.dW, ...g.da, ...g.db];
          rbm.step();
          const next = new Float64Array(theta.length);
          for (let i = 0; i < theta.length; i++) {
            let gi = grad[i] as number;
            const th = theta[i] as number;
            if (i < m.nv * m.nh) gi -= o.l2 * th + o.l1 * Math.sign(th);
            if (o.optimizer === 'sgd') next[i] = th + (o.lr as number) * gi;
            else if (o.optimizer === 'momentum') {
              m1[i] = o.momentum * (m1[i] as number) + (o.lr as number) * gi;
              next[i] = th + (m1[i] as number);
            } else {
              m1[i] = o.beta1 * (m1[i] as number) + (1 - o.beta1) * gi;
              m2[i] = o.beta2 * (m2[i] as number) + (1 - o.beta2) * gi * gi;
              const mh = (m1[i] as number) / (1 - o.beta1 ** t);
              const vh = (m2[i] as number) / (1 - o.beta2 ** t);
              next[i] = th + (o.lr as number) * mh / (Math.sqrt(vh) + o.epsilon);
            }
          }
          theta = next;
          const p = await rbm.getParameters();
          expectClose([...p.W, ...p.a, ...p.b], theta, 2e-5);
          // Continue the replay from the GPU's (f32) parameters so rounding does not accumulate.
          theta = Float64Array.from([...p.W, ...p.a, ...p.b]);
        }
        expect(rbm.updateCount).toBe(2);
      } finally {
        rbm.destroy();
      }
    });
  });
});
