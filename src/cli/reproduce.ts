/**
 * `blockspin reproduce NAME`: runs a reproducible study (src/studies/registry.ts) at a preset and writes its report
 * directory (src/studies/report.ts): report.json, report.md, figures, arrays. Ctrl-C, SIGTERM or a lost device
 * stop it with a clearly partial report (`"complete": false`), never a half-written directory.
 */
import { Command, Option } from 'commander';
import { GpuContext } from '../gpu/device.ts';
import { deviceLostError, watchDeviceLoss } from '../gpu/lost.ts';
import {
  CHECKPOINT_DIR,
  checkpointFiles,
  directoryCheckpoints,
  readCheckpointRun,
  writeCheckpointRun,
} from '../studies/checkpoints.ts';
import { applyOverrides } from '../studies/overrides.ts';
import { checkStudyName, loadStudy, registerStudy, studyNames } from '../studies/registry.ts';
import {
  formatValueErr,
  formatZ,
  gitCommit,
  reportJson,
  writeReport,
  type ReportMeta,
} from '../studies/report.ts';
import { PRESETS, type Preset, type Study, type StudyContext, type StudyOutput } from '../studies/study.ts';
import { choiceArg, integerArg } from './args.ts';
import { reportDeviceLoss } from './device-loss.ts';
import { adapterBrief } from './info.ts';
import { formatDuration, interruptSignal, progressBar, type Progress } from './progress.ts';

const VERSION = '0.1.0';

/** Exit status of a run stopped by Ctrl-C or SIGTERM (its partial report written). */
export const INTERRUPTED_EXIT = 130;

/**
 * Test hook: `BLOCKSPIN_TEST_STUDY=PATH` registers the study exported as `study` by the module at PATH (a small
 * fake in the CLI tests), replacing one of the same name.
 */
export const TEST_STUDY_ENV = 'BLOCKSPIN_TEST_STUDY';

interface ReproduceCliOptions {
  preset?: Preset;
  seed?: number;
  out?: string;
  force?: boolean;
  resume?: string;
  json?: boolean;
  set?: string[];
}

async function registerTestStudy(): Promise<void> {
  const path = process.env[TEST_STUDY_ENV];
  if (!path) return;
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const module = (await import(pathToFileURL(resolve(path)).href)) as { study?: Study<unknown> };
  const study = module.study;
  if (!study || typeof study.name !== 'string') {
    throw new Error(`${TEST_STUDY_ENV}=${path}: the module exports no \`study\``);
  }
  registerStudy(study.name, () => Promise.resolve(study), { replace: true });
}

/** The default report directory: `reports/NAME-PRESET`. */
export function defaultReportDir(name: string, preset: Preset): string {
  return `reports/${name}-${preset}`;
}

/** Refuses an existing non-empty directory unless `force` (before any GPU work), naming it and --force. */
async function checkReportDir(dir: string, force: boolean): Promise<void> {
  const fs = await import('node:fs/promises');
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') throw new Error(`--out ${dir} is a file, not a directory`, { cause: err });
    throw err;
  });
  if (entries.length > 0 && !force) {
    const resumable = (entries as string[]).includes(CHECKPOINT_DIR)
      ? `, or --resume ${dir} to continue its run`
      : '';
    throw new Error(
      `report directory ${dir} exists and is not empty (${entries.length} entries); use --force to replace it${resumable}`,
    );
  }
}

/**
 * The preset's options with the run's seed: every study's options carry their base seed as `seed`, which
 * `--seed` replaces.
 */
export function presetOptions(
  study: Study<unknown>,
  preset: Preset,
  seed: number | undefined,
): { options: unknown; seed: number } {
  const options = study.presets[preset];
  const base = (options as { seed?: unknown } | null)?.seed;
  if (typeof options !== 'object' || options === null || typeof base !== 'number') {
    throw new Error(`study '${study.name}' preset '${preset}' has no numeric \`seed\` option`);
  }
  return seed === undefined ? { options, seed: base } : { options: { ...options, seed }, seed };
}

/** Progress on stderr: one bar (or plain lines) per stage, the previous one closed when a new stage starts. */
function stageProgress(): { update: StudyContext['progress']; stop: () => void } {
  let current: { stage: string; bar: Progress } | null = null;
  return {
    update(stage, done, total) {
      if (current?.stage !== stage) {
        current?.bar.stop();
        current = { stage, bar: progressBar('steps') };
      }
      current.bar.update(stage, done, total);
    },
    stop() {
      current?.bar.stop();
      current = null;
    },
  };
}

/** A few lines for people: status, where the report is, the results compared with their source (with z). */
export function formatReportSummary(json: ReturnType<typeof reportJson>, dir: string): string {
  const status = json.complete ? 'complete' : `PARTIAL (${json.stopped})`;
  const lines = [
    `${json.study} (${json.preset}, seed ${json.seed}): ${status}, ${formatDuration(json.wallSeconds)}; report in ${dir}`,
  ];
  const compared = json.results.filter((r) => r.source !== undefined);
  const shown = compared.length > 0 ? compared : json.results;
  if (shown.length === 0) {
    lines.push('no results');
    return lines.join('\n');
  }
  const rows = shown
    .slice(0, 24)
    .map((r) => [
      r.name,
      formatValueErr(r.value, r.err),
      r.source ? `${formatValueErr(r.source.value, r.source.err)} (${r.source.where})` : '',
      r.z === undefined ? '' : `z = ${formatZ(r.z)}`,
    ]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) {
    lines.push(
      `  ${row
        .map((x, c) => (c < 3 ? x.padEnd(widths[c]!) : x))
        .join('  ')
        .trimEnd()}`,
    );
  }
  if (shown.length > rows.length) lines.push(`  … ${shown.length - rows.length} more in ${dir}/report.md`);
  return lines.join('\n');
}

/** Default preset when neither --preset nor --resume gives one. */
const DEFAULT_PRESET: Preset = 'quick';

/**
 * Where and what to run: a fresh run (its report directory checked, old checkpoints cleared with --force) or
 * `--resume DIR` (the study, preset and seed of DIR's checkpoints; a different --preset/--seed/NAME is refused).
 */
async function resolveRun(
  name: string,
  o: ReproduceCliOptions,
): Promise<{
  out: string;
  preset: Preset;
  seedOption: number | undefined;
  overrides: string[];
  resumed: boolean;
}> {
  if (o.resume !== undefined) {
    if (o.out !== undefined && o.out !== o.resume)
      throw new Error(`--resume ${o.resume} writes its report there; --out ${o.out} names another directory`);
    if (o.force) throw new Error('--resume continues a run; --force (start over) contradicts it');
    const run = await readCheckpointRun(o.resume);
    if (run.study !== name)
      throw new Error(`--resume ${o.resume} holds a run of '${run.study}', not '${name}'`);
    if (!(PRESETS as readonly string[]).includes(run.preset))
      throw new Error(`--resume ${o.resume}: preset '${run.preset}' is not one of ${PRESETS.join(', ')}`);
    if (o.preset !== undefined && o.preset !== run.preset)
      throw new Error(`--resume ${o.resume} is a '${run.preset}' run; --preset ${o.preset} differs`);
    if (o.seed !== undefined && o.seed !== run.seed)
      throw new Error(`--resume ${o.resume} is a run with seed ${run.seed}; --seed ${o.seed} differs`);
    const overrides = run.overrides ?? [];
    if (o.set !== undefined && o.set.join('\n') !== overrides.join('\n'))
      throw new Error(
        `--resume ${o.resume} is a run with ${overrides.length === 0 ? 'no --set' : overrides.map((x) => `--set ${x}`).join(' ')}; ` +
          `${o.set.map((x) => `--set ${x}`).join(' ')} differs (leave --set out to resume as it was)`,
      );
    return { out: o.resume, preset: run.preset as Preset, seedOption: run.seed, overrides, resumed: true };
  }
  const preset = o.preset ?? DEFAULT_PRESET;
  const out = o.out ?? defaultReportDir(name, preset);
  await checkReportDir(out, o.force ?? false);
  return { out, preset, seedOption: o.seed, overrides: o.set ?? [], resumed: false };
}

async function runReproduce(name: string, o: ReproduceCliOptions): Promise<void> {
  await registerTestStudy();
  checkStudyName(name);
  const { out, preset, seedOption, overrides, resumed } = await resolveRun(name, o);
  const study = await loadStudy(name);
  const { options: presetValues, seed } = presetOptions(study, preset, seedOption);
  // Applied (and refused) before any checkpoint is written or a device acquired.
  const options = applyOverrides(presetValues, overrides);
  study.check(options);
  if (!resumed) {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    // A forced fresh run must not find the old run's checkpoints.
    await fs.rm(path.join(out, CHECKPOINT_DIR), { recursive: true, force: true });
  }
  await writeCheckpointRun(out, {
    study: study.name,
    preset,
    seed,
    ...(overrides.length > 0 ? { overrides } : {}),
  });
  const commit = await gitCommit();
  const gpu = await GpuContext.acquire();
  watchDeviceLoss(gpu.device);
  const interrupt = interruptSignal();
  const progress = stageProgress();
  const startedAt = new Date().toISOString();
  let output: StudyOutput;
  try {
    const context: StudyContext = {
      device: gpu.device,
      signal: interrupt.signal,
      progress: progress.update,
      log: (line) => void process.stderr.write(`blockspin: ${line}\n`),
      checkpoints: directoryCheckpoints(out),
    };
    try {
      output = await study.run(options, context);
    } catch (err) {
      const lost = deviceLostError(gpu.device);
      if (lost) {
        reportDeviceLoss(lost, `the study '${name}' kept nothing to report`);
        return;
      }
      if (interrupt.signal.aborted) {
        // A study that throws on cancellation instead of returning what it has: nothing to write.
        process.stderr.write(
          `blockspin: interrupted; the study '${name}' stopped without a partial output ` +
            `(${err instanceof Error ? err.message : String(err)}), so no report was written\n`,
        );
        process.exitCode = INTERRUPTED_EXIT;
        return;
      }
      throw err;
    } finally {
      progress.stop();
    }
    const lost = deviceLostError(gpu.device);
    const stopped = output.complete
      ? null
      : lost
        ? lost.message
        : interrupt.signal.aborted
          ? 'interrupted by Ctrl-C or SIGTERM'
          : 'the study stopped before the end';
    const meta: ReportMeta = {
      study: study.name,
      title: study.title,
      source: study.source,
      preset,
      overrides,
      seed,
      adapter: { ...adapterBrief(gpu.summary) },
      blockspin: VERSION,
      commit,
      command: `blockspin ${process.argv.slice(2).join(' ')}`,
      startedAt,
      finishedAt: new Date().toISOString(),
      stopped,
    };
    const json = reportJson(output, meta);
    // The report replaces the directory whole; the checkpoints go with it, so a partial report can be resumed.
    await writeReport(out, output, meta, { force: true, extraFiles: await checkpointFiles(out) });
    process.stdout.write(
      o.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatReportSummary(json, out)}\n`,
    );
    if (lost && !output.complete) reportDeviceLoss(lost, `wrote the partial report ${out}`);
    else if (!output.complete && interrupt.signal.aborted) process.exitCode = INTERRUPTED_EXIT;
  } finally {
    interrupt.dispose();
    gpu.destroy();
  }
}

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description(
      'reproduce a published study and write its report directory (report.json, report.md, figures)',
    )
    .argument('<name>', `the study (${studyNames().join(', ') || 'none registered yet'})`)
    .addOption(
      new Option(
        '--preset <p>',
        "test (< 1 min on a CPU adapter) | quick (default) | standard (~1 h) | paper (the source's sizes)",
      ).argParser(choiceArg('--preset', PRESETS)),
    )
    .option(
      '--seed <n>',
      "random seed (default: the preset's)",
      integerArg('--seed', 0, Number.MAX_SAFE_INTEGER),
    )
    .option('--out <dir>', 'report directory (default reports/NAME-PRESET)')
    .option('--force', 'replace a non-empty report directory')
    .option(
      '--resume <dir>',
      'continue the run whose report directory (partial report or checkpoints) is DIR, with its preset and seed',
    )
    .option(
      '--set <path=value>',
      "override one of the preset's options by its dotted path (repeatable), e.g. --set veigaLarge.epochs=200 " +
        '--set experiments=L100,L100extremes (the names are those of report.json settings)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json', 'print the report.json object')
    .addHelpText(
      'after',
      `
The report directory holds report.json (settings, seed, adapter, version and commit, wall time per stage,
complete, results with their source and z), report.md, figures/*.svg with the Vega-Lite spec beside each,
and arrays/*.npy. Ctrl-C or SIGTERM stops the study after the step in flight and writes a partial report
("complete": false; exit 130); a lost GPU device does the same with exit 75. While it runs the study keeps
checkpoints in DIR/checkpoints/ (the data set, each model after every epoch, MCRG statistics every minute);
--resume DIR continues from them (on the same adapter, bit for bit as if never stopped), also after a killed
process, and rewrites the report.`,
    )
    .action((name: string, options: ReproduceCliOptions) => runReproduce(name, options));
}
