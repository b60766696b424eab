/** RBM monitoring vs brute force over both layers: free energies, exact ln Z (either layer), log-likelihood. */
import { describe, expect, it } from 'vitest';
import { RbmEngine, type ConvGeometry, type RbmUnits } from '../../src/rbm/engine.ts';
import { denseModel, RbmMonitor } from '../../src/rbm/monitor.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { lcg } from './replay.ts';

function states(n: number, low: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, s) =>
    Array.from({ length: n }, (_, i) => ((s >> i) & 1 ? 1 : low)),
  );
}

/** ln Σ_{v,h} e^{−E(v,h)} with E = −a·v − b·h − vᵀWh, and F(v) = −ln Σ_h e^{−E(v,h)}. */
function bruteForce(model: Float32Array, nv: number, nh: number, low: number) {
  const w = nv * nh;
  const hs = states(nh, low);
  const free = (v: number[]): number => {
    const terms = hs.map((h) => {
      let e = 0;
      v.forEach((vi, i) => (e += (model[w + i] as number) * vi));
      h.forEach((hj, j) => (e += (model[w + nv + j] as number) * hj));
      v.forEach((vi, i) => h.forEach((hj, j) => (e += vi * (model[i * nh + j] as number) * hj)));
      return e;
    });
    const m = Math.max(...terms);
    return -(m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0)));
  };
  const vs = states(nv, low);
  const negF = vs.map((v) => -free(v));
  const m = Math.max(...negF);
  return { logZ: m + Math.log(negF.reduce((s, x) => s + Math.exp(x - m), 0)), free };
}

describe('RBM monitoring', () => {
  const gpu = useGpu();
  const cases: [string, RbmUnits, { nv?: number; nh?: number; conv?: ConvGeometry }][] = [
    ['dense {0,1} 7×5 (hidden enumerated)', 'bernoulli', { nv: 7, nh: 5 }],
    ['dense ±1 5×8 (visible enumerated)', 'ising', { nv: 5, nh: 8 }],
    ['conv ±1 4×4, k=3, s=2 (hidden enumerated)', 'ising', { conv: { Lv: 4, filters: 1, k: 3, stride: 2 } }],
  ];
  it.each(cases)('%s: ln Z, F(v) and log-likelihood match brute force', async (_n, units, shape) => {
    const device = gpu().device;
    await checked(device, async () => {
      const rbm = new RbmEngine(device, { ...shape, units, seed: 4, initScale: 0.7 });
      try {
        const monitor = new RbmMonitor(rbm);
        const { nv, nh } = rbm;
        const low = units === 'ising' ? -1 : 0;
        // Nonzero biases (tied for conv) so every term is exercised.
        const p = await rbm.getParameters();
        const rand = lcg(nv + nh);
        const a = rbm.conv
          ? new Float32Array(nv).fill(0.3)
          : Float32Array.from({ length: nv }, () => rand() - 0.5);
        const b = rbm.conv
          ? new Float32Array(nh).fill(-0.2)
          : Float32Array.from({ length: nh }, () => rand() - 0.5);
        rbm.setParameters({ W: p.W, a, b });
        const model = await denseModel(rbm);
        const exact = bruteForce(model, nv, nh, low);
        const lnZ = await monitor.logPartition();
        expect(Math.abs(lnZ - exact.logZ)).toBeLessThan(2e-4 * Math.max(1, Math.abs(exact.logZ)));
        const rows = Array.from({ length: 9 }, () =>
          Array.from({ length: nv }, () => (rand() < 0.5 ? 1 : low)),
        );
        const f = await monitor.freeEnergies(Float32Array.from(rows.flat()), rows.length);
        rows.forEach((v, r) => expect(f[r]).toBeCloseTo(exact.free(v), 4));
        const ll = await monitor.logLikelihood(Float32Array.from(rows.flat()), rows.length);
        const want = rows.reduce((s, v) => s - exact.free(v), 0) / rows.length - exact.logZ;
        expect(ll).toBeCloseTo(want, 3);
        expect(ll).toBeLessThan(0);
        const recon = await monitor.reconstructionError(Float32Array.from(rows.flat()), rows.length);
        expect(recon).toBeGreaterThanOrEqual(0);
        expect(recon).toBeLessThanOrEqual(1);
        expect(
          Number.isFinite(await monitor.pseudoLogLikelihood(Float32Array.from(rows.flat()), rows.length, 3)),
        ).toBe(true);
      } finally {
        rbm.destroy();
      }
    });
  });

  it('refuses exact enumeration beyond 20 units', async () => {
    const device = gpu().device;
    const rbm = new RbmEngine(device, { nv: 30, nh: 21 });
    try {
      await expect(new RbmMonitor(rbm).logPartition()).rejects.toThrow(/21 units exceeds 20; use AIS/);
    } finally {
      rbm.destroy();
    }
  });
});
