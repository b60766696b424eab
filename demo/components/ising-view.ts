import { LitElement, css, html, nothing, unsafeCSS, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import {
  IsingEngine,
  IsingRenderer,
  SPIN_PALETTE,
  type IsingAlgorithm,
  type IsingKernel,
} from '../../src/index.ts';
import {
  ALGORITHMS,
  chooseAlgorithm,
  chooseField,
  DEFAULT_SETTINGS,
  H_RANGE,
  SWEEPS_RANGE,
  T_RANGE,
  settingsFromQuery,
  type IsingViewSettings,
} from './ising-settings.ts';
import { fitCanvas, panelStyles, reflectStatus, statusText, whenLost } from './panel-common.ts';

export { DEFAULT_SETTINGS, settingsFromQuery, type IsingViewSettings } from './ising-settings.ts';

/** Where the view is: reflected on the host as `data-status` (tests wait for `running`, `paused` or `error`). */
export type IsingViewStatus = 'waiting' | 'starting' | 'running' | 'paused' | 'error';

/** Why the view stopped: reflected on the host as `data-error` while `data-status` is `error`. */
export type IsingViewErrorKind = 'params' | 'lost' | 'failed';

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

/** Onsager's critical temperature of the square lattice (J = 1, k_B = 1): 2 / ln(1 + √2). */
export const T_CRITICAL = 2 / Math.log(1 + Math.SQRT2);

const L_CHOICES = [64, 128, 256, 512, 1024, 2048];
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

/**
 * A live 2D Ising simulation: an IsingEngine advanced `sweepsPerFrame` sweeps per animation frame and
 * drawn by an IsingRenderer straight from the GPU spin buffer (no read-back per frame), with controls
 * for temperature, field, algorithm, sweeps per frame, lattice size and kernel, and readouts of energy
 * and magnetisation per spin, sweeps, sweeps/s and spin updates/ns, refreshed about every 250 ms.
 *
 * Temperature, field and algorithm apply from the next sweep (the state is kept); lattice size and
 * kernel rebuild the engine with the same seed; Reset rebuilds it with a new seed. The next frame is
 * only requested once the previous frame's sweeps have finished on the GPU, so a slow adapter lowers
 * the frame rate instead of queueing work. URL parameters `?L=&T=&kernel=` set the first lattice.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `starting` | `running` | `paused` |
 * `error`) and `data-error` (`params` | `lost` | `failed`); `data-testid` on controls and readouts,
 * with the raw number in `data-value`.
 *
 * @csspart canvas - the WebGPU canvas the lattice is drawn into.
 *
 * @example
 * <ising-view .device=${gpu.device}></ising-view>
 */
@customElement('ising-view')
export class IsingView extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .title {
        margin-bottom: 14px;
      }
      .layout {
        display: grid;
        /* 512 CSS pixels: whole pixels per site for every lattice from 64 to 512 at a device pixel ratio of 1. */
        grid-template-columns: minmax(0, 512px) minmax(280px, 1fr);
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

  /** The device to simulate on (owned by the caller). Setting another device rebuilds the simulation. */
  @property({ attribute: false }) device: GPUDevice | undefined;

  @state() private status: IsingViewStatus = 'waiting';
  @state() private errorKind: IsingViewErrorKind | undefined;
  @state() private errorMessage = '';
  @state() private settings: IsingViewSettings = { ...DEFAULT_SETTINGS };
  @state() private paused = false;
  @state() private readout: IsingReadout | undefined;
  /** L and kernel of the engine being shown (the settings may name a lattice that failed to build). */
  @state() private shown: { L: number; kernel: IsingKernel; seed: number } | undefined;

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
  private queryProblems: string[] = [];

  /** The engine being shown (undefined while none is built). */
  get engine(): IsingEngine | undefined {
    return this.currentEngine;
  }

  /** The renderer drawing the engine (undefined while none is built). */
  get renderer(): IsingRenderer | undefined {
    return this.currentRenderer;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const { settings, problems } = settingsFromQuery(location.search);
    if (!this.hasUpdated) {
      this.settings = settings;
      this.queryProblems = problems;
    } else {
      // Back in a document: watch the canvas again and start a fresh simulation.
      this.observeSize();
      if (this.device) void this.rebuild();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    this.background(() => this.teardown());
  }

  protected override firstUpdated(): void {
    this.observeSize();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Here rather than in updated(): the state attach() sets is then part of this update, not a second one.
    if (changed.has('device')) this.attach();
  }

  protected override updated(): void {
    reflectStatus(this, this.status, this.errorKind);
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
    const device = this.device;
    this.background(() => this.teardown());
    if (!device) {
      this.status = 'waiting';
      return;
    }
    whenLost(
      device,
      () => this.device,
      (reason) => {
        this.status = 'error';
        this.errorKind = 'lost';
        this.errorMessage = `The GPU device was lost (reason: ${reason}); the simulation stopped.`;
      },
    );
    if (this.queryProblems.length > 0) {
      this.status = 'error';
      this.errorKind = 'params';
      this.errorMessage =
        `${this.queryProblems.join('; ')}. ` +
        'Pick a lattice below or press Reset to start with the settings shown.';
      this.queryProblems = [];
      return;
    }
    void this.rebuild();
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
    if (!this.device || this.errorKind === 'lost') return;
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
    const device = this.device;
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
        label: `ising-view ${s.L}×${s.L}`,
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
    const value = clamp(T, T_RANGE);
    this.settings = { ...this.settings, T: value };
    this.currentEngine?.setTemperature(value);
  }

  private setField(h: number): void {
    if (!Number.isFinite(h)) return;
    const next = chooseField(this.settings, clamp(h, H_RANGE));
    // Leave Swendsen–Wang (zero field only) before the field changes.
    if (next.algorithm !== this.settings.algorithm) this.currentEngine?.setAlgorithm(next.algorithm);
    this.settings = next;
    this.currentEngine?.setField(next.h);
  }

  private setAlgorithm(algorithm: IsingAlgorithm): void {
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
  }

  private setSweepsPerFrame(n: number): void {
    if (!Number.isFinite(n)) return;
    this.settings = { ...this.settings, sweepsPerFrame: Math.round(clamp(n, SWEEPS_RANGE)) };
  }

  /** L or kernel: a new engine with the same seed. */
  private setLattice(change: Partial<Pick<IsingViewSettings, 'L' | 'kernel'>>): void {
    this.settings = { ...this.settings, ...change };
    void this.rebuild();
  }

  private reset(): void {
    this.settings = { ...this.settings, seed: newSeed() };
    void this.rebuild();
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
    const noDevice = !this.device || lost;
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

declare global {
  interface HTMLElementTagNameMap {
    'ising-view': IsingView;
  }
}
