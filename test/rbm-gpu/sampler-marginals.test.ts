/**
 * The free-running sampler behind `rbm sample` (gibbsSample), checked against exact visible marginals.
 * For an RBM with 8 hidden units, P(h) ∝ exp(−F(h)) is enumerated (F the hidden free energy) and
 * P(v_i = on) = Σ_h P(h) P(v_i = on | h). The chains are independent, so the on-counts over C chains are
 * multinomial with the exact covariance Σ_ij = Σ_h P(h) P(v_i|h) P(v_j|h) − p_i p_j (i ≠ j; the visible units
 * are independent given h), and C·dᵀΣ⁻¹d (d = frequencies − p) is χ²(nv) for a correct sampler.
 * The models are coupled strongly enough that one Gibbs step from the uniform start is far from
 * equilibrium (the test rejects a sampler that stops there), and the steps used are enough to mix: the exact
 * chain's marginals after them, computed here by enumeration, equal the equilibrium ones to 1e-6.
 * Training is not involved (training quality: training-quality.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../src/stats/index.ts';
import { decodeNpy, encodeNpy } from '../../src/io/npy.ts';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { saveModel } from '../../src/rbm/model-files.ts';
import { gibbsSample } from '../../src/rbm/sample.ts';
import { randomDenseRbm, type DenseRbm } from '../../src/reference/rbm.ts';
import { checked, useGpu } from '../helpers/gpu.ts';
import { exact } from './exact-marginals.ts';

const CHAINS = 20_000;
const STEPS = 50;

/** C·dᵀΣ⁻¹d for the on-frequencies of `samples` [C × nv] (Cholesky solve). */
function chiSquare(samples: ArrayLike<number>, chains: number, p: Float64Array, cov: Float64Array): number {
  const nv = p.length;
  const d = new Float64Array(nv);
  for (let c = 0; c < chains; c++) for (let i = 0; i < nv; i++) if (samples[c * nv + i] === 1) d[i]! += 1;
  for (let i = 0; i < nv; i++) d[i] = d[i]! / chains - p[i]!;
  const L = new Float64Array(nv * nv);
  for (let i = 0; i < nv; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i * nv + j] as number;
      for (let k = 0; k < j; k++) s -= L[i * nv + k]! * L[j * nv + k]!;
      L[i * nv + j] = i === j ? Math.sqrt(s) : s / L[j * nv + j]!;
    }
  }
  const y = new Float64Array(nv); // L y = d; χ² = C·|y|²
  for (let i = 0; i < nv; i++) {
    let s = d[i] as number;
    for (let k = 0; k < i; k++) s -= L[i * nv + k]! * y[k]!;
    y[i] = s / L[i * nv + i]!;
  }
  return chains * y.reduce((s, x) => s + x * x, 0);
}

const MODELS: [string, DenseRbm][] = [
  // Uniform parameters (randomDenseRbm): weights in ±1.5, biases in ±1 ({0,1}); ±0.5 (±1 units).
  ['{0,1} 12×8', randomDenseRbm('bernoulli', 12, 8, { seed: 5, weightScale: 1.5, biasScale: 1 })],
  ['±1 12×8', randomDenseRbm('ising', 12, 8, { seed: 5, weightScale: 0.5, biasScale: 0.5 })],
];

function engine(device: GPUDevice, m: DenseRbm): RbmEngine {
  return new RbmEngine(device, { nv: m.nv, nh: m.nh, units: m.units, parameters: m });
}

describe('rbm sample: free-running Gibbs chains reach the exact visible marginals', () => {
  const gpu = useGpu();

  it.each(MODELS)(
    '%s: χ² of 20,000 chains after 50 steps against the enumerated marginals (p > 1e-4); one step is rejected',
    async (_name, m) => {
      const device = gpu().device;
      const e = exact(m, STEPS);
      const df = m.nv;
      // The steps mix; one step does not (so the rejection below has a reason).
      const last = e.afterSteps[STEPS - 1] as Float64Array;
      const first = e.afterSteps[0] as Float64Array;
      expect(Math.max(...last.map((x, i) => Math.abs(x - e.p[i]!)))).toBeLessThan(1e-6);
      expect(Math.max(...first.map((x, i) => Math.abs(x - e.p[i]!)))).toBeGreaterThan(0.1);
      await checked(device, async () => {
        const rbm = engine(device, m);
        try {
          const v = await gibbsSample(rbm, CHAINS, STEPS, { seed: 11 });
          const low = m.units === 'ising' ? -1 : 0;
          expect(v.every((x) => x === 1 || x === low)).toBe(true); // samples, not means
          const chi2 = chiSquare(v, CHAINS, e.p, e.cov);
          expect(chiSquareSurvival(chi2, df)).toBeGreaterThan(1e-4);
          // The same test has power: one Gibbs step from the uniform start is rejected outright, and so are
          // the right samples against marginals off by 0.04 in one unit.
          const one = await gibbsSample(rbm, CHAINS, 1, { seed: 11 });
          expect(chiSquareSurvival(chiSquare(one, CHAINS, e.p, e.cov), df)).toBeLessThan(1e-12);
          expect(chiSquareSurvival(chiSquare(one, CHAINS, first, e.cov), df)).toBeGreaterThan(1e-4);
          const shifted = Float64Array.from(e.p, (x, i) => (i === 3 ? x + 0.04 : x));
          expect(chiSquareSurvival(chiSquare(v, CHAINS, shifted, e.cov), df)).toBeLessThan(1e-4);
          // The seed: same seed, same samples; another seed, other samples.
          expect(Array.from(await gibbsSample(rbm, 64, 5, { seed: 11 }))).toEqual(
            Array.from(await gibbsSample(rbm, 64, 5, { seed: 11 })),
          );
          expect(Array.from(await gibbsSample(rbm, 64, 5, { seed: 12 }))).not.toEqual(
            Array.from(await gibbsSample(rbm, 64, 5, { seed: 11 })),
          );
          // An explicit start: zero steps return it; a wrong one is refused.
          const start = Float32Array.from({ length: 3 * m.nv }, (_, k) => (k % 3 === 0 ? 1 : low));
          expect(Array.from(await gibbsSample(rbm, 3, 0, { start }))).toEqual(Array.from(start));
          await expect(gibbsSample(rbm, 2, 0, { start })).rejects.toThrow(/start has 36 values; 2 chains/);
          await expect(gibbsSample(rbm, 1, 0, { start: new Float32Array(m.nv).fill(0.5) })).rejects.toThrow(
            /start value 0.5/,
          );
        } finally {
          rbm.destroy();
        }
      });
    },
  );

  it('through the CLI: `rbm sample --seed` equals gibbsSample with that seed and passes the χ² test; the default seed is 1', async () => {
    const device = gpu().device;
    const m = MODELS[0]![1];
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-sample-marginals-'));
    await saveModel(join(dir, 'model'), { rbm: m });
    const bin = resolve(import.meta.dirname, '../../bin/blockspin.js');
    const sample = async (out: string, ...extra: string[]): Promise<Float32Array> => {
      const args = ['rbm', 'sample', '--model', join(dir, 'model'), '--chains', String(CHAINS)];
      await promisify(execFile)(
        process.execPath,
        [bin, ...args, '--steps', String(STEPS), '--out', join(dir, out), ...extra],
        { timeout: 300_000 },
      );
      const npy = decodeNpy(new Uint8Array(readFileSync(join(dir, out))));
      expect(npy.dtype).toBe('int8');
      expect(npy.shape).toEqual([CHAINS, m.nv]);
      return Float32Array.from(npy.data as Int8Array);
    };
    const seeded = await sample('seed3.npy', '--seed', '3');
    const fallback = await sample('default.npy');
    const e = exact(m, 1);
    expect(chiSquareSurvival(chiSquare(seeded, CHAINS, e.p, e.cov), m.nv)).toBeGreaterThan(1e-4);
    await checked(device, async () => {
      const rbm = engine(device, m);
      try {
        expect(Array.from(seeded)).toEqual(Array.from(await gibbsSample(rbm, CHAINS, STEPS, { seed: 3 })));
        expect(Array.from(fallback)).toEqual(Array.from(await gibbsSample(rbm, CHAINS, STEPS, { seed: 1 })));
      } finally {
        rbm.destroy();
      }
    });
    expect(Array.from(seeded)).not.toEqual(Array.from(fallback));
  }, 600_000); // two CLI processes, each acquiring its own device

  it("through the CLI: --start chains continues a PCD checkpoint's persistent chains; refused without them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockspin-sample-start-'));
    const bin = resolve(import.meta.dirname, '../../bin/blockspin.js');
    const run = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
      promisify(execFile)(process.execPath, [bin, ...args], { timeout: 300_000 });
    let s = 5;
    const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const rows = Uint8Array.from({ length: 60 * 12 }, () => (rand() < 0.3 ? 1 : 0));
    writeFileSync(join(dir, 'data.npy'), encodeNpy({ dtype: 'uint8', shape: [60, 12], data: rows }));
    const model = join(dir, 'run');
    await run(
      ...['rbm', 'train', '--data', join(dir, 'data.npy'), '--hidden', '4', '--pcd', '5', '--epochs', '1'],
      ...['--batch', '10', '--holdout', '0', '--out', model],
    );
    const stored = decodeNpy(new Uint8Array(readFileSync(join(model, 'chains.npy'))));
    expect(stored.shape).toEqual([5, 12]);
    const sample = async (out: string, ...extra: string[]): Promise<number[]> => {
      await run(
        'rbm',
        'sample',
        '--model',
        model,
        '--chains',
        '7',
        '--steps',
        '0',
        '--out',
        join(dir, out),
        ...extra,
      );
      return Array.from(decodeNpy(new Uint8Array(readFileSync(join(dir, out)))).data as Int8Array);
    };
    // Zero steps return the start: chain c is stored chain c mod 5 (auto picks the chains when present).
    const expected = Array.from(
      { length: 7 * 12 },
      (_, k) => (stored.data as Float32Array)[(Math.floor(k / 12) % 5) * 12 + (k % 12)],
    );
    expect(await sample('auto.npy')).toEqual(expected);
    expect(await sample('chains.npy', '--start', 'chains')).toEqual(expected);
    expect(await sample('noise.npy', '--start', 'noise')).not.toEqual(expected);
    const other = join(dir, 'plain');
    await saveModel(other, { rbm: MODELS[0]![1] });
    await expect(
      run('rbm', 'sample', '--model', other, '--start', 'chains', '--out', join(dir, 'x.npy')),
    ).rejects.toThrow(/chains\.npy does not exist/);
  }, 600_000);
});
