/**
 * Convolutional RBM kernels: the conv layers equal dense layers with the tied weight matrix, and the
 * conv gradient equals the dense gradient of that matrix summed over positions (shared weights) and
 * over the tied bias copies, for a full CD-k update replayed on the CPU.
 */
import { describe, expect, it } from 'vitest';
import { seedKey } from '../../src/gpu/rng.ts';
import { RbmEngine, type ConvGeometry, type RbmUnits } from '../../src/rbm/engine.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { expectClose, lcg, replayGradient, type Model } from './replay.ts';

/** Dense [nv × nh] matrix of a conv filter bank (tied weights; sites hit twice add up). */
function tiedMatrix(g: ConvGeometry, W: ArrayLike<number>): Float32Array {
  const side = g.Lv / g.stride;
  const nv = g.Lv * g.Lv;
  const nh = g.filters * side * side;
  const dense = new Float32Array(nv * nh);
  for (let f = 0; f < g.filters; f++) {
    for (let I = 0; I < side; I++) {
      for (let J = 0; J < side; J++) {
        const j = f * side * side + I * side + J;
        for (let a = 0; a < g.k; a++) {
          for (let b = 0; b < g.k; b++) {
            const i = ((g.stride * I + a) % g.Lv) * g.Lv + ((g.stride * J + b) % g.Lv);
            dense[i * nh + j] = (dense[i * nh + j] as number) + (W[(f * g.k + a) * g.k + b] as number);
          }
        }
      }
    }
  }
  return dense;
}

const geometries: [string, ConvGeometry, RbmUnits][] = [
  ['Chung–Kao-like 8×8, k=4, s=2, F=1, ±1', { Lv: 8, filters: 1, k: 4, stride: 2 }, 'ising'],
  ['6×6, k=3, s=3, F=2, {0,1}', { Lv: 6, filters: 2, k: 3, stride: 3 }, 'bernoulli'],
  ['4×4, k=5 > Lv (wrapping filter), s=1, F=1, ±1', { Lv: 4, filters: 1, k: 5, stride: 1 }, 'ising'],
  // 70,400 filter weights: more weight-gradient workgroups than one grid dimension holds (65,535).
  ['8×8, k=8, s=8, F=1100, {0,1}', { Lv: 8, filters: 1100, k: 8, stride: 8 }, 'bernoulli'],
];

describe('convolutional RBM', () => {
  const gpu = useGpu();

  it.each(geometries)('%s: CD-2 gradient equals the tied dense gradient', async (_name, g, units) => {
    const device = gpu().device;
    const rand = lcg(g.Lv * 31 + g.k);
    const side = g.Lv / g.stride;
    const nv = g.Lv * g.Lv;
    const nh = g.filters * side * side;
    const W = Float32Array.from({ length: g.filters * g.k * g.k }, () => (rand() - 0.5) * 0.6);
    const aTied = 0.15;
    const bTied = Array.from({ length: g.filters }, (_, f) => -0.1 + 0.2 * f);
    const a = new Float32Array(nv).fill(aTied);
    const b = Float32Array.from({ length: nh }, (_, j) => bTied[Math.floor(j / (side * side))] as number);
    const low = units === 'ising' ? -1 : 0;
    const rows = 6;
    const data = Array.from({ length: rows }, () =>
      Array.from({ length: nv }, () => (rand() < 0.5 ? 1 : low)),
    );
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { conv: g, units, seed: 3, parameters: { W, a, b } });
      try {
        expect([rbm.nv, rbm.nh, rbm.weightCount]).toEqual([nv, nh, W.length]);
        rbm.setData(data.flat(), rows);
        rbm.configureTraining({ batch: rows, k: 2, lr: 0.01, shuffle: false });
        rbm.step({ gradientOnly: true });
        const got = await rbm.getGradient();
        const dense: Model = { nv, nh, units, W: tiedMatrix(g, W), a, b };
        const want = replayGradient(dense, data, 2, 0, seedKey(3));
        expect(want.close).toBe(0);
        // Shared weight (f, a, b): sum of the dense gradient over the positions it appears at.
        const dW = new Float64Array(W.length);
        for (let f = 0; f < g.filters; f++) {
          for (let I = 0; I < side; I++) {
            for (let J = 0; J < side; J++) {
              const j = f * side * side + I * side + J;
              for (let p = 0; p < g.k; p++) {
                for (let q = 0; q < g.k; q++) {
                  const i = ((g.stride * I + p) % g.Lv) * g.Lv + ((g.stride * J + q) % g.Lv);
                  dW[(f * g.k + p) * g.k + q] =
                    (dW[(f * g.k + p) * g.k + q] as number) + (want.dW[i * nh + j] as number);
                }
              }
            }
          }
        }
        expectClose(got.dW, dW);
        const daTied = want.da.reduce((s, x) => s + x, 0);
        expectClose(got.da, new Float64Array(nv).fill(daTied));
        const dbTied = Array.from({ length: g.filters }, (_, f) =>
          want.db.slice(f * side * side, (f + 1) * side * side).reduce((s, x) => s + x, 0),
        );
        expectClose(
          got.db,
          Float64Array.from({ length: nh }, (_, j) => dbTied[Math.floor(j / (side * side))] as number),
        );
        // One Adam update keeps the tied bias copies equal.
        rbm.configureTraining({ batch: rows, k: 2, lr: 0.01, shuffle: false, optimizer: 'adam' });
        rbm.step();
        const p = await rbm.getParameters();
        expect(new Set(p.a).size).toBe(1);
        for (let f = 0; f < g.filters; f++)
          expect(new Set(p.b.slice(f * side * side, (f + 1) * side * side)).size).toBe(1);
      } finally {
        rbm.destroy();
      }
    });
  });

  it('rejects geometry that does not tile the lattice and untied biases', async () => {
    const device = gpu().device;
    expect(() => new RbmEngine(device, { conv: { Lv: 10, filters: 1, k: 3, stride: 3 } })).toThrow(
      /stride 3 does not tile the 10×10 lattice/,
    );
    expect(() => new RbmEngine(device, { conv: { Lv: 8, filters: 1, k: 3, stride: 2 }, nh: 17 })).toThrow(
      /nh 17/,
    );
    const a = new Float32Array(16);
    a[3] = 0.5;
    expect(
      () =>
        new RbmEngine(device, {
          conv: { Lv: 4, filters: 1, k: 2, stride: 2 },
          parameters: { W: new Float32Array(4), a },
        }),
    ).toThrow(/visible biases are tied: a\[3\] ≠ a\[0\]/);
  });
});
