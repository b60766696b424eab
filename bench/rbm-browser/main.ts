/**
 * The browser harness page of `blockspin bench rbm`: in one page, on the browser's WebGPU adapter, it
 * times (a) blockspin's RbmEngine CD-k (bench/rbm.ts, the public API) and (b) the equivalent CD-k
 * written with TensorFlow.js (tfjs-rbm.ts) on its WebGPU backend — falling back to WebGL, then CPU,
 * when WebGPU cannot initialise, and saying so. Parameters come from the URL
 * (?models=dense,conv&ks=1,3&batch=100&steps=5&warmup=2&blockspin=1&tfjs=1&rng=uniform,hash);
 * the report is left on `window.rbmBench` (see report.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { GpuContext } from '../../src/index.ts';
import { benchRbm, randomBinaryRows, RBM_BENCH_MODELS, throughput, type RbmBenchModel } from '../rbm.ts';
import type { BrowserRbmReport, TfjsRbmResult } from './report.ts';
import { TfjsCdTrainer, type TfjsRng } from './tfjs-rbm.ts';

const params = new URLSearchParams(location.search);
const list = (name: string, fallback: string): string[] =>
  (params.get(name) ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const int = (name: string, fallback: number): number => {
  const n = Number(params.get(name) ?? fallback);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`?${name}=${params.get(name)} must be a non-negative integer`);
  return n;
};

const report: BrowserRbmReport = {
  status: 'running',
  progress: 'starting',
  userAgent: navigator.userAgent,
  adapter: null,
  blockspin: [],
  tfjs: null,
  notes: [],
  error: null,
};
window.rbmBench = report;
const logElement = document.getElementById('log');
function progress(message: string): void {
  report.progress = message;
  if (logElement) logElement.textContent += `${message}\n`;
}

/** The first TF.js backend (in order of preference) that initialises; with the reasons of the others. */
async function pickBackend(preferred: string[]): Promise<{ backend: string; failed: string[] }> {
  const failed: string[] = [];
  for (const name of preferred) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { backend: name, failed };
      }
      failed.push(`${name}: setBackend returned false`);
    } catch (err) {
      failed.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no TF.js backend initialised: ${failed.join('; ')}`);
}

/** The adapter (WebGPU) or renderer (WebGL) behind the TF.js backend, in words. */
function tfjsAdapter(backend: string): string {
  if (backend === 'webgpu') {
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    const info = device?.adapterInfo;
    return info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim() : 'unknown';
  }
  if (backend === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'unknown';
  }
  return 'CPU (JavaScript)';
}

async function run(): Promise<void> {
  const models = list('models', 'dense,conv').map((m) => {
    if (!(m in RBM_BENCH_MODELS))
      throw new RangeError(`?models: '${m}' must be one of ${Object.keys(RBM_BENCH_MODELS).join(', ')}`);
    return m as RbmBenchModel;
  });
  const ks = list('ks', '1,3').map(Number);
  const batch = int('batch', 100);
  const steps = int('steps', 5);
  const warmup = int('warmup', 2);
  const rngs = list('rng', 'uniform') as TfjsRng[];
  const samples = batch * 10;

  // Both libraries hold a device at once, and every configuration is timed blockspin first, then TF.js,
  // back to back, so that a machine whose load drifts (a shared CPU under SwiftShader) affects the pair alike.
  let gpu: GpuContext | null = null;
  if (params.get('blockspin') !== '0') {
    progress('blockspin: acquiring WebGPU');
    gpu = await GpuContext.acquire({ log: (m) => report.notes.push(m) });
    report.adapter = gpu.summary;
  }
  try {
    let tfjs: NonNullable<BrowserRbmReport['tfjs']> | null = null;
    if (params.get('tfjs') !== '0') {
      progress('TF.js: initialising a backend');
      const { backend, failed } = await pickBackend(list('backends', 'webgpu,webgl,cpu'));
      tfjs = {
        backend,
        version: tf.version_core,
        adapter: tfjsAdapter(backend),
        failed,
        convCheck: null,
        results: [],
      };
      report.tfjs = tfjs;
    }
    for (const model of models) {
      const spec = RBM_BENCH_MODELS[model];
      const conv = spec.options.conv;
      if (tfjs && conv) {
        progress('TF.js: checking the conv layers against loops');
        tfjs.convCheck = TfjsCdTrainer.checkConv(conv);
        if (!(tfjs.convCheck < 1e-3)) {
          throw new Error(`TF.js conv layers disagree with the loop oracle by ${tfjs.convCheck}`);
        }
      }
      const rows = randomBinaryRows(samples, spec.nv);
      for (const k of ks) {
        if (gpu) {
          progress(`blockspin: ${model} k=${k}`);
          report.blockspin.push(
            ...(await benchRbm(gpu.device, { models: [model], ks: [k], batch, steps, warmup, samples })),
          );
        }
        for (const rng of tfjs ? rngs : []) {
          progress(`TF.js ${tfjs?.backend}: ${model} k=${k} rng=${rng}`);
          tfjs?.results.push(await timeTfjs(model, k, rng, rows, { batch, steps, warmup }));
        }
      }
    }
  } finally {
    gpu?.destroy();
  }
}

/** Times `steps` TF.js CD-k updates after `warmup`, from the first queued op to the last one done. */
async function timeTfjs(
  model: RbmBenchModel,
  k: number,
  rng: TfjsRng,
  rows: Float32Array,
  o: { batch: number; steps: number; warmup: number },
): Promise<TfjsRbmResult> {
  const spec = RBM_BENCH_MODELS[model];
  const trainer = new TfjsCdTrainer({ nv: spec.nv, nh: spec.nh, conv: spec.options.conv }, rows, {
    batch: o.batch,
    k,
    lr: 0.01,
    rng,
  });
  try {
    for (let i = 0; i < o.warmup; i++) trainer.step();
    await trainer.sync();
    const tensors = tf.memory().numTensors;
    const t0 = performance.now();
    for (let i = 0; i < o.steps; i++) trainer.step();
    await trainer.sync();
    const seconds = (performance.now() - t0) / 1000;
    if (tf.memory().numTensors !== tensors) {
      report.notes.push(
        `TF.js ${model} k=${k}: tensor count grew from ${tensors} to ${tf.memory().numTensors} (a leak)`,
      );
    }
    return {
      model,
      batch: o.batch,
      k,
      rng,
      steps: o.steps,
      seconds,
      ...throughput(model, o.batch, k, o.steps, seconds),
    };
  } finally {
    trainer.dispose();
  }
}

run().then(
  () => {
    progress('done');
    report.status = 'done';
  },
  (err: unknown) => {
    report.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    progress(`error: ${report.error}`);
    report.status = 'error';
  },
);
