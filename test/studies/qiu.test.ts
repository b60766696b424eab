/**
 * The Qiu study (shared/papers/qiu-2022-rg-and-rbm.md): the exact ring sampler against the exact ring, the exact
 * RBM of the ring (ln-likelihood = −S), exact decimation's reconstruction error, the hidden-correlation analysis
 * on exactly decimated data, and the `test` preset end to end on the GPU (every headline result finite, figures
 * render, bad options refused, a cancelled run partial). Only what holds for every seed at these sizes (seeds
 * 1 … 5 tried for the statistical checks).
 */
import { describe, expect, it } from 'vitest';
import {
  decimatedCoupling,
  decimationReconstructionError,
  isingRing,
  ringCorrelation,
  ringEntropy,
  sampleRing,
} from '../../src/exact/ising.ts';
import { philoxUniforms } from '../../src/gpu/philox.ts';
import { RbmEngine } from '../../src/rbm/engine.ts';
import { setMnistDigitLoader } from '../../src/rbm/data.ts';
import { renderFigure } from '../../src/studies/figures.ts';
import {
  correlationChi2,
  decimateAndReconstruct,
  decimationMass,
  exactRbmLogLikelihood,
  exactRingRbmLogZ,
  exactRingRbmWeights,
  exactRingWeight,
  fitCoupling,
  hiddenCorrelation,
  hiddenOrder,
  meanErr,
} from '../../src/studies/qiu-ring.ts';
import { checkQiuOptions, QIU_PRESETS, qiuStudy, type QiuOptions } from '../../src/studies/qiu.ts';
import { checkResults } from '../../src/studies/report.ts';
import type { StudyContext } from '../../src/studies/study.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

const SEEDS = [1, 2, 3, 4, 5];

describe('exact ring sampler', () => {
  it('matches the exact energy and correlations within 5σ (N = 16, K = 1; seeds 1 … 5)', () => {
    const [K, N, n] = [1, 16, 4000];
    const exactE = isingRing(K, N).energyPerSpin;
    for (const seed of SEEDS) {
      const s = sampleRing(K, N, n, philoxUniforms(seed));
      expect(s.every((x) => x === 1 || x === -1)).toBe(true);
      const energy = new Float64Array(n);
      for (let c = 0; c < n; c++) {
        let e = 0;
        for (let i = 0; i < N; i++) e -= s[c * N + i]! * s[c * N + ((i + 1) % N)]!;
        energy[c] = e / N;
      }
      const E = meanErr(energy);
      expect(Math.abs(E.mean - exactE)).toBeLessThan(5 * E.err);
      for (const x of [1, 3, 8]) {
        const c = new Float64Array(n);
        for (let r = 0; r < n; r++) c[r] = s[r * N]! * s[r * N + x]!;
        const m = meanErr(c);
        expect(Math.abs(m.mean - ringCorrelation(K, N, x))).toBeLessThan(5 * m.err + 1e-12);
      }
    }
  });

  it('refuses bad arguments', () => {
    expect(() => sampleRing(0, 8, 1, Math.random)).toThrow(/K = 0/);
    expect(() => sampleRing(1, 1, 1, Math.random)).toThrow(/N = 1/);
  });
});

describe('exact RBM of the ring', () => {
  it('Σ p_ring ln p_rbm = −S by enumeration, and ln Z matches the transfer matrix, to 1e-9', () => {
    for (const [K, N] of [
      [1, 8],
      [0.5, 12],
      [1, 14],
    ] as const) {
      const e = exactRbmLogLikelihood(K, N);
      expect(Math.abs(e.logLikelihood + ringEntropy(K, N))).toBeLessThan(1e-9);
      expect(Math.abs(e.logZ - e.logZTransfer)).toBeLessThan(1e-9);
    }
  });

  it('the entropy is ln Z − K⟨Σ s s⟩', () => {
    const r = isingRing(0.7, 10);
    expect(ringEntropy(0.7, 10)).toBeCloseTo(r.lnZ + 0.7 * 10 * r.energyPerSpin, 12);
  });
});

describe('exact decimation', () => {
  it('K = 1, N = 64 reconstructs with 6.6 % of spins wrong', () => {
    expect(decimationReconstructionError(1, 64)).toBeCloseTo(0.06645, 4);
    expect(decimatedCoupling(1)).toBeCloseTo(0.6625, 4);
  });

  it('the formula matches decimation applied to exact samples within 5σ (seeds 1 … 5)', () => {
    for (const seed of SEEDS) {
      const s = sampleRing(1, 64, 1000, philoxUniforms(seed));
      const e = meanErr(decimateAndReconstruct(s, 1000, 64, 1, philoxUniforms(seed + 100)));
      expect(Math.abs(e.mean - decimationReconstructionError(1, 64))).toBeLessThan(5 * e.err);
    }
  });
});

describe('hidden-unit analysis', () => {
  it('exactly decimated spins as hidden units have the correlation of the ring at K′ (seeds 1 … 5)', () => {
    const [K, N, M, n] = [1, 64, 32, 1000];
    // Hidden unit j copies spin 2j; scrambled unit order and signs, which the analysis must undo.
    const perm = Array.from({ length: M }, (_, j) => (j * 7) % M);
    const flip = Array.from({ length: M }, (_, j) => (j % 3 === 0 ? -1 : 1));
    const W = new Float32Array(N * M);
    perm.forEach((site, j) => {
      W[2 * site * M + j] = 2 * flip[j]!;
      W[(2 * site + 1) * M + j] = 0.5 * flip[j]!;
    });
    expect(Array.from(decimationMass(W, N, M)).every((m) => Math.abs(m - 1) < 1e-12)).toBe(true);
    const { order, sign } = hiddenOrder(W, N, M);
    expect(order.map((j) => perm[j])).toEqual(Array.from({ length: M }, (_, k) => k));
    const Kp = decimatedCoupling(K);
    for (const seed of SEEDS) {
      const s = sampleRing(K, N, n, philoxUniforms(seed));
      const H = new Float32Array(n * M);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < M; j++) H[r * M + j] = (flip[j]! * s[r * N + 2 * perm[j]!]! + 1) / 2;
      const c = hiddenCorrelation(H, n, M, order, sign, 16);
      expect(c.mean[0]).toBe(1);
      const { chi2, dof } = correlationChi2(c.mean, c.err, Kp, M);
      // χ² of 16 correlated points: a loose bound that holds for every seed.
      expect(chi2 / dof).toBeLessThan(4);
      const fit = fitCoupling(c.mean, c.err, M);
      expect(Math.abs(fit.K - Kp)).toBeLessThan(5 * fit.err);
    }
  });

  it('uniform weights have decimation mass 2/nv', () => {
    const m = decimationMass(new Float32Array(64 * 4).fill(0.3), 64, 4);
    expect(m[0]).toBeCloseTo(2 / 64, 12);
  });
});

function options(edit: (o: QiuOptions) => void): QiuOptions {
  const o = structuredClone(QIU_PRESETS.test);
  edit(o);
  return o;
}

describe('options', () => {
  it('every preset passes', () => {
    for (const o of Object.values(QIU_PRESETS)) expect(() => checkQiuOptions(o)).not.toThrow();
  });

  it('bad options are refused, naming the value and the limit, before any GPU work', async () => {
    const cases: [(o: QiuOptions) => void, RegExp][] = [
      [(o) => (o.ring.spins = 63), /ring\.spins 63 must be even/],
      [(o) => (o.ring.hidden = 65), /ring\.hidden 65 .* 2 … 64/],
      [(o) => (o.ring.l1 = -1), /ring\.l1 -1 .* ≥ 0/],
      [(o) => (o.ring.maxDistance = 17), /ring\.maxDistance 17 .* 1 … 16/],
      [(o) => (o.ring.exactSpins = 21), /ring\.exactSpins 21 .* 4 … 20/],
      [(o) => (o.ring.batch = 201), /ring\.batch 201 .* 1 … 200/],
      [(o) => (o.ring.lr = 0), /ring\.lr 0 must be a finite number > 0/],
      [(o) => (o.mnist.images = 2002), /mnist\.images 2002 .* 10 … 2000/],
      [(o) => (o.mnist.testFraction = 1), /mnist\.testFraction 1 must lie in \(0, 1\)/],
      [(o) => (o.parts = ['ising' as 'ring']), /part 'ising'/],
    ];
    const context = { device: null as unknown as GPUDevice, progress: () => {}, log: () => {} };
    for (const [edit, message] of cases) {
      await expect(qiuStudy.run(options(edit), context)).rejects.toThrow(RangeError);
      await expect(qiuStudy.run(options(edit), context)).rejects.toThrow(message);
    }
  });
});

describe('the study on the GPU', () => {
  const gpu = useGpu();

  function context(extra: Partial<StudyContext> = {}): StudyContext {
    return { device: gpu().device, progress: () => {}, log: () => {}, ...extra };
  }

  it('the engine with the exact RBM gives the oracle hidden means', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const [K, N, n] = [1, 12, 64];
      const s = sampleRing(K, N, n, philoxUniforms(9));
      const rbm = new RbmEngine(device, {
        nv: N,
        nh: N,
        units: 'ising',
        visibleBias: false,
        hiddenBias: false,
        parameters: { W: exactRingRbmWeights(K, N) },
      });
      try {
        const { means } = await rbm.conditional(Float32Array.from(s), n, { hidden: true });
        const w = exactRingWeight(K);
        for (let r = 0; r < n; r++)
          for (let j = 0; j < N; j++)
            expect(means[r * N + j]).toBeCloseTo(
              Math.tanh(w * (s[r * N + j]! + s[r * N + ((j + 1) % N)]!)),
              6,
            );
      } finally {
        rbm.destroy();
      }
      expect(exactRingRbmLogZ(K, N)).toBeCloseTo(exactRbmLogLikelihood(K, N).logZ, 9);
    });
  });

  it('the test preset: every headline result finite with an error, figures render', async () => {
    const device = gpu().device;
    const curves: number[] = [];
    const out = await checked(device, () =>
      qiuStudy.run(
        QIU_PRESETS.test,
        context({ update: (u) => (u.kind === 'curve' ? curves.push(u.y) : undefined) }),
      ),
    );
    expect(out.complete).toBe(true);
    expect(() => checkResults(out.results)).not.toThrow();
    const byName = new Map(out.results.map((r) => [r.name, r]));
    for (const name of [
      'qiu.mnist.pixelError',
      'qiu.ring.reconstructionError',
      'qiu.ring.hiddenCorrelation.chi2dof',
      'qiu.ring.decimationMass',
      'qiu.ring.effectiveK',
      'qiu.ring.exactDecimation.reconstructionError',
      'qiu.ring.exactRbm.logLikelihood',
      'qiu.ring.exactRbm.sampledLogLikelihood',
      'qiu.ring.l1.0.reconstructionError',
      'qiu.mnist.marginals.chi2dof',
      'qiu.mnist.samples.fractionOnes',
      'qiu.ring.exactDecimation.chi2dof',
    ]) {
      const r = byName.get(name);
      expect(r, name).toBeDefined();
      expect(Number.isFinite(r!.value), name).toBe(true);
      expect(Number.isFinite(r!.err) && r!.err >= 0, name).toBe(true);
    }
    expect(byName.get('qiu.ring.reconstructionError')!.source?.value).toBe(0.14);
    expect(byName.get('qiu.mnist.pixelError')!.source?.value).toBe(0.048);
    // The exact RBM: enumeration to 1e-9, samples within 5σ.
    const ll = byName.get('qiu.ring.exactRbm.sampledLogLikelihood')!;
    const S = byName.get('qiu.ring.exactRbm.entropy')!.value;
    expect(Math.abs(byName.get('qiu.ring.exactRbm.logLikelihood')!.value + S)).toBeLessThan(1e-9);
    expect(Math.abs(ll.value + S)).toBeLessThan(5 * ll.err);
    expect(byName.get('qiu.ring.exactRbm.engineMaxDeviation')!.value).toBeLessThan(1e-5);
    // Reconstruction errors are fractions; the decimation mass lies between uniform (2/64) and 1.
    for (const name of ['qiu.ring.reconstructionError', 'qiu.mnist.pixelError'])
      expect(byName.get(name)!.value).toBeLessThan(0.6);
    const mass = byName.get('qiu.ring.decimationMass')!.value;
    expect(mass).toBeGreaterThan(2 / 64 - 1e-9);
    expect(mass).toBeLessThanOrEqual(1);
    expect(curves.length).toBeGreaterThan(0);
    expect(out.markdown).toMatch(/≈ 14 %/);
    expect(out.figures.map((f) => f.name)).toEqual(
      expect.arrayContaining(['ring-weights', 'ring-hidden-correlation', 'mnist-filters', 'mnist-samples']),
    );
    for (const f of out.figures) expect(await renderFigure(f)).toMatch(/^<svg/);
  }, 60_000);

  it('a cancelled run returns a partial output', async () => {
    const controller = new AbortController();
    const out = await qiuStudy.run(
      options((o) => (o.parts = ['ring'])),
      context({
        signal: controller.signal,
        progress: (stage) => {
          if (stage.startsWith('ring L1')) controller.abort();
        },
      }),
    );
    expect(out.complete).toBe(false);
    expect(out.markdown).toMatch(/PARTIAL/);
    expect(out.results.some((r) => r.name === 'qiu.ring.reconstructionError')).toBe(false);
    expect(out.results.some((r) => r.name === 'qiu.ring.exactRbm.logLikelihood')).toBe(true);
  }, 30_000);
  it('without MNIST images the ring part stands and the report says MNIST was skipped', async () => {
    setMnistDigitLoader(async () => {
      throw new Error('offline');
    });
    try {
      const out = await qiuStudy.run(QIU_PRESETS.test, context());
      expect(out.complete).toBe(true);
      expect(out.results.some((r) => r.name === 'qiu.ring.reconstructionError')).toBe(true);
      expect(out.results.some((r) => r.name.startsWith('qiu.mnist.'))).toBe(false);
      expect(out.markdown).toContain(
        'MNIST part skipped: the MNIST images of digit 0 failed to load: offline',
      );
    } finally {
      setMnistDigitLoader(undefined);
    }
  }, 60_000);
});
