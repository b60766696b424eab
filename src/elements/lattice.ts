import { LitElement, css, html, nothing, unsafeCSS, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import {
  IsingEngine,
  IsingRenderer,
  SPIN_PALETTE,
  type IsingAlgorithm,
  type IsingKernel,
  resolveIsingConfig,
} from '../index.ts';
import {
  ALGORITHMS,
  chooseAlgorithm,
  chooseField,
  DEFAULT_SETTINGS,
  H_RANGE,
  L_RANGE,
  SWEEPS_RANGE,
  T_RANGE,
  settingsFromQuery,
  type IsingViewSettings,
} from './ising-settings.ts';
import { fitCanvas, panelStyles, reflectStatus, statusText, whenLost } from './common.ts';
import { elementDevice } from './device.ts';

export { DEFAULT_SETTINGS, settingsFromQuery, type IsingViewSettings } from './ising-settings.ts';

/** Where the lattice is: reflected on the host as `data-status` (tests wait for `running`, `paused` or `error`). */
export type LatticeStatus = 'waiting' | 'starting' | 'running' | 'paused' | 'error';

/**
 * Why the lattice stopped: reflected on the host as `data-error` while `data-status` is `error` (`params`: a
 * bad URL or attribute value; `lost`: the device was lost; `unavailable`: no device given and none could be
 * acquired; `failed`: anything else).
 */
export type LatticeErrorKind = 'params' | 'lost' | 'unavailable' | 'failed';

/** @deprecated The element's old name; use {@link LatticeStatus}. */
export type IsingViewStatus = LatticeStatus;
/** @deprecated The element's old name; use {@link LatticeErrorKind}. */
export type IsingViewErrorKind = LatticeErrorKind;

/** The latest readout, taken from `IsingEngine.observables()` about every READOUT_MS. */
export interface IsingReadout {
  /** Per spin, replica 0. */
  energy: number;
  magnetization: number;
  sweeps: number;
  /** Wall-clock sweeps per second over the last readout interval (null until one has passed). */
  sweepsPerSecond: number | null;
  /** Attempted spin updates per nanosecond of `engine.run()` time over the last interval. */
  flipsPerNs: number | null;
}

/** The detail of a `blockspin-readout` event: one reading of replica 0 and the settings it was taken at. */
export interface LatticeReadout extends IsingReadout {
  /** Always 0: the lattice runs one replica. */
  replica: number;
  algorithm: IsingAlgorithm;
  kernel: IsingKernel;
  T: number;
  h: number;
  L: number;
  seed: number;
}

/** A setting of the lattice that can change (sweepsPerFrame changes the pace, not the physics). */
export type LatticeSettingKey = keyof IsingViewSettings;

/** The detail of a `blockspin-settings` event: the settings now, and which ones changed. */
export interface LatticeSettingsChange {
  settings: IsingViewSettings;
  changed: LatticeSettingKey[];
}

/** Onsager's critical temperature of the square lattice (J = 1, k_B = 1): 2 / ln(1 + √2). */
export const T_CRITICAL = 2 / Math.log(1 + Math.SQRT2);

const L_CHOICES = [32, 64, 128, 256, 512, 1024, 2048];
const READOUT_MS = 250;
/** Letterbox colour: the panel's white, so the lattice reads as a square on the card. */
const PANEL = '#ffffff';

function clamp(x: number, [lo, hi]: readonly [number, number]): number {
  return Math.min(hi, Math.max(lo, x));
}

/** A fresh 32-bit seed for Reset (short enough to read off the page). */
function newSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}

function signed(x: number, digits: number): string {
  return `${x < 0 ? '−' : x > 0 ? '+' : ' '}${Math.abs(x).toFixed(digits)}`;
}

function significant(x: number | null, digits = 3): string {
  if (x === null || !Number.isFinite(x)) return '—';
  return x >= 10 ** digits ? Math.round(x).toLocaleString('en-US') : x.toPrecision(digits);
}

/** Where T sits relative to T_c, in words. */
function phase(T: number): string {
  const ratio = T / T_CRITICAL;
  if (Math.abs(ratio - 1) < 0.005) return 'critical';
  return ratio < 1 ? 'ordered phase' : 'disordered phase';
}

function nextFrame(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

/** The URL parameter of each setting the lattice keeps in the address bar (with `url-state`). */
const URL_KEYS = {
  L: 'L',
  T: 'T',
  kernel: 'kernel',
  h: 'h',
  algorithm: 'algorithm',
  seed: 'seed',
} as const satisfies Partial<Record<LatticeSettingKey, string>>;

/** How long the address bar waits after the last change (a dragged slider fires many). */
const URL_WRITE_MS = 200;

/**
 * `?h=`, `?algorithm=` and `?seed=` (settingsFromQuery reads `L`, `T` and `kernel`): the values found and a
 * problem for each bad one, naming the parameter and the allowed values.
 */
function extraSettingsFromQuery(search: string): {
  settings: Partial<IsingViewSettings>;
  problems: string[];
} {
  const query = new URLSearchParams(search);
  const settings: Partial<IsingViewSettings> = {};
  const problems: string[] = [];
  const h = query.get('h');
  if (h !== null) {
    const x = Number(h);
    if (h.trim() === '' || !Number.isFinite(x) || x < H_RANGE[0] || x > H_RANGE[1]) {
      problems.push(`?h=${h}: h must be a number in ${H_RANGE[0]} … ${H_RANGE[1]}`);
    } else settings.h = x;
  }
  const algorithm = query.get('algorithm');
  if (algorithm !== null) {
    const known = ALGORITHMS.find((a) => a.value === algorithm);
    if (!known) {
      problems.push(
        `?algorithm=${algorithm}: algorithm must be ${ALGORITHMS.map((a) => `'${a.value}'`).join(', ')}`,
      );
    } else settings.algorithm = known.value;
  }
  const seed = query.get('seed');
  if (seed !== null) {
    const n = Number(seed);
    if (seed.trim() === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      problems.push(`?seed=${seed}: seed must be an integer in 0 … ${0xffffffff}`);
    } else settings.seed = n;
  }
  return { settings, problems };
}

/** Problems of settings given as properties or attributes (`size`, `temperature`, …), named by attribute. */
function attributeProblems(s: IsingViewSettings): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.L) || s.L < L_RANGE[0] || s.L > L_RANGE[1]) {
    problems.push(`size=${s.L}: L must be an integer in ${L_RANGE[0]} … ${L_RANGE[1]}`);
  }
  if (!Number.isFinite(s.T) || s.T < T_RANGE[0] || s.T > T_RANGE[1]) {
    problems.push(`temperature=${s.T}: T must be a number in ${T_RANGE[0]} … ${T_RANGE[1]}`);
  }
  if (!Number.isFinite(s.h) || s.h < H_RANGE[0] || s.h > H_RANGE[1]) {
    problems.push(`field=${s.h}: h must be a number in ${H_RANGE[0]} … ${H_RANGE[1]}`);
  }
  if (s.kernel !== 'packed' && s.kernel !== 'simple') {
    problems.push(`kernel=${String(s.kernel)}: kernel must be 'packed' or 'simple'`);
  }
  if (!ALGORITHMS.some((a) => a.value === s.algorithm)) {
    problems.push(
      `algorithm=${String(s.algorithm)}: algorithm must be ${ALGORITHMS.map((a) => `'${a.value}'`).join(', ')}`,
    );
  }
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) {
    problems.push(`seed=${s.seed}: seed must be an integer in 0 … ${0xffffffff}`);
  }
  if (s.algorithm === 'sw' && s.h !== 0) {
    problems.push(`algorithm=sw needs field 0; got field=${s.h}`);
  }
  return problems;
}

/**
 * `<blockspin-lattice>`: a live 2D Ising simulation. An IsingEngine is advanced `sweepsPerFrame` sweeps per
 * animation frame and drawn by an IsingRenderer straight from the GPU spin buffer (no read-back per frame),
 * with controls for temperature, field, algorithm, sweeps per frame, lattice size and kernel, and readouts of
 * energy and magnetisation per spin, sweeps, sweeps/s and spin updates/ns, refreshed about every 250 ms.
 *
 * Temperature, field and algorithm apply from the next sweep (the state is kept); lattice size and kernel
 * rebuild the engine with the same seed; Reset rebuilds it with a new seed. The next frame is only requested
 * once the previous frame's sweeps have finished on the GPU, so a slow adapter lowers the frame rate instead
 * of queueing work.
 *
 * Device: the `device` property when given (owned by the caller; another device rebuilds the simulation),
 * else the page's shared device (src/elements/device.ts), acquired when the element is first connected.
 *
 * Initial settings, each a property and an attribute: `size` (L), `temperature` (T), `field` (h), `kernel`
 * (`packed` | `simple`), `algorithm` (`metropolis` | `heatbath` | `sw`), `seed`, `sweeps-per-frame`; what is
 * set wins over the defaults (DEFAULT_SETTINGS). Setting one later applies it like the matching control.
 * With the boolean `url-state` attribute the address bar wins over both: `?L=&T=&kernel=&h=&algorithm=&seed=`
 * set the first lattice (a bad value is shown as a `params` error), and every change the user makes is
 * written back with history.replaceState (settings equal to the element's own start values are removed).
 * Without `url-state` the element never reads or writes the URL (for embedding).
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `starting` | `running` | `paused` |
 * `error`) and `data-error` (`params` | `lost` | `unavailable` | `failed`); `data-testid` on controls and
 * readouts, with the raw number in `data-value`.
 *
 * @fires blockspin-readout - `CustomEvent<LatticeReadout>` after each read of the observables (about every
 *   250 ms while running, once on pause and after each rebuild): sweeps, energy and magnetisation per spin
 *   of replica 0, the rates, and the algorithm, kernel, T, h, L and seed they were taken at. Bubbles, composed.
 * @fires blockspin-settings - `CustomEvent<LatticeSettingsChange>` when a setting changes (a control, a
 *   property, Reset), with the settings now and the keys that changed. Bubbles, composed.
 * @csspart canvas - the WebGPU canvas the lattice is drawn into.
 *
 * @example
 * <blockspin-lattice size="128" temperature="2.0" kernel="simple"></blockspin-lattice>
 * <blockspin-lattice url-state .device=${gpu.device}
 *   @blockspin-readout=${(e: CustomEvent<LatticeReadout>) => trace.addPoint(e.detail.sweeps, [e.detail.energy])}
 * ></blockspin-lattice>
 */
@customElement('blockspin-lattice')
export class BlockspinLattice extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .title {
        margin-bottom: 14px;
      }
      .layout {
        display: grid;
        /* 512 CSS pixels: whole pixels per site for every lattice from 64 to 512 at a device pixel ratio of 1. */
        grid-template-columns: minmax(0, 512px) minmax(340px, 1fr);
        gap: 24px;
        align-items: start;
      }
      @media (max-width: 860px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .stage {
        position: relative;
      }
      canvas {
        display: block;
        width: 100%;
        aspect-ratio: 1;
        /* Square corners: a rounded clip would hide the corner sites. */
        background: ${unsafeCSS(PANEL)};
      }
      .overlay {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        padding: 24px;
        text-align: center;
        color: var(--muted, #5b6677);
        background: rgb(255 255 255 / 80%);
      }
      .legend {
        display: flex;
        gap: 16px;
        margin-top: 8px;
        font-size: 0.85rem;
        color: var(--muted, #5b6677);
      }
      .swatch {
        display: inline-block;
        width: 12px;
        height: 12px;
        margin-right: 6px;
        border-radius: 3px;
        vertical-align: -1px;
      }
      .controls {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr) max-content;
        gap: 10px 12px;
        align-items: center;
        margin: 0 0 16px;
      }
      .controls > label {
        color: var(--muted, #5b6677);
      }
      .controls output,
      .num {
        font-variant-numeric: tabular-nums;
      }
      .controls output {
        font-size: 0.9rem;
      }
      .controls .hint {
        grid-column: 2 / 4;
        margin-top: -6px;
        font-size: 0.8rem;
        color: var(--muted, #5b6677);
      }
      .controls .wide {
        grid-column: 2 / 4;
        justify-self: start;
        max-width: 100%;
      }
      input[type='range'] {
        width: 100%;
        accent-color: var(--accent, #2456c7);
      }
      input[type='number'] {
        width: 5.5em;
      }
      input[type='number'],
      select,
      button {
        font: inherit;
        border-radius: 8px;
        padding: 5px 10px;
        border: 1px solid var(--line, #dde2ea);
        background: #fff;
        color: var(--ink, #1b2330);
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        gap: 10px;
        margin-bottom: 16px;
      }
      button {
        padding: 7px 14px;
        font-weight: 600;
        cursor: pointer;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 6px 16px;
        margin: 0;
      }
      dt {
        color: var(--muted, #5b6677);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .big {
        font-size: 1.25rem;
        font-weight: 600;
      }
      .note {
        margin: 12px 0 0;
      }
      .error {
        margin: 0 0 16px;
        padding: 10px 14px;
      }
      .error p {
        margin: 0;
      }
    `,
  ];

  /** The device to simulate on (owned by the caller). Another device rebuilds the simulation; none: the page's. */
  @property({ attribute: false }) device: GPUDevice | undefined;
  /** Lattice side L (initial; attribute `size`). */
  @property({ type: Number }) size: number | undefined;
  /** Temperature T (J = k_B = 1). */
  @property({ type: Number }) temperature: number | undefined;
  /** Field h. */
  @property({ type: Number }) field: number | undefined;
  @property() kernel: IsingKernel | undefined;
  @property() algorithm: IsingAlgorithm | undefined;
  /** Seed of the random numbers (a 32-bit integer). */
  @property({ type: Number }) seed: number | undefined;
  /** Sweeps per animation frame (1 … 32). */
  @property({ type: Number, attribute: 'sweeps-per-frame' }) sweepsPerFrame: number | undefined;
  /** Read the first settings from the URL and write the user's changes back (the lab; not for embedding). */
  @property({ type: Boolean, attribute: 'url-state' }) urlState = false;

  @state() private status: LatticeStatus = 'waiting';
  @state() private errorKind: LatticeErrorKind | undefined;
  @state() private errorMessage = '';
  @state() private settings: IsingViewSettings = { ...DEFAULT_SETTINGS };
  @state() private paused = false;
  @state() private readout: IsingReadout | undefined;
  /** L and kernel of the engine being shown (the settings may name a lattice that failed to build). */
  @state() private shown: { L: number; kernel: IsingKernel; seed: number } | undefined;
  /** The page's shared device, when no `device` was given. */
  @state() private acquired: GPUDevice | undefined;

  @query('canvas') private canvas!: HTMLCanvasElement;

  private context: GPUCanvasContext | undefined;
  private currentEngine: IsingEngine | undefined;
  private currentRenderer: IsingRenderer | undefined;
  private resizeObserver: ResizeObserver | undefined;
  /** Every GPU operation (a frame, a readout, a rebuild) runs after the previous one has finished. */
  private queue: Promise<unknown> = Promise.resolve();
  private looping = false;
  /** Readout window: wall time and sweep count at its start, and `run()` time and updates inside it. */
  private window = { start: 0, sweeps: 0, runMs: 0, updates: 0 };
  private startProblems: string[] = [];
  /** The settings the element started from before the URL (attributes over defaults): not written to the URL. */
  private base: IsingViewSettings = { ...DEFAULT_SETTINGS };
  /** The device the simulation runs on now (attach() was called for it). */
  private attached: GPUDevice | undefined;
  private acquiring = false;
  private urlTimer: ReturnType<typeof setTimeout> | undefined;

  /** The engine being shown (undefined while none is built). */
  get engine(): IsingEngine | undefined {
    return this.currentEngine;
  }

  /** The renderer drawing the engine (undefined while none is built). */
  get renderer(): IsingRenderer | undefined {
    return this.currentRenderer;
  }

  /** The settings in effect (a copy). */
  get currentSettings(): IsingViewSettings {
    return { ...this.settings };
  }

  /** The device in use: the given one, else the page's shared one once acquired. */
  private get gpu(): GPUDevice | undefined {
    return this.device ?? this.acquired;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated) {
      // Back in a document: watch the canvas again and start a fresh simulation.
      this.observeSize();
      if (this.gpu) void this.rebuild();
    }
    // Without a device from the host, use the page's shared one (after this task: a host setting `.device`
    // in the same render must not cause an acquisition).
    queueMicrotask(() => this.acquireIfNeeded());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    this.flushUrl();
    this.background(() => this.teardown());
  }

  protected override firstUpdated(): void {
    this.observeSize();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.hasUpdated) this.initSettings();
    else this.applyProperties(changed);
    // Here rather than in updated(): the state attach() sets is then part of this update, not a second one.
    if (this.gpu !== this.attached) this.attach();
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
  }

  private acquireIfNeeded(): void {
    if (this.device || this.acquired || this.acquiring || !this.isConnected) return;
    this.acquiring = true;
    elementDevice(undefined).then(
      (device) => {
        this.acquiring = false;
        // A loss of this device is shown like that of a given one (whenLost in attach()).
        this.acquired = device;
      },
      (err: unknown) => {
        this.acquiring = false;
        if (this.device) return;
        this.status = 'error';
        this.errorKind = 'unavailable';
        this.errorMessage = err instanceof Error ? err.message : String(err);
      },
    );
  }

  /** The first settings: the defaults, then the properties and attributes set, then (with url-state) the URL. */
  private initSettings(): void {
    const given: Partial<IsingViewSettings> = {};
    if (this.size !== undefined) given.L = this.size;
    if (this.temperature !== undefined) given.T = this.temperature;
    if (this.field !== undefined) given.h = this.field;
    if (this.kernel !== undefined) given.kernel = this.kernel;
    if (this.algorithm !== undefined) given.algorithm = this.algorithm;
    if (this.seed !== undefined) given.seed = this.seed;
    if (this.sweepsPerFrame !== undefined) given.sweepsPerFrame = this.sweepsPerFrame;
    const base: IsingViewSettings = { ...DEFAULT_SETTINGS, ...given };
    const problems = attributeProblems(base);
    if (problems.length > 0) {
      // Bad attributes: start from the defaults for those (the message names them).
      for (const key of Object.keys(given) as LatticeSettingKey[]) {
        if (attributeProblems({ ...DEFAULT_SETTINGS, [key]: given[key] }).length > 0) {
          (base as unknown as Record<string, unknown>)[key] = DEFAULT_SETTINGS[key];
        }
      }
    }
    // Each value may be fine alone and not together: Swendsen–Wang runs at h = 0 only.
    if (base.algorithm === 'sw' && base.h !== 0) base.algorithm = 'metropolis';
    base.sweepsPerFrame = Math.round(clamp(base.sweepsPerFrame, SWEEPS_RANGE));
    this.base = { ...base };
    let settings = base;
    if (this.urlState) {
      const query = new URLSearchParams(location.search);
      // settingsFromQuery checks ?L= against the default kernel: name the element's own kernel when it differs.
      if (query.has('L') && !query.has('kernel') && base.kernel !== DEFAULT_SETTINGS.kernel)
        query.set('kernel', base.kernel);
      const fromQuery = settingsFromQuery(`?${query.toString()}`);
      const extra = extraSettingsFromQuery(location.search);
      problems.push(...fromQuery.problems, ...extra.problems);
      settings = { ...settings, ...extra.settings };
      if (query.has('L')) settings.L = fromQuery.settings.L;
      if (query.has('T')) settings.T = fromQuery.settings.T;
      if (query.has('kernel')) settings.kernel = fromQuery.settings.kernel;
      if (settings.algorithm === 'sw' && settings.h !== 0) {
        problems.push(`?algorithm=sw needs h = 0; got h = ${settings.h}`);
        settings.algorithm = 'metropolis';
      }
    }
    if (problems.length === 0) {
      try {
        resolveIsingConfig({ L: settings.L, T: settings.T, kernel: settings.kernel, seed: settings.seed });
      } catch (err) {
        const hint =
          settings.kernel === 'packed' && settings.L % 2 === 0 ? " (kernel 'simple' takes any even L)" : '';
        problems.push(`size=${settings.L}, kernel=${settings.kernel}: ${(err as Error).message}${hint}`);
      }
    }
    this.settings = settings;
    this.startProblems = problems;
  }

  /** Properties set after the start apply like the matching control (only values that differ). */
  private applyProperties(changed: PropertyValues<this>): void {
    const s = this.settings;
    if (changed.has('temperature') && this.temperature !== undefined && this.temperature !== s.T)
      this.setTemperature(this.temperature);
    if (changed.has('field') && this.field !== undefined && this.field !== s.h) this.setField(this.field);
    if (changed.has('algorithm') && this.algorithm !== undefined && this.algorithm !== s.algorithm)
      this.setAlgorithm(this.algorithm);
    if (changed.has('sweepsPerFrame') && this.sweepsPerFrame !== undefined)
      this.setSweepsPerFrame(this.sweepsPerFrame);
    const lattice: Partial<Pick<IsingViewSettings, 'L' | 'kernel' | 'seed'>> = {};
    if (changed.has('size') && this.size !== undefined && this.size !== s.L) lattice.L = this.size;
    if (changed.has('kernel') && this.kernel !== undefined && this.kernel !== s.kernel)
      lattice.kernel = this.kernel;
    if (changed.has('seed') && this.seed !== undefined && this.seed !== s.seed) lattice.seed = this.seed;
    if (Object.keys(lattice).length > 0) this.setLattice(lattice);
  }

  private observeSize(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = new ResizeObserver(([entry]) => {
      if (!entry || !fitCanvas(this.canvas, entry)) return;
      // A running loop redraws on its next frame; otherwise redraw now (resizing cleared the canvas).
      if (!this.looping) this.background(() => this.currentRenderer?.render());
    });
    this.resizeObserver.observe(this.canvas, { box: 'device-pixel-content-box' });
  }

  /** Starts over on the current device: listens for its loss and builds the first engine. */
  private attach(): void {
    const device = this.gpu;
    this.attached = device;
    this.background(() => this.teardown());
    if (!device) {
      if (this.errorKind !== 'unavailable') this.status = 'waiting';
      return;
    }
    if (this.errorKind === 'unavailable' || this.errorKind === 'lost') {
      this.errorKind = undefined;
      this.errorMessage = '';
    }
    whenLost(
      device,
      () => this.gpu,
      (reason) => {
        this.status = 'error';
        this.errorKind = 'lost';
        this.errorMessage = `The GPU device was lost (reason: ${reason}); the simulation stopped.`;
      },
    );
    if (this.startProblems.length > 0) {
      this.status = 'error';
      this.errorKind = 'params';
      this.errorMessage =
        `${this.startProblems.join('; ')}. ` +
        'Pick a lattice below or press Reset to start with the settings shown.';
      this.startProblems = [];
      return;
    }
    void this.rebuild();
  }

  // ── events and the address bar ────────────────────────────────────────────────────────────────────

  /** Tells the host which settings changed, and (with url-state) schedules the address bar's update. */
  private settingsChanged(before: IsingViewSettings): void {
    const changed = (Object.keys(this.settings) as LatticeSettingKey[]).filter(
      (k) => this.settings[k] !== before[k],
    );
    if (changed.length === 0) return;
    this.dispatchEvent(
      new CustomEvent<LatticeSettingsChange>('blockspin-settings', {
        detail: { settings: { ...this.settings }, changed },
        bubbles: true,
        composed: true,
      }),
    );
    if (this.urlState) {
      clearTimeout(this.urlTimer);
      this.urlTimer = setTimeout(() => this.flushUrl(), URL_WRITE_MS);
    }
  }

  /** Writes the settings into the address bar now (replaceState; start values are removed). */
  private flushUrl(): void {
    if (this.urlTimer === undefined) return;
    clearTimeout(this.urlTimer);
    this.urlTimer = undefined;
    if (!this.urlState) return;
    const params = new URLSearchParams(location.search);
    for (const [key, name] of Object.entries(URL_KEYS) as [keyof typeof URL_KEYS, string][]) {
      const value = this.settings[key];
      if (value === this.base[key]) params.delete(name);
      else params.set(name, String(key === 'T' ? Number(Number(value).toFixed(4)) : value));
    }
    const search = params.toString();
    const url = `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`)
      history.replaceState(history.state, '', url);
  }

  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Queues `fn` like exclusive(), for callers that do not wait: a failure is shown in the page. */
  private background(fn: () => Promise<unknown> | unknown): void {
    this.exclusive(fn).catch((err: unknown) => this.fail(err));
  }

  private teardown(): void {
    this.currentRenderer?.destroy();
    this.currentEngine?.destroy();
    this.currentRenderer = undefined;
    this.currentEngine = undefined;
  }

  /** Builds a new engine (and renderer) from the settings, draws it, then runs the animation loop. */
  private async rebuild(): Promise<void> {
    if (!this.gpu || this.errorKind === 'lost') return;
    this.status = 'starting';
    this.errorKind = undefined;
    this.errorMessage = '';
    try {
      await this.exclusive(() => this.build());
    } catch (err) {
      this.fail(err);
      return;
    }
    void this.loop();
  }

  private async build(): Promise<void> {
    await this.updateComplete; // the canvas exists from the first render on
    const device = this.gpu;
    if (!device) return;
    this.teardown();
    const s = this.settings;
    this.context ??= this.canvas.getContext('webgpu') ?? undefined;
    if (!this.context)
      throw new Error('this canvas has no WebGPU context (getContext("webgpu") returned null)');
    // The demo never records a time series: keep the engine's series buffers at their minimum.
    const engine = new IsingEngine(device, {
      L: s.L,
      T: s.T,
      h: s.h,
      algorithm: s.algorithm,
      kernel: s.kernel,
      seed: s.seed,
      replicas: 1,
      init: 'random',
      seriesCapacity: 1,
      maxDistance: 0,
    });
    let renderer: IsingRenderer;
    try {
      renderer = new IsingRenderer(device, this.context, engine, {
        palette: { background: PANEL },
        label: `blockspin-lattice ${s.L}×${s.L}`,
      });
    } catch (err) {
      engine.destroy();
      throw err;
    }
    this.currentEngine = engine;
    this.currentRenderer = renderer;
    this.shown = { L: s.L, kernel: s.kernel, seed: s.seed };
    this.readout = undefined;
    renderer.render();
    await this.takeReadout();
  }

  /**
   * The animation loop: each frame waits for requestAnimationFrame, runs `sweepsPerFrame` sweeps and
   * awaits them, then draws; at most one frame's work is ever queued. On pause it finishes the frame in
   * flight, takes a final readout (of exactly the state drawn) and reports `paused`.
   */
  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      this.startWindow();
      while (this.currentEngine && !this.failed && this.isConnected) {
        if (this.paused) {
          await this.exclusive(() => this.takeReadout());
          if (!this.paused) {
            this.startWindow();
            continue;
          }
          if (!this.failed) this.status = 'paused';
          break;
        }
        await nextFrame();
        if (!this.paused) await this.exclusive(() => this.frame());
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.looping = false;
    }
  }

  private async frame(): Promise<void> {
    const engine = this.currentEngine;
    const renderer = this.currentRenderer;
    if (!engine || !renderer || this.failed) return;
    const sweeps = this.settings.sweepsPerFrame;
    const t0 = performance.now();
    await engine.run({ sweeps });
    this.window.runMs += performance.now() - t0;
    this.window.updates += sweeps * engine.config.sites;
    renderer.render();
    if (!this.failed) this.status = 'running';
    if (performance.now() - this.window.start >= READOUT_MS) await this.takeReadout();
  }

  /** True once an error stopped the simulation (a getter, so it is re-read after every await). */
  private get failed(): boolean {
    return this.status === 'error';
  }

  private startWindow(): void {
    this.window = { start: performance.now(), sweeps: this.currentEngine?.sweeps ?? 0, runMs: 0, updates: 0 };
  }

  /** Reads E and M of the current state (one small submission and read-back) and closes the rate window. */
  private async takeReadout(): Promise<void> {
    const engine = this.currentEngine;
    if (!engine) return;
    const { energy, magnetization } = await engine.observables();
    if (engine !== this.currentEngine) return;
    const now = performance.now();
    const swept = engine.sweeps - this.window.sweeps;
    const previous = this.readout;
    const rates =
      swept > 0 && now > this.window.start
        ? {
            sweepsPerSecond: swept / ((now - this.window.start) / 1000),
            flipsPerNs: this.window.runMs > 0 ? this.window.updates / (this.window.runMs * 1e6) : null,
          }
        : { sweepsPerSecond: previous?.sweepsPerSecond ?? null, flipsPerNs: previous?.flipsPerNs ?? null };
    this.readout = {
      energy: energy[0] as number,
      magnetization: magnetization[0] as number,
      sweeps: engine.sweeps,
      ...rates,
    };
    this.startWindow();
    const s = this.settings;
    this.dispatchEvent(
      new CustomEvent<LatticeReadout>('blockspin-readout', {
        detail: {
          ...this.readout,
          replica: 0,
          algorithm: s.algorithm,
          kernel: engine.config.kernel,
          T: s.T,
          h: s.h,
          L: engine.config.Lx,
          seed: this.shown?.seed ?? s.seed,
        },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private fail(err: unknown): void {
    if (this.errorKind === 'lost') return; // failures after a loss are consequences of it
    this.status = 'error';
    this.errorKind = 'failed';
    this.errorMessage = err instanceof Error ? err.message : String(err);
    console.error(err);
  }

  // ── controls ──────────────────────────────────────────────────────────────────────────────────────

  private setTemperature(T: number): void {
    if (!Number.isFinite(T)) return;
    const before = this.settings;
    const value = clamp(T, T_RANGE);
    this.settings = { ...this.settings, T: value };
    this.currentEngine?.setTemperature(value);
    this.settingsChanged(before);
  }

  private setField(h: number): void {
    if (!Number.isFinite(h)) return;
    const before = this.settings;
    const next = chooseField(this.settings, clamp(h, H_RANGE));
    // Leave Swendsen–Wang (zero field only) before the field changes.
    if (next.algorithm !== this.settings.algorithm) this.currentEngine?.setAlgorithm(next.algorithm);
    this.settings = next;
    this.currentEngine?.setField(next.h);
    this.settingsChanged(before);
  }

  private setAlgorithm(algorithm: IsingAlgorithm): void {
    const before = this.settings;
    const next = chooseAlgorithm(this.settings, algorithm);
    try {
      // Swendsen–Wang needs h = 0 before it starts.
      if (next.h !== this.settings.h) this.currentEngine?.setField(next.h);
      this.settings = { ...this.settings, h: next.h };
      this.currentEngine?.setAlgorithm(algorithm); // may refuse (e.g. its labels exceed a buffer limit)
      this.settings = next;
    } catch (err) {
      this.fail(err);
    }
    this.settingsChanged(before);
  }

  private setSweepsPerFrame(n: number): void {
    if (!Number.isFinite(n)) return;
    const before = this.settings;
    this.settings = { ...this.settings, sweepsPerFrame: Math.round(clamp(n, SWEEPS_RANGE)) };
    this.settingsChanged(before);
  }

  /** L, kernel or seed: a new engine (with the same seed unless one is given). */
  private setLattice(change: Partial<Pick<IsingViewSettings, 'L' | 'kernel' | 'seed'>>): void {
    const before = this.settings;
    this.settings = { ...this.settings, ...change };
    this.settingsChanged(before);
    void this.rebuild();
  }

  private reset(): void {
    this.setLattice({ seed: newSeed() });
  }

  private togglePause(): void {
    this.paused = !this.paused;
    if (!this.paused) {
      if (this.status === 'paused') this.status = 'running';
      void this.loop();
    }
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  override render(): TemplateResult {
    const s = this.settings;
    const lost = this.errorKind === 'lost';
    const noDevice = !this.gpu || lost;
    const lattice = this.shown ?? { L: s.L, kernel: s.kernel, seed: s.seed };
    return html`
      <section data-testid="ising">
        <div class="title">
          <h2>
            2D Ising model
            <small data-testid="ising-lattice" data-value=${lattice.L}
              >${lattice.L}×${lattice.L} · periodic · J = 1 · checkerboard ${lattice.kernel} kernel</small
            >
          </h2>
          <span class="state" data-status=${this.status} data-testid="ising-status"
            >${this.statusText()}</span
          >
        </div>
        ${
          this.status === 'error'
            ? html`<div class="error" role="alert" data-testid="ising-error">
                <p data-testid="ising-error-message">${this.errorMessage}</p>
              </div>`
            : nothing
        }
        <div class="layout">
          <div>
            <div class="stage">
              <canvas part="canvas" data-testid="ising-canvas" aria-label="Spin configuration"></canvas>
              ${
                this.status === 'waiting' || this.status === 'starting' || !this.currentEngine
                  ? html`<div class="overlay">${this.overlayText()}</div>`
                  : nothing
              }
            </div>
            <div class="legend">
              <span><span class="swatch" style="background:${SPIN_PALETTE.up}"></span>s = +1</span>
              <span><span class="swatch" style="background:${SPIN_PALETTE.down}"></span>s = −1</span>
            </div>
          </div>
          <div>
            ${this.renderControls(noDevice)} ${this.renderReadouts()}
            <p class="note">
              One submission per frame runs the sweeps; the canvas is drawn by a render pass that reads the
              spin buffer on the GPU. Energy and magnetisation are read back about four times a second.
            </p>
          </div>
        </div>
      </section>
    `;
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, {
      starting: 'Starting…',
      running: 'Running',
      paused: 'Paused',
    });
  }

  private overlayText(): string {
    if (this.status === 'starting') return 'Compiling kernels and building the lattice…';
    if (this.status === 'error') return 'No simulation running.';
    return 'Waiting for a WebGPU device…';
  }

  private renderControls(disabled: boolean): TemplateResult {
    const s = this.settings;
    const Ls = L_CHOICES.includes(s.L) ? L_CHOICES : [...L_CHOICES, s.L].sort((a, b) => a - b);
    const value = (event: Event): number => Number((event.target as HTMLInputElement).value);
    return html`
      <div class="controls">
        <label for="temperature">Temperature T</label>
        <input
          id="temperature"
          type="range"
          min=${T_RANGE[0]}
          max=${T_RANGE[1]}
          step="0.001"
          .value=${String(s.T)}
          data-testid="ising-temperature-slider"
          @input=${(e: Event) => this.setTemperature(value(e))}
        />
        <input
          type="number"
          min=${T_RANGE[0]}
          max=${T_RANGE[1]}
          step="0.001"
          .value=${String(Number(s.T.toFixed(4)))}
          aria-label="Temperature"
          data-testid="ising-temperature"
          @change=${(e: Event) => this.setTemperature(value(e))}
        />
        <output class="hint" data-testid="ising-t-ratio" data-value=${s.T / T_CRITICAL}
          >T/T<sub>c</sub> = ${(s.T / T_CRITICAL).toFixed(3)} · ${phase(s.T)}</output
        >

        <label for="field">Field h</label>
        <input
          id="field"
          type="range"
          min=${H_RANGE[0]}
          max=${H_RANGE[1]}
          step="0.01"
          .value=${String(s.h)}
          data-testid="ising-field"
          @input=${(e: Event) => this.setField(value(e))}
        />
        <output data-testid="ising-field-value" data-value=${s.h}>h = ${signed(s.h, 2)}</output>

        <label for="sweeps">Sweeps / frame</label>
        <input
          id="sweeps"
          type="range"
          min=${SWEEPS_RANGE[0]}
          max=${SWEEPS_RANGE[1]}
          step="1"
          .value=${String(s.sweepsPerFrame)}
          data-testid="ising-sweeps-per-frame"
          @input=${(e: Event) => this.setSweepsPerFrame(value(e))}
        />
        <output data-testid="ising-sweeps-per-frame-value" data-value=${s.sweepsPerFrame}
          >${s.sweepsPerFrame}</output
        >

        <label for="algorithm">Algorithm</label>
        <select
          id="algorithm"
          class="wide"
          data-testid="ising-algorithm"
          @change=${(e: Event) => this.setAlgorithm((e.target as HTMLSelectElement).value as IsingAlgorithm)}
        >
          ${ALGORITHMS.map(
            (a) => html`<option value=${a.value} ?selected=${s.algorithm === a.value}>${a.label}</option>`,
          )}
        </select>

        <label for="lattice">Lattice</label>
        <select
          id="lattice"
          class="wide"
          data-testid="ising-L"
          ?disabled=${disabled}
          @change=${(e: Event) => this.setLattice({ L: value(e) })}
        >
          ${Ls.map((L) => html`<option value=${L} ?selected=${L === s.L}>${L}×${L}</option>`)}
        </select>

        <label for="kernel">Kernel</label>
        <select
          id="kernel"
          class="wide"
          data-testid="ising-kernel"
          ?disabled=${disabled}
          @change=${(e: Event) => this.setLattice({ kernel: (e.target as HTMLSelectElement).value as IsingKernel })}
        >
          <option value="packed" ?selected=${s.kernel === 'packed'}>packed (multi-spin coded)</option>
          <option value="simple" ?selected=${s.kernel === 'simple'}>simple (one spin per thread)</option>
        </select>
      </div>
      <div class="buttons">
        <button
          class="primary"
          data-testid="ising-pause"
          ?disabled=${disabled || !this.currentEngine}
          @click=${() => this.togglePause()}
        >
          ${this.paused ? 'Resume' : 'Pause'}
        </button>
        <button data-testid="ising-reset" ?disabled=${disabled} @click=${() => this.reset()}>
          Reset (new seed)
        </button>
      </div>
    `;
  }

  private renderReadouts(): TemplateResult {
    const r = this.readout;
    const n = (x: number | null | undefined): string => (x === null || x === undefined ? '' : String(x));
    return html`
      <dl data-testid="ising-readouts">
        <dt>Energy / spin</dt>
        <dd class="big" data-testid="ising-energy" data-value=${n(r?.energy)}>
          ${r ? signed(r.energy, 4) : '—'}
        </dd>
        <dt>Magnetisation / spin</dt>
        <dd class="big" data-testid="ising-magnetization" data-value=${n(r?.magnetization)}>
          ${r ? signed(r.magnetization, 4) : '—'}
        </dd>
        <dt>|m|</dt>
        <dd data-testid="ising-abs-magnetization" data-value=${n(r && Math.abs(r.magnetization))}>
          ${r ? Math.abs(r.magnetization).toFixed(4) : '—'}
        </dd>
        <dt>Sweeps</dt>
        <dd data-testid="ising-sweeps" data-value=${n(r?.sweeps)}>
          ${r ? r.sweeps.toLocaleString('en-US') : '—'}
        </dd>
        <dt>Sweeps / s</dt>
        <dd data-testid="ising-sweep-rate" data-value=${n(r?.sweepsPerSecond)}>
          ${significant(r?.sweepsPerSecond ?? null)}
        </dd>
        <dt title="attempted spin updates per nanosecond of engine.run() time">Spin updates / ns</dt>
        <dd data-testid="ising-flip-rate" data-value=${n(r?.flipsPerNs)}>
          ${significant(r?.flipsPerNs ?? null)}
        </dd>
        <dt>Seed</dt>
        <dd data-testid="ising-seed" data-value=${this.shown?.seed ?? ''}>${this.shown?.seed ?? '—'}</dd>
      </dl>
    `;
  }
}

/** @deprecated The element's old class name (the tag is now `blockspin-lattice`). */
export type IsingView = BlockspinLattice;

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-lattice': BlockspinLattice;
  }
  interface HTMLElementEventMap {
    'blockspin-readout': CustomEvent<LatticeReadout>;
    'blockspin-settings': CustomEvent<LatticeSettingsChange>;
  }
}
