import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import {
  FLOW_PLANS,
  RBM_FLOW_PRESETS,
  RbmEngine,
  SPIN_PALETTE,
  destroyFlowLattice,
  exact,
  flowModelSeed,
  flowStartStates,
  formatValueErr,
  prepareFlowLattice,
  rbmFlow,
  readFlowGeneration,
  renderFigure,
  spinsToUnits,
  trainFlowModel,
  unitsToSpins,
  type FlowExperiment,
  type FlowLattice,
  type FigureSpec,
  type FlowStep,
  type RbmFlowOptions,
  type StartReading,
} from '../../src/index.ts';
import {
  formStyles,
  formatCount,
  inputField,
  panelStyles,
  problemList,
  progressLine,
  reflectStatus,
  whenLost,
  type CardProblem,
  type JobProgress,
} from '../../src/elements/common.ts';

/** Where the panel is: reflected on the host as `data-status` (tests wait for `ready`, `done`, `stopped`, `error`). */
export type FlowPanelStatus =
  'waiting' | 'idle' | 'preparing' | 'ready' | 'flowing' | 'done' | 'stopped' | 'error';

/** Why the panel shows an error: a bad setting, a refused model file, a failed job, the device lost. */
export type FlowPanelErrorKind = 'input' | 'model' | 'failed' | 'lost';

/** The presets offered in the page (`standard` and `paper` are hours on a CPU adapter: the CLI's job). */
const PANEL_PRESETS = ['test', 'quick'] as const;
type PanelPreset = (typeof PANEL_PRESETS)[number];
/**
 * The experiments the panel trains: those on the main L×L lattice that need no other model ('permuted' needs
 * veigaAll's weights; 'ring1d' and 'L32' other lattices). 'none' prepares the thermometers only (then load a model).
 */
const PANEL_EXPERIMENTS = ['all', 'lowT', 'highT', 'window', 'veigaAll', 'extremes', 'untrained'] as const;
type PanelExperiment = (typeof PANEL_EXPERIMENTS)[number] | 'none';
const MAX_SEED = 2 ** 32 - 1000;
/** The longest flow the page runs (the CLI allows more; every generation is read back and drawn). */
const MAX_GENERATIONS = 1000;
/** Screen pixels per site of the lattice drawn. */
const SITE_PIXELS = 20;
/** Milliseconds between two renders of the live plot, at least (each is a Vega render). */
const PLOT_INTERVAL_MS = 250;
/** The thermometers' line colours (Vega's Tableau 10: blue, orange, green), in THERMOMETERS' order. */
const LINE_COLOURS = ['#4c78a8', '#f58518', '#54a24b'];
/** The model file's format tag. */
const MODEL_FORMAT = 'blockspin-rbm';
/** The thermometers, in the table's and the legend's order. */
const THERMOMETERS = [
  { key: 'mlp', label: 'MLP', title: 'the MLP thermometer: expected T of its class distribution' },
  { key: 'energy', label: 'energy', title: 'T_E: the exact finite-L energy curve inverted at ⟨e⟩' },
  { key: 'magnetization', label: '|m|', title: 'T_m: the ⟨|m|⟩ reference scan inverted at ⟨|m|⟩' },
] as const;

interface PrepareForm {
  preset: string;
  experiment: string;
  seed: string;
}

interface FlowForm {
  start: string;
  step: string;
  generations: string;
  chains: string;
}

/** The model the flows run: the RBM, where it came from, and the null model's redraw (untrained). */
interface FlowModel {
  rbm: RbmEngine;
  source: string;
  units: 'ising' | 'bernoulli';
  nv: number;
  nh: number;
  redraw?: (g: number) => void;
}

/** One plotted reading: a thermometer's temperature at a generation, with one standard error. */
interface PlotPoint {
  generation: number;
  T: number;
  err: number;
  thermometer: string;
}

/**
 * The live plot as one Vega-Lite figure: temperature against generation, a line (with its ±1 standard-error
 * band) per thermometer, T_c as a dashed rule.
 */
function flowFigure(points: readonly PlotPoint[], title: string): FigureSpec {
  const labels = THERMOMETERS.map((t) => t.label);
  const colour = {
    field: 'thermometer',
    type: 'nominal',
    sort: labels,
    scale: { domain: labels, range: LINE_COLOURS },
    legend: { title: 'thermometer', orient: 'right' },
  };
  const x = {
    field: 'generation',
    type: 'quantitative',
    title: 'generation',
    axis: { tickMinStep: 1, format: 'd' },
  };
  return {
    name: 'rbm-flow-live',
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: title, fontSize: 12 },
      width: 300,
      height: 210,
      data: {
        values: points.map((p) => ({ ...p, lo: p.T - p.err, hi: p.T + p.err })),
      },
      // The bands get a scale of their own (same domain and colours) without a legend: the lines' legend stays.
      resolve: { scale: { color: 'independent' } },
      layer: [
        {
          mark: { type: 'area', opacity: 0.18 },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
            color: { ...colour, legend: null },
          },
        },
        {
          mark: { type: 'line', point: { size: 24 }, strokeWidth: 1.5 },
          encoding: {
            x,
            y: {
              field: 'T',
              type: 'quantitative',
              title: 'temperature read',
              scale: { zero: false },
            },
            color: colour,
          },
        },
        {
          mark: { type: 'rule', strokeDash: [6, 4], color: '#1b2330' },
          encoding: { y: { datum: exact.T_C, type: 'quantitative' } },
        },
        {
          mark: { type: 'text', align: 'right', dx: -3, dy: -6, fontSize: 10, color: '#1b2330' },
          encoding: {
            x: { value: 300 },
            y: { datum: exact.T_C, type: 'quantitative' },
            text: { value: 'T_c' },
          },
        },
      ],
    },
  };
}

/** The current reading of the flow: generation g of the chosen start. */
interface CurrentReading {
  generation: number;
  reading: StartReading;
}

/** A model file of the panel (Download model / Load model). */
export interface FlowModelFile {
  format: typeof MODEL_FORMAT;
  units: 'ising' | 'bernoulli';
  nv: number;
  nh: number;
  /** [nv × nh] row-major. */
  W: number[];
  a: number[];
  b: number[];
  /** Where it came from (free text). */
  source?: string;
}

/**
 * Checks a model file's text against a lattice of `sites` = L² sites; errors name the value and the limit.
 *
 * @example parseModelFile('{"units":"ising","nv":64,…}', 100) // problem: nv = 64 does not match L² = 100
 */
export function parseModelFile(
  text: string,
  sites: number,
  side: number,
): { model: FlowModelFile } | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { problem: 'the file must hold one JSON object { units, nv, nh, W, a, b }' };
  const o = raw as Record<string, unknown>;
  if (o.units !== 'ising' && o.units !== 'bernoulli')
    return { problem: `units = ${JSON.stringify(o.units)} must be "ising" (±1) or "bernoulli" ({0,1})` };
  const count = (name: string, v: unknown): number | string =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1 << 20
      ? v
      : `${name} = ${JSON.stringify(v)} must be an integer in 1 … ${formatCount(1 << 20)}`;
  const nv = count('nv', o.nv);
  if (typeof nv === 'string') return { problem: nv };
  if (nv !== sites)
    return {
      problem: `nv = ${nv} does not match this lattice's L² = ${sites} (${side}×${side}): the flow needs one visible unit per site`,
    };
  const nh = count('nh', o.nh);
  if (typeof nh === 'string') return { problem: nh };
  const numbers = (name: string, v: unknown, length: number, optional: boolean): number[] | string => {
    if (v === undefined && optional) return new Array<number>(length).fill(0);
    if (!Array.isArray(v)) return `${name} is missing: it must be an array of ${formatCount(length)} numbers`;
    if (v.length !== length)
      return `${name} has ${formatCount(v.length)} values; it must have ${name === 'W' ? `nv·nh = ${nv}·${nh} = ` : ''}${formatCount(length)}`;
    const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) return `${name}[${bad}] = ${JSON.stringify(v[bad])} is not a finite number`;
    return v as number[];
  };
  const W = numbers('W', o.W, nv * nh, false);
  if (typeof W === 'string') return { problem: W };
  const a = numbers('a', o.a, nv, true);
  if (typeof a === 'string') return { problem: a };
  const b = numbers('b', o.b, nh, true);
  if (typeof b === 'string') return { problem: b };
  const source = typeof o.source === 'string' ? o.source : undefined;
  return { model: { format: MODEL_FORMAT, units: o.units, nv, nh, W, a, b, source } };
}

/** Validates the flow form against the prepared lattice: errors name the value and the limit. */
export function parseFlowForm(
  form: FlowForm,
  starts: number,
  maxChains: number,
):
  | { request: { start: number; step: FlowStep; generations: number; chains: number } }
  | { problems: CardProblem[] } {
  const problems: CardProblem[] = [];
  const integer = (field: string, text: string, max: number): number => {
    const t = text.trim();
    const n = Number(t);
    if (t === '' || !Number.isInteger(n) || n < 1 || n > max) {
      problems.push({
        field,
        message: `${field} = ${t || '(empty)'} must be an integer in 1 … ${formatCount(max)}`,
      });
    }
    return n;
  };
  const generations = integer('generations', form.generations, MAX_GENERATIONS);
  const chains = integer('chains', form.chains, maxChains);
  const start = Number(form.start);
  if (!Number.isInteger(start) || start < 0 || start >= starts)
    problems.push({ field: 'start', message: `start ${form.start} is not one of the ${starts} starts` });
  const step = form.step as FlowStep;
  if (step !== 'sampled' && step !== 'mean-field')
    problems.push({ field: 'step', message: `step '${form.step}' must be sampled or mean-field` });
  return problems.length ? { problems } : { request: { start, step, generations, chains } };
}

/** A temperature as the table prints it: value(err), or the bound it reads as (∞, 0, below/above the scan). */
function formatReading(e: { value: number; err: number; bound?: string }): string {
  if (e.bound === 'infinite') return '∞ (e ≥ 0)';
  if (e.bound === 'ground') return '0 (ground state)';
  if (!Number.isFinite(e.value)) return e.bound ?? '—';
  const text = formatValueErr(e.value, e.err);
  return e.bound ? `${text} (${e.bound} the scan)` : text;
}

/**
 * A lab panel for RBM flows (issue 11, "In the browser"), with the study code of `blockspin reproduce rbm-flow`:
 * Prepare builds the 10×10 data (Swendsen–Wang), the ⟨|m|⟩ reference scan and the MLP thermometer of a preset
 * (prepareFlowLattice) and trains one experiment's RBM (trainFlowModel), with progress and Stop; or load a model
 * file (JSON of units, nv, nh, W, a, b; Download model writes one). Flow runs the RBM flow (rbmFlow) from a
 * start temperature of the flow set (or T = 0 all up, T = ∞ half up) with sampled or mean-field steps, drawing
 * the first chain's lattice of every generation and plotting the three thermometer readings of the start's
 * chains (MLP, energy, |m|; readFlowGeneration) live against the generation, T_c as a dashed rule, with the
 * current readings ± one standard error and the thermality verdict in a table. Stop ends a flow between
 * generations.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `idle` | `preparing` | `ready` | `flowing` |
 * `done` | `stopped` | `error`) and `data-error` (`input` | `model` | `failed` | `lost`); `data-testid` on the
 * controls (`flow-preset`, `flow-experiment`, `flow-seed`, `flow-prepare`, `flow-stop`, `flow-load` (the file
 * input), `flow-download`, `flow-start`, `flow-step`, `flow-generations`, `flow-chains`, `flow-run`), the
 * progress (`flow-progress`: `data-phase`), the thermometer's accuracy (`flow-accuracy`: `data-value`), the
 * model (`flow-model`: `data-units`, `data-nv`, `data-nh`), the errors (`flow-error`, each `flow-error-message`
 * with `data-field`), the lattice canvas (`flow-lattice`: `data-generation`), the live plot (`flow-plot`:
 * `data-points` = points plotted, an SVG inside) and the readings (`flow-readings`: `data-generation`; cells
 * `flow-reading`: `data-thermometer`, `data-value`, `data-err`; `flow-thermal`: `data-value`).
 *
 * @example
 * <flow-panel .device=${gpu.device}></flow-panel>
 */
@customElement('flow-panel')
export class FlowPanel extends LitElement {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      input {
        width: 8em;
      }
      h3 {
        margin: 18px 0 6px;
        font-size: 0.95rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 14px;
        margin: 10px 0 0;
        font-size: 0.88rem;
      }
      .row input[type='file'] {
        width: auto;
        height: auto;
        padding: 3px 6px;
        font-size: 0.82rem;
      }
      .facts {
        margin: 10px 0 0;
        font-size: 0.88rem;
        font-variant-numeric: tabular-nums;
      }
      .live {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-start;
        gap: 14px 24px;
        margin-top: 12px;
      }
      .lattice canvas {
        display: block;
        outline: 1px solid var(--line, #dde2ea);
        image-rendering: pixelated;
      }
      .lattice figcaption,
      .plot figcaption {
        margin-top: 4px;
        color: var(--muted, #5b6677);
        font-size: 0.78rem;
        font-variant-numeric: tabular-nums;
      }
      .swatch {
        display: inline-block;
        width: 0.8em;
        height: 0.8em;
        margin: 0 3px 0 8px;
        vertical-align: -1px;
        outline: 1px solid var(--line, #dde2ea);
      }
      figure {
        margin: 0;
      }
      .plot {
        min-width: 320px;
        overflow-x: auto;
      }
      .plot svg {
        max-width: 100%;
        height: auto;
      }
      table {
        border-collapse: collapse;
        font-size: 0.82rem;
      }
      caption {
        margin-bottom: 4px;
        text-align: left;
        font-size: 0.82rem;
      }
      th,
      td {
        padding: 3px 8px;
        border-bottom: 1px solid var(--line, #dde2ea);
        text-align: left;
        font-variant-numeric: tabular-nums;
      }
      thead th {
        color: var(--muted, #5b6677);
        font-weight: 500;
      }
      td.num {
        text-align: right;
        white-space: nowrap;
        font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
      }
      .verdict {
        padding: 0 6px;
        border-radius: 6px;
      }
      .verdict[data-value='true'] {
        background: #e3f3ea;
        color: var(--ok, #1d7a46);
      }
      .verdict[data-value='false'] {
        background: #fff4dc;
        color: #8a5a00;
      }
      .state[data-status='stopped'] {
        background: #fff4dc;
        color: #8a5a00;
      }
    `,
  ];

  /** The device to run on (owned by the caller). Another device (or none) forgets the lattice and the model. */
  @property({ attribute: false }) device: GPUDevice | undefined;

  @state() private status: FlowPanelStatus = 'waiting';
  @state() private errorKind: FlowPanelErrorKind | undefined;
  @state() private problems: CardProblem[] = [];
  @state() private prepareForm: PrepareForm = { preset: 'quick', experiment: 'all', seed: '1' };
  @state() private flowForm: FlowForm = { start: '', step: 'sampled', generations: '', chains: '' };
  @state() private progress: JobProgress | undefined;
  @state() private kit: FlowLattice | undefined;
  @state() private options: RbmFlowOptions | undefined;
  @state() private accuracy: { value: number; withinOne: number } | undefined;
  @state() private model: FlowModel | undefined;
  @state() private starts: string[] = [];
  @state() private frame: { generation: number; spins: Int8Array } | undefined;
  @state() private current: CurrentReading | undefined;
  @state() private plot: { points: number; svg?: string; error?: string; offScale: number } | undefined;
  @state() private flowLabel = '';
  @state() private downloadUrl: string | undefined;

  @query('canvas[data-testid="flow-lattice"]') private canvas!: HTMLCanvasElement | null;

  private controller: AbortController | undefined;
  /** The job in flight: resources are destroyed only once it has settled (a destroyed buffer mid-job is an error). */
  private job: Promise<void> | undefined;
  private points: PlotPoint[] = [];
  private offScale = 0;
  /** Counts flows: a plot render of an earlier flow is dropped. */
  private flowCount = 0;
  private plotTimer: ReturnType<typeof setTimeout> | undefined;
  private plotBusy: Promise<void> | undefined;
  private plotDirty = false;
  private plotLast = -Infinity;
  private drawn: { generation: number; spins: Int8Array } | undefined;

  private get busy(): boolean {
    return this.status === 'preparing' || this.status === 'flowing';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.release();
    if (this.errorKind !== 'lost') this.status = this.device ? 'idle' : 'waiting';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('device')) this.attach();
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
    const canvas = this.canvas;
    if (canvas && this.frame && this.drawn !== this.frame) {
      this.drawLattice(canvas, this.frame.spins);
      this.drawn = this.frame;
    }
  }

  /** A new device (or none): forget everything on the old one and listen for the new one's loss. */
  private attach(): void {
    this.release();
    const device = this.device;
    this.errorKind = undefined;
    this.problems = [];
    this.status = device ? 'idle' : 'waiting';
    if (!device) return;
    whenLost(
      device,
      () => this.device,
      (reason) => {
        this.controller?.abort();
        this.status = 'error';
        this.errorKind = 'lost';
        this.problems = [{ message: `The GPU device was lost (reason: ${reason}); the flow panel stopped.` }];
      },
    );
  }

  /** Stops the job in flight and destroys the lattice's thermometer and the model once it has settled. */
  private release(after: Promise<void> | undefined = this.job): void {
    this.controller?.abort();
    this.controller = undefined;
    const kit = this.kit;
    const model = this.model;
    this.kit = undefined;
    this.model = undefined;
    this.options = undefined;
    this.accuracy = undefined;
    this.starts = [];
    this.progress = undefined;
    this.clearFlow();
    this.setDownload(undefined);
    void (after ?? Promise.resolve()).finally(() => {
      if (kit) destroyFlowLattice(kit);
      model?.rbm.destroy();
    });
  }

  private clearFlow(): void {
    this.flowCount++;
    clearTimeout(this.plotTimer);
    this.plotTimer = undefined;
    this.plotDirty = false;
    this.points = [];
    this.offScale = 0;
    this.plot = undefined;
    this.current = undefined;
    this.frame = undefined;
    this.drawn = undefined;
  }

  private setDownload(url: string | undefined): void {
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = url;
  }

  private showProblems(kind: FlowPanelErrorKind, problems: CardProblem[]): void {
    this.status = 'error';
    this.errorKind = kind;
    this.problems = problems;
  }

  /** Clears shown problems of `kind` and returns to what the panel holds. */
  private settle(kind: FlowPanelErrorKind): void {
    if (this.errorKind !== kind) return;
    this.errorKind = undefined;
    this.problems = [];
    this.status = this.kit && this.model ? 'ready' : 'idle';
  }

  private showFailure(err: unknown, prefix: string): void {
    console.error(err);
    this.showProblems('failed', [
      { message: `${prefix}${err instanceof Error ? err.message : String(err)}` },
    ]);
  }

  // ── prepare ───────────────────────────────────────────────────────────────────────────────────────

  private parsePrepare(
    f: PrepareForm,
  ):
    | { request: { preset: PanelPreset; experiment: PanelExperiment; seed: number } }
    | { problems: CardProblem[] } {
    const problems: CardProblem[] = [];
    if (!(PANEL_PRESETS as readonly string[]).includes(f.preset))
      problems.push({
        field: 'preset',
        message: `preset '${f.preset}' must be test or quick (larger: the CLI)`,
      });
    if (f.experiment !== 'none' && !(PANEL_EXPERIMENTS as readonly string[]).includes(f.experiment))
      problems.push({
        field: 'experiment',
        message: `experiment '${f.experiment}' must be one of ${PANEL_EXPERIMENTS.join(', ')} or none`,
      });
    const t = f.seed.trim();
    const seed = Number(t);
    if (t === '' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
      problems.push({
        field: 'seed',
        message: `seed = ${t || '(empty)'} must be an integer in 0 … ${formatCount(MAX_SEED)}`,
      });
    return problems.length
      ? { problems }
      : { request: { preset: f.preset as PanelPreset, experiment: f.experiment as PanelExperiment, seed } };
  }

  private onPrepareChange(event: Event): void {
    const form = (event.target as HTMLElement).closest('form');
    if (!form || this.busy || this.errorKind === 'lost') return;
    const data = new FormData(form);
    this.prepareForm = {
      preset: String(data.get('preset') ?? ''),
      experiment: String(data.get('experiment') ?? ''),
      seed: String(data.get('seed') ?? ''),
    };
    const parsed = this.parsePrepare(this.prepareForm);
    if ('problems' in parsed) this.showProblems('input', parsed.problems);
    else this.settle('input');
  }

  private onPrepare(event: SubmitEvent): void {
    event.preventDefault();
    if (this.busy || this.errorKind === 'lost') return;
    this.onPrepareChange(event);
    const parsed = this.parsePrepare(this.prepareForm);
    if ('request' in parsed) this.job = this.prepare(parsed.request, this.job);
  }

  private async prepare(
    request: { preset: PanelPreset; experiment: PanelExperiment; seed: number },
    previous: Promise<void> | undefined,
  ): Promise<void> {
    const device = this.device;
    if (!device) return;
    // The old lattice and model go once the job that used them (settled: the form was unlocked) is done.
    this.release(previous);
    this.errorKind = undefined;
    this.problems = [];
    const controller = new AbortController();
    this.controller = controller;
    const live = (): boolean => controller === this.controller;
    this.status = 'preparing';
    const options: RbmFlowOptions = { ...RBM_FLOW_PRESETS[request.preset], seed: request.seed };
    const context = {
      device,
      signal: controller.signal,
      progress: (phase: string, done: number, total: number) => {
        if (live()) this.progress = { phase, done, total };
      },
      log: () => {},
    };
    let kit: FlowLattice | undefined;
    try {
      const record: NonNullable<Parameters<typeof prepareFlowLattice>[3]> = { data: [], thermometers: [] };
      // One thermometer in the page (de Gier's MLP reads every model here).
      kit = await prepareFlowLattice(context, options, 'main', record, false);
      if (!live()) {
        destroyFlowLattice(kit);
        return;
      }
      this.kit = kit;
      this.options = options;
      const t = record.thermometers[0];
      this.accuracy = t ? { value: t.accuracy, withinOne: t.accuracyWithinOne } : undefined;
      this.starts = flowStartStates(kit, 1, options.seed).labels;
      this.flowForm = {
        start: String(this.nearestStart(exact.T_C)),
        step: 'sampled',
        generations: String(options.generations),
        chains: String(Math.min(options.flowChains, this.maxChains)),
      };
      if (request.experiment !== 'none') {
        const name: FlowExperiment = request.experiment;
        const seed = flowModelSeed(options, name);
        const { rbm, info, redraw } = await trainFlowModel(context, options, name, kit, { seed });
        if (!live()) {
          rbm.destroy();
          return;
        }
        const trained = info.trainedOn.length
          ? `${info.epochs} epochs on ${formatCount(info.samples)} configurations`
          : 'weights redrawn every step';
        this.model = {
          rbm,
          source: `${name}: ${FLOW_PLANS[name].description}; ${trained}, ${info.seconds.toFixed(1)} s`,
          units: info.units,
          nv: info.nv,
          nh: info.nh,
          redraw,
        };
      }
      this.progress = undefined;
      this.controller = undefined;
      this.status = this.model ? 'ready' : 'idle';
    } catch (err) {
      if (!live()) return;
      this.controller = undefined;
      this.progress = undefined;
      if (controller.signal.aborted) this.status = this.kit && this.model ? 'ready' : 'stopped';
      else this.showFailure(err, 'prepare: ');
    }
  }

  /** The flow set's chains per start. */
  private get maxChains(): number {
    return this.kit?.data.sets[2]?.count ?? 1;
  }

  /** The start whose temperature is nearest T. */
  private nearestStart(T: number): number {
    let best = 0;
    this.starts.forEach((label, i) => {
      const t = Number(label.replace(/^T = /, ''));
      const b = Number(this.starts[best]!.replace(/^T = /, ''));
      if (Number.isFinite(t) && (!Number.isFinite(b) || Math.abs(t - T) < Math.abs(b - T))) best = i;
    });
    return best;
  }

  private stop(): void {
    if (!this.busy) return;
    this.controller?.abort();
  }

  // ── the model file ────────────────────────────────────────────────────────────────────────────────

  private async onLoad(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    const kit = this.kit;
    const device = this.device;
    if (!file || !kit || !device || this.busy) return;
    const text = await file.text();
    input.value = '';
    const side = kit.lattice.kind === 'square' ? kit.lattice.L : kit.sites;
    const parsed = parseModelFile(text, kit.sites, side);
    if ('problem' in parsed) {
      this.showProblems('model', [{ field: 'model', message: `model ${file.name}: ${parsed.problem}` }]);
      return;
    }
    const m = parsed.model;
    let rbm: RbmEngine;
    try {
      rbm = new RbmEngine(device, {
        nv: m.nv,
        nh: m.nh,
        units: m.units,
        visibleBias: true,
        hiddenBias: true,
        parameters: { W: m.W, a: m.a, b: m.b },
      });
    } catch (err) {
      this.showProblems('model', [
        {
          field: 'model',
          message: `model ${file.name}: ${err instanceof Error ? err.message : String(err)}`,
        },
      ]);
      return;
    }
    const old = this.model;
    this.model = {
      rbm,
      source: `${file.name}${m.source ? ` (${m.source})` : ''}`,
      units: m.units,
      nv: m.nv,
      nh: m.nh,
    };
    old?.rbm.destroy();
    this.setDownload(undefined);
    this.clearFlow();
    this.errorKind = undefined;
    this.problems = [];
    this.status = 'ready';
  }

  private async download(): Promise<void> {
    const model = this.model;
    if (!model || this.busy) return;
    const p = await model.rbm.getParameters();
    const file: FlowModelFile = {
      format: MODEL_FORMAT,
      units: model.units,
      nv: model.nv,
      nh: model.nh,
      W: Array.from(p.W),
      a: Array.from(p.a),
      b: Array.from(p.b),
      source: model.source,
    };
    this.setDownload(URL.createObjectURL(new Blob([JSON.stringify(file)], { type: 'application/json' })));
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLAnchorElement>('a[data-testid="flow-download-link"]')?.click();
  }

  // ── flow ──────────────────────────────────────────────────────────────────────────────────────────

  private readFlowForm(form: HTMLFormElement): void {
    const data = new FormData(form);
    this.flowForm = {
      start: String(data.get('start') ?? ''),
      step: String(data.get('step') ?? ''),
      generations: String(data.get('generations') ?? ''),
      chains: String(data.get('chains') ?? ''),
    };
  }

  private checkFlow(): ReturnType<typeof parseFlowForm> {
    const parsed = parseFlowForm(this.flowForm, this.starts.length, this.maxChains);
    if ('problems' in parsed) this.showProblems('input', parsed.problems);
    else this.settle('input');
    return parsed;
  }

  private onFlowChange(event: Event): void {
    const form = (event.target as HTMLElement).closest('form');
    if (!form || this.busy || this.errorKind === 'lost') return;
    this.readFlowForm(form);
    this.checkFlow();
  }

  private onFlow(event: SubmitEvent): void {
    event.preventDefault();
    if (this.busy || this.errorKind === 'lost' || !this.kit || !this.model) return;
    this.readFlowForm(event.target as HTMLFormElement);
    const parsed = this.checkFlow();
    if ('request' in parsed) this.job = this.flow(parsed.request);
  }

  private async flow(r: {
    start: number;
    step: FlowStep;
    generations: number;
    chains: number;
  }): Promise<void> {
    const kit = this.kit;
    const model = this.model;
    const options = this.options;
    if (!kit || !model || !options) return;
    this.clearFlow();
    this.errorKind = undefined;
    this.problems = [];
    const controller = new AbortController();
    this.controller = controller;
    const live = (): boolean => controller === this.controller;
    const count = this.flowCount;
    this.status = 'flowing';
    this.flowLabel = `${this.starts[r.start]}, ${r.step} steps, ${r.chains} chains`;
    try {
      const seed = options.seed + 21;
      const { spins } = flowStartStates(kit, r.chains, seed + 7);
      const block = r.chains * kit.sites;
      const start = spins.slice(r.start * block, (r.start + 1) * block);
      const run = await rbmFlow(model.rbm, spinsToUnits(start, model.units), r.chains, r.generations, {
        step: r.step,
        seed,
        signal: controller.signal,
        beforeGeneration: model.redraw,
        onGeneration: async (g, visible) => {
          if (!live()) return;
          const s = unitsToSpins(visible, model.units);
          const { perStart } = await readFlowGeneration(kit, s, 1, r.chains);
          if (!live()) return;
          const reading = perStart[0]!;
          this.current = { generation: g, reading };
          this.frame = { generation: g, spins: s.slice(0, kit.sites) };
          for (const t of THERMOMETERS) {
            const { value, err } = reading[t.key];
            if (Number.isFinite(value))
              this.points.push({
                generation: g,
                T: value,
                err: Number.isFinite(err) ? err : 0,
                thermometer: t.label,
              });
            else this.offScale++;
          }
          this.progress = { phase: 'flow', done: g, total: r.generations };
          this.schedulePlot();
        },
      });
      if (!live()) return;
      await this.flushPlot(count);
      this.controller = undefined;
      this.progress = undefined;
      this.status = run.aborted ? 'stopped' : 'done';
    } catch (err) {
      if (!live()) return;
      this.controller = undefined;
      this.progress = undefined;
      this.showFailure(err, 'flow: ');
    }
  }

  /** Renders the plot soon: at most once per PLOT_INTERVAL_MS, one render at a time, the last points always. */
  private schedulePlot(): void {
    this.plotDirty = true;
    if (this.plotBusy || this.plotTimer !== undefined) return;
    const wait = Math.max(0, this.plotLast + PLOT_INTERVAL_MS - performance.now());
    this.plotTimer = setTimeout(() => {
      this.plotTimer = undefined;
      this.plotBusy = this.renderPlot();
    }, wait);
  }

  /** Waits for the plot to show every point of flow `count`. */
  private async flushPlot(count: number): Promise<void> {
    clearTimeout(this.plotTimer);
    this.plotTimer = undefined;
    while (this.plotBusy) await this.plotBusy;
    if (count === this.flowCount && (this.plotDirty || this.plot?.points !== this.points.length))
      await (this.plotBusy = this.renderPlot());
  }

  private async renderPlot(): Promise<void> {
    const count = this.flowCount;
    const points = [...this.points];
    const offScale = this.offScale;
    this.plotDirty = false;
    let plot: NonNullable<typeof this.plot>;
    try {
      const svg = points.length ? await renderFigure(flowFigure(points, this.flowLabel)) : undefined;
      plot = { points: points.length, svg, offScale };
    } catch (err) {
      plot = { points: points.length, error: err instanceof Error ? err.message : String(err), offScale };
    } finally {
      this.plotBusy = undefined;
      this.plotLast = performance.now();
    }
    if (count !== this.flowCount) return;
    this.plot = plot;
    if (this.plotDirty && this.status === 'flowing') this.schedulePlot();
  }

  private drawLattice(canvas: HTMLCanvasElement, spins: Int8Array): void {
    const context = canvas.getContext('2d');
    const kit = this.kit;
    if (!context || !kit || kit.lattice.kind !== 'square') return;
    const L = kit.lattice.L;
    for (let i = 0; i < L * L; i++) {
      context.fillStyle = spins[i]! > 0 ? SPIN_PALETTE.up : SPIN_PALETTE.down;
      context.fillRect((i % L) * SITE_PIXELS, Math.floor(i / L) * SITE_PIXELS, SITE_PIXELS, SITE_PIXELS);
    }
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  override render(): TemplateResult {
    return html`
      <section data-testid="flow">
        <div class="title">
          <h2>
            RBM flows
            <small>three thermometers on each generation · the CLI's <code>rbm-flow</code> code</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="flow-status">${this.statusText()}</span>
        </div>
        ${this.renderPrepare()}
        ${this.status === 'error' && this.problems.length ? problemList('flow-error', this.problems) : nothing}
        ${
          this.progress
            ? progressLine(
                'flow-progress',
                this.progress,
                html`<strong>${this.progress.phase}</strong>`,
                this.progress.phase === 'flow' ? 'generations' : '',
              )
            : nothing
        }
        ${this.renderLattice()} ${this.renderFlowForm()} ${this.renderLive()}
      </section>
    `;
  }

  private statusText(): string {
    switch (this.status) {
      case 'waiting':
        return 'Waiting for a device';
      case 'idle':
        return this.kit ? 'Thermometers ready · no model' : 'Ready';
      case 'preparing':
        return 'Preparing…';
      case 'ready':
        return 'Model ready';
      case 'flowing':
        return 'Flowing…';
      case 'done':
        return 'Done';
      case 'stopped':
        return 'Stopped';
      case 'error':
        return this.errorKind === 'lost'
          ? 'Device lost'
          : this.errorKind === 'input'
            ? 'Bad settings'
            : this.errorKind === 'model'
              ? 'Model refused'
              : 'Error';
    }
  }

  private invalid(field: string): boolean {
    return (
      (this.errorKind === 'input' || this.errorKind === 'model') &&
      this.problems.some((p) => p.field === field)
    );
  }

  private renderPrepare(): TemplateResult {
    const f = this.prepareForm;
    const o =
      RBM_FLOW_PRESETS[
        (PANEL_PRESETS as readonly string[]).includes(f.preset) ? (f.preset as PanelPreset) : 'quick'
      ];
    const disabled = this.busy || this.errorKind === 'lost' || !this.device;
    return html`
      <form @submit=${this.onPrepare} @change=${this.onPrepareChange}>
        <label
          >Preset
          <select
            name="preset"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('preset')}
            data-testid="flow-preset"
          >
            ${PANEL_PRESETS.map((p) => html`<option value=${p} ?selected=${p === f.preset}>${p}</option>`)}
          </select>
        </label>
        <label
          >Experiment
          <select
            name="experiment"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('experiment')}
            data-testid="flow-experiment"
          >
            ${PANEL_EXPERIMENTS.map(
              (e) =>
                html`<option value=${e} ?selected=${e === f.experiment} title=${FLOW_PLANS[e].description}>
                  ${e}
                </option>`,
            )}
            <option value="none" ?selected=${f.experiment === 'none'}>none (load a model)</option>
          </select>
        </label>
        ${inputField({
          label: 'Seed',
          name: 'seed',
          min: 0,
          max: MAX_SEED,
          value: f.seed,
          invalid: this.invalid('seed'),
          disabled,
          testId: 'flow-seed',
        })}
        <div class="buttons">
          <button class="primary" type="submit" ?disabled=${disabled} data-testid="flow-prepare">
            Prepare
          </button>
          <button type="button" ?disabled=${!this.busy} data-testid="flow-stop" @click=${() => this.stop()}>
            Stop
          </button>
        </div>
      </form>
      <p class="note">
        ${o.L}×${o.L}, ${formatCount(o.samplesPerSet)} configurations per temperature and set: Swendsen–Wang
        data at T = 0, 0.25, …, 6, the ⟨|m|⟩ reference scan, the MLP thermometer (${o.mlp.epochs} epochs),
        then the experiment's RBM (${o.degier.epochs} epochs), as
        <code>blockspin reproduce rbm-flow --preset ${f.preset || '…'}</code>.
        ${
          f.preset === 'test'
            ? html`<strong>test</strong> is a smoke test (under a minute on a CPU adapter): the thermometer
                and the RBM are barely trained, so its readings are not physics; <code>quick</code> takes
                minutes.`
            : html`<code>quick</code>: minutes on a CPU adapter; <code>test</code>: a smoke test.`
        }
      </p>
    `;
  }

  /** What is prepared: the thermometer's accuracy, the model, load and download. */
  private renderLattice(): TemplateResult | typeof nothing {
    const kit = this.kit;
    if (!kit) return nothing;
    const m = this.model;
    const disabled = this.busy || this.errorKind === 'lost';
    return html`
      <div class="facts">
        ${
          this.accuracy
            ? html`<div data-testid="flow-accuracy" data-value=${this.accuracy.value}>
                MLP thermometer (${kit.sites}-${this.options?.mlp.hidden.join('-')}-${kit.classT.length}):
                held-out accuracy <strong>${(100 * this.accuracy.value).toFixed(1)} %</strong>, within one
                grid step ${(100 * this.accuracy.withinOne).toFixed(1)} %
              </div>`
            : nothing
        }
        <div
          data-testid="flow-model"
          data-units=${m?.units ?? ''}
          data-nv=${m?.nv ?? ''}
          data-nh=${m?.nh ?? ''}
        >
          ${
            m
              ? html`Model: ${m.units === 'ising' ? '±1' : '{0,1}'} units, ${m.nv} → ${m.nh}; ${m.source}`
              : html`No model yet: train one (Prepare with an experiment) or load a model file.`
          }
        </div>
      </div>
      <div class="row">
        <label
          >Load model (JSON)
          <input
            type="file"
            accept=".json,application/json"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('model')}
            data-testid="flow-load"
            @change=${(e: Event) => void this.onLoad(e)}
          />
        </label>
        <button
          type="button"
          ?disabled=${disabled || !m}
          data-testid="flow-download"
          @click=${() => void this.download()}
        >
          Download model (JSON)
        </button>
        ${
          this.downloadUrl
            ? html`<a href=${this.downloadUrl} download="rbm-flow-model.json" data-testid="flow-download-link"
                >rbm-flow-model.json</a
              >`
            : nothing
        }
      </div>
      <p class="note">
        A model file is
        <code>{ units: "ising" | "bernoulli", nv, nh, W: [nv·nh, row-major], a: [nv], b: [nh] }</code>; nv
        must be L² = ${kit.sites}.
      </p>
    `;
  }

  private renderFlowForm(): TemplateResult | typeof nothing {
    if (!this.kit) return nothing;
    const f = this.flowForm;
    const disabled = this.busy || this.errorKind === 'lost' || !this.model;
    return html`
      <h3>Flow</h3>
      <form @submit=${this.onFlow} @change=${this.onFlowChange}>
        <label
          >Start
          <select
            name="start"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('start')}
            data-testid="flow-start"
          >
            ${this.starts.map(
              (label, i) =>
                html`<option value=${String(i)} ?selected=${String(i) === f.start}>${label}</option>`,
            )}
          </select>
        </label>
        <label
          >Step
          <select
            name="step"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('step')}
            data-testid="flow-step"
          >
            ${(['sampled', 'mean-field'] as const).map(
              (s) => html`<option value=${s} ?selected=${s === f.step}>${s}</option>`,
            )}
          </select>
        </label>
        ${inputField({
          label: 'Generations',
          name: 'generations',
          min: 1,
          max: MAX_GENERATIONS,
          value: f.generations,
          invalid: this.invalid('generations'),
          disabled,
          testId: 'flow-generations',
        })}
        ${inputField({
          label: html`Chains (≤ ${this.maxChains})`,
          name: 'chains',
          min: 1,
          max: this.maxChains,
          value: f.chains,
          invalid: this.invalid('chains'),
          disabled,
          testId: 'flow-chains',
        })}
        <div class="buttons">
          <button class="primary" type="submit" ?disabled=${disabled} data-testid="flow-run">Flow</button>
        </div>
      </form>
    `;
  }

  private renderLive(): TemplateResult | typeof nothing {
    const kit = this.kit;
    if (!kit || kit.lattice.kind !== 'square' || (!this.frame && !this.plot)) return nothing;
    const L = kit.lattice.L;
    const px = L * SITE_PIXELS;
    const c = this.current;
    return html`
      <div class="live">
        <figure class="lattice">
          <canvas
            data-testid="flow-lattice"
            data-generation=${this.frame?.generation ?? ''}
            width=${px}
            height=${px}
            style=${`width: ${px}px; height: ${px}px`}
            role="img"
            aria-label=${`first chain, generation ${this.frame?.generation ?? '—'}`}
          ></canvas>
          <figcaption>
            chain 1, generation ${this.frame?.generation ?? '—'}<br /><span
              class="swatch"
              style=${`background: ${SPIN_PALETTE.up}; margin-left: 0`}
            ></span
            >up<span class="swatch" style=${`background: ${SPIN_PALETTE.down}`}></span>down
          </figcaption>
        </figure>
        ${c ? this.renderReadings(c) : nothing}
        <figure class="plot" data-testid="flow-plot" data-points=${this.plot?.points ?? 0}>
          ${
            this.plot?.svg !== undefined
              ? unsafeHTML(this.plot.svg)
              : this.plot?.error
                ? html`<p class="error">plot: ${this.plot.error}</p>`
                : nothing
          }
          <figcaption>
            Mean over the start's chains by generation; dashed: T<sub>c</sub> = ${exact.T_C.toFixed(4)}
            ${this.plot?.offScale ? html`; ${this.plot.offScale} readings off scale (∞ or no reading)` : nothing}
          </figcaption>
        </figure>
      </div>
    `;
  }

  private renderReadings(c: CurrentReading): TemplateResult {
    const r = c.reading;
    return html`<table data-testid="flow-readings" data-generation=${c.generation}>
      <caption>
        Generation ${c.generation} · ${this.flowLabel}
      </caption>
      <thead>
        <tr>
          <th>thermometer</th>
          <th>T ± err</th>
        </tr>
      </thead>
      <tbody>
        ${THERMOMETERS.map((t) => {
          const e = r[t.key];
          return html`<tr title=${t.title}>
            <td>${t.label}</td>
            <td
              class="num"
              data-testid="flow-reading"
              data-thermometer=${t.key}
              data-value=${e.value}
              data-err=${e.err}
            >
              ${formatReading(e)}
            </td>
          </tr>`;
        })}
        <tr>
          <td>⟨|m|⟩</td>
          <td class="num" data-testid="flow-absm" data-value=${r.absM.value}>
            ${formatValueErr(r.absM.value, r.absM.err)}
          </td>
        </tr>
        <tr
          title="the generation's energy and |m| distributions pass the equilibrium checks at the temperature read"
        >
          <td>thermal</td>
          <td class="num">
            <span class="verdict" data-testid="flow-thermal" data-value=${r.thermal}
              >${r.thermal ? 'yes' : 'no'}</span
            >
          </td>
        </tr>
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'flow-panel': FlowPanel;
  }
}
