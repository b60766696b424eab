/**
 * ln Z of an RBM by annealed importance sampling (Salakhutdinov & Murray 2008) on the GPU: `runs`
 * independent chains anneal from a base model (β = 0: independent visible units with biases a_A, free
 * hidden units; ln Z_A = Σ_i act(a_A,i) + nh·ln 2) to the RBM (β = 1) through Gibbs transitions at each β;
 * ln Z ≈ ln Z_A + ln mean(w). The base model defaults to uniform (a_A = 0); the data's base rates
 * (`baseRateBiases`) start the chains near the data and need far fewer steps for the same error. AIS is
 * biased low in expectation (Jensen); `err` is the delta-method standard error of ln mean(w).
 *
 * @example
 * const base = baseRateBiases(rows, n, rbm.nv, rbm.units);
 * const { logZ, err } = await annealedImportanceSampling(rbm, { runs: 64, steps: 2000, baseVisibleBias: base });
 */
import { createStorageBuffer, createUniformBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.ts';
import { Dispatch, Program, submitStep } from '../gpu/kernel.ts';
import { RngPurpose, streamWord } from '../gpu/rng.ts';
import type { RbmEngine, RbmUnits } from './engine.ts';
import { rbmSources } from './shaders.ts';

export interface AisOptions {
  /** Independent annealing runs (default 100). */
  runs?: number;
  /** Intermediate distributions (default 14,500 as in the paper); or explicit increasing βs ending at 1. */
  steps?: number;
  betas?: number[];
  /** Visible biases a_A of the base model [nv] (default zeros: the uniform distribution); see `baseRateBiases`. */
  baseVisibleBias?: ArrayLike<number>;
  /** Called every `AIS_PROGRESS_STEPS` steps (after the GPU finished them) and at the end. */
  onProgress?: (done: number, total: number) => void;
}

/** Steps between progress reports (each waits for the GPU, which also bounds the queued work). */
export const AIS_PROGRESS_STEPS = 100;

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

/** ln Σ_s e^{s·x} over one unit's values: softplus for {0,1}, ln 2cosh for ±1 (overflow-safe). */
function unitLogSum(units: RbmUnits, x: number): number {
  const ax = Math.abs(x);
  return units === 'ising' ? ax + Math.log1p(Math.exp(-2 * ax)) : Math.max(x, 0) + Math.log1p(Math.exp(-ax));
}

/**
 * Visible biases of the independent-unit base-rate model of `n` data rows (`rows[s·nv + i]` in the units'
 * values), the base model Salakhutdinov & Murray use for AIS: a_i = ln(p_i/(1 − p_i)) for {0,1} units,
 * ½ ln(p_i/(1 − p_i)) for ±1, with p_i = (on_i + pseudoCount)/(n + 2·pseudoCount).
 */
export function baseRateBiases(
  rows: ArrayLike<number>,
  n: number,
  nv: number,
  units: RbmUnits,
  pseudoCount = 1,
): Float32Array {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(nv) || nv < 1 || rows.length !== n * nv)
    throw new RangeError(`rows has ${rows.length} values; expected n = ${n} (≥ 1) × nv ${nv}`);
  if (!(pseudoCount > 0 && Number.isFinite(pseudoCount)))
    throw new RangeError(`pseudo-count ${pseudoCount} must be a finite number > 0`);
  const on = new Float64Array(nv);
  for (let s = 0; s < n; s++) for (let i = 0; i < nv; i++) if (rows[s * nv + i] === 1) on[i]!++;
  return Float32Array.from(on, (c) => {
    const p = (c + pseudoCount) / (n + 2 * pseudoCount);
    const logit = Math.log(p) - Math.log1p(-p);
    return units === 'ising' ? logit / 2 : logit;
  });
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
  // The step is a u32 Philox counter word: a JavaScript array (≤ 2^32 − 1 βs) cannot wrap it.
  const betas = options.betas ?? defaultBetas(options.steps ?? 14500);
  betas.forEach((b, i) => {
    if (!Number.isFinite(b) || b <= (i > 0 ? (betas[i - 1] as number) : 0) || b > 1) {
      throw new RangeError(`AIS β[${i}] = ${b} must increase strictly within (0, 1]`);
    }
  });
  if (betas[betas.length - 1] !== 1)
    throw new RangeError(`the last AIS β is ${betas[betas.length - 1]}; it must be 1`);
  const { device, nv, nh, units } = rbm;
  const base = Float32Array.from(options.baseVisibleBias ?? new Float32Array(nv));
  if (base.length !== nv)
    throw new RangeError(`AIS base visible bias has ${base.length} values; the RBM has nv = ${nv}`);
  const bad = base.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`AIS base visible bias [${bad}] = ${base[bad]} is not finite (as f32)`);
  const f = (label: string, n: number): GPUBuffer => createStorageBuffer(device, `rbm ais ${label}`, n * 4);
  const buffers: GPUBuffer[] = [];
  const own = (b: GPUBuffer): GPUBuffer => (buffers.push(b), b);
  try {
    const vMeans = own(f('visible input', runs * nv));
    const v = own(f('visible', runs * nv));
    const hMeans = own(f('hidden means', runs * nh));
    const h = own(f('hidden', runs * nh));
    const x = own(f('hidden input', runs * nh));
    const logWeights = own(f('log weights', runs));
    const baseBias = own(f('base visible bias', nv));
    uploadBuffer(device, baseBias, base);
    const sampleHidden = rbm.layerKernel({
      label: 'rbm ais h|v',
      input: v,
      means: hMeans,
      samples: h,
      rows: runs,
      hidden: true,
      stream: streamWord(RngPurpose.rbmAis, 0),
    });
    own(sampleHidden.uniforms);
    // a + W·h of each run; the visible units are then drawn by sampleVisibleBase (which mixes in a_A).
    const visibleInput = rbm.layerKernel({
      label: 'rbm ais y(h)',
      input: h,
      means: vMeans,
      samples: v,
      rows: runs,
      hidden: false,
      stream: 0,
      outputInput: true,
    });
    own(visibleInput.uniforms);
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
    own(inputs.uniforms);
    const program = Program.get(device, rbmSources.ais);
    const view = program.structView('AisParams').set({
      runs,
      nv,
      nh,
      visibleBiasOffset: rbm.weightCount,
      betaPrev: 0,
      betaNext: 0,
      key: sampleHidden.view.get('key') as number[],
      step: 0,
      rngStream: streamWord(RngPurpose.rbmAis, 1),
      beta: 0,
    });
    const uniforms = own(createUniformBuffer(device, 'rbm ais params', view.data));
    const group = program.bindGroup(0, {
      params: uniforms,
      parameters: rbm.parameters,
      visible: v,
      hiddenInput: x,
      logWeights,
      baseVisibleBias: baseBias,
      visibleInput: vMeans,
    });
    const constants = { isingUnits: units === 'ising', workgroupSize: 64 };
    const accumulate = new Dispatch(device, {
      label: 'rbm ais accumulateWeights',
      pipeline: program.pipeline('accumulateWeights', constants),
      bindGroups: [group],
      workgroups: Math.ceil(runs / 64),
    });
    const sampleVisible = new Dispatch(device, {
      label: 'rbm ais sampleVisibleBase',
      pipeline: program.pipeline('sampleVisibleBase', constants),
      bindGroups: [group],
      workgroups: Math.ceil((runs * Math.ceil(nv / 4)) / 64),
    });
    // v ~ base model (β = 0).
    submitStep(device, 'rbm ais start', [sampleVisible]);
    let prev = 0;
    for (let k = 0; k < betas.length; k++) {
      const beta = betas[k] as number;
      const last = k === betas.length - 1;
      // The weight update reads betaPrev/betaNext, the transition after it step and beta: one upload.
      uploadBuffer(device, uniforms, view.set({ betaPrev: prev, betaNext: beta, step: k + 1, beta }).data);
      const items = [inputs.dispatch, accumulate];
      if (!last) {
        uploadBuffer(device, sampleHidden.uniforms, sampleHidden.view.set({ step: k + 1, beta }).data);
        items.push(sampleHidden.dispatch, visibleInput.dispatch, sampleVisible);
      }
      submitStep(device, 'rbm ais step', items);
      prev = beta;
      if ((k + 1) % AIS_PROGRESS_STEPS === 0 && !last) {
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
    let logZ0 = nh * Math.LN2;
    for (let i = 0; i < nv; i++) logZ0 += unitLogSum(units, base[i] as number);
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
    for (const b of buffers) b.destroy();
  }
}
