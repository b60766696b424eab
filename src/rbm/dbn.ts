/**
 * Stacked RBMs (a deep belief network, as Mehta & Schwab's 1600-400-100-25): trained greedily, layer by
 * layer, each on the previous layer's hidden means (real-valued) or samples (binary) of the data.
 */
import { seedKey } from '../gpu/rng.ts';
import { RbmEngine, type RbmUnits, type TrainingOptions } from './engine.ts';

export interface DbnLayer {
  hidden: number;
  training: TrainingOptions;
  epochs: number;
  /** What this layer passes up to the next one (default 'means'). */
  propagate?: 'means' | 'samples';
  visibleBias?: boolean;
  hiddenBias?: boolean;
  initScale?: number;
}

export interface DbnOptions {
  units?: RbmUnits;
  seed?: number | bigint;
  layers: DbnLayer[];
  signal?: AbortSignal;
  onEpoch?: (layer: number, epoch: number, rbm: RbmEngine) => void | Promise<void>;
}

export interface Dbn {
  /** The trained layers, bottom first (the caller destroys them). */
  layers: RbmEngine[];
  /** The data each layer was trained on: inputs[0] is the data, inputs[l] = layer l−1's output. */
  inputs: Float32Array[];
  aborted: boolean;
}

/** Rows per conditional pass when propagating data upward. */
const CHUNK = 4096;
/** RNG step base for propagation draws (disjoint from training updates below 2^31). */
const PROPAGATION_STEP = 2 ** 31;

/** Hidden means or samples of `rows` [n × nv] through `rbm`, in chunks. */
export async function propagateUp(
  rbm: RbmEngine,
  rows: Float32Array,
  n: number,
  mode: 'means' | 'samples' = 'means',
): Promise<Float32Array> {
  const out = new Float32Array(n * rbm.nh);
  for (let start = 0, chunk = 0; start < n; start += CHUNK, chunk++) {
    const m = Math.min(CHUNK, n - start);
    const r = await rbm.conditional(rows.subarray(start * rbm.nv, (start + m) * rbm.nv), m, {
      hidden: true,
      step: PROPAGATION_STEP + chunk,
    });
    out.set(mode === 'means' ? r.means : r.samples, start * rbm.nh);
  }
  return out;
}

/** Trains the stack on n binary samples of nv units; layer l gets seed derived from (seed, l). */
export async function trainDbn(
  device: GPUDevice,
  data: ArrayLike<number>,
  n: number,
  nv: number,
  options: DbnOptions,
): Promise<Dbn> {
  if (options.layers.length === 0) throw new RangeError('a DBN needs at least one layer');
  const units = options.units ?? 'bernoulli';
  const [lo, hi] = seedKey(options.seed ?? 1);
  const layers: RbmEngine[] = [];
  const inputs: Float32Array[] = [Float32Array.from(data)];
  let width = nv;
  let real = false;
  try {
    for (let l = 0; l < options.layers.length; l++) {
      const spec = options.layers[l] as DbnLayer;
      const rbm = new RbmEngine(device, {
        nv: width,
        nh: spec.hidden,
        units,
        seed: (BigInt(hi) << 32n) | BigInt((lo + Math.imul(l, 0x9e3779b9)) >>> 0),
        visibleBias: spec.visibleBias,
        hiddenBias: spec.hiddenBias,
        initScale: spec.initScale,
      });
      layers.push(rbm);
      const input = inputs[l] as Float32Array;
      rbm.setData(input, n, { realValued: real });
      rbm.configureTraining(spec.training);
      const result = await rbm.trainEpochs(spec.epochs, {
        signal: options.signal,
        onEpoch: (e) => options.onEpoch?.(l, e, rbm),
      });
      if (result.aborted) return { layers, inputs, aborted: true };
      if (l < options.layers.length - 1) {
        const mode = spec.propagate ?? 'means';
        inputs.push(await propagateUp(rbm, input, n, mode));
        real = mode === 'means';
      }
      width = spec.hidden;
    }
    return { layers, inputs, aborted: false };
  } catch (err) {
    for (const r of layers) r.destroy();
    throw err;
  }
}
