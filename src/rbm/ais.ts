/**
 * ln Z of an RBM by annealed importance sampling (Salakhutdinov & Murray 2008) on the GPU: `runs`
 * independent chains anneal from the uniform base model (β = 0, ln Z₀ = (nv + nh)·ln 2) to the RBM
 * (β = 1) through Gibbs transitions at each β; ln Z ≈ ln Z₀ + ln mean(w). AIS is biased low in
 * expectation (Jensen); `err` is the delta-method standard error of ln mean(w).
 */
import { createStorageBuffer, createUniformBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.ts';
import { Dispatch, Program, submitStep } from '../gpu/kernel.ts';
import { RngPurpose, streamWord } from '../gpu/rng.ts';
import type { RbmEngine } from './engine.ts';
import { rbmSources } from './shaders.ts';

export interface AisOptions {
  /** Independent annealing runs (default 100). */
  runs?: number;
  /** Intermediate distributions (default 14,500 as in the paper); or explicit increasing βs ending at 1. */
  steps?: number;
  betas?: number[];
  onProgress?: (done: number, total: number) => void;
}

export interface AisResult {
  logZ: number;
  /** Standard error of the estimate (delta method on the importance weights). */
  err: number;
  /** ln Z₀ + ln(mean(w) ∓ 3·sd(mean)): a ±3σ band (the lower one is −∞ when 3σ ≥ mean). */
  lower: number;
  upper: number;
  runs: number;
  steps: number;
  /** Effective sample size of the weights. */
  effectiveRuns: number;
}

/** The paper's schedule shape scaled to `steps`: 1/29 of the steps over [0, 0.5), 8/29 over [0.5, 0.9), 20/29 over [0.9, 1]. */
export function defaultBetas(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 3)
    throw new RangeError(`AIS steps ${steps} must be an integer ≥ 3`);
  const a = Math.max(1, Math.round(steps / 29));
  const b = Math.max(1, Math.round((8 * steps) / 29));
  const c = Math.max(1, steps - a - b);
  const betas: number[] = [];
  for (let i = 1; i <= a; i++) betas.push((0.5 * i) / a);
  for (let i = 1; i <= b; i++) betas.push(0.5 + (0.4 * i) / b);
  for (let i = 1; i <= c; i++) betas.push(0.9 + (0.1 * i) / c);
  betas[betas.length - 1] = 1;
  return betas;
}

/** Runs AIS for `rbm` (dense or conv). One submission per β. */
export async function annealedImportanceSampling(
  rbm: RbmEngine,
  options: AisOptions = {},
): Promise<AisResult> {
  const runs = options.runs ?? 100;
  if (!Number.isInteger(runs) || runs < 2 || runs > 1 << 20)
    throw new RangeError(`AIS runs ${runs} must be an integer in 2 … 1048576`);
  const betas = options.betas ?? defaultBetas(options.steps ?? 14500);
  betas.forEach((b, i) => {
    if (!Number.isFinite(b) || b <= (i > 0 ? (betas[i - 1] as number) : 0) || b > 1) {
      throw new RangeError(`AIS β[${i}] = ${b} must increase strictly within (0, 1]`);
    }
  });
  if (betas[betas.length - 1] !== 1)
    throw new RangeError(`the last AIS β is ${betas[betas.length - 1]}; it must be 1`);
  const { device, nv, nh } = rbm;
  const f = (label: string, n: number): GPUBuffer => createStorageBuffer(device, `rbm ais ${label}`, n * 4);
  const vMeans = f('visible means', runs * nv);
  const v = f('visible', runs * nv);
  const hMeans = f('hidden means', runs * nh);
  const h = f('hidden', runs * nh);
  const x = f('hidden input', runs * nh);
  const logWeights = f('log weights', runs);
  const hiddenStream = streamWord(RngPurpose.rbmAis, 0);
  const visibleStream = streamWord(RngPurpose.rbmAis, 1);
  const sampleHidden = rbm.layerKernel({
    label: 'rbm ais h|v',
    input: v,
    means: hMeans,
    samples: h,
    rows: runs,
    hidden: true,
    stream: hiddenStream,
  });
  const sampleVisible = rbm.layerKernel({
    label: 'rbm ais v|h',
    input: h,
    means: vMeans,
    samples: v,
    rows: runs,
    hidden: false,
    stream: visibleStream,
  });
  // outputInput writes only `means`; `samples` must still be a distinct buffer (no writable aliasing).
  const inputs = rbm.layerKernel({
    label: 'rbm ais x(v)',
    input: v,
    means: x,
    samples: hMeans,
    rows: runs,
    hidden: true,
    stream: 0,
    outputInput: true,
  });
  const program = Program.get(device, rbmSources.ais);
  const view = program
    .structView('AisParams')
    .set({ runs, nv, nh, visibleBiasOffset: rbm.weightCount, betaPrev: 0, betaNext: 0 });
  const uniforms = createUniformBuffer(device, 'rbm ais params', view.data);
  const accumulate = new Dispatch(device, {
    label: 'rbm ais accumulateWeights',
    pipeline: program.pipeline('accumulateWeights', { isingUnits: rbm.units === 'ising', workgroupSize: 64 }),
    bindGroups: [
      program.bindGroup(0, {
        params: uniforms,
        parameters: rbm.parameters,
        visible: v,
        hiddenInput: x,
        logWeights,
      }),
    ],
    workgroups: Math.ceil(runs / 64),
  });
  try {
    // v ~ base model: β = 0 makes every visible unit a fair coin.
    uploadBuffer(device, sampleVisible.uniforms, sampleVisible.view.set({ step: 0, beta: 0 }).data);
    submitStep(device, 'rbm ais start', [sampleVisible.dispatch]);
    let prev = 0;
    for (let k = 0; k < betas.length; k++) {
      const beta = betas[k] as number;
      uploadBuffer(device, uniforms, view.set({ betaPrev: prev, betaNext: beta }).data);
      const items = [inputs.dispatch, accumulate];
      if (k < betas.length - 1) {
        uploadBuffer(device, sampleHidden.uniforms, sampleHidden.view.set({ step: k + 1, beta }).data);
        uploadBuffer(device, sampleVisible.uniforms, sampleVisible.view.set({ step: k + 1, beta }).data);
        items.push(sampleHidden.dispatch, sampleVisible.dispatch);
      }
      submitStep(device, 'rbm ais step', items);
      prev = beta;
      if (k % 500 === 499) {
        await device.queue.onSubmittedWorkDone();
        options.onProgress?.(k + 1, betas.length);
      }
    }
    const w = Float64Array.from(new Float32Array(await readBuffer(device, logWeights)));
    options.onProgress?.(betas.length, betas.length);
    const max = Math.max(...w);
    const r = Array.from(w, (lw) => Math.exp(lw - max));
    const mean = r.reduce((s, t) => s + t, 0) / runs;
    const sd = Math.sqrt(r.reduce((s, t) => s + (t - mean) ** 2, 0) / (runs - 1));
    const sdMean = sd / Math.sqrt(runs);
    const logZ0 = (nv + nh) * Math.LN2;
    const sumSq = r.reduce((s, t) => s + t * t, 0);
    return {
      logZ: logZ0 + max + Math.log(mean),
      err: sdMean / mean,
      lower: logZ0 + max + Math.log(Math.max(0, mean - 3 * sdMean)),
      upper: logZ0 + max + Math.log(mean + 3 * sdMean),
      runs,
      steps: betas.length,
      effectiveRuns: (mean * runs) ** 2 / sumSq,
    };
  } finally {
    for (const b of [
      vMeans,
      v,
      hMeans,
      h,
      x,
      logWeights,
      uniforms,
      sampleHidden.uniforms,
      sampleVisible.uniforms,
      inputs.uniforms,
    ]) {
      b.destroy();
    }
  }
}
