/**
 * RBM training throughput: CD-k updates per second of the dense (nv = 1024, nh = 256) and the
 * convolutional (32×32 periodic lattice, one 8×8 filter, stride 2: Chung & Kao) RBM engines, as samples/s
 * and achieved GFLOP/s. Browser-safe (no node: imports): the same function runs on Dawn in Node and in
 * the browser harness page (bench/rbm-browser/), next to the TensorFlow.js peer.
 *
 * Timing is wall clock: `steps` calls of `RbmEngine.step()` (one submission each, no read-back) and one
 * `queue.onSubmittedWorkDone()`, after a warm-up. The engine submits through its own encoder, so GPU
 * timestamp queries cannot be routed into it; the wall clock therefore includes per-step uniform
 * uploads and submission overhead, which is part of what a training loop pays.
 *
 * FLOP count per update (multiply–add = 2 FLOP; activations, RNG, biases and the optimiser, all
 * O(B·(nv + nh)), are not counted):
 *   C = connections = nv·nh (dense) or F·P·kf² (conv: F filters of kf×kf at P = (Lv/s)² positions)
 *   sampling: 2k + 1 products of 2·B·C (h|v_data, then k × (v|h, h|v))
 *   gradient: 2 products of 2·B·C (⟨v h⟩_data and ⟨v h⟩_model)
 *   FLOP/update = 2·B·C·(2k + 3)
 * Dense 1024×256, B = 100: C = 262 144 → 367 MFLOP (k = 1), 629 MFLOP (k = 3).
 * Conv 32×32, 8×8, s = 2: C = 256·64 = 16 384 → 23 MFLOP (k = 1), 39 MFLOP (k = 3).
 */
import { RbmEngine, type AdapterSummary, type RbmOptions } from '../src/index.ts';
import { seededRandom } from './harness.ts';

export type RbmBenchModel = 'dense' | 'conv';

export interface RbmModelSpec {
  /** Short name used in reports. */
  name: RbmBenchModel;
  /** Human-readable geometry. */
  description: string;
  nv: number;
  nh: number;
  /** Weight connections per sample (see the FLOP formula above). */
  connections: number;
  options: RbmOptions;
}

/** The benchmarked geometries. */
export const RBM_BENCH_MODELS: Record<RbmBenchModel, RbmModelSpec> = {
  dense: {
    name: 'dense',
    description: 'dense 1024×256',
    nv: 1024,
    nh: 256,
    connections: 1024 * 256,
    options: { nv: 1024, nh: 256 },
  },
  conv: {
    name: 'conv',
    description: 'conv 32×32, 1 filter 8×8, stride 2',
    nv: 32 * 32,
    nh: 16 * 16,
    connections: 1 * 16 * 16 * 8 * 8,
    options: { conv: { Lv: 32, filters: 1, k: 8, stride: 2 } },
  },
};

/** Floating-point operations of one CD-k update: 2·B·C·(2k + 3) (see the module comment). */
export function rbmFlopsPerUpdate(model: RbmBenchModel, batch: number, k: number): number {
  return 2 * batch * RBM_BENCH_MODELS[model].connections * (2 * k + 3);
}

export interface RbmBenchResult {
  model: RbmBenchModel;
  batch: number;
  k: number;
  steps: number;
  seconds: number;
  samplesPerSec: number;
  gflops: number;
  timing: 'wall-clock';
}

export interface RbmBenchOptions {
  models: RbmBenchModel[];
  ks: number[];
  batch: number;
  steps: number;
  /** Untimed updates first (pipeline compilation, first touch); default 2. */
  warmup?: number;
  /** Training rows uploaded once (default 10 batches). */
  samples?: number;
}

/** Random binary rows (p = ½), deterministic in the seed: what every peer trains on. */
export function randomBinaryRows(rows: number, nv: number, seed = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(rows * nv);
  for (let i = 0; i < out.length; i++) out[i] = random() < 0.5 ? 0 : 1;
  return out;
}

/** Converts a wall-clock measurement of `steps` updates into the reported figures. */
export function throughput(
  model: RbmBenchModel,
  batch: number,
  k: number,
  steps: number,
  seconds: number,
): { samplesPerSec: number; gflops: number } {
  return {
    samplesPerSec: (batch * steps) / seconds,
    gflops: (rbmFlopsPerUpdate(model, batch, k) * steps) / seconds / 1e9,
  };
}

/**
 * Times `steps` CD-k updates (SGD, CD not PCD) for every model × k, after a warm-up.
 *
 * @example
 * const results = await benchRbm(device, { models: ['dense'], ks: [1, 3], batch: 100, steps: 10 });
 */
export async function benchRbm(device: GPUDevice, options: RbmBenchOptions): Promise<RbmBenchResult[]> {
  const { batch, steps } = options;
  const warmup = options.warmup ?? 2;
  const samples = options.samples ?? batch * 10;
  const results: RbmBenchResult[] = [];
  for (const model of options.models) {
    const spec = RBM_BENCH_MODELS[model];
    const rbm = new RbmEngine(device, { ...spec.options, seed: 1 });
    try {
      rbm.setData(randomBinaryRows(samples, spec.nv), samples);
      for (const k of options.ks) {
        rbm.configureTraining({ batch, k, optimizer: 'sgd', lr: 0.01 });
        for (let i = 0; i < warmup; i++) rbm.step();
        await device.queue.onSubmittedWorkDone();
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) rbm.step();
        await device.queue.onSubmittedWorkDone();
        const seconds = (performance.now() - t0) / 1000;
        results.push({
          model,
          batch,
          k,
          steps,
          seconds,
          ...throughput(model, batch, k, steps, seconds),
          timing: 'wall-clock',
        });
      }
    } finally {
      rbm.destroy();
    }
  }
  return results;
}

/** A peer's figure for one model and k (TensorFlow.js in the browser, scikit-learn on the CPU). */
export interface RbmPeerResult {
  name: string;
  model: RbmBenchModel;
  batch: number;
  k: number;
  samplesPerSec: number;
  gflops: number;
  /** Which TF.js variant (for the ratio columns); absent for other peers. */
  tfjsRng?: 'uniform' | 'hash';
}

/** What `blockspin bench rbm --json` prints. */
export interface RbmSuiteReport {
  /** The Node (Dawn) adapter. */
  adapter: AdapterSummary;
  /** blockspin: `runtime` 'node' (Dawn) or 'browser' (the harness page, next to TF.js). */
  results: (RbmBenchResult & { runtime: 'node' | 'browser' })[];
  peers: RbmPeerResult[];
  /** The browser harness: its Chromium, blockspin's adapter there, TF.js's backend and adapter. */
  browser: {
    chromium: string;
    adapter: AdapterSummary | null;
    tfjsBackend: string | null;
    tfjsAdapter: string | null;
    convCheck: number | null;
  } | null;
  notes: string[];
}

function describeAdapter(a: AdapterSummary): string {
  return `${a.vendor} ${a.architecture}${a.device ? ` ${a.device}` : ''} (${a.software ? 'software' : 'hardware'}, ${a.backend})`;
}

/** The human-readable report: blockspin rows with ratios against each TF.js variant, then the peers. */
export function formatRbmReport(report: RbmSuiteReport): string {
  const out: string[] = [];
  out.push(`adapter (Node): ${describeAdapter(report.adapter)}`);
  const b = report.browser;
  if (b) {
    out.push(
      `browser: ${b.chromium}; blockspin adapter ${b.adapter ? describeAdapter(b.adapter) : '–'}; ` +
        `TF.js backend ${b.tfjsBackend ?? '–'} on ${b.tfjsAdapter ?? '–'}`,
    );
  }
  const variants = [...new Set(report.peers.flatMap((p) => (p.tfjsRng ? [p.tfjsRng] : [])))];
  const header = [
    'model',
    'k',
    'batch',
    'runtime',
    'samples/s',
    'GFLOP/s',
    ...variants.map((v) => `vs TF.js (${v === 'uniform' ? 'tf.randomUniform' : 'hash RNG'})`),
  ];
  out.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const r of report.results) {
    const ratios = variants.map((v) => {
      const p = report.peers.find(
        (q) => q.tfjsRng === v && q.model === r.model && q.k === r.k && q.batch === r.batch,
      );
      return p ? `${(r.samplesPerSec / p.samplesPerSec).toFixed(2)}×` : '–';
    });
    const cells = [
      RBM_BENCH_MODELS[r.model].description,
      r.k,
      r.batch,
      r.runtime === 'node' ? 'Node (Dawn)' : 'browser (page with TF.js)',
      r.samplesPerSec.toPrecision(4),
      r.gflops.toPrecision(3),
      ...ratios,
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  if (report.peers.length) {
    out.push('', '| peer | model | k | batch | samples/s | GFLOP/s |', '|---|---|---|---|---|---|');
    for (const p of report.peers) {
      out.push(
        `| ${p.name} | ${RBM_BENCH_MODELS[p.model].description} | ${p.k} | ${p.batch} | ${p.samplesPerSec.toPrecision(4)} | ${p.gflops.toPrecision(3)} |`,
      );
    }
  }
  out.push(
    '',
    'timing: wall clock around the updates (see bench/rbm.ts); GFLOP/s from 2·B·C·(2k + 3), C = nv·nh (dense) or F·P·kf² (conv).',
  );
  for (const n of report.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}
