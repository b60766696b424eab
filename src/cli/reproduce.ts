/**
 * `blockspin reproduce NAME`: runs a reproducible study (src/studies/registry.ts) at a preset and writes its report
 * directory (src/studies/report.ts): report.json, report.md, figures, arrays. Ctrl-C, SIGTERM or a lost device
 * stop it with a clearly partial report (`"complete": false`), never a half-written directory.
 */
import { Command, Option } from 'commander';
import { GpuContext } from '../gpu/device.ts';
import { deviceLostError, watchDeviceLoss } from '../gpu/lost.ts';
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
  preset: Preset;
  seed?: number;
  out?: string;
  force?: boolean;
  json?: boolean;
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
    throw new Error(
      `report directory ${dir} exists and is not empty (${entries.length} entries); use --force to replace it`,
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

async function runReproduce(name: string, o: ReproduceCliOptions): Promise<void> {
  await registerTestStudy();
  checkStudyName(name);
  const out = o.out ?? defaultReportDir(name, o.preset);
  await checkReportDir(out, o.force ?? false);
  const study = await loadStudy(name);
  const { options, seed } = presetOptions(study, o.preset, o.seed);
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
      preset: o.preset,
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
    await writeReport(out, output, meta, { force: o.force });
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
        "test (< 1 min on a CPU adapter) | quick | standard (~1 h) | paper (the source's sizes)",
      )
        .argParser(choiceArg('--preset', PRESETS))
        .default('quick'),
    )
    .option(
      '--seed <n>',
      "random seed (default: the preset's)",
      integerArg('--seed', 0, Number.MAX_SAFE_INTEGER),
    )
    .option('--out <dir>', 'report directory (default reports/NAME-PRESET)')
    .option('--force', 'replace a non-empty report directory')
    .option('--json', 'print the report.json object')
    .addHelpText(
      'after',
      `
The report directory holds report.json (settings, seed, adapter, version and commit, wall time per stage,
complete, results with their source and z), report.md, figures/*.svg with the Vega-Lite spec beside each,
and arrays/*.npy. Ctrl-C or SIGTERM stops the study after the step in flight and writes a partial report
("complete": false; exit 130); a lost GPU device does the same with exit 75. --resume is not available yet.`,
    )
    .action((name: string, options: ReproduceCliOptions) => runReproduce(name, options));
}
