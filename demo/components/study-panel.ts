import { css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { version } from '../../package.json';
import {
  adapterBrief,
  formatValueErr,
  formatZ,
  loadStudy,
  renderFigure,
  reportFiles,
  type AdapterSummary,
  type FigureSpec,
  type McrgEstimate,
  type Preset,
  type ReportMeta,
  type Study,
  type StudyOutput,
  type StudyUpdate,
} from '../../src/index.ts';
import {
  FormCard,
  downloadLinks,
  formStyles,
  formatBytes,
  formatCount,
  inputField,
  jobButtons,
  panelStyles,
  progressLine,
  revokeDownloads,
  statusText,
  type CardProblem,
  type DownloadLink,
} from '../../src/elements/common.ts';

/** Where the panel is: reflected on the host as `data-status` (tests wait for `complete`, `partial` or `error`). */
export type StudyPanelStatus = 'waiting' | 'idle' | 'running' | 'stopping' | 'complete' | 'partial' | 'error';

/** The study a panel runs when its `study` attribute is not set. */
const DEFAULT_STUDY = 'chung-kao';
/** The presets offered in the page (`standard` and `paper` are hours on a CPU adapter: the CLI's job). */
const PANEL_PRESETS: readonly Preset[] = ['test', 'quick'];
const MAX_SEED = 2 ** 32 - 1;
/** Log lines kept in the pane. */
const LOG_LINES = 500;
/** Screen pixels per filter weight in the live filter view. */
const FILTER_PIXELS = 20;
/** Panel titles of the training curves the studies send (StudyUpdate `curve`); other series keep their name. */
const CURVE_SERIES: ReadonlyMap<string, string> = new Map([
  ['loss', 'free-energy loss'],
  ['reconstruction', 'reconstruction error'],
]);
/** Live training curves drawn, at most (the first series seen; the report has them all). */
const MAX_CURVE_SERIES = 4;

/** What the panel says about a study: its heading, a subtitle and a note under the form (by preset). */
interface StudyBlurb {
  heading: string;
  subtitle: string;
  note(preset: string): TemplateResult;
}

/** The studies with their own words in the page; any other registered study gets its title. */
const BLURBS: Readonly<Record<string, StudyBlurb>> = {
  'chung-kao': {
    heading: 'Chung & Kao in the page',
    subtitle: "a learned RG projector against majority rule · the CLI's study code",
    note: (preset) =>
      html`Critical 2D Ising data (Swendsen–Wang at K<sub>c</sub>), CD-3 training of 8×8 stride-2 filters,
        then MCRG with every learned filter and majority rule on the same samples, as
        <code>blockspin reproduce chung-kao --preset ${preset}</code>. <code>test</code>: 16², under a minute
        on a CPU adapter; <code>quick</code>: 32², minutes. Stop keeps what was done (a partial report).`,
  },
  qiu: {
    heading: 'Qiu in the page',
    subtitle: "an RBM that decimates a 1D ring, and MNIST reconstructions · the CLI's study code",
    note: (preset) =>
      html`Exact draws of a 64-spin ring at K = 1, an RBM 64 → 32 with L1: its weight profiles, the hidden
        spins' correlations against the decimated ring at K′ = 0.6625 and the reconstruction error beside
        exact decimation; then MNIST 0s and 1s through 784 → 144 (reconstructions, filters, samples of long
        chains), as <code>blockspin reproduce qiu --preset ${preset}</code>. <code>test</code>: seconds;
        <code>quick</code>: minutes on a CPU adapter. Stop keeps what was done.`,
  },
  'mehta-schwab': {
    heading: 'Mehta & Schwab in the page',
    subtitle: "a deep belief network's receptive fields against block spins · the CLI's study code",
    note: (preset) =>
      html`Near-critical 2D Ising data (Swendsen–Wang), a DBN trained layer by layer with L1, and each layer's
        receptive fields (the products of the weights back to the lattice): their half-mass radius against
        ideal block spins, permuted weights and site-shuffled data, and off-critical data, as
        <code>blockspin reproduce mehta-schwab --preset ${preset}</code>. <code>test</code>: seconds;
        <code>quick</code>: minutes on a CPU adapter. Stop keeps what was done.`,
  },
};
/** Milliseconds between two renders of the live training curves, at least (each is a Vega render). */
const CURVE_INTERVAL_MS = 1000;
/** Rows N_c of the live MCRG table (Chung & Kao's Table 1). */
const MCRG_NC = 7;
/** Columns N_r of the live MCRG table, where the analysis has them. */
const MCRG_STEPS = [1, 2];

interface StudyForm {
  preset: string;
  seed: string;
}

interface StudyRequest {
  preset: Preset;
  seed: number;
}

/** One stage the study reported through `context.progress`, in the order they began. */
interface StageProgress {
  name: string;
  done: number;
  total: number;
}

/** A figure of the output, rendered to SVG (or why it could not be). */
interface RenderedFigure {
  name: string;
  title: string;
  svg?: string;
  error?: string;
}

type FilterUpdate = Extract<StudyUpdate, { kind: 'filter' }>;
type McrgUpdate = Extract<StudyUpdate, { kind: 'mcrg' }>;
type FigureUpdate = Extract<StudyUpdate, { kind: 'figure' }>;

/** The latest filter of a model (StudyUpdate `filter`), with its scale and the frames seen of it. */
interface FilterFrame extends FilterUpdate {
  maxAbs: number;
  frames: number;
}

/** One point of a live training curve. */
interface CurvePoint {
  model: string;
  series: string;
  epoch: number;
  value: number;
}

/** The live training curves, rendered to SVG (or why they could not be), and how many points they hold. */
interface RenderedCurves {
  points: number;
  svg?: string;
  error?: string;
}

/** A finished (or stopped) run: the study's output and where and how it ran. */
interface StudyRun {
  request: StudyRequest;
  output: StudyOutput;
  meta: ReportMeta;
}

/** Validates the form (no GPU work): errors name the value and the limit. */
export function parseStudyForm(form: StudyForm): { request: StudyRequest } | { problems: CardProblem[] } {
  const problems: CardProblem[] = [];
  const preset = form.preset as Preset;
  if (!PANEL_PRESETS.includes(preset)) {
    problems.push({
      field: 'preset',
      message: `preset '${form.preset}' must be one of ${PANEL_PRESETS.join(', ')} (standard and paper: the CLI)`,
    });
  }
  const text = form.seed.trim();
  const seed = Number(text);
  if (text === '' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    problems.push({
      field: 'seed',
      message: `seed = ${text || '(empty)'} must be an integer in 0 … ${formatCount(MAX_SEED)}`,
    });
  }
  return problems.length ? { problems } : { request: { preset, seed } };
}

/** The study's options of `preset` with the run's base seed (the contract: presets carry a numeric `seed`). */
function presetOptions(study: Study<unknown>, preset: Preset, seed: number): unknown {
  const base = study.presets[preset];
  if (typeof base !== 'object' || base === null || typeof (base as { seed?: unknown }).seed !== 'number') {
    throw new Error(`study '${study.name}' preset '${preset}' has no numeric seed to replace`);
  }
  return { ...base, seed };
}

/** Colour of the weight w/max in [−1, 1]: white at 0, red for positive, blue for negative (as the report's filters). */
function divergingColour(t: number): [number, number, number] {
  const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.min(1, Math.abs(t));
  return [247 + (r - 247) * a, 247 + (g - 247) * a, 247 + (b - 247) * a];
}

/** Draws a k×k filter into its canvas (one canvas pixel per weight; CSS scales it up), scaled by max |W|. */
function drawFilter(canvas: HTMLCanvasElement, frame: FilterFrame): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { k, W, maxAbs } = frame;
  const image = context.createImageData(k, k);
  for (let i = 0; i < k * k; i++) {
    const [r, g, b] = divergingColour(maxAbs > 0 ? W[i]! / maxAbs : 0);
    image.data.set([r, g, b, 255], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

/** The panel title of a curve series. */
function curveTitle(series: string): string {
  return CURVE_SERIES.get(series) ?? series;
}

/** The live training curves as one Vega-Lite figure: a panel per series, a line per model, by epoch. */
function curvesFigure(points: readonly CurvePoint[]): FigureSpec {
  const titles = [...new Set(points.map((p) => curveTitle(p.series)))];
  return {
    name: 'training-live',
    title: 'Training, by epoch',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: {
        values: points.map((p) => ({
          model: p.model,
          series: curveTitle(p.series),
          epoch: p.epoch,
          value: p.value,
        })),
      },
      facet: { column: { field: 'series', type: 'nominal', sort: titles, title: null } },
      spec: {
        width: 220,
        height: 120,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
          color: { field: 'model', type: 'nominal', title: null },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/**
 * A lab panel that runs a reproduced study in the page with the same study code as `blockspin reproduce NAME`:
 * the study named by its `study` attribute (default `chung-kao`: Chung & Kao's RBM-learned block-spin projector
 * against majority rule — critical data by Swendsen–Wang, training of the filters, then MCRG with every learned
 * filter and majority rule on the same samples; `qiu`: an RBM decimating a 1D ring, and MNIST; `mehta-schwab`:
 * a DBN's receptive fields against block spins; any registered study runs). While it runs the panel shows the stage and its progress (`context.progress`) and the
 * study's log (`context.log`); when it ends, the results table (value ± one standard error, the source's value
 * and the distance z in combined errors), the report's figures (Vega-Lite specs rendered to SVG by
 * renderFigure) and "Download report", which offers every file of the report directory (reportFiles).
 * Stop aborts the study's signal: the study returns what it has, shown marked partial.
 *
 * While it runs the panel also draws the study's live updates (`context.update`): the latest filter of the model
 * being trained as a k×k image (blue negative, white 0, red positive, scaled by max |W|; the last filter of each
 * earlier model stays beside it), the training curves by epoch of every model (the loss and reconstruction error,
 * or whatever series the study sends, the first four; a Vega-Lite chart rendered by renderFigure, at most once a
 * second), the figures the study sends while it runs (StudyUpdate `figure`, e.g. a layer's receptive fields;
 * replaced by the report's figures at the end), and the current MCRG stage's y_t table (rows N_c = 1 … 7, a
 * column per rule and N_r = 1, 2), replaced as samples come in and marked final at the end of the stage.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `idle` | `running` | `stopping` | `complete` |
 * `partial` | `error`) and `data-error` (`input` | `failed` | `lost`); `data-testid` on the controls
 * (`study-preset`, `study-seed`, `study-run`, `study-stop`), the progress (`study-progress`: `data-phase` is the
 * stage), each stage seen (`study-stage`: `data-stage`, `data-state` = `running` | `done` | `stopped`,
 * `data-done`, `data-total`), the log (`study-log`), the live filter view (`study-filter-view`: `data-filter-frames`
 * = filter frames received), each model's filter (`study-filter`: `data-model`, `data-epoch`, `data-updates`,
 * `data-max`, `data-frames`; a <canvas> inside), the live curves (`study-curves`: `data-points`, an SVG inside),
 * each live figure (`study-live-figure`: `data-name`),
 * the live MCRG table (`study-mcrg-live`: `data-stage`, `data-samples`, `data-final`; cells `study-mcrg-cell`:
 * `data-rule`, `data-step`, `data-nc`, `data-value`, `data-err`; `study-mcrg-problem`: `data-rule`, while a rule
 * cannot be analysed yet), each stage's wall time (`study-stage-time`), each result
 * (`study-result`: `data-name`, `data-value`, `data-err`, `data-z`), the partial marker (`study-partial`), each
 * figure (`study-figure`, `data-name`), the download button (`study-download`) and each file (`study-file`).
 *
 * @example
 * <study-panel .device=${gpu.device} .adapter=${gpu.summary}></study-panel>
 * <study-panel study="qiu" .device=${gpu.device} .adapter=${gpu.summary}></study-panel>
 */
@customElement('study-panel')
export class StudyPanel extends FormCard<StudyPanelStatus, StudyForm, StudyRequest> {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      input {
        width: 9em;
      }
      .state[data-status='partial'],
      .state[data-status='stopping'] {
        background: #fff4dc;
        color: #8a5a00;
      }
      .stages {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 8px;
        margin: 10px 0 0;
        padding: 0;
        list-style: none;
        font-size: 0.8rem;
      }
      .stages li {
        padding: 1px 8px;
        border-radius: 6px;
        background: #e8ebf0;
        color: var(--muted, #5b6677);
        font-variant-numeric: tabular-nums;
      }
      .stages li[data-state='running'] {
        background: #e6edfb;
        color: var(--accent, #2456c7);
      }
      .stages li[data-state='done'] {
        background: #e3f3ea;
        color: var(--ok, #1d7a46);
      }
      .stages li[data-state='stopped'] {
        background: #fff4dc;
        color: #8a5a00;
      }
      pre.log {
        max-height: 11em;
        overflow: auto;
        margin: 12px 0 0;
        padding: 8px 10px;
        border: 1px solid var(--line, #dde2ea);
        border-radius: 8px;
        background: #f7f8fa;
        font-size: 0.78rem;
        line-height: 1.35;
        white-space: pre-wrap;
      }
      .partial {
        margin: 14px 0 0;
        padding: 8px 14px;
        border: 1px solid #f3dca8;
        border-radius: 8px;
        background: #fffaf0;
        color: #8a5a00;
        font-size: 0.9rem;
      }
      h3 {
        margin: 18px 0 6px;
        font-size: 0.95rem;
      }
      .scroll {
        max-height: 24em;
        overflow: auto;
        border-bottom: 1px solid var(--line, #dde2ea);
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.82rem;
      }
      th,
      td {
        padding: 3px 6px;
        border-bottom: 1px solid var(--line, #dde2ea);
        text-align: left;
        font-variant-numeric: tabular-nums;
      }
      thead th {
        color: var(--muted, #5b6677);
        font-weight: 500;
      }
      .scroll thead th {
        position: sticky;
        top: 0;
        background: var(--panel, #ffffff);
      }
      td.num {
        text-align: right;
        white-space: nowrap;
        font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
      }
      td code {
        font-size: 0.8rem;
      }
      td.far {
        background: #fbe9e7;
      }
      .figures {
        display: grid;
        gap: 16px;
      }
      figure {
        margin: 0;
        overflow-x: auto;
      }
      figure svg {
        max-width: 100%;
        height: auto;
      }
      .live {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-start;
        gap: 12px 20px;
      }
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 12px;
      }
      .filters canvas {
        display: block;
        outline: 1px solid var(--line, #dde2ea);
        image-rendering: pixelated;
      }
      .filters figcaption {
        max-width: 14em;
        margin-top: 4px;
        color: var(--muted, #5b6677);
        font-size: 0.78rem;
        font-variant-numeric: tabular-nums;
      }
      .filters figure[data-current] figcaption {
        color: var(--accent, #2456c7);
      }
      .scale {
        display: inline-block;
        width: 5em;
        height: 0.7em;
        vertical-align: middle;
        background: linear-gradient(to right, rgb(33 102 172), rgb(247 247 247), rgb(178 24 43));
      }
      .wide {
        overflow-x: auto;
      }
      .wide table {
        width: auto;
      }
      caption {
        margin-bottom: 4px;
        text-align: left;
        font-size: 0.82rem;
      }
      td.problem {
        max-width: 16em;
        color: var(--muted, #5b6677);
        white-space: normal;
      }
      .final {
        padding: 0 6px;
        border-radius: 6px;
        background: #e3f3ea;
        color: var(--ok, #1d7a46);
      }
      ul.files {
        columns: 2 16em;
        margin: 8px 0 0;
        padding-left: 18px;
        font-size: 0.85rem;
      }
    `,
  ];

  /** The adapter, recorded in report.json as the CLI does. */
  @property({ attribute: false }) adapter: AdapterSummary | undefined;
  /** The registered study this panel runs (`blockspin reproduce NAME`); another name forgets the last run. */
  @property({ reflect: true }) study = DEFAULT_STUDY;

  @state() protected form: StudyForm = { preset: 'quick', seed: '1' };
  @state() private stages: StageProgress[] = [];
  @state() private logLines: string[] = [];
  @state() private run: StudyRun | undefined;
  @state() private figures: RenderedFigure[] = [];
  @state() private files: DownloadLink[] | undefined;
  @state() private preparing = false;
  /** The latest filter of each model trained so far, in order (the last one is being trained). */
  @state() private filterFrames: FilterFrame[] = [];
  /** Filter frames received in this run. */
  @state() private filterFrameCount = 0;
  @state() private curves: RenderedCurves | undefined;
  /** The latest live analysis of the current MCRG stage. */
  @state() private mcrgLive: McrgUpdate | undefined;
  /** Figures the study sent while running (StudyUpdate `figure`), rendered, in the order first seen. */
  @state() private liveFigures: RenderedFigure[] = [];
  /** The latest live figure of each name not yet rendered, and whether a render is under way (one at a time). */
  private liveQueue = new Map<string, FigureUpdate['figure']>();
  private liveBusy = false;

  private t0 = 0;
  /** Every live training-curve point of this run. */
  private curvePoints: CurvePoint[] = [];
  /** Counts runs (clear): a curve render of an earlier run is dropped. */
  private generation = 0;
  private curvesTimer: ReturnType<typeof setTimeout> | undefined;
  private curvesBusy = false;
  /** Points arrived since the last curve render began. */
  private curvesDirty = false;
  private curvesLast = -Infinity;
  /** The frame each filter canvas shows. */
  private drawn = new WeakMap<HTMLCanvasElement, FilterFrame>();
  /** The log lines the pane was last scrolled to the end of. */
  private logScrolled: string[] = [];

  /** The last run's output (undefined before the first run ends). */
  get output(): StudyOutput | undefined {
    return this.run?.output;
  }

  protected get busy(): boolean {
    return this.status === 'running' || this.status === 'stopping';
  }

  protected release(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.clear();
  }

  protected stopOnLoss(reason: GPUDeviceLostReason): CardProblem {
    this.controller?.abort();
    return { message: `The GPU device was lost (reason: ${reason}); the study stopped.` };
  }

  protected settledStatus(): StudyPanelStatus {
    return this.run ? (this.run.output.complete ? 'complete' : 'partial') : 'idle';
  }

  protected readForm(formElement: HTMLFormElement): StudyForm {
    const data = new FormData(formElement);
    return { preset: String(data.get('preset') ?? ''), seed: String(data.get('seed') ?? '') };
  }

  protected parse(form: StudyForm): { request: StudyRequest } | { problems: CardProblem[] } {
    return parseStudyForm(form);
  }

  /** Forgets the last run (its figures, its download links). */
  private clear(): void {
    revokeDownloads(this.files);
    this.files = undefined;
    this.run = undefined;
    this.figures = [];
    this.stages = [];
    this.logLines = [];
    this.generation++;
    clearTimeout(this.curvesTimer);
    this.curvesTimer = undefined;
    this.curvesDirty = false;
    this.curvePoints = [];
    this.curves = undefined;
    this.filterFrames = [];
    this.filterFrameCount = 0;
    this.mcrgLive = undefined;
    this.liveFigures = [];
    this.liveQueue.clear();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    // Another study: the last run (and any run in flight) belongs to the old one.
    if (changed.has('study') && changed.get('study') !== undefined) {
      this.release();
      if (!this.lost) this.status = this.device ? 'idle' : 'waiting';
    }
  }

  protected async start(request: StudyRequest): Promise<void> {
    const device = this.device;
    if (!device) return;
    this.clear();
    const controller = this.beginJob();
    this.status = 'running';
    this.t0 = performance.now();
    const current = (): boolean => controller === this.controller;
    try {
      const study = await loadStudy(this.study);
      const options = presetOptions(study, request.preset, request.seed);
      this.log(`${study.title}: preset ${request.preset}, seed ${request.seed}`);
      const startedAt = new Date().toISOString();
      const output = await study.run(options, {
        device,
        signal: controller.signal,
        progress: (stage, done, total) => {
          if (current()) this.onProgress(stage, done, total);
        },
        log: (line) => {
          if (current()) this.log(line);
        },
        update: (update) => {
          if (current()) this.onUpdate(update);
        },
      });
      if (!current()) return; // superseded: device changed or the panel was removed
      const meta: ReportMeta = {
        study: study.name,
        title: study.title,
        source: study.source,
        preset: request.preset,
        seed: request.seed,
        adapter: this.adapterJson(),
        blockspin: version,
        commit: null,
        command:
          `blockspin lab (browser), study panel; same settings as: blockspin reproduce ${study.name} ` +
          `--preset ${request.preset} --seed ${request.seed}`,
        startedAt,
        finishedAt: new Date().toISOString(),
        stopped: output.complete
          ? null
          : this.lost
            ? 'the GPU device was lost'
            : controller.signal.aborted
              ? 'stopped in the lab (Stop)'
              : 'the study stopped before the end',
      };
      this.run = { request, output, meta };
      this.log(
        `${output.complete ? 'complete' : 'partial'}: ${output.results.length} results, ` +
          `${output.figures.length} figures`,
      );
      if (!this.lost) this.status = output.complete ? 'complete' : 'partial';
      this.controller = undefined;
      await this.renderFigures(output);
    } catch (err) {
      if (!current() || this.lost) return;
      this.controller = undefined;
      this.showFailure(err);
    }
  }

  /** JSON of the adapter for report.json (the CLI's brief). */
  private adapterJson(): ReportMeta['adapter'] {
    return this.adapter ? { ...adapterBrief(this.adapter) } : null;
  }

  private onProgress(stage: string, done: number, total: number): void {
    const last = this.stages.at(-1);
    if (last?.name === stage) {
      last.done = done;
      last.total = total;
      this.requestUpdate('stages');
      return;
    }
    const seen = this.stages.findIndex((s) => s.name === stage);
    if (seen >= 0) this.stages.splice(seen, 1);
    this.stages = [...this.stages, { name: stage, done, total }];
  }

  /** A live update of the study: a filter frame, a training-curve point or an MCRG analysis. */
  private onUpdate(update: StudyUpdate): void {
    switch (update.kind) {
      case 'filter': {
        // A copy: the study may reuse its array.
        const W = Float32Array.from(update.W);
        const maxAbs = W.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
        const seen = this.filterFrames.find((f) => f.model === update.model);
        const frame: FilterFrame = { ...update, W, maxAbs, frames: (seen?.frames ?? 0) + 1 };
        this.filterFrames = seen
          ? this.filterFrames.map((f) => (f === seen ? frame : f))
          : [...this.filterFrames, frame];
        this.filterFrameCount++;
        return;
      }
      case 'curve': {
        const known = new Set(this.curvePoints.map((p) => p.series));
        if (!known.has(update.series) && known.size >= MAX_CURVE_SERIES) return;
        this.curvePoints.push({
          model: update.model,
          series: update.series,
          epoch: update.x,
          value: update.y,
        });
        this.scheduleCurves();
        return;
      }
      case 'mcrg':
        this.mcrgLive = update;
        return;
      case 'figure':
        this.liveQueue.set(update.figure.name, update.figure);
        void this.drawLiveFigures();
        return;
    }
  }

  /** Renders the queued live figures one at a time, each replacing the earlier one of its name. */
  private async drawLiveFigures(): Promise<void> {
    if (this.liveBusy) return;
    this.liveBusy = true;
    const generation = this.generation;
    try {
      for (const [name, spec] of this.liveQueue) {
        this.liveQueue.delete(name);
        let figure: RenderedFigure;
        try {
          figure = { name, title: spec.title, svg: await renderFigure(spec) };
        } catch (err) {
          figure = { name, title: spec.title, error: err instanceof Error ? err.message : String(err) };
        }
        if (generation !== this.generation) return; // a new run began
        const seen = this.liveFigures.findIndex((f) => f.name === name);
        this.liveFigures =
          seen >= 0
            ? this.liveFigures.map((f, i) => (i === seen ? figure : f))
            : [...this.liveFigures, figure];
      }
    } finally {
      this.liveBusy = false;
    }
  }

  /** Renders the curves soon: at most once per CURVE_INTERVAL_MS, one render at a time, the last points always. */
  private scheduleCurves(): void {
    this.curvesDirty = true;
    if (this.curvesBusy || this.curvesTimer !== undefined) return;
    const wait = Math.max(0, this.curvesLast + CURVE_INTERVAL_MS - performance.now());
    this.curvesTimer = setTimeout(() => {
      this.curvesTimer = undefined;
      void this.renderCurves();
    }, wait);
  }

  private async renderCurves(): Promise<void> {
    const generation = this.generation;
    const points = [...this.curvePoints];
    this.curvesBusy = true;
    this.curvesDirty = false;
    let curves: RenderedCurves;
    try {
      curves = { points: points.length, svg: await renderFigure(curvesFigure(points)) };
    } catch (err) {
      curves = { points: points.length, error: err instanceof Error ? err.message : String(err) };
    } finally {
      this.curvesBusy = false;
      this.curvesLast = performance.now();
    }
    if (generation === this.generation) this.curves = curves;
    if (this.curvesDirty) this.scheduleCurves();
  }

  private log(line: string): void {
    const seconds = ((performance.now() - this.t0) / 1000).toFixed(1);
    const lines = [...this.logLines, `[${seconds} s] ${line}`];
    this.logLines = lines.length > LOG_LINES ? lines.slice(-LOG_LINES) : lines;
  }

  /** Renders the figures one after another, each shown as it is ready. */
  private async renderFigures(output: StudyOutput): Promise<void> {
    for (const f of output.figures) {
      let figure: RenderedFigure;
      try {
        figure = { name: f.name, title: f.title, svg: await renderFigure(f) };
      } catch (err) {
        figure = { name: f.name, title: f.title, error: err instanceof Error ? err.message : String(err) };
      }
      if (this.run?.output !== output) return; // a new run began
      this.figures = [...this.figures, figure];
    }
  }

  private stop(): void {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    this.log('stopping: the study returns what it has');
    this.controller?.abort();
  }

  /** Builds the report directory's files (reportFiles) and offers each as a download. */
  private async prepareDownload(): Promise<void> {
    const run = this.run;
    if (!run || this.preparing) return;
    this.preparing = true;
    try {
      const files = await reportFiles(run.output, run.meta);
      if (this.run !== run) return;
      this.files = downloadLinks(files, mimeType);
    } catch (err) {
      this.showFailure(err, 'report: ');
    } finally {
      this.preparing = false;
    }
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  protected override updated(): void {
    super.updated();
    // The log pane follows its newest line.
    if (this.logScrolled !== this.logLines) {
      this.logScrolled = this.logLines;
      const pane = this.renderRoot.querySelector('pre.log');
      if (pane) pane.scrollTop = pane.scrollHeight;
    }
    // Each filter canvas shows its model's latest frame.
    for (const canvas of this.renderRoot.querySelectorAll<HTMLCanvasElement>('canvas[data-model]')) {
      const frame = this.filterFrames.find((f) => f.model === canvas.dataset.model);
      if (frame && this.drawn.get(canvas) !== frame) {
        drawFilter(canvas, frame);
        this.drawn.set(canvas, frame);
      }
    }
  }

  override render(): TemplateResult {
    return html`
      <section data-testid="study">
        <div class="title">
          <h2>
            ${this.blurb().heading}
            <small>${this.blurb().subtitle}</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="study-status"
            >${this.statusText()}</span
          >
        </div>
        ${this.renderForm()} ${this.renderProblems('study-error')} ${this.renderProgress()}
        ${this.renderLog()} ${this.renderTraining()} ${this.renderMcrgLive()} ${this.renderLiveFigures()}
        ${this.renderOutput()}
      </section>
    `;
  }

  /** The panel's words for its study (a registered study without its own: the study name). */
  private blurb(): StudyBlurb {
    return (
      BLURBS[this.study] ?? {
        heading: `${this.study} in the page`,
        subtitle: "the CLI's study code",
        note: (preset) =>
          html`As <code>blockspin reproduce ${this.study} --preset ${preset}</code>. Stop keeps what was done
            (a partial report).`,
      }
    );
  }

  /** The figures the study sent while running, until the report's figures replace them. */
  private renderLiveFigures(): TemplateResult | typeof nothing {
    if (this.run || this.liveFigures.length === 0) return nothing;
    return html`
      <h3>So far</h3>
      <div class="figures">
        ${this.liveFigures.map(
          (f) =>
            html`<figure data-testid="study-live-figure" data-name=${f.name} aria-label=${f.title}>
              ${f.svg !== undefined ? unsafeHTML(f.svg) : html`<p class="error">${f.title}: ${f.error}</p>`}
            </figure>`,
        )}
      </div>
    `;
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, {
      running: 'Running…',
      stopping: 'Stopping…',
      partial: 'Partial',
    });
  }

  private renderForm(): TemplateResult {
    const f = this.form;
    const disabled = this.busy || this.lost || !this.device;
    const invalid = (field: string): boolean =>
      this.errorKind === 'input' && this.problems.some((p) => p.field === field);
    return html`
      <form @submit=${this.onSubmit} @change=${this.onChange}>
        <label
          >Preset
          <select
            name="preset"
            ?disabled=${disabled}
            aria-invalid=${invalid('preset')}
            data-testid="study-preset"
          >
            ${PANEL_PRESETS.map((p) => html`<option value=${p} ?selected=${p === f.preset}>${p}</option>`)}
          </select>
        </label>
        ${inputField({
          label: 'Seed',
          name: 'seed',
          min: 0,
          max: MAX_SEED,
          value: f.seed,
          invalid: invalid('seed'),
          disabled,
          testId: 'study-seed',
        })}
        ${jobButtons({
          disabled,
          run: { label: 'Run', testId: 'study-run' },
          stop: {
            label: 'Stop',
            testId: 'study-stop',
            disabled: this.status !== 'running',
            onClick: () => this.stop(),
          },
        })}
      </form>
      <p class="note">${this.blurb().note(f.preset || '…')}</p>
    `;
  }

  private renderProgress(): TemplateResult | typeof nothing {
    if (this.stages.length === 0) return nothing;
    const current = this.stages.at(-1)!;
    const finished = this.run !== undefined;
    const state = (s: StageProgress, i: number): string => {
      // A stage is finished when a later one began, or when the run ended complete.
      if (i < this.stages.length - 1 || s.done >= s.total) return 'done';
      if (!finished) return 'running';
      return this.run!.output.complete ? 'done' : 'stopped';
    };
    return html`
      ${
        this.busy
          ? progressLine(
              'study-progress',
              { phase: current.name, done: current.done, total: current.total },
              html`<strong>${current.name}</strong>`,
              '',
            )
          : nothing
      }
      <ul class="stages" aria-label="stages">
        ${this.stages.map(
          (s, i) =>
            html`<li
              data-testid="study-stage"
              data-stage=${s.name}
              data-state=${state(s, i)}
              data-done=${s.done}
              data-total=${s.total}
            >
              ${s.name} ${formatCount(Number(s.done.toFixed(2)))}/${formatCount(s.total)}
            </li>`,
        )}
      </ul>
    `;
  }

  private renderLog(): TemplateResult | typeof nothing {
    if (this.logLines.length === 0) return nothing;
    return html`<pre class="log" data-testid="study-log" aria-label="log">${this.logLines.join('\n')}</pre>`;
  }

  /** The live filter view (small multiples: the latest filter of each model) and the training curves. */
  private renderTraining(): TemplateResult | typeof nothing {
    const frames = this.filterFrames;
    const curves = this.curves;
    if (frames.length === 0 && !curves) return nothing;
    const training = this.busy && this.stages.at(-1)?.name.startsWith('train');
    return html`<h3>Training ${this.busy ? html`<small class="note">live</small>` : nothing}</h3>
      <div class="live">
        ${
          frames.length
            ? html`<div
                class="filters"
                data-testid="study-filter-view"
                data-filter-frames=${this.filterFrameCount}
              >
                ${frames.map((f, i) => {
                  const px = f.k * FILTER_PIXELS;
                  return html`<figure
                    data-testid="study-filter"
                    data-model=${f.model}
                    data-epoch=${f.epoch}
                    data-updates=${f.updates}
                    data-max=${f.maxAbs}
                    data-frames=${f.frames}
                    ?data-current=${training && i === frames.length - 1}
                  >
                    <canvas
                      data-model=${f.model}
                      width=${f.k}
                      height=${f.k}
                      style=${`width: ${px}px; height: ${px}px`}
                      role="img"
                      aria-label=${`${f.model}: ${f.k}×${f.k} filter`}
                    ></canvas>
                    <figcaption>
                      <strong>${f.model}</strong><br />epoch ${f.epoch.toFixed(1)} · ${formatCount(f.updates)}
                      updates<br />max |W| ${f.maxAbs.toPrecision(2)}
                      <span class="scale" title="−max |W| … 0 … +max |W|"></span>
                    </figcaption>
                  </figure>`;
                })}
              </div>`
            : nothing
        }
        ${
          curves
            ? html`<figure
                data-testid="study-curves"
                data-points=${curves.points}
                aria-label="training curves by epoch"
              >
                ${curves.svg !== undefined ? unsafeHTML(curves.svg) : html`<p class="error">curves: ${curves.error}</p>`}
              </figure>`
            : nothing
        }
      </div>`;
  }

  /** The live y_t table of the current MCRG stage: rows N_c, a column per rule and N_r. */
  private renderMcrgLive(): TemplateResult | typeof nothing {
    const u = this.mcrgLive;
    if (!u) return nothing;
    const estimates = u.analyses.map((a) => a.analysis?.yt ?? null);
    const steps = MCRG_STEPS.filter((s) => s === 1 || estimates.some((yt) => yt?.some((e) => e.step === s)));
    const ncs = Array.from({ length: MCRG_NC }, (_, i) => i + 1);
    const cell = (rule: string, yt: readonly McrgEstimate[], step: number, nc: number): TemplateResult => {
      const e = yt.find((x) => x.step === step && x.nc === nc);
      if (!e) return html`<td class="num">—</td>`;
      return html`<td
        class="num"
        data-testid="study-mcrg-cell"
        data-rule=${rule}
        data-step=${step}
        data-nc=${nc}
        data-value=${e.value}
        data-err=${e.err}
        title=${e.imag !== undefined ? `complex leading eigenvalue: real part; imaginary ${e.imag.toPrecision(3)}` : ''}
      >
        ${formatValueErr(e.value, e.err)}${e.imag !== undefined ? '*' : ''}
      </td>`;
    };
    const complex = estimates.some((yt) =>
      yt?.some((e) => e.imag !== undefined && steps.includes(e.step) && e.nc <= MCRG_NC),
    );
    return html`<h3>MCRG ${u.final ? nothing : html`<small class="note">live</small>`}</h3>
      <div class="wide">
        <table
          data-testid="study-mcrg-live"
          data-stage=${u.stage}
          data-samples=${u.samples}
          data-final=${u.final}
        >
          <caption>
            y<sub>t</sub>, ${u.stage}: ${formatCount(u.samples)} samples
            ${u.final ? html`<span class="final">final</span>` : html`<span class="note">so far</span>`}
          </caption>
          <thead>
            <tr>
              <th rowspan="2">N<sub>c</sub></th>
              ${u.rules.map((r) => html`<th colspan=${steps.length}>${r}</th>`)}
            </tr>
            <tr>
              ${u.rules.map(() => steps.map((s) => html`<th>N<sub>r</sub> = ${s}</th>`))}
            </tr>
          </thead>
          <tbody>
            ${ncs.map(
              (nc) =>
                html`<tr>
                  <th>${nc}</th>
                  ${u.rules.map((rule, i) => {
                    const yt = estimates[i];
                    if (yt) return steps.map((s) => cell(rule, yt, s, nc));
                    // No analysis yet for this rule: its reason, once across its columns.
                    return nc === 1
                      ? html`<td
                          class="problem"
                          rowspan=${MCRG_NC}
                          colspan=${steps.length}
                          data-testid="study-mcrg-problem"
                          data-rule=${rule}
                        >
                          ${u.analyses[i]?.problem ?? 'no analysis yet'}
                        </td>`
                      : nothing;
                  })}
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <p class="note">
        One standard error
        (jackknife)${complex ? html`; * a complex leading eigenvalue (real part shown)` : nothing}.
      </p>`;
  }

  private renderOutput(): TemplateResult | typeof nothing {
    const run = this.run;
    if (!run) return nothing;
    const { output, meta } = run;
    const wall = (Date.parse(meta.finishedAt) - Date.parse(meta.startedAt)) / 1000;
    return html`
      ${
        output.complete
          ? nothing
          : html`<p class="partial" data-testid="study-partial">
              <strong>Partial:</strong> ${meta.stopped}. Every number below comes from the part that was done;
              the report says <code>"complete": false</code>.
            </p>`
      }
      <h3>Stages</h3>
      <table>
        <thead>
          <tr>
            <th>stage</th>
            <th>seconds</th>
          </tr>
        </thead>
        <tbody>
          ${output.stages.map(
            (s) =>
              html`<tr data-testid="study-stage-time" data-stage=${s.stage} data-value=${s.seconds}>
                <td>${s.stage}</td>
                <td class="num">${s.seconds.toFixed(1)}</td>
              </tr>`,
          )}
          <tr>
            <td>wall time (preset ${meta.preset}, seed ${meta.seed})</td>
            <td class="num">${wall.toFixed(1)}</td>
          </tr>
        </tbody>
      </table>
      ${this.renderResults(output)} ${this.renderDownload()} ${this.renderFiguresList(output)}
    `;
  }

  private renderResults(output: StudyOutput): TemplateResult {
    if (output.results.length === 0) {
      return html`<h3>Results</h3>
        <p class="note" data-testid="study-no-results">No results (the run stopped before any).</p>`;
    }
    return html`<h3>Results <small class="note">one standard error; z in combined errors</small></h3>
      <div class="scroll">
        <table data-testid="study-results">
          <thead>
            <tr>
              <th>name</th>
              <th>value ± err</th>
              <th>source</th>
              <th>z</th>
            </tr>
          </thead>
          <tbody>
            ${output.results.map(
              (r) =>
                html`<tr
                  data-testid="study-result"
                  data-name=${r.name}
                  data-value=${r.value}
                  data-err=${r.err}
                  data-z=${r.z ?? ''}
                  title=${r.method}
                >
                  <td><code>${r.name}</code></td>
                  <td class="num">${formatValueErr(r.value, r.err)}${r.unit ? ` ${r.unit}` : ''}</td>
                  <td>
                    ${r.source ? html`<span title=${r.source.where}>${formatValueErr(r.source.value, r.source.err)}</span>` : '—'}
                  </td>
                  <td class="num ${r.z !== undefined && Math.abs(r.z) > 3 ? 'far' : ''}">
                    ${r.z === undefined ? '—' : formatZ(r.z)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }

  private renderDownload(): TemplateResult {
    const files = this.files;
    return html`<h3>Report</h3>
      ${
        files
          ? html`<ul class="files" data-testid="study-files">
              ${files.map(
                (f) =>
                  html`<li>
                    <a
                      href=${f.url}
                      download=${f.name.replaceAll('/', '-')}
                      data-testid="study-file"
                      data-name=${f.name}
                      >${f.name}</a
                    >
                    <span class="note">${formatBytes(f.size)}</span>
                  </li>`,
              )}
            </ul>`
          : html`<button
              type="button"
              ?disabled=${this.preparing}
              data-testid="study-download"
              @click=${() => void this.prepareDownload()}
            >
              ${this.preparing ? 'Preparing…' : 'Download report'}
            </button>`
      }`;
  }

  private renderFiguresList(output: StudyOutput): TemplateResult | typeof nothing {
    if (output.figures.length === 0) return nothing;
    return html`<h3>Figures</h3>
      <div class="figures">
        ${this.figures.map(
          (f) =>
            // The SVG carries the title; the figure names it for assistive technology.
            html`<figure data-testid="study-figure" data-name=${f.name} aria-label=${f.title}>
              ${f.svg !== undefined ? unsafeHTML(f.svg) : html`<p class="error">${f.title}: ${f.error}</p>`}
            </figure>`,
        )}
        ${
          this.figures.length < output.figures.length
            ? html`<p class="note">
                Rendering figure ${this.figures.length + 1} of ${output.figures.length}…
              </p>`
            : nothing
        }
      </div>`;
  }
}

function mimeType(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.md')) return 'text/markdown';
  if (name.endsWith('.svg')) return 'image/svg+xml';
  return 'application/octet-stream';
}

declare global {
  interface HTMLElementTagNameMap {
    'study-panel': StudyPanel;
  }
}
