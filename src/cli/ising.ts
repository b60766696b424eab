/** `blockspin ising` (one run with observables and error bars) and `blockspin generate` (data sets). */
import { Command, Option } from 'commander';
import { GpuContext } from '../gpu/device.ts';
import { datasetFiles, checkOutputDirectory, writeDataset, type SpinFormat } from '../io/dataset-files.ts';
import { totalmem } from 'node:os';
import {
  resolveIsingConfig,
  type IsingAlgorithm,
  type IsingInit,
  type IsingKernel,
} from '../ising/config.ts';
import { generateDataset, resolveDatasetOptions } from '../ising/dataset.ts';
import { IsingEngine } from '../ising/engine.ts';
import { isingRunEstimates, replicaAgreement } from '../ising/estimates.ts';
import { choiceArg, integerArg, numberArg, temperatureGrid } from './args.ts';
import { adapterBrief } from './info.ts';
import { interruptSignal, progressBar } from './progress.ts';
import { deviceLossCatcher, reportDeviceLoss } from './device-loss.ts';
import { loadPartialDataset, resumeFiles, type PartialDataset } from '../io/dataset-resume.ts';

interface IsingCliOptions {
  L: number;
  Ly?: number;
  dims: 1 | 2;
  T: number;
  J: number;
  h: number;
  replicas: number;
  therm: number;
  sweeps: number;
  algo: IsingAlgorithm;
  kernel: IsingKernel;
  init: IsingInit;
  seed: number;
  corrEvery?: number;
  json?: boolean;
}

const VERSION = '0.1.0';

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * Refuses, before any GPU work, output that would not fit in this machine's memory (half of it, leaving room
 * for the copies made while encoding and for everything else), naming the options and the limit.
 */
function checkHostMemory(what: string, bytes: number): void {
  const limit = totalmem() / 2;
  if (bytes > limit) {
    throw new RangeError(
      `${what} needs ${gib(bytes)} of host memory; this machine has ${gib(totalmem())} (at most half of it is used)`,
    );
  }
}

function fmt(x: { mean: number; err: number }, digits = 6): string {
  return `${x.mean.toFixed(digits)} ± ${x.err.toFixed(digits)}`;
}

async function runIsing(options: IsingCliOptions): Promise<void> {
  const engineOptions = {
    L: options.L,
    Ly: options.Ly,
    dims: options.dims,
    replicas: options.replicas,
    T: options.T,
    J: options.J,
    h: options.h,
    algorithm: options.algo,
    kernel: options.kernel,
    seed: options.seed,
    init: options.init,
  };
  const config = resolveIsingConfig(engineOptions); // every rule that needs no adapter, before GPU work
  if (options.sweeps < 2) throw new Error(`--sweeps ${options.sweeps} must be at least 2 to estimate errors`);
  const corrEvery = options.corrEvery ?? Math.max(1, Math.ceil(config.distances / 4));
  // The series stay in host memory until the end: 2 × i32 per replica and measurement as read back, then
  // 2 × f64 per replica in the per-replica series; G(r): i32 + f64 per replica, distance and record.
  checkHostMemory(
    `--sweeps ${options.sweeps} × --replicas ${config.replicas}`,
    options.sweeps * config.replicas * 24 +
      Math.ceil(options.sweeps / corrEvery) * config.replicas * config.distances * 12,
  );
  const gpu = await GpuContext.acquire();
  const interrupt = interruptSignal();
  const progress = progressBar();
  let engine: IsingEngine | undefined;
  try {
    engine = new IsingEngine(gpu.device, engineOptions);
    // A lost device ends the run like an interruption: what was read back is reported (exit status 75).
    const loss = deviceLossCatcher();
    await engine
      .run({
        sweeps: options.therm,
        signal: interrupt.signal,
        onProgress: (d, n) => progress.update('thermalise', d, n),
      })
      .catch(loss.keep);
    const thermLoss = loss.lost();
    if (thermLoss) {
      progress.stop();
      reportDeviceLoss(thermLoss, 'it was lost while thermalising: nothing was measured');
      return;
    }
    engine.clearMeasurements();
    const t0 = performance.now();
    const run = await engine
      .run({
        sweeps: interrupt.signal.aborted ? 0 : options.sweeps,
        measureEvery: 1,
        correlationEvery: corrEvery,
        signal: interrupt.signal,
        onProgress: (d, n) => progress.update('measure', d, n),
      })
      .catch(loss.keep);
    const ms = performance.now() - t0;
    progress.stop();
    // After a loss these answer from what was read back (nothing is asked of the GPU).
    const series = await Promise.all(Array.from({ length: config.replicas }, (_, r) => engine!.series(r)));
    const correlations = await engine.correlations();
    const measured = series[0]!.energy.length;
    const lost = loss.lost();
    if (lost && measured < 2) {
      reportDeviceLoss(lost, `${measured} measurement(s) were read back before it: nothing to report`);
      return;
    }
    if (measured < 2) {
      throw new Error(`only ${measured} measurement(s) before the interruption; nothing to report`);
    }
    const estimates = isingRunEstimates({
      energy: series.map((s) => s.energy),
      magnetization: series.map((s) => s.magnetization),
      beta: 1 / options.T,
      N: config.sites,
      correlations,
      replicas: config.replicas,
    });
    // Replicas share T, J and h: one far from the others is stuck (e.g. a stripe state), not unlucky.
    const agreement = replicaAgreement(
      series.map((s) => s.magnetization),
      config.sites,
    );
    if (agreement?.warning) process.stderr.write(`blockspin: warning: ${agreement.warning}\n`);
    const result = {
      L: config.Lx,
      Ly: config.Ly,
      dims: config.dims,
      T: options.T,
      J: options.J,
      h: options.h,
      replicas: config.replicas,
      therm: options.therm,
      // measureEvery 1: after a loss, the sweeps measured are the measurements read back.
      sweeps: run?.sweepsDone ?? measured,
      interrupted: lost !== null || run?.aborted === true || interrupt.signal.aborted,
      deviceLost: lost?.message ?? null,
      algo: config.algorithm,
      kernel: config.kernel,
      seed: options.seed,
      measurements: measured,
      ...estimates,
      replicaAgreement: agreement,
      flipsPerNs: (config.replicas * config.sites * (run?.sweepsDone ?? measured)) / (ms * 1e6),
      adapter: adapterBrief(gpu.summary),
      blockspin: VERSION,
    };
    const kept = `printed what the ${result.sweeps} sweeps measured before it`;
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (lost) reportDeviceLoss(lost, kept);
      return;
    }
    const a = gpu.summary;
    const lines = [
      `Ising ${config.dims === 1 ? `ring N=${config.Lx}` : `${config.Lx}×${config.Ly}`}, T=${options.T}, h=${options.h}, ` +
        `${config.replicas} replica(s), ${result.sweeps} sweeps after ${options.therm} (${config.algorithm}, ${config.kernel})` +
        (lost ? ' — DEVICE LOST' : result.interrupted ? ' — INTERRUPTED' : ''),
      `energy/spin        ${fmt(estimates.energy)}`,
      `|m|                ${fmt(estimates.absMagnetization)}`,
      `m²                 ${fmt(estimates.m2)}`,
      `m⁴                 ${fmt(estimates.m4)}`,
      `Binder U4          ${fmt(estimates.binder)}`,
      `susceptibility     ${fmt(estimates.susceptibility, 4)}`,
      `specific heat      ${fmt(estimates.specificHeat, 4)}`,
      `τ_int (sweeps)     E ${estimates.tauInt.energy.toFixed(2)}, |m| ${estimates.tauInt.absMagnetization.toFixed(2)}`,
      `G(r)               ${estimates.correlation.map((g) => `${g.r}:${g.mean.toFixed(4)}`).join(' ')}`,
      `speed              ${result.flipsPerNs.toFixed(4)} spin updates/ns on ${a.vendor} ${a.architecture}${a.software ? ' (software)' : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (lost) reportDeviceLoss(lost, kept);
  } finally {
    progress.stop();
    interrupt.dispose();
    engine?.destroy();
    gpu.destroy();
  }
}

interface GenerateCliOptions {
  L: number;
  Ly?: number;
  T: number[];
  samples: number;
  every: number;
  therm: number;
  chains?: number;
  algo: IsingAlgorithm;
  kernel: IsingKernel;
  init: IsingInit;
  seed: number;
  format: SpinFormat;
  out: string;
  force?: boolean;
  json?: boolean;
  resume?: string;
}

/** The options `generate --resume` takes from the partial set (refused on the command line). */
const RESUMED_OPTIONS = [
  'L',
  'Ly',
  'T',
  'samples',
  'every',
  'therm',
  'chains',
  'algo',
  'kernel',
  'init',
  'seed',
  'format',
];

/**
 * `generate --resume DIR.partial`: fills `options` from the partial set (its generation options and spin
 * format) and returns it; the output defaults to DIR (DIR.partial without the suffix).
 */
async function resumeOptions(options: GenerateCliOptions, cmd: Command): Promise<PartialDataset> {
  const given = RESUMED_OPTIONS.filter((name) => cmd.getOptionValueSource(name) === 'cli');
  if (given.length > 0) {
    throw new Error(
      `--resume continues a data set with the settings it was started with; drop ${given.map((n) => `--${n}`).join(', ')}`,
    );
  }
  const partial = await loadPartialDataset(options.resume as string);
  const o = partial.options;
  Object.assign(options, {
    L: o.L,
    Ly: o.Ly,
    T: o.temperatures,
    samples: o.samples,
    every: o.every,
    therm: o.therm,
    chains: o.chains,
    algo: o.algorithm,
    kernel: o.kernel,
    seed: o.seed,
    format: partial.format,
    ...('init' in o ? { init: o.init } : {}),
  });
  if (options.out === undefined) {
    const m = /^(.*[^/])\.partial\/?$/.exec(options.resume as string);
    if (!m)
      throw new Error(
        `--resume ${options.resume} does not end in .partial; give --out DIR for the finished set`,
      );
    options.out = m[1] as string;
  }
  return partial;
}

async function runGenerate(options: GenerateCliOptions, command: string, cmd: Command): Promise<void> {
  const partial = options.resume ? await resumeOptions(options, cmd) : null;
  const missing = ['L', 'T', 'samples', 'out'].filter(
    (k) => (options as unknown as Record<string, unknown>)[k] === undefined,
  );
  if (missing.length > 0) {
    throw new Error(
      `give ${missing.map((k) => `--${k}`).join(', ')} (or --resume DIR.partial to finish a partial data set)`,
    );
  }
  const datasetOptions = {
    L: options.L,
    Ly: options.Ly,
    temperatures: options.T,
    samples: options.samples,
    every: options.every,
    therm: options.therm,
    chains: options.chains,
    algorithm: options.algo,
    kernel: options.kernel,
    seed: options.seed,
    init: options.init,
  };
  const resolved = resolveDatasetOptions(datasetOptions);
  const config = resolveIsingConfig({
    L: resolved.L,
    Ly: resolved.Ly,
    replicas: resolved.temperatures.length * resolved.chains,
    T: 1,
    kernel: resolved.kernel,
    algorithm: resolved.algorithm,
    seed: resolved.seed,
    init: resolved.init,
  });
  // Every temperature's samples stay in memory until written, and each NPY file is encoded next to them.
  const sampleBytes = resolved.temperatures.length * resolved.samples * config.sites;
  checkHostMemory(
    `--samples ${resolved.samples} × ${resolved.temperatures.length} temperature(s) × ${config.Lx}×${config.Ly} spins`,
    sampleBytes * (options.format === 'packed' ? 1.125 : 2),
  );
  await checkOutputDirectory(options.out, options.force);
  const gpu = await GpuContext.acquire();
  const interrupt = interruptSignal();
  const progress = progressBar();
  try {
    const dataset = await generateDataset(gpu.device, {
      ...datasetOptions,
      ...(partial?.resume ? { resume: partial.resume } : {}),
      signal: interrupt.signal,
      onProgress: (phase, d, n) => progress.update(phase, d, n),
    });
    progress.stop();
    const files = datasetFiles(dataset, {
      format: options.format,
      adapter: adapterBrief(gpu.summary),
      command,
      version: VERSION,
    });
    // A partial set also carries what `generate --resume` needs to finish it.
    if (!dataset.complete) files.push(...resumeFiles(dataset, resolved, options.format));
    const { resolve } = await import('node:path');
    const partialDir = options.resume ? resolve(options.resume) : null;
    // Resuming rewrites the partial set it started from (when stopped again).
    const replacesPartial = !dataset.complete && partialDir === resolve(`${options.out}.partial`);
    const dir = await writeDataset(options.out, files, dataset.complete, options.force || replacesPartial);
    if (dataset.complete && partialDir && partialDir !== dir) {
      await (await import('node:fs/promises')).rm(partialDir, { recursive: true, force: true });
    }
    const summary = {
      out: dir,
      complete: dataset.complete,
      files: files.map((f) => f.name),
      temperatures: dataset.temperatures.map((t) => ({
        T: t.T,
        samples: t.samples,
        interval: t.interval,
        tauInt: t.tauInt,
        agreement: t.agreement ?? null,
      })),
    };
    for (const t of dataset.temperatures) {
      if (t.agreement?.warning)
        process.stderr.write(`blockspin: warning: T=${t.T}: ${t.agreement.warning}\n`);
    }
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(
        `${dataset.complete ? 'wrote' : 'INTERRUPTED — wrote the partial data set to'} ${dir}\n` +
          summary.temperatures
            .map(
              (t) =>
                `  T=${t.T}: ${t.samples} samples every ${t.interval} sweeps (τ_int E ${t.tauInt.energy.toFixed(1)}, |m| ${t.tauInt.absMagnetization.toFixed(1)})`,
            )
            .join('\n') +
          '\n',
      );
    }
    if (dataset.deviceLost) {
      reportDeviceLoss(
        dataset.deviceLost,
        dataset.resume
          ? `wrote the samples saved before it to ${dir}; finish them with generate --resume ${dir}`
          : `it was lost before sampling; generate --resume ${dir} starts over with the same settings`,
      );
    } else if (!dataset.complete) process.exitCode = 130;
  } finally {
    progress.stop();
    interrupt.dispose();
    gpu.destroy();
  }
}

/** --algo and --kernel, shared by `ising` and `generate`. */
function algoOption(): Option {
  return new Option(
    '--algo <a>',
    'metropolis | heatbath (checkerboard) | sw (Swendsen–Wang clusters: 2D, h = 0, J > 0)',
  )
    .argParser(choiceArg('--algo', ['metropolis', 'heatbath', 'sw'] as const))
    .default('metropolis');
}

/** --init, shared by `ising` and `generate`. */
function initOption(): Option {
  return new Option('--init <s>', 'start: random (hot) | up | down (ordered; use below T_c)')
    .argParser(choiceArg('--init', ['random', 'up', 'down'] as const))
    .default('random');
}

function kernelOption(): Option {
  return new Option('--kernel <k>', 'simple | packed (L multiple of 32)')
    .argParser(choiceArg('--kernel', ['simple', 'packed'] as const))
    .default('simple');
}

export function registerIsing(program: Command): void {
  program
    .command('ising')
    .description('simulate the 2D Ising model (or a 1D ring) and print observables with error bars')
    .requiredOption(
      '--L <n>',
      'lattice width (or ring length with --dims 1); even, ≥ 2',
      integerArg('--L', 2),
    )
    .option('--Ly <n>', 'lattice height (default L)', integerArg('--Ly', 2))
    .addOption(
      new Option('--dims <d>', 'dimensions')
        .choices(['1', '2'])
        .default(2)
        .argParser((v) => Number(v) as 1 | 2),
    )
    .requiredOption('--T <t>', 'temperature (> 0)', numberArg('--T', { positive: true }))
    .option('--J <j>', 'coupling', numberArg('--J'), 1)
    .option('--h <h>', 'field', numberArg('--h'), 0)
    .option('--replicas <n>', 'independent replicas', integerArg('--replicas', 1), 16)
    .option('--therm <n>', 'thermalisation sweeps', integerArg('--therm', 0), 1000)
    .option('--sweeps <n>', 'measured sweeps', integerArg('--sweeps', 0), 4000)
    .addOption(initOption())
    .addOption(algoOption())
    .addOption(kernelOption())
    .option('--seed <n>', 'random seed', integerArg('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option(
      '--corr-every <n>',
      'measure G(r) every n measurements (default ⌈(L/2+1)/4⌉)',
      integerArg('--corr-every', 1),
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Defaults: 16 replicas × (1000 thermalisation + 4000 measured) sweeps, sized for a first answer in
seconds: at --L 16 --T 2.269 they give E/N to ±0.002, ⟨|m|⟩ to ±0.003, U4 to ±0.002 and C to ±1 % in
about 20 s of CPU time on a software (SwiftShader) adapter, where the cost grows with replicas × sweeps ×
L². Error bars shrink as 1/√(replicas × sweeps): raise --sweeps or --replicas for more digits.
Near T_c, τ_int (printed) grows as L^2.17 with metropolis and heatbath: from L = 64 on, raise --therm and
--sweeps with it, or use --algo sw (Swendsen–Wang; τ_int(|m|) of a few sweeps at T_c, e.g. 2.8 against 43
for Metropolis at L = 32; zero field and J > 0 only).
Below T_c a random start can stay in a stripe state (two domain walls across the torus) for thousands of
sweeps: use --init up there. The run warns (stderr; replicaAgreement in --json) when one replica's ⟨|m|⟩
is far from the others' beyond their errors.`,
    )
    .action((options: IsingCliOptions) => runIsing(options));

  program
    .command('generate')
    .description('write equilibrated configurations over a temperature grid (NPY + dataset.json)')
    .option('--L <n>', 'lattice width; even, ≥ 2 (required unless --resume)', integerArg('--L', 2))
    .option('--Ly <n>', 'lattice height (default L)', integerArg('--Ly', 2))
    .option('--T <grid>', 'temperatures: start:stop:step, a comma list, or one value', temperatureGrid)
    .option(
      '--samples <n>',
      'configurations per temperature (required unless --resume)',
      integerArg('--samples', 1),
    )
    .option(
      '--every <n>',
      'least sweeps between samples of a chain (the τ_int-based interval wins if larger)',
      integerArg('--every', 1),
      1,
    )
    .option('--therm <n>', 'thermalisation sweeps', integerArg('--therm', 0), 1000)
    .option(
      '--chains <n>',
      'independent chains per temperature (default min(8, samples))',
      integerArg('--chains', 1),
    )
    .addOption(algoOption())
    .addOption(kernelOption())
    .addOption(initOption())
    .option('--seed <n>', 'random seed', integerArg('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option(
      '--format <f>',
      'int8 (±1) | packed (numpy.packbits)',
      choiceArg('--format', ['int8', 'packed'] as const),
      'int8',
    )
    .option('--out <dir>', 'output directory (created; must be absent or empty; required unless --resume)')
    .option('--force', 'replace a non-empty output directory')
    .option(
      '--resume <dir>',
      'finish the partial data set DIR.partial that an interrupted run or a lost GPU left, with its settings (bit-exact on the same adapter); writes DIR unless --out',
    )
    .option('--json', 'print a JSON summary')
    .action((options: GenerateCliOptions, cmd: Command) =>
      runGenerate(options, `blockspin ${process.argv.slice(2).join(' ')}`, cmd),
    );
}
