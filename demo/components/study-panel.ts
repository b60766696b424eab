import { css, html, nothing, type TemplateResult } from 'lit';
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
  type Preset,
  type ReportMeta,
  type Study,
  type StudyOutput,
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
} from './panel-common.ts';

/** Where the panel is: reflected on the host as `data-status` (tests wait for `complete`, `partial` or `error`). */
export type StudyPanelStatus = 'waiting' | 'idle' | 'running' | 'stopping' | 'complete' | 'partial' | 'error';

/** The study this panel runs (`blockspin reproduce chung-kao`). */
const STUDY = 'chung-kao';
/** The presets offered in the page (`standard` and `paper` are hours on a CPU adapter: the CLI's job). */
const PANEL_PRESETS: readonly Preset[] = ['test', 'quick'];
const MAX_SEED = 2 ** 32 - 1;
/** Log lines kept in the pane. */
const LOG_LINES = 500;

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

/**
 * A lab panel that runs a reproduced study in the page — Chung & Kao's RBM-learned block-spin projector
 * against majority rule — with the same study code as `blockspin reproduce chung-kao`: critical data by
 * Swendsen–Wang, training of the filters (CD-k, Adam), then MCRG with every learned filter and majority rule
 * on the same samples. While it runs the panel shows the stage and its progress (`context.progress`) and the
 * study's log (`context.log`); when it ends, the results table (value ± one standard error, the source's value
 * and the distance z in combined errors), the report's figures (Vega-Lite specs rendered to SVG by
 * renderFigure) and "Download report", which offers every file of the report directory (reportFiles).
 * Stop aborts the study's signal: the study returns what it has, shown marked partial.
 *
 * The study reports no filter or loss while it trains (only progress and log lines), so the filter images and
 * loss curves appear with the final figures.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `idle` | `running` | `stopping` | `complete` |
 * `partial` | `error`) and `data-error` (`input` | `failed` | `lost`); `data-testid` on the controls
 * (`study-preset`, `study-seed`, `study-run`, `study-stop`), the progress (`study-progress`: `data-phase` is the
 * stage), each stage seen (`study-stage`: `data-stage`, `data-state` = `running` | `done` | `stopped`,
 * `data-done`, `data-total`), the log (`study-log`), each stage's wall time (`study-stage-time`), each result
 * (`study-result`: `data-name`, `data-value`, `data-err`, `data-z`), the partial marker (`study-partial`), each
 * figure (`study-figure`, `data-name`), the download button (`study-download`) and each file (`study-file`).
 *
 * @example
 * <study-panel .device=${gpu.device} .adapter=${gpu.summary}></study-panel>
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

  @state() protected form: StudyForm = { preset: 'quick', seed: '1' };
  @state() private stages: StageProgress[] = [];
  @state() private logLines: string[] = [];
  @state() private run: StudyRun | undefined;
  @state() private figures: RenderedFigure[] = [];
  @state() private files: DownloadLink[] | undefined;
  @state() private preparing = false;

  private t0 = 0;
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
      const study = await loadStudy(STUDY);
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
  }

  override render(): TemplateResult {
    return html`
      <section data-testid="study">
        <div class="title">
          <h2>
            Chung &amp; Kao in the page
            <small>a learned RG projector against majority rule · the CLI's study code</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="study-status"
            >${this.statusText()}</span
          >
        </div>
        ${this.renderForm()} ${this.renderProblems('study-error')} ${this.renderProgress()}
        ${this.renderLog()} ${this.renderOutput()}
      </section>
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
      <p class="note">
        Critical 2D Ising data (Swendsen–Wang at K<sub>c</sub>), CD-3 training of 8×8 stride-2 filters, then
        MCRG with every learned filter and majority rule on the same samples, as
        <code>blockspin reproduce chung-kao --preset ${f.preset || '…'}</code>. <code>test</code>: 16², under
        a minute on a CPU adapter; <code>quick</code>: 32², minutes. Stop keeps what was done (a partial
        report).
      </p>
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
