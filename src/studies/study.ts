/**
 * The shape every reproduced study takes (../shared/REPORTS.md): a typed options object with four presets,
 * a `run` built only from the engines' public API, and an output that src/studies/report.ts turns into a report
 * directory (report.json, report.md, figures as SVG from Vega-Lite specs, arrays as NPY). Runs in Node and in the
 * browser: a study never touches files itself; the context saves its checkpoints.
 */
import type { DirectoryFile } from '../io/atomic-dir.ts';
import type { NpyArray } from '../io/npy.ts';
import type { JsonValue } from '../rg/result-files.ts';
import type { BinnedAnalysis } from '../rg/run.ts';

/** Preset sizes: `test` (< 1 min on a CPU adapter), `quick` (minutes; the default), `standard` (~1 h), `paper`. */
export type Preset = 'test' | 'quick' | 'standard' | 'paper';

export const PRESETS: readonly Preset[] = ['test', 'quick', 'standard', 'paper'];

/** A published figure a result is compared with. */
export interface SourceValue {
  value: number;
  err: number;
  /** Where in the source, e.g. 'Table 1, N_r = 1, N_c = 7'. */
  where: string;
}

/** One headline or supporting number of a report (REPORTS.md): a stable dotted name, one standard error. */
export interface ResultEntry {
  name: string;
  value: number;
  err: number;
  unit: string;
  /** How it was obtained (samples, decorrelation, error method). */
  method: string;
  source?: SourceValue;
  /** Distance to the source in combined standard errors, (value − source) / √(err² + source.err²). */
  z?: number;
}

/** A figure: a Vega-Lite spec (data inline or in `data`), rendered to SVG headless in Node and live in the lab. */
export interface FigureSpec {
  /** File stem: `<name>.svg`, and `<name>.json` for the data behind it. */
  name: string;
  title: string;
  /** A Vega-Lite v6 specification (JSON). */
  spec: { [key: string]: JsonValue };
}

/** Wall time of one stage of a study. */
export interface StageTime {
  stage: string;
  seconds: number;
}

/** What a study hands back: everything report.ts needs to write the report directory. */
export interface StudyOutput {
  /** Every setting actually used (the preset's options after defaults), seeds included. */
  settings: { [key: string]: JsonValue };
  results: ResultEntry[];
  /** The body of report.md (tables laid out like the source's, the agreement/disagreement paragraph). */
  markdown: string;
  figures: FigureSpec[];
  /** Large arrays as NPY (weights, filters per epoch, …). */
  arrays: { name: string; npy: NpyArray }[];
  /** Extra files (e.g. a model directory's files under a prefix, `model/W.npy`). */
  files?: { name: string; bytes: Uint8Array }[];
  stages: StageTime[];
  /** False when the run was cancelled or lost its device: a clearly partial report. */
  complete: boolean;
}

/**
 * A live look into a running study, for views that draw it as it runs (the lab's panels); a report never needs
 * these (everything in it comes from the StudyOutput).
 * - `filter`: a model's current filter (k×k, row-major) after `updates` training updates (`epoch` may be
 *   fractional), a few times per epoch.
 * - `curve`: one new point (x, y) of a named series of a model, e.g. series 'loss' at epoch x.
 * - `mcrg`: the analyses so far of an MCRG stage, one per blocking rule (in `rules` order), after `samples`
 *   configurations; sent every few seconds and once at the end.
 * - `figure`: a figure of the run so far (e.g. a layer's receptive fields once it is trained), shown until the
 *   report's figures replace it; a later one of the same name replaces an earlier one.
 */
export type StudyUpdate =
  | { kind: 'filter'; model: string; k: number; W: Float32Array; epoch: number; updates: number }
  | { kind: 'curve'; model: string; series: string; x: number; y: number }
  | {
      kind: 'mcrg';
      stage: string;
      samples: number;
      rules: string[];
      analyses: BinnedAnalysis[];
      final: boolean;
    }
  | { kind: 'figure'; figure: FigureSpec };

/**
 * Where a study keeps what it has computed so that a later run continues instead of starting over (`reproduce
 * --resume DIR`): named checkpoints, each a small directory of files, replaced whole (a reader sees the old one or
 * the new one, never a mix). The CLI keeps them in the report directory's `checkpoints/`; a study reads them
 * at the start of each stage and writes them as it goes.
 */
export interface StudyCheckpoints {
  /** The files of checkpoint `name` (file name → bytes), or null when there is none. */
  read(name: string): Promise<ReadonlyMap<string, Uint8Array> | null>;
  /** Replaces checkpoint `name` by `files`. */
  write(name: string, files: readonly DirectoryFile[]): Promise<void>;
}

/** What a running study may use: the device, cancellation, progress, and checkpoints for resuming. */
export interface StudyContext {
  device: GPUDevice;
  signal?: AbortSignal;
  /** Progress of a stage (e.g. 'train', epoch 3 of 50). */
  progress(stage: string, done: number, total: number): void;
  /** A line for the log (stderr in the CLI, the lab's log pane). */
  log(line: string): void;
  /** Live intermediate results (optional: the CLI ignores them; the lab draws them). */
  update?(update: StudyUpdate): void;
  /** Checkpoints to resume from and to write (absent: the study keeps nothing between runs). */
  checkpoints?: StudyCheckpoints;
}

/** A reproducible study: its name (`blockspin reproduce NAME`), presets and run. */
export interface Study<O> {
  name: string;
  title: string;
  /** The source, e.g. 'Chung & Kao, arXiv:…, shared/papers/chung-kao-optimal-rsrg-rbm.md'. */
  source: string;
  /**
   * The options of each preset. They carry the run's base seed as a numeric `seed` (every other seed derives
   * from it); `reproduce --seed S` replaces it.
   */
  presets: Record<Preset, O>;
  /** Throws a RangeError naming a bad option and its limit (run() checks too; callers check before any work). */
  check(options: O): void;
  run(options: O, context: StudyContext): Promise<StudyOutput>;
}

/** z = (value − source) / √(err² + source.err²): the distance in combined standard errors. */
export function combinedZ(value: number, err: number, source: SourceValue): number {
  return (value - source.value) / Math.hypot(err, source.err);
}

/** Thrown inside a study when it was cancelled (its signal aborted): it then returns a partial report. */
export class StudyStopped extends Error {}
