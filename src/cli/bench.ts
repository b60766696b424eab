/** `blockspin bench <suite>`: benchmarks against a peer measured in the same run (see bench/README.md). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
// Types only: bench/ is loaded when a bench command runs (see loadBench), so that every other command works
// without it, as in the installed package, which does not ship it.
import type * as IsingBench from '../../bench/ising.ts';
import type * as RandomBench from '../../bench/random.ts';
import type * as ReduceBench from '../../bench/reduce.ts';
import type * as SwBench from '../../bench/sw.ts';
import type * as RbmBench from '../../bench/rbm.ts';
import type * as BrowserHarness from '../../bench/rbm-browser/harness.ts';
import type * as AllBench from '../../bench/all.ts';
import { GpuContext, type AdapterSummary } from '../gpu/device.ts';
import { choiceArg, integerArg, integerListArg } from './args.ts';

type RbmBenchModel = RbmBench.RbmBenchModel;

/**
 * Loads a module of bench/ (TypeScript, run from a source checkout). The benchmarks are development tools:
 * their CPU peers are the oracles of src/reference/ and the RBM peers need TensorFlow.js, Chromium and
 * scikit-learn, so the installed package does not ship them; there `bench` says so.
 */
async function loadBench<T>(file: string): Promise<T> {
  // The package root: the nearest folder with a package.json above this module (src/cli/ or dist/lib/).
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const path = join(root, 'bench', file);
  if (!existsSync(path)) {
    throw new Error(
      `'blockspin bench' runs from a source checkout: ${path} is not part of the installed package ` +
        '(git clone the blockspin repository, npm ci, then node bin/blockspin.js bench …)',
    );
  }
  if (!import.meta.url.endsWith('.ts')) {
    throw new Error(
      `'blockspin bench' runs from the TypeScript sources: this is the bundled CLI (${fileURLToPath(import.meta.url)}); ` +
        'run node bin/blockspin.js bench … in the source checkout',
    );
  }
  // A computed specifier: the bundler must not pull bench/ into dist/.
  return (await import(/* @vite-ignore */ pathToFileURL(path).href)) as T;
}

/**
 * bench/all.ts as handed over by the self-contained bench bundle (bench/bundle/entry.ts), which inlines it: that
 * bundle has no bench/ folder for loadBench to import. A source checkout leaves it unset and loads bench/all.ts.
 */
let providedBenchAll: typeof AllBench | undefined;

/** Hands `bench all` its driver module (the bench bundle's entry does this before the CLI runs). */
export function provideBenchAll(module: typeof AllBench): void {
  providedBenchAll = module;
}

/** The sections of `bench all`, in the order they run (bench/all.ts). */
export const BENCH_ALL_SECTIONS = [
  'ising',
  'cupy',
  'sw',
  'heatbath',
  'rbm',
  'torch',
  'reduce',
  'random',
] as const;

const parseCount = (name: string, max: number): ((value: string) => number) => integerArg(name, 1, max);
const parseSizes = integerListArg('--sizes', 1, 2 ** 28);

async function withGpu<T>(fn: (gpu: GpuContext) => Promise<T>): Promise<T> {
  const gpu = await GpuContext.acquire();
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}

/** The adapter a table's figures come from, as its first line. */
function adapterLine(a: AdapterSummary): string {
  return `adapter: ${a.vendor} ${a.architecture} (${a.software ? 'software' : 'hardware'}, ${a.backend})\n`;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('run a benchmark suite (figures as ratios against a peer)');

  bench
    .command('reduce')
    .description('segmented reduction (sum, sum of squares, min, max) vs a TypeScript loop')
    .option('--sizes <list>', 'comma-separated element counts', parseSizes, [1 << 20, 1 << 22])
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 10)
    .option('--json', 'print one JSON object')
    .action(async (options: { sizes: number[]; repeats: number; json?: boolean }) => {
      const { benchReduce } = await loadBench<typeof ReduceBench>('reduce.ts');
      await withGpu(async (gpu) => {
        const report = await benchReduce(gpu.device, { sizes: options.sizes, repeats: options.repeats });
        const out = { adapter: gpu.summary, ...report };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        process.stdout.write(adapterLine(gpu.summary));
        process.stdout.write(
          '| kernel | type | elements | ms | elements/ns | GB/s | vs CPU loop | timing |\n|---|---|---|---|---|---|---|---|\n',
        );
        for (const r of report.results) {
          const peer = report.peer.results.find((p) => p.type === r.type && p.elements === r.elements);
          process.stdout.write(
            `| ${r.kernel} | ${r.type} | ${r.elements} | ${r.ms.toFixed(3)} | ${r.elementsPerNs.toFixed(3)} | ${r.gbPerSec.toFixed(2)} | ${peer ? ratio(r.elementsPerNs, peer.elementsPerNs) : '–'} | ${r.timing} |\n`,
          );
        }
        for (const p of report.peer.results) {
          process.stdout.write(
            `peer ${report.peer.name}: ${p.type} ${p.elements}: ${p.elementsPerNs.toFixed(3)} elements/ns\n`,
          );
        }
      });
    });

  bench
    .command('random')
    .description('Philox4x32-10 fills vs the TypeScript reference generator')
    .option('--words <n>', 'words per GPU fill', parseCount('--words', 2 ** 28), 1 << 22)
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 10)
    .option('--json', 'print one JSON object')
    .action(async (options: { words: number; repeats: number; json?: boolean }) => {
      const { benchRandom } = await loadBench<typeof RandomBench>('random.ts');
      await withGpu(async (gpu) => {
        const report = await benchRandom(gpu.device, { words: options.words, repeats: options.repeats });
        const out = { adapter: gpu.summary, ...report };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        process.stdout.write(adapterLine(gpu.summary));
        process.stdout.write(
          '| kernel | words | ms | words/ns | vs CPU reference | timing |\n|---|---|---|---|---|---|\n',
        );
        for (const r of report.results) {
          process.stdout.write(
            `| ${r.kernel} | ${r.words} | ${r.ms.toFixed(3)} | ${r.wordsPerNs.toFixed(3)} | ${ratio(r.wordsPerNs, report.peer.wordsPerNs)} | ${r.timing} |\n`,
          );
        }
        process.stdout.write(`peer ${report.peer.name}: ${report.peer.wordsPerNs.toFixed(4)} words/ns\n`);
      });
    });

  bench
    .command('ising')
    .description('Ising sweeps: spin updates per ns of simple and packed kernels vs a TypeScript Metropolis')
    .option(
      '--L <list>',
      'comma-separated lattice sizes (default 256,512,1024; 256…4096 on hardware)',
      integerListArg('--L', 2, 65536),
    )
    .option(
      '--sweeps <n>',
      'least timed sweeps per configuration (more below 2^22 spin updates)',
      parseCount('--sweeps', 100000),
    )
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 3)
    .option('--json', 'print one JSON object')
    .action(async (options: { L?: number[]; sweeps?: number; repeats: number; json?: boolean }) => {
      const { benchIsing } = await loadBench<typeof IsingBench>('ising.ts');
      await withGpu(async (gpu) => {
        const a = gpu.summary;
        const sizes = options.L ?? (a.software ? [256, 512, 1024] : [256, 512, 1024, 2048, 4096]);
        const sweeps = options.sweeps ?? (a.software ? 10 : 200);
        const report = await benchIsing(gpu.device, { sizes, sweeps, repeats: options.repeats });
        const out = {
          adapter: a,
          results: report.results.map(({ kernel, algo, L, flipsPerNs, ms, sweeps: n, timing }) => ({
            kernel,
            algo,
            L,
            flipsPerNs,
            ms,
            sweeps: n,
            timing,
          })),
          peer: report.peer,
        };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        process.stdout.write(adapterLine(a));
        process.stdout.write(
          '| kernel | algo | L | sweeps | flips/ns | vs CPU peer | timing |\n|---|---|---|---|---|---|---|\n',
        );
        for (const r of report.results) {
          process.stdout.write(
            `| ${r.kernel} | ${r.algo} | ${r.L} | ${r.sweeps} | ${r.flipsPerNs.toFixed(4)} | ${ratio(r.flipsPerNs, report.peer.flipsPerNs)} | ${r.timing} |\n`,
          );
        }
        process.stdout.write(
          `peer ${report.peer.name}, L=${report.peer.L}: ${report.peer.flipsPerNs.toFixed(4)} flips/ns\n`,
        );
      });
    });

  bench
    .command('sw')
    .description(
      'Swendsen–Wang vs packed Metropolis at K_c: flips/ns and independent samples/s = sweeps/s ÷ 2τ_int(|m|)',
    )
    .option(
      '--L <list>',
      'comma-separated lattice sizes',
      integerListArg('--L', 4, 65536),
      [32, 64, 128, 256],
    )
    .option(
      '--tau-max-l <n>',
      "largest L where Metropolis's τ is measured; beyond, extrapolated with the fitted z (default 64 on a software adapter, 128 on hardware)",
      integerArg('--tau-max-l', 4, 65536),
    )
    .option(
      '--budget <n>',
      'site-sweeps per SW τ measurement, Metropolis gets 8× (default 2^25 on software, 2^31 on hardware)',
      integerArg('--budget', 2 ** 16, Number.MAX_SAFE_INTEGER),
    )
    .option(
      '--sweeps <n>',
      'least timed sweeps for the throughput (more below 2^22 spin updates)',
      parseCount('--sweeps', 100000),
      20,
    )
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 3)
    .option('--json', 'print one JSON object')
    .action(
      async (options: {
        L: number[];
        tauMaxL?: number;
        budget?: number;
        sweeps: number;
        repeats: number;
        json?: boolean;
      }) => {
        const { benchSw, formatSwReport } = await loadBench<typeof SwBench>('sw.ts');
        await withGpu(async (gpu) => {
          const a = gpu.summary;
          const report = await benchSw(gpu.device, {
            sizes: options.L,
            tauMaxL: options.tauMaxL ?? (a.software ? 64 : 128),
            budget: options.budget ?? (a.software ? 2 ** 25 : 2 ** 31),
            sweeps: options.sweeps,
            repeats: options.repeats,
            onProgress: (m) => void process.stderr.write(`bench sw: ${m}\n`),
          });
          if (options.json) {
            return void process.stdout.write(`${JSON.stringify({ adapter: a, ...report }, null, 2)}\n`);
          }
          process.stdout.write(adapterLine(a));
          process.stdout.write(`${formatSwReport(report)}\n`);
        });
      },
    );

  bench
    .command('rbm')
    .description(
      'RBM CD-k training throughput (dense 1024×256, conv 32×32/8×8) vs TensorFlow.js in the browser and scikit-learn',
    )
    .option(
      '--steps <n>',
      'timed updates per configuration (default 3 on a software adapter, 50 on hardware)',
      parseCount('--steps', 100000),
    )
    .option(
      '--warmup <n>',
      'untimed updates first (default 1 on software, 5 on hardware)',
      integerArg('--warmup', 0, 10000),
    )
    .option(
      '--models <list>',
      'comma-separated: dense, conv',
      (v: string) => v.split(',').map((m) => choiceArg('--models', ['dense', 'conv'] as const)(m.trim())),
      ['dense', 'conv'],
    )
    .option('--ks <list>', 'Gibbs steps per update, comma-separated', integerListArg('--ks', 1, 1000), [1, 3])
    .option('--batch <n>', 'minibatch size', parseCount('--batch', 100000), 100)
    .option(
      '--tfjs-rng <list>',
      "TF.js Bernoulli draws: 'uniform' (tf.randomUniform), 'hash' (on-device); default uniform on software, both on hardware",
      (v: string) => v.split(',').map((m) => choiceArg('--tfjs-rng', ['uniform', 'hash'] as const)(m.trim())),
    )
    .option(
      '--tfjs-backends <list>',
      'TF.js backends to try, in order (the first that initialises is used)',
      (v: string) =>
        v.split(',').map((m) => choiceArg('--tfjs-backends', ['webgpu', 'webgl', 'cpu'] as const)(m.trim())),
      ['webgpu', 'webgl', 'cpu'],
    )
    .option('--no-browser', 'skip the browser harness (TF.js peer and in-page blockspin)')
    .option('--no-browser-blockspin', 'in the browser harness, time only TF.js')
    .option('--no-sklearn', 'skip the scikit-learn peer')
    .option('--json', 'print one JSON object')
    .action(
      async (options: {
        steps?: number;
        warmup?: number;
        models: RbmBenchModel[];
        ks: number[];
        batch: number;
        tfjsRng?: ('uniform' | 'hash')[];
        tfjsBackends: string[];
        browser: boolean;
        browserBlockspin: boolean;
        sklearn: boolean;
        json?: boolean;
      }) => {
        const { benchRbm, formatRbmReport, RBM_BENCH_MODELS } = await loadBench<typeof RbmBench>('rbm.ts');
        const { runBrowserRbm, runSklearnRbm, sklearnUnavailable } =
          await loadBench<typeof BrowserHarness>('rbm-browser/harness.ts');
        const log = (m: string): void => void process.stderr.write(`${m}\n`);
        const notes: string[] = [];
        const { batch, ks, models } = options;
        const { report, steps, warmup } = await withGpu(async (gpu) => {
          const adapter = gpu.summary;
          const steps = options.steps ?? (adapter.software ? 3 : 50);
          const warmup = options.warmup ?? (adapter.software ? 1 : 5);
          log(
            `bench rbm: blockspin on ${adapter.vendor} ${adapter.architecture} (Node, Dawn): ${steps} timed updates after ${warmup}`,
          );
          const results = (await benchRbm(gpu.device, { models, ks, batch, steps, warmup })).map((r) => ({
            ...r,
            runtime: 'node' as const,
          }));
          const report: RbmBench.RbmSuiteReport = { adapter, results, peers: [], browser: null, notes: [] };
          return { report, steps, warmup };
        });
        const { software } = report.adapter;
        notes.push(`${steps} timed updates after ${warmup} warm-up per configuration`);

        if (options.sklearn && !(models.includes('dense') && ks.includes(1))) {
          notes.push(
            'scikit-learn peer omitted: BernoulliRBM is dense PCD-1 only (needs --models dense and k = 1)',
          );
        } else if (options.sklearn) {
          const why = sklearnUnavailable();
          if (why) notes.push(`scikit-learn peer omitted: ${why}`);
          else {
            log('bench rbm: scikit-learn BernoulliRBM (CPU)');
            const r = await runSklearnRbm({
              batch,
              nv: RBM_BENCH_MODELS.dense.nv,
              nh: RBM_BENCH_MODELS.dense.nh,
            });
            report.peers.push({
              name: r.name,
              model: 'dense',
              batch: r.batch,
              k: r.k,
              samplesPerSec: r.samplesPerSec,
              gflops: r.gflops,
            });
          }
        }

        if (options.browser) {
          try {
            const rngs = options.tfjsRng ?? (software ? ['uniform'] : ['uniform', 'hash']);
            const run = await runBrowserRbm({
              models,
              ks,
              batch,
              steps,
              warmup,
              rngs,
              backends: options.tfjsBackends,
              software,
              blockspin: options.browserBlockspin,
              log,
            });
            const page = run.report;
            notes.push(...page.notes);
            if (page.status === 'error') {
              notes.push(
                `browser harness failed: ${page.error}; console: ${run.consoleErrors.join(' | ') || '–'}`,
              );
            }
            const a = report.adapter;
            if (
              page.adapter &&
              `${page.adapter.vendor} ${page.adapter.architecture}` !== `${a.vendor} ${a.architecture}`
            ) {
              notes.push(
                `the browser's adapter (${page.adapter.vendor} ${page.adapter.architecture}) is not Node's (${a.vendor} ${a.architecture})`,
              );
            }
            notes.push(
              'browser rows are timed back to back with TF.js in one page; Node rows in an earlier phase of this run',
            );
            for (const r of page.blockspin) report.results.push({ ...r, runtime: 'browser' });
            const t = page.tfjs;
            if (t) {
              if (t.convCheck !== null)
                notes.push(
                  `TF.js conv layers agree with plain loops over the torus to ${t.convCheck.toExponential(1)}`,
                );
              if (t.failed.length)
                notes.push(`TF.js backends that did not initialise: ${t.failed.join('; ')}`);
              for (const r of t.results) {
                const rng = r.rng === 'uniform' ? 'tf.randomUniform' : 'on-device hash RNG';
                report.peers.push({
                  name: `TensorFlow.js ${t.version} ${t.backend} (browser, ${rng})`,
                  model: r.model,
                  batch: r.batch,
                  k: r.k,
                  samplesPerSec: r.samplesPerSec,
                  gflops: r.gflops,
                  tfjsRng: r.rng,
                });
              }
            }
            report.browser = {
              chromium: run.chromium,
              adapter: page.adapter,
              tfjsBackend: t?.backend ?? null,
              tfjsAdapter: t?.adapter ?? null,
              convCheck: t?.convCheck ?? null,
            };
          } catch (err) {
            notes.push(
              `browser harness (TF.js peer) not run: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        } else {
          notes.push('browser harness skipped (--no-browser): no TensorFlow.js peer');
        }
        report.notes.push(...notes);
        if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatRbmReport(report));
      },
    );

  bench
    .command('all')
    .description(
      'everything a GPU session measures, in one time budget: Ising simple/packed/SW/heat-bath from L = 1024 up, ' +
        'RBM dense (tiled, direct) and conv, reductions, Philox, with the CuPy and PyTorch peers (bench/peers/); ' +
        'DIR/bench.json and DIR/bench.md are rewritten after every figure',
    )
    .option('--out <dir>', 'folder for bench.json and bench.md', 'bench/results/all')
    .option(
      '--size <s>',
      "'smoke' (tiny sizes, seconds on SwiftShader) or 'full' (L = 1024 up); default smoke on a software adapter, full on hardware",
      choiceArg('--size', ['smoke', 'full'] as const),
    )
    .option(
      '--seconds <n>',
      'time budget of the whole run (default 170 full, 60 smoke); each section gets a share',
      integerArg('--seconds', 1, 86400),
    )
    .option(
      '--only <list>',
      'comma-separated sections: ising, cupy, sw, heatbath, rbm, torch, reduce, random (default all)',
      (v: string) => v.split(',').map((m) => choiceArg('--only', BENCH_ALL_SECTIONS)(m.trim())),
    )
    .option('--no-peers', 'skip the Python peers (cupy, torch)')
    .option('--python <cmd>', 'Python interpreter for the peers', 'python3')
    .option(
      '--peers-dir <dir>',
      'folder holding cupy_ising.py and torch_rbm.py (default bench/peers of the checkout, or $BLOCKSPIN_PEERS_DIR)',
    )
    .option('--json', 'print the final bench.json object instead of the markdown table')
    .action(
      async (options: {
        out: string;
        size?: 'smoke' | 'full';
        seconds?: number;
        only?: AllBench.BenchAllSection[];
        peers: boolean;
        python: string;
        peersDir?: string;
        json?: boolean;
      }) => {
        const module = providedBenchAll ?? (await loadBench<typeof AllBench>('all.ts'));
        let peersDir = options.peersDir ?? process.env.BLOCKSPIN_PEERS_DIR ?? null;
        if (!peersDir && import.meta.url.endsWith('.ts')) {
          peersDir = join(dirname(fileURLToPath(import.meta.url)), '../../bench/peers');
        }
        let sections = options.only ?? [...module.BENCH_ALL_SECTIONS];
        if (!options.peers) sections = sections.filter((s) => s !== 'cupy' && s !== 'torch');
        await withGpu(async (gpu) => {
          const size = options.size ?? (gpu.summary.software ? 'smoke' : 'full');
          const report = await module.benchAll(gpu.device, gpu.summary, {
            out: options.out,
            size,
            seconds: options.seconds ?? (size === 'full' ? 170 : 60),
            sections,
            python: options.python,
            peersDir,
            version: program.version() ?? 'unknown',
            log: (line) => void process.stderr.write(`${line}\n`),
          });
          process.stdout.write(
            options.json ? `${JSON.stringify(report, null, 2)}\n` : module.formatBenchAll(report),
          );
        });
      },
    );
}
