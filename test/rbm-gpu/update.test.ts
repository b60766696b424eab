/**
 * One CD-k / PCD-k update on the GPU vs a CPU replay with the same Philox counters (f64): the gradient
 * ⟨vh⟩_data − ⟨vh⟩_model and the parameter update of SGD, momentum and Adam with L1/L2.
 */
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../../src/gpu/device.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { RbmEngine, type TrainingOptions } from '../../src/rbm/engine.ts';
import { philox4x32 } from '../../src/gpu/philox.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { expectClose, lcg, model, replayGradient } from './replay.ts';

describe('RBM CD-k / PCD-k update vs CPU replay', () => {
  const gpu = useGpu();

  // Both dense kernels; the 70×75 model with 67 rows spans several 64-wide blocks of either.
  it.each([
    ['bernoulli', 1, 23, 18, 20, 'tiled'],
    ['bernoulli', 3, 23, 18, 20, 'tiled'],
    ['ising', 1, 23, 18, 20, 'tiled'],
    ['ising', 2, 23, 18, 20, 'tiled'],
    ['bernoulli', 1, 70, 75, 67, 'tiled'],
    // nv, nh not multiples of 4; K = 21 + 21 rows: the data/chain boundary inside the second 16-row step.
    ['bernoulli', 1, 70, 37, 21, 'tiled'],
    // fewer visible units than one quad, and fewer rows than one step.
    ['ising', 1, 3, 70, 5, 'tiled'],
    ['bernoulli', 1, 23, 18, 20, 'direct'],
    ['bernoulli', 3, 23, 18, 20, 'direct'],
    ['ising', 1, 23, 18, 20, 'direct'],
    ['ising', 2, 23, 18, 20, 'direct'],
    ['bernoulli', 1, 70, 75, 67, 'direct'],
    ['bernoulli', 1, 70, 37, 21, 'direct'],
    ['ising', 1, 3, 70, 5, 'direct'],
  ] as const)(
    '%s CD-%i gradient, %i×%i, %i rows, %s kernel (batch = all samples, no shuffle)',
    async (units, k, nv, nh, rows, matmul) => {
      const device = gpu().device;
      const m = model(units, nv, nh, 7 + k);
      const low = units === 'ising' ? -1 : 0;
      const rand = lcg(3);
      const data = Array.from({ length: rows }, () =>
        Array.from({ length: m.nv }, () => (rand() < 0.4 ? 1 : low)),
      );
      await checked(device, async () => {
        const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, units, seed: 5, parameters: m, matmul });
        try {
          rbm.setData(data.flat(), rows);
          rbm.configureTraining({ batch: rows, k, lr: 0.1, shuffle: false });
          rbm.step({ gradientOnly: true });
          const g = await rbm.getGradient();
          const want = replayGradient(m, data, k, 0, seedKey(5));
          expect(want.close).toBe(0); // no draw within 1e-5 of its threshold: decisions must agree exactly
          expectClose(g.dW, want.dW);
          expectClose(g.da, want.da);
          expectClose(g.db, want.db);
          expect(Math.max(...want.dW.map(Math.abs))).toBeGreaterThan(1e-3); // not vacuous
        } finally {
          rbm.destroy();
        }
      });
    },
  );

  it("'auto' picks the direct kernels on a CPU adapter and the tiled ones on a GPU; bad names are refused", () => {
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 8, nh: 4 });
    try {
      expect(rbm.matmul).toBe(isSoftwareAdapter(device.adapterInfo) ? 'direct' : 'tiled');
    } finally {
      rbm.destroy();
    }
    expect(() => new RbmEngine(device, { nv: 8, nh: 4, matmul: 'fast' as 'tiled' })).toThrow(
      /matmul 'fast' must be 'auto', 'tiled' or 'direct'/,
    );
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
      Array.from({ length: m.nv }, (_, i) =>
        philox4x32([c * m.nv + i, 0, 0, initStream], key)[0] >>> 31 ? 1 : 0,
      ),
    );
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, seed: 8, parameters: m });
      try {
        rbm.setData(data.flat(), n);
        rbm.configureTraining({ batch: n, k: 2, pcd: chains, lr: 0.1, shuffle: false });
        rbm.step({ gradientOnly: true });
        const first = replayGradient(m, data, 2, 0, key, start);
        expect(first.close).toBe(0);
        expectClose((await rbm.getGradient()).dW, first.dW);
        // The second gradient-only step (same step counter) starts from the chains the first one left.
        rbm.step({ gradientOnly: true });
        const second = replayGradient(m, data, 2, 0, key, first.chainEnd);
        expect(second.close).toBe(0);
        expectClose((await rbm.getGradient()).dW, second.dW);
      } finally {
        rbm.destroy();
      }
    });
  });

  // P data rows ≠ Q chains: the gradient's two halves have different weights (1/P, −1/Q), and the tiled
  // kernel's stacked K = P + Q rows meet inside a 16-row step (10 | 7 in the first, 21 | 13 in the second).
  it.each([
    [70, 37, 10, 7, 1, 'tiled'],
    [70, 37, 21, 13, 2, 'tiled'],
    [70, 37, 21, 13, 2, 'direct'],
  ] as const)(
    '%i×%i, batch %i, %i chains, PCD-%i, %s kernel: gradients of two steps',
    async (nv, nh, n, chains, k, matmul) => {
      const device = gpu().device;
      const m = model('bernoulli', nv, nh, 3 * n + chains);
      const rand = lcg(n * chains);
      const data = Array.from({ length: n }, () =>
        Array.from({ length: m.nv }, () => (rand() < 0.4 ? 1 : 0)),
      );
      const key = seedKey(6);
      const initStream = streamWord(RngPurpose.rbmInit, 1);
      const start = Array.from({ length: chains }, (_, c) =>
        Array.from({ length: m.nv }, (_, i) =>
          philox4x32([c * m.nv + i, 0, 0, initStream], key)[0] >>> 31 ? 1 : 0,
        ),
      );
      await checked(device, async () => {
        const rbm = new RbmEngine(device, { nv: m.nv, nh: m.nh, seed: 6, parameters: m, matmul });
        try {
          rbm.setData(data.flat(), n);
          rbm.configureTraining({ batch: n, k, pcd: chains, lr: 0.1, shuffle: false });
          let chainStart: number[][] = start;
          for (let t = 0; t < 2; t++) {
            rbm.step({ gradientOnly: true });
            const want = replayGradient(m, data, k, 0, key, chainStart);
            expect(want.close).toBe(0);
            const g = await rbm.getGradient();
            expectClose(g.dW, want.dW);
            expectClose(g.da, want.da);
            expectClose(g.db, want.db);
            expect(Math.max(...want.dW.map(Math.abs))).toBeGreaterThan(1e-3);
            chainStart = want.chainEnd;
          }
        } finally {
          rbm.destroy();
        }
      });
    },
  );

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
              next[i] = th + ((o.lr as number) * mh) / (Math.sqrt(vh) + o.epsilon);
            }
          }
          theta = next;
          const p = await rbm.getParameters();
          expectClose([...p.W, ...p.a, ...p.b], theta);
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
