/**
 * `blockspin mcrg`: Monte Carlo renormalization-group exponents y_t and y_h (Swendsen 1979) from Swendsen–Wang
 * (or local-update) configurations, or from a data file, with jackknife errors over bins of ≥ 10 τ_int;
 * `--out` writes a mergeable result directory. `blockspin mcrg merge` joins the directories of shards or of
 * independent runs into one analysis.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { K_C } from '../exact/ising.ts';
import { GpuContext } from '../gpu/device.ts';
import { checkOutputDirectory } from '../io/dataset-files.ts';
import { loadTrainingData } from '../rbm/data.ts';
import { loadModel } from '../rbm/model-files.ts';
import { isConvRbm } from '../rbm/model.ts';
import { orientProjector, type BlockingRule } from '../rg/blocking.ts';
import { formatMcrgTable, type McrgAnalysis, type McrgEstimate } from '../rg/mcrg.ts';
import {
  createMcrgResult,
  mcrgBlocks,
  mergeMcrgResults,
  readMcrgResult,
  writeMcrgResult,
  type JsonValue,
  type McrgResult,
} from '../rg/result-files.ts';
import {
  DEFAULT_MCRG_REPLICAS,
  McrgRunner,
  analyseBinned,
  measureConfigurations,
  resolveMcrgRun,
  type McrgAlgorithm,
  type McrgOptions,
  type McrgShard,
  type RunSpread,
} from '../rg/run.ts';
import type { OperatorTauTable } from '../rg/statistics.ts';
import { choiceArg, integerArg, numberArg } from './args.ts';
import { deviceLossCatcher, reportDeviceLoss } from './device-loss.ts';
import { adapterBrief } from './info.ts';
import { interruptSignal, progressBar } from './progress.ts';

const VERSION = '0.1.0';

/** Default configurations analysed: a first table in about a minute of a CPU adapter at L = 32. */
export const DEFAULT_MCRG_SAMPLES = 20_000;

interface McrgCliOptions {
  L?: number;
  T?: number;
  K?: number;
  algo?: McrgAlgorithm;
  blocking?: string;
  levels?: number;
  samples: number;
  every: number;
  therm: number;
  replicas: number;
  dims: 1 | 2;
  seed: number;
  shard?: McrgShard;
  blockLength?: number;
  data?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** `--shard i/n` with 0 ≤ i < n. */
export function shardArg(value: string): McrgShard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--shard '${value}' must be i/n, e.g. 3/16 (i counts from 0)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) {
    throw new InvalidArgumentError(`--shard ${value}: the index ${index} must be in 0 … ${count - 1}`);
  }
  return { index, count };
}

/** The coupling from --K or --T (default K_c); both is an error. */
function coupling(o: { K?: number; T?: number }): number {
  if (o.K !== undefined && o.T !== undefined) {
    throw new Error(`give --K ${o.K} or --T ${o.T}, not both (K = 1/T)`);
  }
  return o.K ?? (o.T !== undefined ? 1 / o.T : K_C);
}

/**
 * The blocking rule named by --blocking (an RBM projector is loaded from its model directory). A conv filter
 * with tied biases applies at any lattice size, so one trained on Lv × Lv blocks an L × L lattice as it is.
 */
async function blockingRule(spec: string | undefined, dims: 1 | 2, L: number): Promise<BlockingRule> {
  const name = spec ?? (dims === 2 ? 'majority' : 'decimation');
  if (name === 'majority' || name === 'majority3' || name === 'decimation') return name;
  if (name.startsWith('rbm:') && name.length > 4) {
    const dir = name.slice(4);
    const model = await loadModel(dir);
    if (!isConvRbm(model.rbm)) {
      throw new Error(
        `--blocking ${name}: the model is a dense RBM (${model.rbm.nv} × ${model.rbm.nh}); the projector is a convolutional ±1 RBM (rbm train --conv)`,
      );
    }
    const sized = model.rbm.Lv === L ? model.rbm : { ...model.rbm, Lv: L };
    if (sized !== model.rbm)
      process.stderr.write(
        `blockspin: the filter of ${dir} (trained on ${model.rbm.Lv}²) blocks ${L}² lattices\n`,
      );
    const oriented = orientProjector(sized);
    if (oriented.negated) {
      process.stderr.write(
        `blockspin: the filter of ${dir} sums to < 0: applied as −W (every block spin flipped: the same y_t, and a positive λ_h)\n`,
      );
    }
    return { rbm: oriented.rbm };
  }
  throw new Error(`--blocking '${name}' must be majority, majority3, decimation or rbm:MODEL_DIR`);
}

/** The most levels rule `b` allows on L with a final lattice ≥ 4, at most 3 (Chung & Kao's 32 → 4). */
function defaultLevels(L: number, b: number): number {
  let levels = 0;
  for (let side = L; levels < 3 && side % b === 0 && side / b >= 4; side /= b) levels++;
  return Math.max(1, levels);
}

function tauSummary(tau: OperatorTauTable | null): { [key: string]: JsonValue } | null {
  if (!tau) return null;
  return {
    max: tau.max.tauInt,
    maxError: tau.max.tauIntError,
    where: `level ${tau.max.level}, ${tau.max.name}`,
    converged: tau.converged,
    measurements: tau.n,
    perLevel: tau.tau.map((row) => row.map((t) => Number(t.tauInt.toFixed(3)))),
  };
}

/** The largest τ_int recorded by any part of a result (null if none recorded one). */
function resultTau(result: McrgResult): number | null {
  let max: number | null = null;
  for (const part of result.parts) {
    const t = (part.info?.tauInt as { max?: unknown } | null | undefined)?.max;
    if (typeof t === 'number' && Number.isFinite(t)) max = Math.max(max ?? 0, t);
  }
  return max;
}

interface Report {
  result: McrgResult;
  analysis: McrgAnalysis | null;
  /** Why there is no analysis (too few bins, singular A, …). */
  problem: string | null;
  /** τ_int from the runs' operator series (the largest over parts), when they recorded one. */
  tau: number | null;
  /** τ_int by binning the stored blocks: what sets the jackknife bins (the same for a merge and the unsplit run). */
  tauBlocks: number | null;
  bins: { length: number; count: number };
  /** The same estimates' errors from the spread of independent groups of chains (null: too few chains). */
  spread: RunSpread | null;
}

/** Analyses a result as analyseBinned does (bins of ≥ 10 τ_int from the blocks; the spread of groups of chains). */
function analyse(result: McrgResult): Report {
  return { result, tau: resultTau(result), ...analyseBinned(mcrgBlocks(result), result.settings) };
}

/** The estimates with `errRuns`, the error from the spread of independent groups of chains, where measured. */
function entries(
  list: McrgEstimate[],
  spread: number[] | undefined,
): (McrgEstimate & { errRuns?: number })[] {
  return list.map((e, i) => (spread ? { ...e, errRuns: spread[i] } : { ...e }));
}

function jsonReport(report: Report, extra: Record<string, unknown>): Record<string, unknown> {
  const { result, analysis } = report;
  return {
    ...extra,
    settings: result.settings,
    parts: result.parts.map((p) => ({ seed: p.seed, replicas: p.replicas, complete: p.complete })),
    complete: result.complete,
    samples: result.parts.reduce((s, p) => s + p.blocks.reduce((t, b) => t + b.count, 0), 0),
    tauInt: report.tau ?? report.tauBlocks,
    tauIntBlocks: report.tauBlocks,
    jackknife: { binLength: report.bins.length, bins: report.bins.count },
    problem: report.problem,
    independentGroups: report.spread?.groups ?? null,
    yt: analysis ? entries(analysis.yt, report.spread?.yt) : [],
    yh: analysis ? entries(analysis.yh, report.spread?.yh) : [],
    lambdaEven: analysis ? entries(analysis.lambdaEven, report.spread?.lambdaEven) : [],
    lambdaOdd: analysis ? entries(analysis.lambdaOdd, report.spread?.lambdaOdd) : [],
  };
}

function textReport(report: Report, title: string): string {
  const { analysis } = report;
  const samples = report.result.parts.reduce((s, p) => s + p.blocks.reduce((t, b) => t + b.count, 0), 0);
  const b = report.result.settings.b;
  const lines = [
    title,
    `${samples} configurations; τ_int (largest over operators and levels, in measurements): ` +
      `${report.tau === null ? 'no series' : `${report.tau.toFixed(2)} from the series`}, ` +
      `${report.tauBlocks === null ? 'too few blocks to bin' : `${report.tauBlocks.toFixed(2)} by binning the blocks`}; ` +
      `jackknife over ${report.bins.count} bins of ≥ ${report.bins.length} measurements (≥ 10 τ_int binned)`,
  ];
  if (!analysis) {
    lines.push(`no exponents: ${report.problem}`);
    return lines.join('\n');
  }
  lines.push(
    '',
    formatMcrgTable(analysis.yt, { title: `y_t, b = ${b}, ν = 1/y_t`, exact: 1 }),
    '',
    formatMcrgTable(analysis.yh, { title: `y_h, b = ${b}, 15/8 = 1.875`, exact: 1.875 }),
  );
  const spread = report.spread;
  if (spread) {
    // The jackknife error beside the spread of independent groups of chains, cell by cell.
    const cross = (list: McrgEstimate[], errs: number[], title: string): string => {
      const steps = [...new Set(list.map((e) => e.step))];
      const ncs = [...new Set(list.map((e) => e.nc))];
      const cell = (e: McrgEstimate, i: number): string =>
        `${e.err.toPrecision(2)} / ${errs[i]!.toPrecision(2)}`;
      const rows = ncs.map((nc) => [
        String(nc),
        ...steps.map((step) => {
          const i = list.findIndex((e) => e.step === step && e.nc === nc);
          return cell(list[i]!, i);
        }),
      ]);
      const table = [['N_c', ...steps.map((st) => `N_r = ${st}`)], ...rows];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
      return [
        title,
        ...table.map((r) =>
          r
            .map((x, c) => x.padEnd(widths[c]!))
            .join('  ')
            .trimEnd(),
        ),
      ].join('\n');
    };
    lines.push(
      '',
      cross(
        analysis.yt,
        spread.yt,
        `y_t errors: jackknife / spread of ${spread.groups} independent groups of chains`,
      ),
      '',
      cross(
        analysis.yh,
        spread.yh,
        `y_h errors: jackknife / spread of ${spread.groups} independent groups of chains`,
      ),
    );
  }
  return lines.join('\n');
}

function describe(s: { [key: string]: JsonValue }): string {
  const lattice = s.dims === 1 ? `ring of ${String(s.L)}` : `${String(s.L)}×${String(s.L)}`;
  const K = typeof s.K === 'number' ? `K = ${s.K.toPrecision(8)}` : 'K unknown';
  const source = typeof s.source === 'string' ? `data ${s.source}` : `${String(s.algorithm)}`;
  return `MCRG ${lattice}, ${K}, ${source}, ${String(s.blocking)} (b = ${String(s.b)}), ${String(s.levels)} level(s)`;
}

async function saveResult(dir: string | undefined, result: McrgResult, force: boolean): Promise<void> {
  if (dir) await writeMcrgResult(dir, result, { force });
}

async function runMcrgCommand(o: McrgCliOptions): Promise<void> {
  if (o.data !== undefined) return runData(o);
  if (o.L === undefined)
    throw new Error('--L is required (or --data PATH to analyse existing configurations)');
  const rule = await blockingRule(o.blocking, o.dims, o.L);
  const options: McrgOptions = {
    dims: o.dims,
    L: o.L,
    K: coupling(o),
    algorithm: o.algo,
    blocking: rule,
    levels: 1,
    samples: o.samples,
    replicas: o.replicas,
    every: o.every,
    therm: o.therm,
    seed: o.seed,
    shard: o.shard,
    blockLength: o.blockLength,
  };
  const b = resolveMcrgRun({ ...options, levels: 1, L: o.L }).b;
  options.levels = o.levels ?? defaultLevels(o.L, b);
  const record = resolveMcrgRun(options); // every rule that needs no adapter, before GPU work
  if (o.out) await checkOutputDirectory(o.out, o.force);
  const gpu = await GpuContext.acquire();
  const interrupt = interruptSignal();
  // Thermalisation counts sweeps, measuring counts measurements per replica.
  const bars = { thermalise: progressBar('sweeps'), measure: progressBar('measurements') };
  const progress = {
    update: (phase: 'thermalise' | 'measure', done: number, total: number): void => {
      if (phase === 'measure') bars.thermalise.stop();
      bars[phase].update(phase, done, total);
    },
    stop: (): void => {
      bars.thermalise.stop();
      bars.measure.stop();
    },
  };
  let runner: McrgRunner | undefined;
  const t0 = performance.now();
  try {
    runner = new McrgRunner(gpu.device, options);
    const loss = deviceLossCatcher();
    await runner
      .run(interrupt.signal, (phase, done, total) => progress.update(phase, done, total))
      .catch(loss.keep);
    progress.stop();
    const lost = loss.lost();
    const seconds = (performance.now() - t0) / 1000;
    let tau: OperatorTauTable | null = null;
    try {
      tau = runner.tauInt();
    } catch {
      tau = null; // fewer than 2 measurements
    }
    const blocks = runner.blocks();
    const info: { [key: string]: JsonValue } = {
      tauInt: tauSummary(tau),
      measurements: runner.measurements,
      seconds: Number(seconds.toFixed(2)),
      adapter: adapterBrief(gpu.summary) as unknown as JsonValue,
      blockspin: VERSION,
      command: `blockspin ${process.argv.slice(2).join(' ')}`,
    };
    if (blocks.length === 0) {
      const why = lost ? 'the GPU was lost' : 'it was interrupted';
      if (lost) reportDeviceLoss(lost, 'nothing was measured before it');
      else throw new Error(`nothing was measured before ${why}`);
      return;
    }
    const result = createMcrgResult(record, blocks, { complete: runner.complete, info });
    await saveResult(o.out, result, o.force ?? false);
    const report = analyse(result);
    const interrupted = !runner.complete;
    const extra = {
      interrupted,
      deviceLost: lost?.message ?? null,
      seconds,
      samplesPerSecond: (runner.measurements * record.replicas.count) / seconds,
      out: o.out ?? null,
      adapter: adapterBrief(gpu.summary),
      blockspin: VERSION,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(jsonReport(report, extra), null, 2)}\n`);
    else {
      const title =
        describe(record) +
        `, replicas ${record.replicas.first}…${record.replicas.first + record.replicas.count - 1} of ${record.totalReplicas}` +
        (interrupted
          ? ` — ${lost ? 'DEVICE LOST' : 'INTERRUPTED'} after ${runner.measurements} of ${record.measurements} measurements`
          : '');
      process.stdout.write(
        `${textReport(report, title)}\n\n${seconds.toFixed(1)} s, ${extra.samplesPerSecond.toFixed(1)} configurations/s` +
          (o.out
            ? `; result directory ${o.out}${interrupted ? ' (partial: complete false, mergeable)' : ''}`
            : '') +
          '\n',
      );
    }
    if (lost) reportDeviceLoss(lost, `printed and saved what the ${runner.measurements} measurements gave`);
  } finally {
    progress.stop();
    interrupt.dispose();
    runner?.destroy();
    gpu.destroy();
  }
}

/** `--data PATH`: the configurations of a data set (one temperature: --T) or an NPY file. */
async function runData(o: McrgCliOptions): Promise<void> {
  if (o.shard) throw new Error('--shard splits replicas of a simulation; it does not apply to --data');
  const data = await loadTrainingData(o.data!, {
    units: 'ising',
    binarize: false,
    temperatures: o.T !== undefined ? [o.T] : undefined,
  });
  const labels = data.labels ? [...new Set(data.labels)] : [];
  if (labels.length > 1) {
    throw new Error(
      `--data ${o.data} holds ${labels.length} temperatures (${labels.slice(0, 6).join(', ')}${labels.length > 6 ? ', …' : ''}): choose one with --T`,
    );
  }
  const shape = data.shape;
  const dims = shape.length === 1 ? 1 : 2;
  if (shape.length > 2 || (dims === 2 && shape[0] !== shape[1])) {
    throw new Error(
      `--data ${o.data}: configurations of shape [${shape.join(', ')}]; MCRG needs L×L or a ring of L`,
    );
  }
  if (o.L !== undefined && o.L !== shape[0]) {
    throw new Error(`--L ${o.L} does not match the data's configurations of side ${shape[0]}`);
  }
  const L = shape[0]!;
  const rule = await blockingRule(o.blocking, dims, L);
  const b = rule === 'majority3' ? 3 : typeof rule === 'string' ? 2 : rule.rbm.stride;
  const levels = o.levels ?? defaultLevels(L, b);
  const K = labels.length === 1 ? 1 / labels[0]! : (o.K ?? (o.T !== undefined ? 1 / o.T : null));
  if (o.out) await checkOutputDirectory(o.out, o.force);
  const gpu = await GpuContext.acquire();
  const interrupt = interruptSignal();
  const progress = progressBar('configurations');
  const t0 = performance.now();
  try {
    const run = await measureConfigurations(gpu.device, data.data, {
      dims,
      L,
      blocking: rule,
      levels,
      seed: o.seed,
      blockLength: o.blockLength,
      source: data.source,
      K,
      signal: interrupt.signal,
      onProgress: (done, total) => progress.update('block and measure', done, total),
    });
    progress.stop();
    const seconds = (performance.now() - t0) / 1000;
    if (run.done === 0) throw new Error('interrupted before any configuration was measured');
    const result = createMcrgResult(run.record, run.blocks, {
      complete: run.done === data.n,
      info: {
        tauInt: tauSummary(run.tau),
        seconds: Number(seconds.toFixed(2)),
        adapter: adapterBrief(gpu.summary) as unknown as JsonValue,
        blockspin: VERSION,
      },
    });
    await saveResult(o.out, result, o.force ?? false);
    const report = analyse(result);
    const extra = {
      interrupted: run.done < data.n,
      seconds,
      out: o.out ?? null,
      adapter: adapterBrief(gpu.summary),
    };
    if (o.json) process.stdout.write(`${JSON.stringify(jsonReport(report, extra), null, 2)}\n`);
    else process.stdout.write(`${textReport(report, describe(run.record))}\n`);
  } finally {
    progress.stop();
    interrupt.dispose();
    gpu.destroy();
  }
}

async function runMerge(dirs: string[], o: { out?: string; force?: boolean; json?: boolean }): Promise<void> {
  if (o.out) await checkOutputDirectory(o.out, o.force);
  const results = [];
  for (const dir of dirs) results.push(await readMcrgResult(dir));
  const merged = mergeMcrgResults(results);
  await saveResult(o.out, merged, o.force ?? false);
  const report = analyse(merged);
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify(jsonReport(report, { merged: dirs, out: o.out ?? null }), null, 2)}\n`,
    );
    return;
  }
  const title = `${describe(merged.settings)}; ${merged.parts.length} part(s) merged from ${dirs.length} director${dirs.length === 1 ? 'y' : 'ies'}${merged.complete ? '' : ' (some partial)'}`;
  process.stdout.write(`${textReport(report, title)}\n`);
}

export function registerMcrg(program: Command): void {
  const mcrg = program
    .command('mcrg')
    // `mcrg merge … --out D --json`: options after `merge` are merge's own, not mcrg's.
    .enablePositionalOptions()
    .description('MCRG exponents y_t and y_h with jackknife errors (Swendsen–Wang data or a data file)')
    .option('--L <n>', 'lattice side (or ring length with --dims 1)', integerArg('--L', 4))
    .option('--K <k>', 'coupling K = J/T (default K_c = 0.4406868)', numberArg('--K', { positive: true }))
    .option(
      '--T <t>',
      'temperature (alternative to --K; with --data: the data set temperature)',
      numberArg('--T', { positive: true }),
    )
    .addOption(
      new Option('--algo <a>', 'sw (2D default) | metropolis (ring default) | heatbath').argParser(
        choiceArg('--algo', ['sw', 'metropolis', 'heatbath'] as const),
      ),
    )
    .option(
      '--blocking <rule>',
      'majority (2D default, b=2) | majority3 (b=3) | decimation (ring default, b=2) | rbm:MODEL_DIR',
    )
    .option(
      '--levels <n>',
      'blocking steps (default: as many as leave a lattice ≥ 4, at most 3)',
      integerArg('--levels', 1, 16),
    )
    .option(
      '--samples <n>',
      'configurations analysed in all (over every replica and shard)',
      integerArg('--samples', 1, Number.MAX_SAFE_INTEGER),
      DEFAULT_MCRG_SAMPLES,
    )
    .option('--every <n>', 'sweeps between measurements', integerArg('--every', 1, 1_000_000), 1)
    .option('--therm <n>', 'thermalisation sweeps', integerArg('--therm', 0), 1000)
    .option(
      '--replicas <n>',
      'independent chains of the whole run',
      integerArg('--replicas', 1, 1 << 20),
      DEFAULT_MCRG_REPLICAS,
    )
    .addOption(
      new Option('--dims <d>', 'dimensions')
        .choices(['1', '2'])
        .default(2)
        .argParser((v) => Number(v) as 1 | 2),
    )
    .option('--seed <n>', 'random seed', integerArg('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option(
      '--shard <i/n>',
      'run only the i-th of n replica ranges (i from 0); merge the shards with mcrg merge',
      shardArg,
    )
    .option(
      '--block-length <n>',
      'measurements per stored block (default max(50, measurements/16))',
      integerArg('--block-length', 1),
    )
    .option(
      '--data <path>',
      'analyse existing ±1 configurations: a generate data set (with --T) or an NPY file',
    )
    .option('--out <dir>', 'write the mergeable result directory (sufficient statistics)')
    .option('--force', 'replace a non-empty output directory')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Tables are laid out like Chung & Kao's Table 1: rows N_c (the first N_c operators: 7 even for y_t, 4 odd for
y_h, in PHYSICS.md's order), columns N_r (the RG step). Errors: delete-one-bin jackknife over bins of at
least 10 τ_int (measured from the operators' series) and at least --block-length measurements of one chain.
Ctrl-C (or SIGTERM) stops after the submission in flight, prints what was measured and leaves a valid partial
result directory ("complete": false) that mcrg merge accepts.
Shards: the same command with --shard 0/n … n−1/n (e.g. a Slurm array or a Kubernetes Indexed Job) and
different --out, then 'blockspin mcrg merge DIR… --out ALL': the union is exactly the unsplit run
(docs/mcrg-shards.md).`,
    )
    .action((options: McrgCliOptions) => runMcrgCommand(options));

  mcrg
    .command('merge')
    .description('merge MCRG result directories (shards or independent runs) and analyse all samples at once')
    .argument('<dirs...>', 'result directories written by mcrg --out')
    .option('--out <dir>', 'write the merged result directory')
    .option('--force', 'replace a non-empty output directory')
    .option('--json', 'print one JSON object')
    .action((dirs: string[], options: { out?: string; force?: boolean; json?: boolean }) =>
      runMerge(dirs, options),
    );
}
