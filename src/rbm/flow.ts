/**
 * The RBM flow (Iso, Shiba & Yokoo 2018; de Gier 2022): iterate v → h → v with a trained RBM and keep every
 * generation of visible configurations, to read what the flow converges to. Built on the engine's layer
 * kernels (no sampler of its own).
 *
 * Two kinds of step:
 * - 'sampled': h ~ P(h | v), v′ ~ P(v | h) — a Gibbs chain;
 * - 'mean-field': h = E[h | v], v′ = E[v | h] (tanh for ±1 units, sigmoid for {0,1}), the deterministic flow
 *   of the means. A thermometer needs configurations, so each mean-field generation is also sampled once,
 *   v ~ Bernoulli(v′) on every unit; the samples are read but never fed back.
 */
import { createStorageBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.ts';
import { submitStep } from '../gpu/kernel.ts';
import { workDone } from '../gpu/lost.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import type { RbmEngine } from './engine.ts';

export type FlowStep = 'sampled' | 'mean-field';

/** Sub-stream of the flows' random numbers (the Gibbs sampler uses 0x8000, training 0). */
export const FLOW_SUB_STREAM = 0x8100;

export interface RbmFlowOptions {
  /** 'sampled' (default) or 'mean-field'. */
  step?: FlowStep;
  /** Key of the flow's random numbers (default: the engine's seed). */
  seed?: number | bigint;
  /**
   * Called before generation g (1 … generations) is made, e.g. to replace the RBM's parameters (a null model
   * whose weights are redrawn every step); a returned promise is awaited.
   */
  beforeGeneration?: (g: number) => void | Promise<void>;
  /**
   * Receives every generation's visible configurations [rows × nv] in the units' values (0/1 or ±1): g = 0 is
   * the start, then g = 1 … generations. For mean-field steps these are the once-sampled configurations
   * (`means` has the mean-field state itself). The array is the caller's to keep.
   */
  onGeneration: (g: number, visible: Float32Array, means: Float32Array | null) => void | Promise<void>;
  signal?: AbortSignal;
}

/** The largest number of generations of one flow. */
export const MAX_FLOW_GENERATIONS = 100_000;

/**
 * Runs the RBM flow from `start` ([rows × nv], values of the units: 0/1 or ±1) for `generations` steps and
 * hands each generation to `onGeneration`. Deterministic for a seed on one adapter: generation g draws its
 * hidden and visible numbers with counter step g of streams (rbmHidden | rbmVisible, FLOW_SUB_STREAM).
 * Returns the generations done (fewer when aborted).
 */
export async function rbmFlow(
  rbm: RbmEngine,
  start: ArrayLike<number>,
  rows: number,
  generations: number,
  options: RbmFlowOptions,
): Promise<{ generations: number; aborted: boolean }> {
  const { nv, nh, device } = rbm;
  if (!Number.isInteger(rows) || rows < 1 || rows > 1 << 22)
    throw new RangeError(`flow rows ${rows} must be an integer in 1 … ${1 << 22}`);
  if (!Number.isInteger(generations) || generations < 1 || generations > MAX_FLOW_GENERATIONS)
    throw new RangeError(`flow generations ${generations} must be an integer in 1 … ${MAX_FLOW_GENERATIONS}`);
  if (start.length !== rows * nv)
    throw new RangeError(`flow start has ${start.length} values; ${rows} rows × nv ${nv} = ${rows * nv}`);
  const step = options.step ?? 'sampled';
  if (step !== 'sampled' && step !== 'mean-field')
    throw new RangeError(`flow step '${String(step)}' must be 'sampled' or 'mean-field'`);
  const low = rbm.units === 'ising' ? -1 : 0;
  const initial = Float32Array.from(start);
  const bad = initial.findIndex((x) => x !== 1 && x !== low);
  if (bad >= 0)
    throw new RangeError(
      `flow start value ${initial[bad]} at ${bad} is not ${low} or 1 (${rbm.units} units)`,
    );

  const f = (label: string, n: number): GPUBuffer => createStorageBuffer(device, `rbm flow ${label}`, n * 4);
  const [vm, v, hm, h] = [
    f('visible means', rows * nv),
    f('visible', rows * nv),
    f('hidden means', rows * nh),
    f('hidden', rows * nh),
  ];
  const meanField = step === 'mean-field';
  // Mean-field: the hidden layer reads the visible means, the visible layer the hidden means (the samples are
  // still drawn, for reading). Generation 0's means are the start itself.
  const hidden = rbm.layerKernel({
    label: 'rbm flow h|v',
    input: meanField ? vm : v,
    means: hm,
    samples: h,
    rows,
    hidden: true,
    stream: streamWord(RngPurpose.rbmHidden, FLOW_SUB_STREAM),
  });
  const visible = rbm.layerKernel({
    label: 'rbm flow v|h',
    input: meanField ? hm : h,
    means: vm,
    samples: v,
    rows,
    hidden: false,
    stream: streamWord(RngPurpose.rbmVisible, FLOW_SUB_STREAM),
  });
  if (options.seed !== undefined) {
    const key = seedKey(options.seed);
    hidden.view.set({ key });
    visible.view.set({ key });
  }
  try {
    uploadBuffer(device, v, initial);
    uploadBuffer(device, vm, initial);
    await options.onGeneration(0, initial.slice(), meanField ? initial.slice() : null);
    for (let g = 1; g <= generations; g++) {
      if (options.signal?.aborted) return { generations: g - 1, aborted: true };
      await options.beforeGeneration?.(g);
      uploadBuffer(device, hidden.uniforms, hidden.view.set({ step: g }).data);
      uploadBuffer(device, visible.uniforms, visible.view.set({ step: g }).data);
      submitStep(device, 'rbm flow step', [hidden.dispatch, visible.dispatch]);
      await workDone(device);
      const out = new Float32Array(await readBuffer(device, v));
      const means = meanField ? new Float32Array(await readBuffer(device, vm)) : null;
      await options.onGeneration(g, out, means);
    }
    return { generations, aborted: false };
  } finally {
    for (const b of [vm, v, hm, h, hidden.uniforms, visible.uniforms]) b.destroy();
  }
}
