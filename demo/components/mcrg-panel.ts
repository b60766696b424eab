import { css, html, nothing, unsafeCSS, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import {
  McrgRunner,
  SpinRenderer,
  formatValueError,
  submitStep,
  type McrgOptions,
  type McrgRunRecord,
  type OperatorTauTable,
  type SpinViewPlacement,
} from '../../src/index.ts';
import {
  BLOCKINGS,
  EXACT_YH,
  EXACT_YT,
  K_CRITICAL,
  L_CHOICES,
  MCRG_ALGORITHMS,
  MCRG_DEFAULTS,
  MIN_BLOCKS,
  TAU_FACTOR,
  analyseLive,
  exponentTable,
  nextChunk,
  parseMcrgForm,
  type DemoBlocking,
  type LiveAnalysis,
  type McrgField,
  type McrgForm,
  type McrgProblem,
  type TableCell,
} from './mcrg-settings.ts';
import {
  FormCard,
  fitCanvas,
  formStyles,
  formatCount,
  inputField,
  jobButtons,
  panelStyles,
  progressLine,
  statusText,
} from '../../src/elements/common.ts';

/** Where the panel is: reflected on the host as `data-status` (tests wait for `stopped`, `complete` or `error`). */
export type McrgPanelStatus = 'waiting' | 'idle' | 'running' | 'stopping' | 'stopped' | 'complete' | 'error';

/** Why the panel stopped: reflected on the host as `data-error` while `data-status` is `error`. */
export type McrgPanelErrorKind = 'input' | 'failed' | 'lost';

/** Wall time between two live analyses, at least (the tables fill in at this pace). */
const ANALYSE_MS = 300;
/** Wall time one measurement chunk should take (Stop answers within about this). */
const CHUNK_MS = 150;
/** Letterbox colour of the level canvases: the panel's white. */
const PANEL = '#ffffff';

// ── the panel ──────────────────────────────────────────────────────────────────────────────────────────

/** A stable key of a run's settings: Start continues a stopped run only when it is unchanged. */
function optionsKey(options: McrgOptions): string {
  return JSON.stringify(options);
}

/**
 * Monte Carlo renormalization group in the page: an McrgRunner (Ising replicas → block-spin levels →
 * operators → sufficient statistics, all on the GPU but the last step) driven in chunks of measurements,
 * with replica 0's lattice and its blocked levels drawn side by side straight from the pipeline's level
 * buffers (a render pass per level; nothing read back), and the y_t and y_h tables (rows N_c, columns N_r,
 * `value(err)` by the jackknife over bins of ≥ 10 τ_int) re-analysed about every 300 ms as samples
 * accumulate, each cell coloured by its distance from the exact 1 or 15/8 in errors.
 *
 * Settings are validated as they are changed (errors name the value and the limit). Stop keeps everything
 * measured (tables, levels); Start continues the same run while its settings are unchanged, and begins a new
 * one otherwise.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `idle` | `running` | `stopping` | `stopped` |
 * `complete` | `error`) and `data-error` (`input` | `failed` | `lost`); `data-testid` on controls, the
 * progress (`data-phase`, `data-done`, `data-total`), each level canvas (`mcrg-level-<n>`, `data-value` = its
 * side), the tables (`mcrg-yt`, `mcrg-yh`; cells `data-value`, `data-err`, `data-z`), the exact markers
 * (`mcrg-yt-exact`, `mcrg-yh-exact`), `mcrg-samples` and `mcrg-tau`. `runner` and `levelPlacements` give
 * tests the run and where each level was drawn.
 *
 * @example
 * <mcrg-panel .device=${gpu.device}></mcrg-panel>
 */
@customElement('mcrg-panel')
export class McrgPanel extends FormCard<McrgPanelStatus, McrgForm, McrgOptions, McrgProblem> {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      input {
        width: 6.5em;
      }
      input.coupling {
        width: 9em;
      }
      button.link {
        padding: 0 4px;
        height: auto;
        border: none;
        background: none;
        color: var(--accent, #2456c7);
        font-size: 0.8rem;
      }
      .levels {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
        gap: 12px;
        margin-top: 16px;
      }
      figure {
        position: relative;
        margin: 0;
      }
      canvas {
        display: block;
        width: 100%;
        aspect-ratio: 1;
        background: ${unsafeCSS(PANEL)};
        /* An outline, not a border: the canvas's box is exactly its drawing (tests map sites to pixels). */
        outline: 1px solid var(--line, #dde2ea);
      }
      figcaption {
        margin-top: 4px;
        font-size: 0.8rem;
        color: var(--muted, #5b6677);
        font-variant-numeric: tabular-nums;
      }
      .overlay {
        position: absolute;
        inset: 0 0 22px 0;
        display: grid;
        place-items: center;
        padding: 8px;
        text-align: center;
        font-size: 0.8rem;
        color: var(--muted, #5b6677);
        background: rgb(255 255 255 / 85%);
      }
      .readouts {
        display: flex;
        flex-wrap: wrap;
        gap: 6px 24px;
        margin: 14px 0 0;
        font-size: 0.9rem;
        font-variant-numeric: tabular-nums;
      }
      .readouts span.label {
        color: var(--muted, #5b6677);
      }
      .tables {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
        gap: 16px 28px;
        margin-top: 14px;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.85rem;
      }
      caption {
        text-align: left;
        font-weight: 600;
        margin-bottom: 4px;
      }
      caption .exact {
        margin-left: 8px;
        padding: 0 6px;
        border-radius: 6px;
        font-weight: 600;
        background: #eef3fd;
        color: var(--accent, #2456c7);
      }
      th,
      td {
        padding: 3px 6px;
        border-bottom: 1px solid var(--line, #dde2ea);
        text-align: right;
        font-variant-numeric: tabular-nums;
        font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
      }
      th {
        color: var(--muted, #5b6677);
        font-weight: 500;
        font-family: inherit;
      }
      td.z1 {
        background: #e3f3ea;
      }
      td.z2 {
        background: #f1f8e6;
      }
      td.z3 {
        background: #fff4dc;
      }
      td.far {
        background: #fbe9e7;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 12px;
        margin-top: 8px;
        font-size: 0.8rem;
        color: var(--muted, #5b6677);
      }
      .legend .swatch {
        display: inline-block;
        width: 12px;
        height: 12px;
        margin-right: 4px;
        border-radius: 3px;
        vertical-align: -1px;
      }
      .needs {
        padding: 10px 0;
        font-size: 0.9rem;
        color: var(--muted, #5b6677);
      }
    `,
  ];

  @state() protected form: McrgForm = { ...MCRG_DEFAULTS };
  @state() private progress: { phase: 'thermalise' | 'measure'; done: number; total: number } | undefined;
  /** Settings of the run shown (the levels drawn and the tables). */
  @state() private shown: McrgRunRecord | undefined;
  @state() private measured = 0;
  @state() private live: LiveAnalysis | undefined;
  @state() private tau: OperatorTauTable | null = null;

  private currentRunner: McrgRunner | undefined;
  private runKey = '';
  private renderers: SpinRenderer[] = [];
  /** The measuring loop in flight (awaited before its runner is destroyed). */
  private loop: Promise<void> = Promise.resolve();
  private chunk = 1;
  private resizeObserver: ResizeObserver | undefined;

  /** The run shown (undefined before the first Start). */
  get runner(): McrgRunner | undefined {
    return this.currentRunner;
  }

  /** Where each level (0 … levels) was drawn in its canvas's last frame. */
  get levelPlacements(): SpinViewPlacement[] {
    return this.renderers.map((r) => ({ ...r.placement }));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
  }

  protected release(): void {
    void this.discard();
  }

  protected stopOnLoss(reason: GPUDeviceLostReason): McrgProblem {
    this.controller?.abort();
    return { field: 'run', message: `The GPU device was lost (reason: ${reason}); the MCRG run stopped.` };
  }

  /** Stops the run in flight and frees its GPU objects (after its last submission has returned). */
  private async discard(): Promise<void> {
    this.controller?.abort();
    const runner = this.currentRunner;
    const renderers = this.renderers;
    this.currentRunner = undefined;
    this.renderers = [];
    this.runKey = '';
    this.shown = undefined;
    this.live = undefined;
    this.tau = null;
    this.measured = 0;
    this.progress = undefined;
    await this.loop.catch(() => undefined);
    for (const r of renderers) r.destroy();
    runner?.destroy();
  }

  protected get busy(): boolean {
    return this.status === 'running' || this.status === 'stopping';
  }

  protected readForm(formElement: HTMLFormElement, changed?: HTMLInputElement): McrgForm {
    const data = new FormData(formElement);
    const text = (name: keyof McrgForm): string => String(data.get(name) ?? '');
    const form: McrgForm = {
      L: text('L'),
      K: text('K'),
      blocking: text('blocking') as DemoBlocking,
      levels: text('levels'),
      algorithm: text('algorithm') as McrgForm['algorithm'],
      replicas: text('replicas'),
      samples: text('samples'),
      every: text('every'),
      therm: text('therm'),
      seed: text('seed'),
    };
    // The T field edits K = 1/T.
    if (changed?.name === 'T') {
      const T = Number(changed.value);
      form.K = Number.isFinite(T) && T > 0 ? String(1 / T) : `1/${changed.value.trim() || '(empty)'}`;
    }
    return form;
  }

  private setCritical(): void {
    if (this.busy || this.lost) return;
    this.form = { ...this.form, K: String(K_CRITICAL) };
    this.check();
  }

  protected parse(form: McrgForm): { request: McrgOptions } | { problems: McrgProblem[] } {
    const parsed = parseMcrgForm(form);
    return 'problems' in parsed ? parsed : { request: parsed.options };
  }

  protected settledStatus(): McrgPanelStatus {
    return this.currentRunner ? (this.currentRunner.complete ? 'complete' : 'stopped') : 'idle';
  }

  /** Continues the current run when its settings are unchanged and it is incomplete; else begins a new one. */
  protected async start(options: McrgOptions): Promise<void> {
    const device = this.device;
    if (!device) return;
    const key = optionsKey(options);
    const fresh = !this.currentRunner || key !== this.runKey || this.currentRunner.complete;
    const controller = new AbortController();
    this.errorKind = undefined;
    this.problems = [];
    this.status = 'running';
    try {
      if (fresh) {
        await this.discard();
        this.controller = controller;
        const runner = new McrgRunner(device, options);
        this.currentRunner = runner;
        this.runKey = key;
        this.shown = runner.record;
        this.chunk = 1;
        await this.updateComplete; // the level canvases exist from this render on
        this.buildRenderers(device, runner);
      }
      this.controller = controller;
      this.loop = this.measure(controller);
      await this.loop;
    } catch (err) {
      this.fail(err, controller);
    }
  }

  private buildRenderers(device: GPUDevice, runner: McrgRunner): void {
    const canvases = [...this.renderRoot.querySelectorAll<HTMLCanvasElement>('canvas[data-level]')];
    const { pipeline } = runner;
    if (canvases.length !== pipeline.sizes.length)
      throw new Error(`${canvases.length} level canvases for ${pipeline.sizes.length} levels`);
    this.renderers = canvases.map((canvas, n) => {
      const context = canvas.getContext('webgpu');
      if (!context)
        throw new Error('a level canvas has no WebGPU context (getContext("webgpu") returned null)');
      const side = pipeline.sizes[n] as number;
      // The pipeline's f32 level buffer, [batch × side²]: replica 0 is drawn.
      return new SpinRenderer(
        device,
        context,
        {
          spins: pipeline.levelBuffers[n] as GPUBuffer,
          encoding: 'f32',
          lx: side,
          ly: side,
          replicas: pipeline.batch,
          stride: side * side,
        },
        { palette: { background: PANEL }, label: `mcrg level ${n}` },
      );
    });
    this.observeSizes(canvases);
  }

  /** Keeps each canvas's backing store at its device-pixel size (crisp sites), redrawing on a change. */
  private observeSizes(canvases: HTMLCanvasElement[]): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        if (fitCanvas(entry.target as HTMLCanvasElement, entry)) changed = true;
      }
      if (changed && !this.busy) this.drawLevels();
    });
    for (const canvas of canvases) this.resizeObserver.observe(canvas, { box: 'device-pixel-content-box' });
  }

  /** One submission: a render pass per level canvas, from the level buffers as the last measurement left them. */
  private drawLevels(): void {
    const device = this.device;
    if (!device || this.measured === 0 || this.lost) return;
    const items = this.renderers.filter((r) => r.drawable);
    if (items.length > 0) submitStep(device, 'mcrg levels', items);
  }

  /** Thermalises (what remains), then measures in chunks until complete or stopped, analysing as it goes. */
  private async measure(controller: AbortController): Promise<void> {
    const runner = this.currentRunner;
    if (!runner) return;
    const signal = controller.signal;
    const onProgress = (phase: 'thermalise' | 'measure', done: number, total: number): void => {
      if (controller === this.controller) this.progress = { phase, done, total };
    };
    this.progress = {
      phase: runner.measurements > 0 ? 'measure' : 'thermalise',
      done: runner.measurements > 0 ? runner.measurements : 0,
      total: runner.measurements > 0 ? runner.record.measurements : runner.record.therm,
    };
    await runner.thermalise(signal, onProgress);
    let analysed = performance.now();
    let interval = ANALYSE_MS;
    while (!signal.aborted && !runner.complete) {
      const t0 = performance.now();
      await runner.measure(this.chunk, signal, onProgress);
      this.chunk = nextChunk(this.chunk, performance.now() - t0, CHUNK_MS);
      if (runner !== this.currentRunner) return;
      this.measured = runner.measurements;
      this.drawLevels();
      if (performance.now() - analysed >= interval) {
        const t1 = performance.now();
        this.analyse(runner);
        analysed = performance.now();
        // A long run's analysis (τ_int of every series, the jackknife) takes longer: keep it under ~1/5 of the time.
        interval = Math.max(ANALYSE_MS, 5 * (analysed - t1));
        await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint the tables
      }
    }
    if (runner !== this.currentRunner) return;
    this.measured = runner.measurements;
    this.drawLevels();
    this.analyse(runner);
    if (controller === this.controller && !this.lost) {
      this.status = runner.complete ? 'complete' : 'stopped';
      this.controller = undefined;
    }
  }

  private analyse(runner: McrgRunner): void {
    if (runner.measurements === 0) return;
    let tau: OperatorTauTable | null;
    try {
      tau = runner.measurements >= 2 ? runner.tauInt() : null;
    } catch {
      tau = null; // too short a series for the window: bins fall back to whole replicas
    }
    this.tau = tau;
    this.live = analyseLive(runner.blocks(), tau, runner.record, runner.measurements);
  }

  private stop(): void {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    // The runner stops after its current submission; measure() then shows what it has.
    this.controller?.abort();
  }

  private fail(err: unknown, controller: AbortController): void {
    if (this.lost || controller !== this.controller) return;
    this.controller = undefined;
    this.showFailure(err, '', 'run');
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  override render(): TemplateResult {
    return html`
      <section data-testid="mcrg">
        <div class="title">
          <h2>
            Monte Carlo renormalization group
            <small>block spins on the GPU · y<sub>t</sub> and y<sub>h</sub> with jackknife errors</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="mcrg-status">${this.statusText()}</span>
        </div>
        ${this.renderForm()} ${this.renderProblems('mcrg-error')} ${this.renderProgress()}
        ${this.renderLevels()} ${this.renderReadouts()} ${this.renderTables()}
      </section>
    `;
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, {
      running: 'Running…',
      stopping: 'Stopping…',
      stopped: 'Stopped',
    });
  }

  private invalid(...fields: McrgField[]): boolean {
    return (
      this.errorKind === 'input' &&
      this.problems.some(
        (p) => fields.includes(p.field) || (p.field === 'geometry' && fields.includes('levels')),
      )
    );
  }

  private renderForm(): TemplateResult {
    const f = this.form;
    const disabled = this.busy || this.lost || !this.device;
    const K = Number(f.K);
    const T = Number.isFinite(K) && K > 0 ? String(Number((1 / K).toPrecision(10))) : '';
    const continuing = this.continues();
    const geometry = this.invalid('geometry');
    // K and T edit one coupling (T = 1/K): both are marked by a problem with K.
    const coupling = {
      type: 'text',
      inputmode: 'decimal',
      className: 'coupling',
      invalid: this.invalid('K'),
      disabled,
    } as const;
    const number = (label: string, name: keyof McrgForm, min: number, testId: string): TemplateResult =>
      inputField({ label, name, min, value: f[name], invalid: this.invalid(name), disabled, testId });
    return html`
      <form @submit=${this.onSubmit} @change=${this.onChange}>
        <label
          >L
          <select
            name="L"
            ?disabled=${disabled}
            aria-invalid=${this.invalid('L') || geometry}
            data-testid="mcrg-L"
          >
            ${L_CHOICES.map((L) => html`<option value=${L} ?selected=${String(L) === f.L}>${L}×${L}</option>`)}
          </select>
        </label>
        ${inputField({
          label: html`<span
            >K = J/T
            <button
              type="button"
              class="link"
              title="Onsager's critical coupling ½ ln(1 + √2)"
              ?disabled=${disabled}
              data-testid="mcrg-critical"
              @click=${() => this.setCritical()}
            >
              set K<sub>c</sub>
            </button></span
          >`,
          ...coupling,
          name: 'K',
          value: f.K,
          testId: 'mcrg-K',
        })}
        ${inputField({ label: 'T', ...coupling, name: 'T', value: T, testId: 'mcrg-T' })}
        <label
          >Blocking
          <select name="blocking" ?disabled=${disabled} aria-invalid=${geometry} data-testid="mcrg-blocking">
            ${BLOCKINGS.map(
              (b) => html`<option value=${b.value} ?selected=${b.value === f.blocking}>${b.label}</option>`,
            )}
          </select>
        </label>
        ${number('Levels', 'levels', 1, 'mcrg-levels')}
        <label
          >Algorithm
          <select name="algorithm" ?disabled=${disabled} data-testid="mcrg-algorithm">
            ${MCRG_ALGORITHMS.map(
              (a) => html`<option value=${a.value} ?selected=${a.value === f.algorithm}>${a.label}</option>`,
            )}
          </select>
        </label>
        ${number('Replicas', 'replicas', 1, 'mcrg-replicas')}
        ${number('Samples', 'samples', 1, 'mcrg-samples-input')}
        ${number('Every (sweeps)', 'every', 1, 'mcrg-every')}
        ${number('Therm. sweeps', 'therm', 0, 'mcrg-therm')} ${number('Seed', 'seed', 0, 'mcrg-seed')}
        ${jobButtons({
          disabled,
          run: { label: continuing ? 'Continue' : 'Start', testId: 'mcrg-start' },
          stop: {
            label: 'Stop',
            testId: 'mcrg-stop',
            disabled: this.status !== 'running',
            onClick: () => this.stop(),
          },
        })}
      </form>
      <p class="note">
        Samples are configurations over all replicas (each replica measures every ${f.every || '…'} sweep(s)).
        Stop keeps what was measured; Start then continues the same run, or begins a new one if a setting
        changed.
      </p>
    `;
  }

  /** True when Start would continue the stopped run (same settings, incomplete). */
  private continues(): boolean {
    const runner = this.currentRunner;
    if (!runner || runner.complete || this.status === 'running') return false;
    const parsed = parseMcrgForm(this.form);
    return 'options' in parsed && optionsKey(parsed.options) === this.runKey;
  }

  private renderProgress(): TemplateResult | typeof nothing {
    const p = this.progress;
    if (!this.busy || !p) return nothing;
    const label = p.phase === 'thermalise' ? 'Thermalising' : 'Measuring';
    const unit = p.phase === 'thermalise' ? 'sweeps' : 'measurements per replica';
    return progressLine('mcrg-progress', p, html`<strong>${label}</strong>`, unit);
  }

  private renderLevels(): TemplateResult | typeof nothing {
    const r = this.shown;
    if (!r) {
      return html`<p class="note">
        Press Start: ${this.form.replicas || '…'} Ising replicas at K = ${this.form.K || '…'} are thermalised,
        then blocked level after level at every measurement; replica 0 and its blocked lattices are drawn
        here.
      </p>`;
    }
    const sizes = Array.from({ length: r.levels + 1 }, (_, n) => r.L / r.b ** n);
    return html`<div class="levels" data-testid="mcrg-levels-view">
      ${sizes.map(
        (side, n) =>
          html`<figure>
            <canvas
              data-level=${n}
              data-testid="mcrg-level-${n}"
              data-value=${side}
              aria-label="level ${n}, ${side}×${side}"
            ></canvas>
            ${this.measured === 0 ? html`<div class="overlay">${n === 0 ? 'thermalising…' : ''}</div>` : nothing}
            <figcaption>
              ${n === 0 ? 'original' : `level ${n}`} · ${side}×${side}${n > 0 ? ` (b = ${r.b})` : ''}
            </figcaption>
          </figure>`,
      )}
    </div>`;
  }

  private renderReadouts(): TemplateResult | typeof nothing {
    const r = this.shown;
    if (!r) return nothing;
    const samples = this.measured * r.replicas.count;
    const total = r.measurements * r.replicas.count;
    const t = this.tau;
    const live = this.live;
    return html`<div class="readouts">
      <span
        ><span class="label">samples</span>
        <span data-testid="mcrg-samples" data-value=${samples}
          >${formatCount(samples)} / ${formatCount(total)}</span
        ></span
      >
      <span
        ><span class="label">τ<sub>int</sub></span>
        <span data-testid="mcrg-tau" data-value=${t ? t.max.tauInt : ''}
          >${
            t
              ? html`${formatValueError(t.max.tauInt, t.max.tauIntError)} measurements (largest:
                ${t.max.name}, level
                ${t.max.level})${t.converged ? '' : ' · window not converged: a lower bound'}`
              : '—'
          }</span
        ></span
      >
      <span
        ><span class="label">jackknife</span>
        <span data-testid="mcrg-bins" data-value=${live && live.kind !== 'error' ? live.bins : ''}
          >${
            live && live.kind === 'tables'
              ? `${live.bins} bins of ≥ ${live.binLength} measurements${t ? ` (≥ ${TAU_FACTOR} τ_int)` : ''}, ` +
                `grouped into ${live.analysis.jackknifeBlocks} (stored blocks of ${r.blockLength})`
              : live && live.kind === 'needs'
                ? `${live.bins} bins`
                : '—'
          }</span
        ></span
      >
      <span
        ><span class="label">K</span>
        ${r.K.toPrecision(8)}${Math.abs(r.K - K_CRITICAL) < 1e-12 ? html` = K<sub>c</sub>` : nothing} ·
        ${r.algorithm} · ${r.blocking}</span
      >
    </div>`;
  }

  private renderTables(): TemplateResult | typeof nothing {
    const r = this.shown;
    const live = this.live;
    if (!r) return nothing;
    if (!live || live.kind !== 'tables') {
      const message =
        live?.kind === 'needs'
          ? live.message
          : live?.kind === 'error'
            ? `analysis: ${live.message}`
            : `needs ≥ ${MIN_BLOCKS} blocks`;
      return html`<p class="needs" data-testid="mcrg-needs">${message}</p>`;
    }
    const a = live.analysis;
    return html`<div class="tables">
        ${this.renderTable('yt', 'y', 't', a.yt, r.layout.even, EXACT_YT, '1 (ν = 1)', r.levels)}
        ${this.renderTable('yh', 'y', 'h', a.yh, r.layout.odd, EXACT_YH, '15/8 = 1.875', r.levels)}
      </div>
      <div class="legend">
        <span>distance from the exact value:</span>
        <span><span class="swatch" style="background:#e3f3ea"></span>≤ 1 error</span>
        <span><span class="swatch" style="background:#f1f8e6"></span>≤ 2</span>
        <span><span class="swatch" style="background:#fff4dc"></span>≤ 3</span>
        <span><span class="swatch" style="background:#fbe9e7"></span>> 3</span>
        <span>· * a complex leading eigenvalue (real part shown)</span>
      </div>
      <p class="note">
        Analysed ${formatCount(a.samples)} samples. Rows N<sub>c</sub>: the first N<sub>c</sub> operators of
        the sector (even: y<sub>t</sub>, odd: y<sub>h</sub>); columns N<sub>r</sub>: the blocking step n − 1 →
        n. Errors by the jackknife over bins of consecutive measurements of one replica (≥ ${TAU_FACTOR}
        τ<sub>int</sub>).
      </p>`;
  }

  private renderTable(
    id: string,
    symbol: string,
    sub: string,
    entries: Parameters<typeof exponentTable>[0],
    ncMax: number,
    exactValue: number,
    exactText: string,
    levels: number,
  ): TemplateResult {
    const table = exponentTable(entries, levels, ncMax, exactValue);
    const cell = (c: TableCell | null): TemplateResult =>
      c
        ? html`<td
            class=${c.band}
            data-value=${c.value}
            data-err=${c.err}
            data-z=${c.z ?? ''}
            title=${`${c.z === null ? '' : `${c.z.toFixed(1)} errors from ${exactValue}`}${c.imag !== undefined ? ` · imaginary part ${c.imag.toPrecision(3)}` : ''}`}
          >
            ${c.text}
          </td>`
        : html`<td>—</td>`;
    return html`<table data-testid="mcrg-${id}">
      <caption>
        ${symbol}<sub>${sub}</sub>
        <span class="exact" data-testid="mcrg-${id}-exact" data-value=${exactValue}>exact ${exactText}</span>
      </caption>
      <thead>
        <tr>
          <th>N<sub>c</sub></th>
          ${table.steps.map((s) => html`<th>N<sub>r</sub> = ${s}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${table.rows.map(
          (row) =>
            html`<tr>
              <th>${row.nc}</th>
              ${row.cells.map(cell)}
            </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'mcrg-panel': McrgPanel;
  }
}
