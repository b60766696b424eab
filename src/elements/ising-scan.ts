import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { IsingEngine, type IsingAlgorithm, type IsingKernel } from '../index.ts';
import { enumerateIsing, kaufman, MAX_ENUMERATION_SPINS, T_C } from '../exact/ising.ts';
import { isingEstimators, type IsingEstimates } from '../stats/index.ts';
import { formStyles, panelStyles, progressLine, reflectStatus, statusText, whenLost } from './common.ts';
import { elementDevice } from './device.ts';
import { ALGORITHMS } from './ising-settings.ts';
import { formatMeanError, formatTau } from './ising-room-stats.ts';
import type { PlotData, PlotSeries } from './plot.ts';
import './plot.ts';

/** Where a scan is: reflected on the host as `data-status`. */
export type ScanStatus = 'idle' | 'running' | 'done' | 'error';

/** Why a scan stopped: `data-error` while `data-status` is `error`. */
export type ScanErrorKind = 'input' | 'unavailable' | 'lost' | 'failed';

/** The settings of one scan. */
export interface ScanSettings {
  /** Lattice side (even, 4 … 256). */
  L: number;
  tMin: number;
  tMax: number;
  /** Temperatures, evenly spaced from tMin to tMax (2 … 33): one replica each. */
  points: number;
  algorithm: IsingAlgorithm;
  /** Sweeps before measuring (from an ordered start). */
  thermalize: number;
  /** Measured sweeps (one measurement per sweep). */
  measure: number;
  seed: number;
}

/** One temperature's result: the estimators of src/stats over its replica's series, and the exact values. */
export interface ScanPoint {
  T: number;
  estimates: IsingEstimates;
  /** Exact E/N and C/N of the finite periodic lattice (Kaufman; enumeration for N ≤ 20). */
  exact: { energy: number; specificHeat: number; susceptibility: number | null; binder: number | null };
}

/** The detail of a `blockspin-scan-done` event. */
export interface ScanDone {
  settings: ScanSettings;
  points: ScanPoint[];
  /** True when Cancel stopped the scan (the points hold what was measured). */
  cancelled: boolean;
}

/** The scan's defaults: L = 16 around T_c, 13 temperatures, Metropolis, 500 + 2000 sweeps. */
export const DEFAULT_SCAN: Readonly<ScanSettings> = Object.freeze({
  L: 16,
  tMin: 1.5,
  tMax: 3.5,
  points: 13,
  algorithm: 'metropolis',
  thermalize: 500,
  measure: 2000,
  seed: 1,
});

const LIMITS = {
  L: [4, 256],
  T: [0.5, 6],
  points: [2, 33],
  thermalize: [0, 1_000_000],
  measure: [32, 1_000_000],
} as const;

/** The URL parameter of each scan setting (with `url-state`); prefixed, as the lattice owns `L`, `T`, `seed`. */
const SCAN_URL_KEYS: Record<keyof ScanSettings, string> = {
  L: 'scanL',
  tMin: 'scanTmin',
  tMax: 'scanTmax',
  points: 'scanPoints',
  algorithm: 'scanAlgorithm',
  thermalize: 'scanThermalize',
  measure: 'scanMeasure',
  seed: 'scanSeed',
};

/** The scan settings a query string names (numbers as given: checkScan judges them). */
export function scanSettingsFromQuery(search: string): Partial<ScanSettings> {
  const query = new URLSearchParams(search);
  const out: Partial<Record<keyof ScanSettings, unknown>> = {};
  for (const [key, name] of Object.entries(SCAN_URL_KEYS) as [keyof ScanSettings, string][]) {
    const raw = query.get(name);
    if (raw === null) continue;
    out[key] = key === 'algorithm' ? raw : raw.trim() === '' ? NaN : Number(raw);
  }
  return out as Partial<ScanSettings>;
}

/** Points of the exact curves across the scanned range. */
const EXACT_POINTS = 121;

/** A problem of the scan's settings, naming the field. */
export interface ScanProblem {
  field: keyof ScanSettings;
  message: string;
}

/** Validates scan settings; every problem names the field, the value and the allowed range. */
export function checkScan(s: ScanSettings): ScanProblem[] {
  const problems: ScanProblem[] = [];
  const int = (
    field: keyof ScanSettings,
    v: number,
    [lo, hi]: readonly [number, number],
    what: string,
  ): void => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      problems.push({ field, message: `${what} = ${v} must be an integer in ${lo} … ${hi}` });
  };
  int('L', s.L, LIMITS.L, 'L');
  if (Number.isInteger(s.L) && s.L % 2 !== 0)
    problems.push({ field: 'L', message: `L = ${s.L} must be even (two checkerboard sublattices)` });
  for (const [field, v] of [
    ['tMin', s.tMin],
    ['tMax', s.tMax],
  ] as const) {
    if (!Number.isFinite(v) || v < LIMITS.T[0] || v > LIMITS.T[1])
      problems.push({
        field,
        message: `${field === 'tMin' ? 'T from' : 'T to'} = ${v} must be in ${LIMITS.T[0]} … ${LIMITS.T[1]}`,
      });
  }
  if (Number.isFinite(s.tMin) && Number.isFinite(s.tMax) && !(s.tMax > s.tMin))
    problems.push({ field: 'tMax', message: `T to = ${s.tMax} must exceed T from = ${s.tMin}` });
  int('points', s.points, LIMITS.points, 'temperatures');
  int('thermalize', s.thermalize, LIMITS.thermalize, 'thermalisation sweeps');
  int('measure', s.measure, LIMITS.measure, 'measured sweeps');
  int('seed', s.seed, [0, 0xffffffff], 'seed');
  if (!ALGORITHMS.some((a) => a.value === s.algorithm))
    problems.push({
      field: 'algorithm',
      message: `algorithm '${s.algorithm}' is not one of ${ALGORITHMS.map((a) => a.value).join(', ')}`,
    });
  return problems;
}

/** The scan's temperatures: `points` evenly spaced values from tMin to tMax (both included). */
export function scanTemperatures(s: Pick<ScanSettings, 'tMin' | 'tMax' | 'points'>): number[] {
  return Array.from({ length: s.points }, (_, i) => s.tMin + ((s.tMax - s.tMin) * i) / (s.points - 1));
}

/** Exact values of the periodic L×L lattice at T (h = 0): Kaufman's E and C; χ and U4 by enumeration when N ≤ 20. */
export function exactAt(L: number, T: number): ScanPoint['exact'] {
  const K = 1 / T;
  const k = kaufman(K, L, L);
  if (L * L <= MAX_ENUMERATION_SPINS) {
    const e = enumerateIsing(L, L, K);
    return {
      energy: k.energyPerSpin,
      specificHeat: k.specificHeatPerSpin,
      susceptibility: (L * L * (e.m2 - e.absMagnetization ** 2)) / T,
      binder: 1 - e.m4 / (3 * e.m2 ** 2),
    };
  }
  return { energy: k.energyPerSpin, specificHeat: k.specificHeatPerSpin, susceptibility: null, binder: null };
}

/** The kernel a scan uses: the multi-spin-coded one where L allows it. */
function kernelFor(L: number): IsingKernel {
  return L % 32 === 0 ? 'packed' : 'simple';
}

/** x to `digits` decimals with a true minus sign (U+2212), as formatMeanError prints the estimates beside it. */
function fixed(x: number, digits: number): string {
  return `${x < 0 ? '\u2212' : ''}${Math.abs(x).toFixed(digits)}`;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/** The plots of a scan: which estimate, its exact counterpart, labels. */
const PLOTS = [
  {
    key: 'energy',
    testId: 'scan-plot-energy',
    heading: 'Energy per spin ⟨E⟩/N',
    y: 'E / N',
    value: (p: ScanPoint) => p.estimates.energy,
    exact: (x: ScanPoint['exact']) => x.energy,
  },
  {
    key: 'specificHeat',
    testId: 'scan-plot-c',
    heading: 'Specific heat C = N(⟨e²⟩ − ⟨e⟩²)/T²',
    y: 'C / N',
    value: (p: ScanPoint) => p.estimates.specificHeat,
    exact: (x: ScanPoint['exact']) => x.specificHeat,
  },
  {
    key: 'susceptibility',
    testId: 'scan-plot-chi',
    heading: 'Susceptibility χ = N(⟨m²⟩ − ⟨|m|⟩²)/T',
    y: 'χ',
    value: (p: ScanPoint) => p.estimates.susceptibility,
    exact: (x: ScanPoint['exact']) => x.susceptibility,
  },
  {
    key: 'binder',
    testId: 'scan-plot-u4',
    heading: 'Binder cumulant U4 = 1 − ⟨m⁴⟩/(3⟨m²⟩²)',
    y: 'U4',
    value: (p: ScanPoint) => p.estimates.binder,
    exact: (x: ScanPoint['exact']) => x.binder,
  },
] as const;

/**
 * `<blockspin-ising-scan>`: a temperature scan of the 2D Ising model on the periodic L×L lattice. One
 * IsingEngine runs one replica per temperature (evenly spaced from `t-min` to `t-max`), from an ordered start:
 * it thermalises, then measures E and M after every sweep in chunks (progress shown, Cancel keeps what was
 * measured; the page stays responsive). After each chunk the estimators of src/stats give, per temperature,
 * ⟨E⟩/N and ⟨|m|⟩ with τ_int-corrected errors and C, χ and U4 with jackknife errors over blocks of at least
 * 4 τ_int; they are plotted against T with the exact finite-L curves: Kaufman's E and C for every L, and χ
 * and U4 by enumeration where N ≤ 20 (L = 4). Other lattices have no exact χ or U4 curve, and the legend says so.
 *
 * Settings, each a property and an attribute (initial values of the form): `size` (L), `t-min`, `t-max`,
 * `points`, `algorithm` (`metropolis` | `heatbath` | `sw`), `thermalize`, `measure`, `seed`. The kernel is
 * `packed` where L is a multiple of 32, else `simple`. With the boolean `url-state` attribute the URL wins over
 * both (`scanL`, `scanTmin`, `scanTmax`, `scanPoints`, `scanAlgorithm`, `scanThermalize`, `scanMeasure`,
 * `scanSeed`) and valid changes of the form are written back with history.replaceState.
 *
 * Device: the `device` property when given, else the page's shared device, acquired at the first Run.
 *
 * Hooks for tests: `data-status` (`idle` | `running` | `done` | `error`), `data-error` (`input` |
 * `unavailable` | `lost` | `failed`), `data-points` (temperatures with results); `data-testid` on every
 * control, the progress line (`scan-progress`), the result table (`scan-results`, rows `scan-row` with
 * `data-t`, `data-energy`, `data-c`, `data-chi`, `data-u4`, `data-exact-energy`, `data-exact-c`) and plots.
 *
 * @fires blockspin-scan-done - `CustomEvent<ScanDone>` (settings, points, cancelled)
 *   when a scan ends (finished or cancelled). Bubbles, composed.
 *
 * @example
 * <blockspin-ising-scan size="8" t-min="1.8" t-max="3" points="5"></blockspin-ising-scan>
 */
@customElement('blockspin-ising-scan')
export class BlockspinIsingScan extends LitElement {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      form {
        margin-bottom: 4px;
      }
      input.narrow {
        width: 5.2em;
      }
      input.wide {
        width: 7em;
      }
      .plots {
        display: grid;
        grid-template-columns: repeat(2, minmax(0, 1fr));
        gap: 12px 20px;
        margin-top: 14px;
      }
      .plots blockspin-plot {
        /* Re-created as results arrive: keep the space while the new chart is drawn. */
        min-height: 230px;
      }
      @media (max-width: 760px) {
        .plots {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .table-wrap {
        overflow-x: auto;
        margin-top: 14px;
      }
      table {
        border-collapse: collapse;
        font-size: 0.8rem;
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
        width: 100%;
      }
      th,
      td {
        padding: 3px 8px;
        text-align: right;
        border-bottom: 1px solid var(--line, #dde2ea);
      }
      th {
        font-weight: 600;
        color: var(--muted, #5b6677);
      }
      td.warn {
        color: #8a5a00;
      }
      .z-bad {
        color: var(--bad, #b3261e);
        font-weight: 600;
      }
    `,
  ];

  /** The device to run on (owned by the caller); without one, the page's shared device. */
  @property({ attribute: false }) device: GPUDevice | undefined;
  @property({ type: Number }) size = DEFAULT_SCAN.L;
  @property({ type: Number, attribute: 't-min' }) tMin = DEFAULT_SCAN.tMin;
  @property({ type: Number, attribute: 't-max' }) tMax = DEFAULT_SCAN.tMax;
  @property({ type: Number }) points = DEFAULT_SCAN.points;
  @property() algorithm: IsingAlgorithm = DEFAULT_SCAN.algorithm;
  @property({ type: Number }) thermalize = DEFAULT_SCAN.thermalize;
  @property({ type: Number }) measure = DEFAULT_SCAN.measure;
  @property({ type: Number }) seed = DEFAULT_SCAN.seed;
  /**
   * Read the first settings from the URL (`scanL`, `scanTmin`, `scanTmax`, `scanPoints`, `scanAlgorithm`,
   * `scanThermalize`, `scanMeasure`, `scanSeed`) and write valid changes back (the lab; not for embedding).
   */
  @property({ type: Boolean, attribute: 'url-state' }) urlState = false;

  @state() private status: ScanStatus = 'idle';
  @state() private errorKind: ScanErrorKind | undefined;
  @state() private problems: ScanProblem[] | { field?: undefined; message: string }[] = [];
  @state() private form: ScanSettings = { ...DEFAULT_SCAN };
  @state() private progress = { phase: 'idle', done: 0, total: 0 };
  @state() private results: ScanPoint[] = [];
  /** The settings of the results shown. */
  @state() private ran: ScanSettings | undefined;
  @state() private cancelled = false;
  @state() private elapsedMs = 0;

  private controller: AbortController | undefined;
  private engine: IsingEngine | undefined;
  /** The settings from attributes and defaults, before the URL (left out of the URL). */
  private base: ScanSettings = { ...DEFAULT_SCAN };

  /** The results of the last (or current) scan. */
  get scanPoints(): readonly ScanPoint[] {
    return this.results;
  }

  /** Starts a scan with the form's settings (as the Run button does); resolves when it ends. */
  run(): Promise<void> {
    return this.start();
  }

  /** Cancels the scan in flight (what was measured stays). */
  cancel(): void {
    this.controller?.abort();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.cancel();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const form = { ...this.form };
    let touched = false;
    const map: [keyof BlockspinIsingScan & keyof this, keyof ScanSettings][] = [
      ['size', 'L'],
      ['tMin', 'tMin'],
      ['tMax', 'tMax'],
      ['points', 'points'],
      ['algorithm', 'algorithm'],
      ['thermalize', 'thermalize'],
      ['measure', 'measure'],
      ['seed', 'seed'],
    ];
    for (const [prop, key] of map) {
      if (changed.has(prop)) {
        (form as unknown as Record<string, unknown>)[key] = this[prop];
        touched = true;
      }
    }
    if (!this.hasUpdated) {
      this.base = { ...form };
      if (this.urlState) {
        const fromUrl = scanSettingsFromQuery(location.search);
        Object.assign(form, fromUrl);
        touched = true;
        const problems = checkScan(form);
        if (problems.length > 0) {
          this.status = 'error';
          this.errorKind = 'input';
          this.problems = problems;
        }
      }
    }
    if (touched && this.status !== 'running') this.form = form;
  }

  /** With url-state: the form's settings into the address bar (replaceState; the start values are left out). */
  private writeUrl(): void {
    if (!this.urlState) return;
    const params = new URLSearchParams(location.search);
    for (const [key, name] of Object.entries(SCAN_URL_KEYS) as [keyof ScanSettings, string][]) {
      const value = this.form[key];
      if (value === this.base[key]) params.delete(name);
      else params.set(name, String(value));
    }
    const search = params.toString();
    const url = `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`)
      history.replaceState(history.state, '', url);
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
    this.dataset.points = String(this.results.length);
  }

  private readForm(formElement: HTMLFormElement): ScanSettings {
    const data = new FormData(formElement);
    const num = (name: string): number => {
      const v = data.get(name);
      return typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    };
    return {
      L: num('L'),
      tMin: num('tMin'),
      tMax: num('tMax'),
      points: num('points'),
      algorithm: String(data.get('algorithm')) as IsingAlgorithm,
      thermalize: num('thermalize'),
      measure: num('measure'),
      seed: num('seed'),
    };
  }

  private onChange(event: Event): void {
    const formElement = (event.target as HTMLElement).closest('form');
    if (!formElement || this.status === 'running') return;
    this.form = this.readForm(formElement);
    const problems = checkScan(this.form);
    if (problems.length > 0) {
      this.status = 'error';
      this.errorKind = 'input';
      this.problems = problems;
      return;
    }
    this.writeUrl();
    if (this.errorKind === 'input') {
      this.errorKind = undefined;
      this.problems = [];
      this.status = this.results.length > 0 ? 'done' : 'idle';
    }
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    if (this.status === 'running') return;
    this.form = this.readForm(event.target as HTMLFormElement);
    void this.start();
  }

  private async start(): Promise<void> {
    if (this.status === 'running') return;
    const settings = { ...this.form };
    const problems = checkScan(settings);
    if (problems.length > 0) {
      this.status = 'error';
      this.errorKind = 'input';
      this.problems = problems;
      return;
    }
    this.writeUrl();
    const controller = new AbortController();
    this.controller = controller;
    this.status = 'running';
    this.errorKind = undefined;
    this.problems = [];
    this.results = [];
    this.ran = settings;
    this.cancelled = false;
    this.progress = { phase: 'thermalise', done: 0, total: settings.thermalize };
    const t0 = performance.now();
    let device: GPUDevice;
    try {
      device = await elementDevice(this.device);
    } catch (err) {
      this.stopWith('unavailable', err);
      return;
    }
    whenLost(
      device,
      () => (this.controller === controller ? device : undefined),
      (reason) => {
        controller.abort();
        this.status = 'error';
        this.errorKind = 'lost';
        this.problems = [{ message: `The GPU device was lost (reason: ${reason}); the scan stopped.` }];
      },
    );
    try {
      await this.scan(device, settings, controller.signal, t0);
      if (this.controller !== controller || this.errorKind === 'lost') return;
      this.cancelled = controller.signal.aborted;
      this.status = this.cancelled && this.results.length === 0 ? 'idle' : 'done';
      this.dispatchEvent(
        new CustomEvent<ScanDone>('blockspin-scan-done', {
          detail: { settings, points: this.results, cancelled: this.cancelled },
          bubbles: true,
          composed: true,
        }),
      );
    } catch (err) {
      if (this.errorKind !== 'lost') this.stopWith('failed', err);
    } finally {
      this.engine?.destroy();
      this.engine = undefined;
      if (this.controller === controller) this.controller = undefined;
      this.elapsedMs = performance.now() - t0;
    }
  }

  private stopWith(kind: ScanErrorKind, err: unknown): void {
    this.status = 'error';
    this.errorKind = kind;
    this.problems = [{ message: err instanceof Error ? err.message : String(err) }];
    if (kind === 'failed') console.error(err);
  }

  /** Thermalise, then measure in chunks; after each chunk the estimates and plots are brought up to date. */
  private async scan(device: GPUDevice, s: ScanSettings, signal: AbortSignal, t0: number): Promise<void> {
    const temperatures = scanTemperatures(s);
    const engine = new IsingEngine(device, {
      L: s.L,
      T: temperatures,
      algorithm: s.algorithm,
      kernel: kernelFor(s.L),
      seed: s.seed,
      replicas: temperatures.length,
      // Ordered start: below T_c a random start can freeze into stripes on a small torus.
      init: 'up',
      maxDistance: 0,
    });
    this.engine = engine;
    const exact = temperatures.map((T) => exactAt(s.L, T));
    // Chunks of about 1/20 of a phase (at least 20 sweeps): progress and plots move, Cancel answers quickly.
    // (at most 2000 sweeps, so long runs still refresh the plots); the progress line moves per submission.
    const chunk = (total: number): number => Math.min(2000, Math.max(20, Math.ceil(total / 20)));
    let done = 0;
    while (done < s.thermalize && !signal.aborted) {
      const before = done;
      const r = await engine.run({
        sweeps: Math.min(chunk(s.thermalize), s.thermalize - done),
        signal,
        onProgress: (d) => (this.progress = { phase: 'thermalise', done: before + d, total: s.thermalize }),
      });
      done += r.sweepsDone;
      this.progress = { phase: 'thermalise', done, total: s.thermalize };
      this.elapsedMs = performance.now() - t0;
      await nextFrame();
    }
    engine.clearMeasurements();
    done = 0;
    while (done < s.measure && !signal.aborted) {
      const before = done;
      const r = await engine.run({
        sweeps: Math.min(chunk(s.measure), s.measure - done),
        measureEvery: 1,
        signal,
        onProgress: (d) => (this.progress = { phase: 'measure', done: before + d, total: s.measure }),
      });
      done += r.sweepsDone;
      this.progress = { phase: 'measure', done, total: s.measure };
      if (done >= 16) await this.estimate(engine, s, temperatures, exact);
      this.elapsedMs = performance.now() - t0;
      await nextFrame();
    }
  }

  private async estimate(
    engine: IsingEngine,
    s: ScanSettings,
    temperatures: number[],
    exact: ScanPoint['exact'][],
  ): Promise<void> {
    const N = s.L * s.L;
    const points: ScanPoint[] = [];
    for (let r = 0; r < temperatures.length; r++) {
      const T = temperatures[r] as number;
      const series = await engine.series(r);
      points.push({
        T,
        estimates: isingEstimators({ e: series.energy, m: series.magnetization, beta: 1 / T, N }),
        exact: exact[r] as ScanPoint['exact'],
      });
    }
    if (engine === this.engine) this.results = points;
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  override render(): TemplateResult {
    const running = this.status === 'running';
    const f = this.form;
    const invalid = (field: keyof ScanSettings): boolean =>
      this.errorKind === 'input' && this.problems.some((p) => p.field === field);
    const field = (
      label: string | TemplateResult,
      name: keyof ScanSettings,
      value: number,
      o: { min: number; max: number; step: number | 'any'; cls?: string; title?: string },
    ): TemplateResult =>
      html`<label title=${o.title ?? nothing}
        >${label}
        <input
          class=${o.cls ?? 'narrow'}
          name=${name}
          type="number"
          min=${o.min}
          max=${o.max}
          step=${o.step}
          .value=${Number.isFinite(value) ? String(value) : ''}
          aria-invalid=${invalid(name)}
          ?disabled=${running}
          data-testid=${`scan-${name}`}
      /></label>`;
    return html`
      <section data-testid="scan">
        <div class="title">
          <h2>
            Temperature scan
            <small>periodic L×L · J = 1 · h = 0 · one replica per T · ordered start</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="scan-status">${this.statusText()}</span>
        </div>
        <form @change=${this.onChange} @submit=${this.onSubmit} novalidate>
          ${field('L', 'L', f.L, { min: LIMITS.L[0], max: LIMITS.L[1], step: 2 })}
          ${field('T from', 'tMin', f.tMin, { min: LIMITS.T[0], max: LIMITS.T[1], step: 'any' })}
          ${field('T to', 'tMax', f.tMax, { min: LIMITS.T[0], max: LIMITS.T[1], step: 'any' })}
          ${field('Temperatures', 'points', f.points, { min: LIMITS.points[0], max: LIMITS.points[1], step: 1 })}
          <label
            >Algorithm
            <select
              name="algorithm"
              ?disabled=${running}
              data-testid="scan-algorithm"
              aria-invalid=${invalid('algorithm')}
            >
              ${ALGORITHMS.map((a) => html`<option value=${a.value} ?selected=${f.algorithm === a.value}>${a.label}</option>`)}
            </select></label
          >
          ${field('Thermalise', 'thermalize', f.thermalize, {
            min: LIMITS.thermalize[0],
            max: LIMITS.thermalize[1],
            step: 1,
            cls: 'wide',
            title: 'sweeps before measuring',
          })}
          ${field('Measure', 'measure', f.measure, {
            min: LIMITS.measure[0],
            max: LIMITS.measure[1],
            step: 1,
            cls: 'wide',
            title: 'measured sweeps (one measurement per sweep)',
          })}
          ${field('Seed', 'seed', f.seed, { min: 0, max: 0xffffffff, step: 1, cls: 'wide' })}
          <div class="buttons">
            <button
              class="primary"
              type="submit"
              ?disabled=${running || this.errorKind === 'input'}
              data-testid="scan-run"
            >
              Run scan
            </button>
            <button
              type="button"
              ?disabled=${!running}
              data-testid="scan-cancel"
              @click=${() => this.cancel()}
            >
              Cancel
            </button>
          </div>
        </form>
        ${
          this.status === 'error' && this.problems.length > 0
            ? html`<div class="error" role="alert" data-testid="scan-error">
                <ul>
                  ${this.problems.map(
                    (p) =>
                      html`<li data-testid="scan-error-message" data-field=${p.field ?? nothing}>
                        ${p.message}
                      </li>`,
                  )}
                </ul>
              </div>`
            : nothing
        }
        ${
          this.ran
            ? progressLine(
                'scan-progress',
                this.progress,
                html`<span>${this.progress.phase === 'measure' ? 'Measuring' : 'Thermalising'}</span>`,
                'sweeps',
              )
            : nothing
        }
        ${this.renderNote()} ${this.renderPlots()} ${this.renderTable()}
      </section>
    `;
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, { running: 'Running…', done: 'Done' });
  }

  private renderNote(): TemplateResult {
    const s = this.ran ?? this.form;
    const n = this.results[0]?.estimates.n ?? 0;
    const enumerated = s.L * s.L <= MAX_ENUMERATION_SPINS;
    return html`<p class="note" data-testid="scan-note">
      ${s.points} temperatures × ${s.L}×${s.L} spins, ${kernelFor(s.L)} kernel;
      ${
        this.ran
          ? html`${n.toLocaleString('en-US')} measurements per T${this.cancelled ? ' (cancelled)' : ''} in
            ${(this.elapsedMs / 1000).toFixed(1)} s. `
          : ''
      }
      Errors: ⟨E⟩ and ⟨|m|⟩ from τ_int (Sokal window), C, χ, U4 by jackknife over blocks ≥ 4 τ_int. Exact:
      Kaufman's E and C for the ${s.L}×${s.L}
      torus${
        enumerated
          ? html`; χ and U4 by enumerating all 2<sup>${s.L * s.L}</sup> states`
          : html`; no exact finite-L curve for χ and U4 (enumeration needs N ≤ ${MAX_ENUMERATION_SPINS})`
      }.
      T<sub>c</sub> = ${T_C.toFixed(4)} (L = ∞).
    </p>`;
  }

  /** The plots' inputs, rebuilt only when the results or the settings change (see renderPlots). */
  private plotModel:
    | {
        results: ScanPoint[];
        ran: ScanSettings;
        markers: { x: number; label: string }[];
        plots: { hasExact: boolean; series: PlotSeries[]; data: PlotData }[];
      }
    | undefined;

  private buildPlotModel(s: ScanSettings): NonNullable<typeof this.plotModel> {
    if (this.plotModel?.results === this.results && this.plotModel.ran === s) return this.plotModel;
    const temperatures = scanTemperatures(s);
    // The exact curve on a fine grid, merged with the scan's temperatures into one x axis.
    const fine = Array.from(
      { length: EXACT_POINTS },
      (_, i) => s.tMin + ((s.tMax - s.tMin) * i) / (EXACT_POINTS - 1),
    );
    const xs = [...new Set([...fine, ...temperatures])].sort((a, b) => a - b);
    const exactCurve = this.exactCurve(s.L, xs);
    const index = new Map(this.results.map((p) => [p.T, p]));
    const plots = PLOTS.map((plot) => {
      const hasExact = exactCurve.some((x) => plot.exact(x) !== null);
      const series: PlotSeries[] = [
        { label: `Monte Carlo (L = ${s.L})`, style: 'points', color: '#2456c7' },
        {
          label: hasExact ? `exact, L = ${s.L}` : 'no exact finite-L curve',
          dash: true,
          color: '#c2410c',
        },
      ];
      const at = (x: number, f: (e: { mean: number; err: number }) => number): number | null => {
        const p = index.get(x);
        return p ? f(plot.value(p)) : null;
      };
      const data: PlotData = {
        x: xs,
        y: [xs.map((x) => at(x, (e) => e.mean)), exactCurve.map((e) => plot.exact(e))],
        errors: [xs.map((x) => at(x, (e) => e.err)), undefined],
      };
      return { hasExact, series, data };
    });
    this.plotModel = {
      results: this.results,
      ran: s,
      markers: T_C >= s.tMin && T_C <= s.tMax ? [{ x: T_C, label: 'Tc(∞)' }] : [],
      plots,
    };
    return this.plotModel;
  }

  /** The four plots: new results reach them as data (uPlot redraws; the chart is rebuilt only if its axes change). */
  private renderPlots(): TemplateResult | typeof nothing {
    const s = this.ran;
    if (!s) return nothing;
    const model = this.buildPlotModel(s);
    return html`<div class="plots">
      ${PLOTS.map((plot, i) => {
        const { hasExact, series, data } = model.plots[i] as (typeof model.plots)[number];
        return html`<blockspin-plot
          data-testid=${plot.testId}
          data-exact=${hasExact ? 'yes' : 'no'}
          .heading=${plot.heading}
          x-label="T"
          .yLabel=${plot.y}
          .height=${210}
          .series=${series}
          .data=${data}
          .markers=${model.markers}
          placeholder="Waiting for the first measurements…"
        ></blockspin-plot>`;
      })}
    </div>`;
  }

  private exactCache: { key: string; values: ScanPoint['exact'][] } | undefined;

  /** Exact values on the grid xs (memoised: enumeration of 2^16 states per point is not free). */
  private exactCurve(L: number, xs: number[]): ScanPoint['exact'][] {
    const key = `${L}:${xs.join(',')}`;
    if (this.exactCache?.key !== key) this.exactCache = { key, values: xs.map((T) => exactAt(L, T)) };
    return this.exactCache.values;
  }

  private renderTable(): TemplateResult | typeof nothing {
    if (this.results.length === 0) return nothing;
    const fmt = (e: { mean: number; err: number }): string => formatMeanError(e.mean, e.err);
    const z = (e: { mean: number; err: number }, exact: number | null): TemplateResult | string => {
      if (exact === null || !(e.err > 0)) return '—';
      const value = (e.mean - exact) / e.err;
      return html`<span class=${Math.abs(value) > 3 ? 'z-bad' : ''}
        >${value >= 0 || Math.abs(value) < 0.05 ? '+' : '−'}${Math.abs(value).toFixed(1)}</span
      >`;
    };
    const num = (x: number | null): string => (x === null ? '' : String(x));
    return html`<div class="table-wrap">
      <table data-testid="scan-results">
        <thead>
          <tr>
            <th>T</th>
            <th>⟨E⟩/N</th>
            <th>exact</th>
            <th title="(MC − exact) / error">z</th>
            <th>C/N</th>
            <th>exact</th>
            <th title="(MC − exact) / error">z</th>
            <th>⟨|m|⟩</th>
            <th>χ</th>
            <th>U4</th>
            <th title="integrated autocorrelation time of E, in sweeps">τ<sub>int</sub>(E)</th>
            <th title="integrated autocorrelation time of |m|, in sweeps">τ<sub>int</sub>(|m|)</th>
            <th title="jackknife blocks × block length">blocks</th>
          </tr>
        </thead>
        <tbody>
          ${this.results.map((p) => {
            const e = p.estimates;
            const blocked = e.blocking.wellBlocked && e.blocking.converged;
            return html`<tr
              data-testid="scan-row"
              data-t=${p.T}
              data-energy=${e.energy.mean}
              data-energy-err=${e.energy.err}
              data-c=${e.specificHeat.mean}
              data-c-err=${e.specificHeat.err}
              data-chi=${e.susceptibility.mean}
              data-u4=${e.binder.mean}
              data-abs-m=${e.absMagnetization.mean}
              data-exact-energy=${p.exact.energy}
              data-exact-c=${p.exact.specificHeat}
              data-exact-chi=${num(p.exact.susceptibility)}
              data-exact-u4=${num(p.exact.binder)}
            >
              <td>${p.T.toFixed(3)}</td>
              <td>${fmt(e.energy)}</td>
              <td>${fixed(p.exact.energy, 5)}</td>
              <td>${z(e.energy, p.exact.energy)}</td>
              <td>${fmt(e.specificHeat)}</td>
              <td>${fixed(p.exact.specificHeat, 4)}</td>
              <td>${z(e.specificHeat, p.exact.specificHeat)}</td>
              <td>${fmt(e.absMagnetization)}</td>
              <td>${fmt(e.susceptibility)}</td>
              <td>${fmt(e.binder)}</td>
              <td>${formatTau(e.tauInt.energy)}</td>
              <td>${formatTau(e.tauInt.absMagnetization)}</td>
              <td
                class=${blocked ? '' : 'warn'}
                title=${blocked ? 'blocks ≥ 4 τ_int' : 'series too short for its τ_int: C, χ, U4 errors are too small'}
              >
                ${e.blocking.blocks}×${e.blocking.blockSize}${blocked ? '' : ' ⚠'}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-ising-scan': BlockspinIsingScan;
  }
  interface HTMLElementEventMap {
    'blockspin-scan-done': CustomEvent<ScanDone>;
  }
}
