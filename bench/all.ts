/**
 * `blockspin bench all`: everything a GPU session should measure, in one command and a fixed time budget, with the
 * peers a researcher would otherwise use measured back to back in the same run.
 *
 * Sections, in this order (each gets a share of `seconds`; time a section leaves unused passes to the next):
 *   ising     simple and packed checkerboard Metropolis, L = 1024, 2048, … (smoke: 64, 128), flips/ns
 *   cupy      bench/peers/cupy_ising.py at the same sizes (CuPy on CUDA, NumPy without it), flips/ns
 *   sw        Swendsen–Wang (packed), same sizes, flips/ns (throughput only; `bench sw` measures τ_int)
 *   heatbath  packed heat-bath, same sizes
 *   rbm       CD-k, batch 100: dense 1024×256 with the tiled and the direct product kernels, conv 32×32 (8×8, s = 2)
 *   torch     bench/peers/torch_rbm.py, the same models (PyTorch on CUDA, on the CPU without it), samples/s
 *   reduce    segmented reduction (bench/reduce.ts) with its TypeScript loop peer, elements/ns
 *   random    Philox4x32-10 and Threefry-4×32-20 fills (bench/random.ts) with the TypeScript Philox peer, words/ns
 *
 * Each Ising chain (kernel × algorithm) grows L by 2 while a figure took less than a third of the chain's
 * per-figure cap and the section has time left; a size the device refuses (buffer limits) ends the chain with a
 * note. DIR/bench.json and DIR/bench.md are rewritten (atomically) after every figure, so a run stopped at any
 * point leaves every figure measured so far.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  GpuTimer,
  IsingEngine,
  RbmEngine,
  type AdapterSummary,
  type IsingAlgorithm,
  type IsingKernel,
} from '../src/index.ts';
import { BENCH_ALL_SECTIONS } from '../src/cli/bench.ts';
import { median, type TimingSource } from './harness.ts';
import { benchRandom } from './random.ts';
import { RBM_BENCH_MODELS, randomBinaryRows, throughput, type RbmBenchModel } from './rbm.ts';
import { benchReduce } from './reduce.ts';

export { BENCH_ALL_SECTIONS };
export type BenchAllSection = (typeof BENCH_ALL_SECTIONS)[number];
export type BenchAllSize = 'smoke' | 'full';

/** Share of the budget per section (they sum to 1; unused time passes on). */
const SHARES: Record<BenchAllSection, number> = {
  ising: 0.2,
  cupy: 0.13,
  sw: 0.12,
  heatbath: 0.06,
  rbm: 0.16,
  torch: 0.17,
  reduce: 0.09,
  random: 0.07,
};

/** One measured figure, blockspin's or a peer's. `key` identifies what a peer figure is compared with. */
export interface BenchFigure {
  suite: 'ising' | 'rbm' | 'reduce' | 'random';
  /** 'blockspin' or the peer's name. */
  runtime: string;
  /** Kernel or variant: 'packed metropolis', 'dense tiled', 'philox uniform', … */
  kernel: string;
  /** Size: 'L=4096', 'k=1 batch=100', '4194304 f32', … */
  size: string;
  /** What a peer figure is matched on (same suite and key). */
  key: string;
  value: number;
  unit: 'flips/ns' | 'samples/s' | 'elements/ns' | 'words/ns';
  /** Per-run time behind the figure (median of the timed repeats), milliseconds. */
  ms: number | null;
  timing: TimingSource | string;
  gflops?: number;
  /** Wall seconds this figure cost (construction, warm-up, repeats). */
  seconds: number;
}

export interface BenchAllReport {
  tool: 'blockspin bench all';
  version: string;
  size: BenchAllSize;
  budgetSeconds: number;
  startedAt: string;
  updatedAt: string;
  complete: boolean;
  adapter: AdapterSummary;
  host: { node: string; platform: string; cpu: string; cpus: number };
  sections: {
    name: BenchAllSection;
    status: 'done' | 'skipped' | 'failed';
    seconds: number;
    note?: string;
  }[];
  figures: BenchFigure[];
  peers: BenchFigure[];
  notes: string[];
}

export interface BenchAllOptions {
  out: string;
  size: BenchAllSize;
  /** Whole-run budget, seconds. */
  seconds: number;
  sections: BenchAllSection[];
  /** Python interpreter for the peers (default python3). */
  python: string;
  /** Folder holding cupy_ising.py and torch_rbm.py. */
  peersDir: string | null;
  version: string;
  log: (line: string) => void;
}

/** Sizes and counts per run size. */
interface Plan {
  isingSizes: number[];
  swSizes: number[];
  /** Target milliseconds of one timed run, and the per-figure wall cap (seconds). */
  targetMs: number;
  figureCap: number;
  repeats: number;
  rbmKs: number[];
  rbmBatch: number;
  reduceSizes: number[];
  reduceTypes: ('f32' | 'i32')[];
  randomWords: number[];
  /** Most seconds a Python peer gets (beyond its section's share it never gets any). */
  peerSeconds: number;
}

const PLANS: Record<BenchAllSize, Plan> = {
  smoke: {
    isingSizes: [64, 128],
    swSizes: [64],
    targetMs: 30,
    figureCap: 3,
    repeats: 2,
    rbmKs: [1],
    // A dense CD-1 update at batch 100 takes seconds on SwiftShader's tiled kernel.
    rbmBatch: 10,
    reduceSizes: [1 << 16],
    reduceTypes: ['f32'],
    randomWords: [1 << 16],
    peerSeconds: 1.5,
  },
  full: {
    isingSizes: [1024, 2048, 4096, 8192, 16384, 32768, 65536],
    swSizes: [1024, 2048, 4096, 8192, 16384, 32768],
    targetMs: 150,
    figureCap: 12,
    repeats: 3,
    rbmKs: [1, 3],
    rbmBatch: 100,
    reduceSizes: [1 << 22, 1 << 24, 1 << 26],
    reduceTypes: ['f32', 'i32'],
    randomWords: [1 << 22, 1 << 24, 1 << 26],
    peerSeconds: Infinity,
  },
};

const T_C = 2.269185314213022;
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Writes a file whole or not at all (a reader never sees half a table). */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 1 ? x.toPrecision(4) : x.toPrecision(3);
}

/** The markdown table: one row per blockspin figure with the ratio against each peer figure of the same key. */
export function formatBenchAll(r: BenchAllReport): string {
  const a = r.adapter;
  const out: string[] = [
    `# blockspin bench all (${r.size})`,
    '',
    `adapter: ${a.vendor} ${a.architecture}${a.device ? ` ${a.device}` : ''} (${a.software ? 'software' : 'hardware'}, ${a.backend}); ` +
      `host: Node ${r.host.node}, ${r.host.cpus} × ${r.host.cpu}`,
    `started ${r.startedAt}, updated ${r.updatedAt}, budget ${r.budgetSeconds} s; ${r.complete ? 'complete' : 'RUNNING or stopped (partial)'}`,
    '',
    '| suite | kernel | size | blockspin | unit | peer | peer figure | blockspin ÷ peer | timing | ms/run |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const f of r.figures) {
    const peers = r.peers.filter((p) => p.suite === f.suite && p.key === f.key);
    const base = `| ${f.suite} | ${f.kernel} | ${f.size} | ${fmt(f.value)} | ${f.unit}`;
    const tail = `${f.timing} | ${f.ms === null ? '–' : fmt(f.ms)} |`;
    if (peers.length === 0) out.push(`${base} | – | – | – | ${tail}`);
    for (const p of peers) {
      const ratio = f.value / p.value;
      out.push(
        `${base} | ${p.runtime} | ${fmt(p.value)} | ${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}× | ${tail}`,
      );
    }
  }
  const unmatched = r.peers.filter((p) => !r.figures.some((f) => f.suite === p.suite && f.key === p.key));
  if (unmatched.length) {
    out.push(
      '',
      '| peer | suite | kernel | size | figure | unit | timing |',
      '|---|---|---|---|---|---|---|',
    );
    for (const p of unmatched) {
      out.push(
        `| ${p.runtime} | ${p.suite} | ${p.kernel} | ${p.size} | ${fmt(p.value)} | ${p.unit} | ${p.timing} |`,
      );
    }
  }
  out.push('', '| section | status | seconds | note |', '|---|---|---|---|');
  for (const s of r.sections)
    out.push(`| ${s.name} | ${s.status} | ${s.seconds.toFixed(1)} | ${s.note ?? ''} |`);
  if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** Runs a command with a hard timeout; resolves with its stdout, or rejects with its stderr's tail. */
function runPeer(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 << 20,
        env: { ...process.env, PYTHONUNBUFFERED: '1' },
      },
      (err, stdout, stderr) => {
        if (err) {
          const tail = String(stderr).trim().split('\n').slice(-3).join(' / ');
          reject(
            new Error(`${cmd} ${args[0] ?? ''}: ${err.message.split('\n')[0]}${tail ? ` (${tail})` : ''}`),
          );
        } else resolve(String(stdout));
      },
    );
  });
}

/** The JSON object a peer script prints (bench/peers/*.py --json). */
interface PeerOutput {
  name: string;
  device?: string;
  error?: string;
  notes?: string[];
  results: {
    suite: 'ising' | 'rbm';
    kernel: string;
    L?: number;
    model?: RbmBenchModel;
    k?: number;
    batch?: number;
    value: number;
    unit: 'flips/ns' | 'samples/s';
    ms?: number;
    gflops?: number;
    seconds?: number;
  }[];
}

/** Runs `bench all`; resolves with the final report (also in DIR/bench.json and DIR/bench.md). */
export async function benchAll(
  device: GPUDevice,
  adapter: AdapterSummary,
  options: BenchAllOptions,
): Promise<BenchAllReport> {
  const { log } = options;
  const plan = PLANS[options.size];
  await mkdir(options.out, { recursive: true });
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const report: BenchAllReport = {
    tool: 'blockspin bench all',
    version: options.version,
    size: options.size,
    budgetSeconds: options.seconds,
    startedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    complete: false,
    adapter,
    host: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
    },
    sections: [],
    figures: [],
    peers: [],
    notes: [],
  };
  const save = async (): Promise<void> => {
    report.updatedAt = new Date().toISOString();
    await writeAtomic(join(options.out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeAtomic(join(options.out, 'bench.md'), formatBenchAll(report));
  };
  const add = async (f: BenchFigure, peer = false): Promise<void> => {
    if (!Number.isFinite(f.value) || f.value <= 0) {
      report.notes.push(`dropped a non-finite figure: ${f.suite} ${f.kernel} ${f.size} = ${f.value}`);
    } else (peer ? report.peers : report.figures).push(f);
    log(`bench all: ${f.suite} ${f.kernel} ${f.size}: ${fmt(f.value)} ${f.unit} (${f.runtime})`);
    await save();
  };
  await save();

  // Section deadlines: cumulative shares of the budget over the sections that run.
  const chosen = BENCH_ALL_SECTIONS.filter((s) => options.sections.includes(s));
  const total = chosen.reduce((s, n) => s + SHARES[n], 0);
  let cumulative = 0;
  /** Sizes the Metropolis chains reached (the CuPy peer runs the same). */
  const isingReached = new Set<number>();

  const isingChain = async (
    kernel: IsingKernel,
    algo: IsingAlgorithm,
    sizes: number[],
    deadline: number,
  ): Promise<void> => {
    for (const L of sizes) {
      if (kernel === 'packed' && L % 32 !== 0) continue;
      if (elapsed() > deadline) {
        report.notes.push(`${kernel} ${algo}: stopped before L=${L} (section time spent)`);
        return;
      }
      const started = performance.now();
      let engine: IsingEngine | null = null;
      let timer: GpuTimer | null = null;
      try {
        engine = new IsingEngine(device, { L, T: T_C, kernel, algorithm: algo, seed: 1 });
        // Warm-up (pipelines, first touch), then calibration runs, 8× longer each until one fills a quarter of
        // the target (a short one measures submission latency, not sweeps), set the timed sweeps.
        await engine.run({ sweeps: 2, sweepsPerSubmit: 2 });
        let c0 = 0;
        let perSweep = 0;
        for (let n = 2; ; n *= 8) {
          c0 = performance.now();
          await engine.run({ sweeps: n, sweepsPerSubmit: Math.min(n, 64) });
          const ms = performance.now() - c0;
          perSweep = Math.max(ms / n, 1e-4);
          if (ms > plan.targetMs / 4 || n >= 512) break;
        }
        const sweeps = Math.max(2, Math.min(4096, Math.round(plan.targetMs / perSweep)));
        const perSubmit = Math.min(sweeps, 64);
        timer = GpuTimer.create(device, 5 * perSubmit + 16);
        const samples: number[] = [];
        for (let i = 0; i < plan.repeats; i++) {
          c0 = performance.now();
          const r = await engine.run({ sweeps, sweepsPerSubmit: perSubmit, timer: timer ?? undefined });
          samples.push(r.gpuMs ?? performance.now() - c0);
        }
        const ms = median(samples);
        const seconds = (performance.now() - started) / 1000;
        if (algo === 'metropolis') isingReached.add(L);
        await add({
          suite: 'ising',
          runtime: 'blockspin',
          kernel: `${kernel} ${algo}`,
          size: `L=${L}`,
          key: `${algo} L=${L}`,
          value: (L * L * sweeps) / (ms * 1e6),
          unit: 'flips/ns',
          ms,
          timing: `${timer ? 'timestamp-query' : 'wall-clock'}, ${sweeps} sweeps, median of ${plan.repeats}`,
          seconds,
        });
        if (seconds > plan.figureCap / 3) {
          if (L !== sizes[sizes.length - 1]) {
            report.notes.push(
              `${kernel} ${algo}: stopped after L=${L} (${seconds.toFixed(1)} s, cap ${plan.figureCap} s per figure)`,
            );
          }
          return;
        }
      } catch (err) {
        report.notes.push(`${kernel} ${algo} L=${L}: not measured (${errorText(err)}); larger sizes skipped`);
        log(`bench all: ${kernel} ${algo} L=${L}: ${errorText(err)}`);
        await save();
        return;
      } finally {
        timer?.destroy();
        engine?.destroy();
      }
    }
  };

  const rbmSection = async (deadline: number): Promise<void> => {
    const configs: { model: RbmBenchModel; matmul: 'tiled' | 'direct' | null }[] = [
      { model: 'dense', matmul: 'tiled' },
      { model: 'dense', matmul: 'direct' },
      { model: 'conv', matmul: null },
    ];
    const batch = plan.rbmBatch;
    const perConfig = Math.max(0.5, (deadline - elapsed()) / (configs.length * plan.rbmKs.length));
    for (const { model, matmul } of configs) {
      const spec = RBM_BENCH_MODELS[model];
      const kernel = matmul ? `${model} ${matmul}` : `${model} (conv kernels)`;
      let rbm: RbmEngine | null = null;
      try {
        rbm = new RbmEngine(device, { ...spec.options, seed: 1, ...(matmul ? { matmul } : {}) });
        const samples = batch * 10;
        rbm.setData(randomBinaryRows(samples, spec.nv), samples);
        for (const k of plan.rbmKs) {
          if (elapsed() > deadline) {
            report.notes.push(`rbm ${kernel} k=${k}: skipped (section time spent)`);
            continue;
          }
          const started = performance.now();
          rbm.configureTraining({ batch, k, optimizer: 'sgd', lr: 0.01 });
          const budget = Math.min(perConfig * 0.8, (plan.targetMs / 1000) * plan.repeats * 4);
          // Warm-up (pipelines, first touch); its time bounds a step's from above. Where two such steps fill the
          // budget (SwiftShader's tiled kernel) no calibration step follows.
          let c0 = performance.now();
          rbm.step();
          await device.queue.onSubmittedWorkDone();
          let perStep = Math.max((performance.now() - c0) / 1000, 1e-5);
          if (perStep * 2 < budget) {
            c0 = performance.now();
            rbm.step();
            await device.queue.onSubmittedWorkDone();
            perStep = Math.max((performance.now() - c0) / 1000, 1e-5);
          }
          const steps = Math.max(2, Math.min(2000, Math.floor(budget / perStep)));
          c0 = performance.now();
          for (let i = 0; i < steps; i++) rbm.step();
          await device.queue.onSubmittedWorkDone();
          const seconds = (performance.now() - c0) / 1000;
          const t = throughput(model, batch, k, steps, seconds);
          await add({
            suite: 'rbm',
            runtime: 'blockspin',
            kernel,
            size: `${spec.description}, k=${k}, batch=${batch}`,
            key: `${model} k=${k} batch=${batch}`,
            value: t.samplesPerSec,
            unit: 'samples/s',
            ms: (seconds * 1000) / steps,
            timing: `wall-clock, ${steps} CD-${k} updates`,
            gflops: t.gflops,
            seconds: (performance.now() - started) / 1000,
          });
        }
      } catch (err) {
        report.notes.push(`rbm ${kernel}: not measured (${errorText(err)})`);
        await save();
      } finally {
        rbm?.destroy();
      }
    }
  };

  const peerSection = async (
    script: 'cupy_ising.py' | 'torch_rbm.py',
    args: string[],
    deadline: number,
  ): Promise<string | undefined> => {
    if (!options.peersDir) return 'no peers folder (--peers-dir)';
    const path = join(options.peersDir, script);
    if (!existsSync(path)) return `${path} not found`;
    const seconds = Math.max(1, Math.min(plan.peerSeconds, deadline - elapsed()));
    const stdout = await runPeer(
      options.python,
      [path, '--json', '--seconds', seconds.toFixed(1), ...args],
      Math.round((seconds + 60) * 1000),
    );
    const peer = JSON.parse(stdout) as PeerOutput;
    for (const n of peer.notes ?? []) report.notes.push(`${peer.name}: ${n}`);
    if (peer.error) return `${peer.name}: ${peer.error}`;
    for (const r of peer.results) {
      const isIsing = r.suite === 'ising';
      const spec = r.model ? RBM_BENCH_MODELS[r.model] : null;
      await add(
        {
          suite: r.suite,
          runtime: peer.name,
          kernel: r.kernel,
          size: isIsing ? `L=${r.L}` : `${spec?.description ?? r.model}, k=${r.k}, batch=${r.batch}`,
          key: isIsing ? `metropolis L=${r.L}` : `${r.model} k=${r.k} batch=${r.batch}`,
          value: r.value,
          unit: r.unit,
          ms: r.ms ?? null,
          timing: peer.device ? `wall-clock on ${peer.device}` : 'wall-clock',
          ...(r.gflops === undefined ? {} : { gflops: r.gflops }),
          seconds: r.seconds ?? 0,
        },
        true,
      );
    }
    return undefined;
  };

  for (const name of chosen) {
    cumulative += SHARES[name];
    const deadline = (options.seconds * cumulative) / total;
    const started = elapsed();
    let status: 'done' | 'skipped' | 'failed' = 'done';
    let note: string | undefined;
    if (started > deadline) {
      report.sections.push({ name, status: 'skipped', seconds: 0, note: 'no time left' });
      await save();
      continue;
    }
    log(`bench all: ${name} (until ${deadline.toFixed(0)} s)`);
    try {
      switch (name) {
        case 'ising': {
          // The packed chain first, within half of the section's time; the simple chain gets the rest.
          const half = started + (deadline - started) / 2;
          await isingChain('packed', 'metropolis', plan.isingSizes, half);
          await isingChain('simple', 'metropolis', plan.isingSizes, deadline);
          break;
        }
        case 'sw':
          await isingChain('packed', 'sw', plan.swSizes, deadline);
          break;
        case 'heatbath':
          await isingChain('packed', 'heatbath', plan.isingSizes, deadline);
          break;
        case 'rbm':
          await rbmSection(deadline);
          break;
        case 'cupy': {
          const sizes = isingReached.size ? [...isingReached].sort((x, y) => x - y) : plan.isingSizes;
          note = await peerSection(
            'cupy_ising.py',
            ['--L', sizes.join(','), '--size', options.size],
            deadline,
          );
          break;
        }
        case 'torch':
          note = await peerSection(
            'torch_rbm.py',
            ['--models', 'dense,conv', '--ks', plan.rbmKs.join(','), '--batch', String(plan.rbmBatch)],
            deadline,
          );
          break;
        case 'reduce':
          for (const n of plan.reduceSizes) {
            if (elapsed() > deadline) break;
            const started = performance.now();
            const r = await benchReduce(device, {
              sizes: [n],
              types: plan.reduceTypes,
              repeats: plan.repeats * 3,
            });
            const seconds = (performance.now() - started) / 1000;
            for (const x of r.results) {
              await add({
                suite: 'reduce',
                runtime: 'blockspin',
                kernel: x.kernel,
                size: `${x.elements} ${x.type}`,
                key: `${x.elements} ${x.type}`,
                value: x.elementsPerNs,
                unit: 'elements/ns',
                ms: x.ms,
                timing: x.timing,
                seconds,
              });
            }
            for (const p of r.peer.results) {
              await add(
                {
                  suite: 'reduce',
                  runtime: r.peer.name,
                  kernel: 'sum, sum², min, max',
                  size: `${p.elements} ${p.type}`,
                  key: `${p.elements} ${p.type}`,
                  value: p.elementsPerNs,
                  unit: 'elements/ns',
                  ms: p.ms,
                  timing: 'wall-clock',
                  seconds,
                },
                true,
              );
            }
          }
          break;
        case 'random':
          for (const words of plan.randomWords) {
            if (elapsed() > deadline) break;
            const started = performance.now();
            const r = await benchRandom(device, { words, repeats: plan.repeats * 3 });
            const seconds = (performance.now() - started) / 1000;
            for (const x of r.results) {
              await add({
                suite: 'random',
                runtime: 'blockspin',
                kernel: x.kernel,
                size: `${x.words} words`,
                // Threefry rows have no CPU peer: compare them with the Philox rows of the same size.
                key: x.kernel.startsWith('threefry') ? 'threefry' : 'philox',
                value: x.wordsPerNs,
                unit: 'words/ns',
                ms: x.ms,
                timing: x.timing,
                seconds,
              });
            }
            if (!report.peers.some((p) => p.suite === 'random')) {
              await add(
                {
                  suite: 'random',
                  runtime: r.peer.name,
                  kernel: 'philox4x32',
                  size: `${r.peer.words} words`,
                  key: 'philox',
                  value: r.peer.wordsPerNs,
                  unit: 'words/ns',
                  ms: r.peer.ms,
                  timing: 'wall-clock',
                  seconds,
                },
                true,
              );
            }
          }
          break;
      }
      if (note) status = 'skipped';
    } catch (err) {
      status = 'failed';
      note = errorText(err);
      log(`bench all: ${name} failed: ${note}`);
    }
    report.sections.push({ name, status, seconds: elapsed() - started, ...(note ? { note } : {}) });
    await save();
  }
  report.complete = true;
  report.notes.push(`total ${elapsed().toFixed(1)} s`);
  await save();
  return report;
}
