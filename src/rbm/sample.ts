/** Free-running Gibbs chains of an RBM on the GPU (for `rbm sample`): uniform start, then v → h → v. */
import { createStorageBuffer, readBuffer, uploadBuffer } from '../gpu/buffers.ts';
import { submitStep } from '../gpu/kernel.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import type { RbmEngine } from './engine.ts';

export interface GibbsSampleOptions {
  /** Key of the chains' random numbers (default: the engine's seed); the same seed gives the same samples. */
  seed?: number | bigint;
  /** Called every 200 steps with the steps done. */
  onProgress?: (done: number) => void;
  /**
   * Visible start states [chains × nv] in the units' values (e.g. a PCD checkpoint's persistent chains)
   * instead of fair coins.
   */
  start?: ArrayLike<number>;
}

/**
 * Runs `chains` independent chains for `steps` Gibbs steps from uniformly random visible states (or
 * `options.start`) and
 * returns the final visible samples [chains × nv] (0/1 or ±1). Counters: (unit, chain, step,
 * streamWord(rbmVisible|rbmHidden, 0x8000)) — a sub-stream no training step uses — under the key of
 * `options.seed` (or the engine's seed). A bare function as the fourth argument is `onProgress`.
 *
 * @example
 * const v = await gibbsSample(rbm, 100, 1000, { seed: 7 }); // [100 × nv], deterministic in the seed
 */
export async function gibbsSample(
  rbm: RbmEngine,
  chains: number,
  steps: number,
  options: GibbsSampleOptions | ((done: number) => void) = {},
): Promise<Float32Array> {
  const { seed, onProgress, start } =
    typeof options === 'function' ? { seed: undefined, onProgress: options, start: undefined } : options;
  if (!Number.isInteger(chains) || chains < 1 || chains > 1 << 20)
    throw new RangeError(`chains ${chains} must be an integer in 1 … 1048576`);
  if (!Number.isInteger(steps) || steps < 0 || steps > 1e7)
    throw new RangeError(`steps ${steps} must be an integer in 0 … 10000000`);
  const { device, nv, nh } = rbm;
  let initial: Float32Array | null = null;
  if (start !== undefined) {
    if (start.length !== chains * nv)
      throw new RangeError(`start has ${start.length} values; ${chains} chains × nv ${nv} = ${chains * nv}`);
    const low = rbm.units === 'ising' ? -1 : 0;
    initial = Float32Array.from(start);
    const bad = initial.findIndex((x) => x !== 1 && x !== low);
    if (bad >= 0)
      throw new RangeError(`start value ${initial[bad]} at ${bad} is not ${low} or 1 (${rbm.units} units)`);
  }
  const f = (label: string, n: number): GPUBuffer => createStorageBuffer(device, `rbm gibbs ${label}`, n * 4);
  const [vm, v, hm, h] = [
    f('visible means', chains * nv),
    f('visible', chains * nv),
    f('hidden means', chains * nh),
    f('hidden', chains * nh),
  ];
  const hidden = rbm.layerKernel({
    label: 'rbm gibbs h|v',
    input: v,
    means: hm,
    samples: h,
    rows: chains,
    hidden: true,
    stream: streamWord(RngPurpose.rbmHidden, 0x8000),
  });
  const visible = rbm.layerKernel({
    label: 'rbm gibbs v|h',
    input: h,
    means: vm,
    samples: v,
    rows: chains,
    hidden: false,
    stream: streamWord(RngPurpose.rbmVisible, 0x8000),
  });
  if (seed !== undefined) {
    const key = seedKey(seed);
    hidden.view.set({ key });
    visible.view.set({ key });
  }
  try {
    if (initial) uploadBuffer(device, v, initial);
    else {
      uploadBuffer(device, visible.uniforms, visible.view.set({ step: 0, beta: 0 }).data); // β = 0: fair coins
      submitStep(device, 'rbm gibbs start', [visible.dispatch]);
    }
    uploadBuffer(device, visible.uniforms, visible.view.set({ beta: 1 }).data);
    for (let t = 1; t <= steps; t++) {
      uploadBuffer(device, hidden.uniforms, hidden.view.set({ step: t }).data);
      uploadBuffer(device, visible.uniforms, visible.view.set({ step: t }).data);
      submitStep(device, 'rbm gibbs step', [hidden.dispatch, visible.dispatch]);
      if (t % 200 === 0) {
        await device.queue.onSubmittedWorkDone();
        onProgress?.(t);
      }
    }
    return new Float32Array(await readBuffer(device, v));
  } finally {
    for (const b of [vm, v, hm, h, hidden.uniforms, visible.uniforms]) b.destroy();
  }
}
