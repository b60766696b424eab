import { css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import {
  datasetFiles,
  generateDataset,
  type AdapterSummary,
  type Dataset,
  type DatasetOptions,
  type SpinFormat,
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

/** Where the panel is: reflected on the host as `data-status` (tests wait for `complete`, `incomplete` or `error`). */
export type DatasetPanelStatus = 'waiting' | 'idle' | 'generating' | 'complete' | 'incomplete' | 'error';

/** Why the panel stopped: reflected on the host as `data-error` while `data-status` is `error`. */
export type DatasetPanelErrorKind = 'input' | 'failed' | 'lost';

/** The phases `generateDataset` reports through `onProgress`. */
export type DatasetPhase = Parameters<NonNullable<DatasetOptions['onProgress']>>[0];

/** The form's raw text, as typed (validated by `parseDatasetForm`). */
export interface DatasetForm {
  L: string;
  temperatures: string;
  samples: string;
  format: SpinFormat;
}

/** A validated request: what `generateDataset` and `datasetFiles` are called with. */
export interface DatasetRequest {
  L: number;
  temperatures: number[];
  samples: number;
  format: SpinFormat;
}

/** Small enough that SwiftShader (WebGPU on the CPU) finishes in seconds. */
export const DATASET_DEFAULTS: Readonly<DatasetForm> = Object.freeze({
  L: '16',
  temperatures: '1.5:3.5:0.5',
  samples: '50',
  format: 'int8',
});

const L_RANGE = [4, 1024] as const;
const SAMPLES_RANGE = [1, 100_000] as const;
const MAX_TEMPERATURES = 64;
/** Every configuration is held in page memory (and again in the blobs): keep the demo's data sets modest. */
const MAX_BYTES = 256 * 2 ** 20;
/** The CLI's defaults (seed, thermalisation): the same settings give the same data set. */
const SEED = 1;
const THERM = 1000;

const PHASES: Record<DatasetPhase, { step: number; label: TemplateResult; unit: string }> = {
  thermalise: { step: 1, label: html`Thermalising`, unit: 'sweeps' },
  tau: { step: 2, label: html`Estimating τ<sub>int</sub>`, unit: 'measured sweeps' },
  sample: { step: 3, label: html`Sampling`, unit: 'sweeps' },
};

/**
 * Parses a temperature grid as the CLI's `--T` does: `start:stop:step` (stop included) or a comma list.
 * Returns the temperatures, or a problem that names the offending value.
 *
 * @example parseTemperatures('1.5:3.5:0.5') // { temperatures: [1.5, 2, 2.5, 3, 3.5] }
 */
export function parseTemperatures(text: string): { temperatures: number[] } | { problem: string } {
  const value = text.trim();
  if (value === '') return { problem: 'temperatures: give start:stop:step or a comma list, e.g. 2.0,3.0' };
  let temperatures: number[];
  if (value.includes(':')) {
    const parts = value.split(':').map((p) => p.trim());
    if (parts.length !== 3) return { problem: `temperature grid '${value}' must be start:stop:step` };
    const bad = parts.find((p) => p === '' || !Number.isFinite(Number(p)));
    if (bad !== undefined) return { problem: `temperature grid '${value}': '${bad}' is not a number` };
    const [a, b, step] = parts.map(Number) as [number, number, number];
    if (a <= 0 || b < a || step <= 0)
      return { problem: `temperature grid '${value}' needs 0 < start ≤ stop and step > 0` };
    const n = Math.floor((b - a) / step + 1e-9) + 1;
    if (n > MAX_TEMPERATURES)
      return {
        problem: `temperature grid '${value}' has ${n} points; the demo allows at most ${MAX_TEMPERATURES}`,
      };
    temperatures = Array.from({ length: n }, (_, i) => Number((a + i * step).toPrecision(12)));
  } else {
    const parts = value.split(',').map((p) => p.trim());
    temperatures = [];
    for (const p of parts) {
      const T = Number(p);
      if (p === '' || !Number.isFinite(T)) return { problem: `temperature '${p}' is not a number` };
      if (T <= 0) return { problem: `temperature ${p} must be > 0` };
      temperatures.push(T);
    }
    if (temperatures.length > MAX_TEMPERATURES)
      return {
        problem: `${temperatures.length} temperatures given; the demo allows at most ${MAX_TEMPERATURES}`,
      };
  }
  // One NPY per temperature, named with T to 4 decimals: two temperatures must not share a name.
  const seen = new Map<string, number>();
  for (const T of temperatures) {
    const key = T.toFixed(4);
    const other = seen.get(key);
    if (other !== undefined)
      return {
        problem: `temperatures ${other} and ${T} both give the file name T${key} (4 decimals); drop one`,
      };
    seen.set(key, T);
  }
  return { temperatures };
}

function integerProblem(name: string, text: string, [lo, hi]: readonly [number, number]): string | null {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < lo || n > hi)
    return `${name} = ${text.trim() === '' ? '(empty)' : text.trim()} must be an integer in ${lo} … ${hi.toLocaleString('en-US')}`;
  return null;
}

/** Validates the form: a request, or every problem found (each names the value and the limit). */
export function parseDatasetForm(form: DatasetForm): { request: DatasetRequest } | { problems: string[] } {
  const problems: string[] = [];
  const lProblem = integerProblem('L', form.L, L_RANGE);
  const L = Number(form.L);
  if (lProblem) problems.push(lProblem);
  else if (L % 2 !== 0)
    problems.push(`L = ${L} must be even (the checkerboard update needs two sublattices)`);
  const grid = parseTemperatures(form.temperatures);
  if ('problem' in grid) problems.push(grid.problem);
  const samplesProblem = integerProblem('samples', form.samples, SAMPLES_RANGE);
  if (samplesProblem) problems.push(samplesProblem);
  if (problems.length > 0 || !('temperatures' in grid)) return { problems };
  const samples = Number(form.samples);
  const bytes = grid.temperatures.length * samples * L * L;
  if (bytes > MAX_BYTES) {
    return {
      problems: [
        `${grid.temperatures.length} temperatures × ${samples} samples × ${L}×${L} spins = ` +
          `${(bytes / 2 ** 20).toFixed(0)} MiB; the demo keeps at most ${MAX_BYTES / 2 ** 20} MiB in memory ` +
          '(use the CLI, blockspin generate, for larger data sets)',
      ],
    };
  }
  return { request: { L, temperatures: grid.temperatures, samples, format: form.format } };
}

/** One finished (or cancelled) generation and the downloads made from it. */
interface DatasetResult {
  request: DatasetRequest;
  dataset: Dataset;
  files: DownloadLink[];
  elapsedMs: number;
}

/**
 * Generates an Ising data set in the browser, the same files the CLI's `blockspin generate` writes (one
 * NPY per temperature plus dataset.json, from `generateDataset` and `datasetFiles`), and offers them
 * as downloads: lattice size, temperature grid (`start:stop:step` or a comma list), samples per
 * temperature and spin format (int8 ±1 or numpy.packbits). Shows the phase and progress while it
 * runs; Cancel stops it and offers what was collected, marked incomplete (dataset.json says
 * `complete: false`). A summary table gives, per temperature, the samples, the sampling interval and
 * τ_int of E and |m|.
 *
 * Stable hooks for tests: the host's `data-status` (`waiting` | `idle` | `generating` | `complete` |
 * `incomplete` | `error`) and `data-error` (`input` | `failed` | `lost`); `data-testid` on controls,
 * the progress line (`data-phase`, `data-done`, `data-total`) and the result; every download link is
 * `[data-testid="dataset-file"]`.
 *
 * @example
 * <dataset-panel .device=${gpu.device} .adapter=${gpu.summary}></dataset-panel>
 */
@customElement('dataset-panel')
export class DatasetPanel extends FormCard<DatasetPanelStatus, DatasetForm, DatasetRequest> {
  static override styles = [
    panelStyles,
    formStyles,
    css`
      h3 {
        margin: 0 0 8px;
        font-size: 0.95rem;
      }
      input.L,
      input.samples {
        width: 6em;
      }
      input.temperatures {
        width: 12em;
        font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
        font-size: 0.9rem;
      }
      .banner {
        margin: 14px 0 0;
        padding: 8px 14px;
        border-radius: 8px;
        font-size: 0.9rem;
      }
      .banner.complete {
        background: #e3f3ea;
        color: var(--ok, #1d7a46);
      }
      .banner.incomplete {
        border: 1px solid #f1d48f;
        background: #fff8e6;
        color: #6b4600;
      }
      .result {
        display: grid;
        grid-template-columns: minmax(240px, 1fr) minmax(320px, 1.4fr);
        gap: 16px 28px;
        align-items: start;
        margin-top: 14px;
      }
      @media (max-width: 760px) {
        .result {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      ul.files {
        margin: 0;
        padding: 0;
        list-style: none;
        font-size: 0.9rem;
      }
      ul.files li {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 4px 10px;
        padding: 3px 0;
      }
      ul.files a {
        color: var(--accent, #2456c7);
        font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
        font-size: 0.85rem;
      }
      .size {
        color: var(--muted, #5b6677);
        font-size: 0.8rem;
      }
      .tag {
        padding: 0 6px;
        border-radius: 6px;
        font-size: 0.75rem;
        font-weight: 600;
        background: #fff4dc;
        color: #8a5a00;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.85rem;
      }
      th,
      td {
        padding: 3px 0 3px 12px;
        border-bottom: 1px solid var(--line, #dde2ea);
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      th:first-child,
      td:first-child {
        padding-left: 0;
      }
      th {
        color: var(--muted, #5b6677);
        font-weight: 500;
      }
      td.short {
        color: #8a5a00;
        font-weight: 600;
      }
    `,
  ];

  /** The adapter's description, recorded in dataset.json as the CLI does. */
  @property({ attribute: false }) adapter: AdapterSummary | undefined;

  @state() protected form: DatasetForm = { ...DATASET_DEFAULTS };
  @state() private progress: { phase: DatasetPhase; done: number; total: number } | undefined;
  @state() private result: DatasetResult | undefined;

  protected release(): void {
    this.stop();
    this.clearResult();
  }

  protected stopOnLoss(reason: GPUDeviceLostReason): CardProblem {
    this.stop();
    return { message: `The GPU device was lost (reason: ${reason}); no data set can be generated.` };
  }

  /** Abandons the run in flight (its result, if it still arrives, is ignored). */
  private stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.progress = undefined;
  }

  private clearResult(): void {
    revokeDownloads(this.result?.files);
    this.result = undefined;
  }

  protected get busy(): boolean {
    return this.status === 'generating';
  }

  protected readForm(formElement: HTMLFormElement): DatasetForm {
    const data = new FormData(formElement);
    const text = (name: string): string => String(data.get(name) ?? '');
    return {
      L: text('L'),
      temperatures: text('temperatures'),
      samples: text('samples'),
      format: text('format') === 'packed' ? 'packed' : 'int8',
    };
  }

  protected parse(form: DatasetForm): { request: DatasetRequest } | { problems: CardProblem[] } {
    const parsed = parseDatasetForm(form);
    return 'problems' in parsed ? { problems: parsed.problems.map((message) => ({ message })) } : parsed;
  }

  protected settledStatus(): DatasetPanelStatus {
    return this.result ? (this.result.dataset.complete ? 'complete' : 'incomplete') : 'idle';
  }

  protected async start(request: DatasetRequest): Promise<void> {
    const device = this.device;
    if (!device) return;
    this.clearResult();
    const controller = this.beginJob();
    this.status = 'generating';
    this.progress = { phase: 'thermalise', done: 0, total: 0 };
    const t0 = performance.now();
    try {
      const dataset = await generateDataset(device, {
        L: request.L,
        temperatures: request.temperatures,
        samples: request.samples,
        seed: SEED,
        therm: THERM,
        signal: controller.signal,
        onProgress: (phase, done, total) => {
          if (controller === this.controller) this.progress = { phase, done, total };
        },
      });
      if (controller !== this.controller) return; // superseded: device changed or the panel was removed
      const elapsedMs = performance.now() - t0;
      const files = datasetFiles(dataset, {
        format: request.format,
        adapter: this.adapter,
        command:
          `blockspin demo (browser); same settings as: blockspin generate --L ${request.L} ` +
          `--T ${request.temperatures.join(',')} --samples ${request.samples} --format ${request.format} ` +
          `--therm ${THERM} --seed ${SEED}`,
      });
      this.result = {
        request,
        dataset,
        elapsedMs,
        files: downloadLinks(files, (name) =>
          name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        ),
      };
      this.status = dataset.complete ? 'complete' : 'incomplete';
    } catch (err) {
      if (controller !== this.controller || this.lost) return;
      this.showFailure(err);
    } finally {
      if (controller === this.controller) {
        this.controller = undefined;
        this.progress = undefined;
      }
    }
  }

  private cancel(): void {
    // generateDataset stops at its next check and resolves with what it has; generate() shows it.
    this.controller?.abort();
  }

  // ── rendering ─────────────────────────────────────────────────────────────────────────────────────

  override render(): TemplateResult {
    const f = this.form;
    const disabled = this.busy || this.lost || !this.device;
    const invalid = (needle: string): boolean =>
      this.errorKind === 'input' && this.problems.some((p) => p.message.startsWith(needle));
    return html`
      <section data-testid="dataset">
        <div class="title">
          <h2>
            Data set
            <small>equilibrated configurations over a temperature grid · NPY + dataset.json</small>
          </h2>
          <span class="state" data-status=${this.status} data-testid="dataset-status"
            >${this.statusText()}</span
          >
        </div>
        <form @submit=${this.onSubmit} @change=${this.onChange}>
          ${inputField({
            label: 'L (even)',
            className: 'L',
            name: 'L',
            step: 2,
            min: L_RANGE[0],
            max: L_RANGE[1],
            value: f.L,
            invalid: invalid('L '),
            disabled,
            testId: 'dataset-L',
          })}
          ${inputField({
            label: 'T (start:stop:step or list)',
            className: 'temperatures',
            name: 'temperatures',
            type: 'text',
            spellcheck: false,
            value: f.temperatures,
            invalid: invalid('temperature'),
            disabled,
            testId: 'dataset-temperatures',
          })}
          ${inputField({
            label: 'Samples / T',
            className: 'samples',
            name: 'samples',
            min: SAMPLES_RANGE[0],
            max: SAMPLES_RANGE[1],
            value: f.samples,
            invalid: invalid('samples'),
            disabled,
            testId: 'dataset-samples',
          })}
          <label
            >Format
            <select name="format" ?disabled=${disabled} data-testid="dataset-format">
              <option value="int8" ?selected=${f.format === 'int8'}>int8 (±1)</option>
              <option value="packed" ?selected=${f.format === 'packed'}>packed (numpy.packbits)</option>
            </select>
          </label>
          ${jobButtons({
            disabled,
            run: { label: 'Generate', testId: 'dataset-generate' },
            stop: {
              label: 'Cancel',
              testId: 'dataset-cancel',
              disabled: !this.busy,
              onClick: () => this.cancel(),
            },
          })}
        </form>
        ${this.renderProblems('dataset-error')} ${this.renderProgress()} ${this.renderResult()}
        ${
          this.result || this.busy
            ? nothing
            : html`<p class="note">
                Metropolis, checkerboard simple kernel, seed ${SEED}, min(8, samples) chains per temperature:
                ${THERM} sweeps to thermalise, ${Math.max(500, THERM)} more to measure τ<sub>int</sub>, then a
                sample every max(1, ⌈2·τ<sub>int</sub>⌉) sweeps. The same files as
                <code>blockspin generate</code> writes.
              </p>`
        }
      </section>
    `;
  }

  private statusText(): string {
    return statusText(this.status, this.errorKind, {
      generating: 'Generating…',
      incomplete: 'Incomplete',
    });
  }

  private renderProgress(): TemplateResult | typeof nothing {
    const p = this.progress;
    if (!this.busy || !p) return nothing;
    const phase = PHASES[p.phase];
    return progressLine(
      'dataset-progress',
      p,
      html`<span>Step ${phase.step} of 3 · <strong>${phase.label}</strong></span>`,
      phase.unit,
      'starting…',
    );
  }

  private renderResult(): TemplateResult | typeof nothing {
    const r = this.result;
    if (!r) return nothing;
    const d = r.dataset;
    const complete = d.complete;
    const taken = d.temperatures.reduce((sum, t) => sum + t.samples, 0);
    const asked = r.request.samples * r.request.temperatures.length;
    const unconverged = d.temperatures.some((t) => !t.tauInt.converged);
    const banner = complete
      ? html`<p class="banner complete" data-testid="dataset-banner">
          Complete: ${formatCount(taken)} configurations of ${d.L}×${d.Ly} in
          ${(r.elapsedMs / 1000).toFixed(1)} s (${r.request.format}; ${d.chains} chains per temperature, seed
          ${d.seed}).
        </p>`
      : html`<p class="banner incomplete" role="alert" data-testid="dataset-banner">
          <strong>Incomplete data set — cancelled.</strong>
          ${
            d.temperatures.length === 0
              ? 'It stopped before sampling began: no configurations were taken.'
              : `${formatCount(taken)} of ${formatCount(asked)} configurations were taken.`
          }
          These files are offered as they are; dataset.json records <code>"complete": false</code>.
        </p>`;
    const files = html`<div>
      <h3>Files${complete ? nothing : html` <span class="tag">incomplete</span>`}</h3>
      <ul class="files" data-testid="dataset-files">
        ${r.files.map(
          (file) =>
            html`<li>
              <a href=${file.url} download=${file.name} data-testid="dataset-file">${file.name}</a>
              <span class="size">${formatBytes(file.size)}</span>
              ${complete ? nothing : html`<span class="tag">incomplete</span>`}
            </li>`,
        )}
      </ul>
    </div>`;
    const table =
      d.temperatures.length === 0
        ? nothing
        : html`<div>
            <table data-testid="dataset-summary">
              <thead>
                <tr>
                  <th>T</th>
                  <th>samples</th>
                  <th title="sweeps between consecutive samples of one chain">interval</th>
                  <th>τ<sub>int</sub>(E)</th>
                  <th>τ<sub>int</sub>(|m|)</th>
                </tr>
              </thead>
              <tbody>
                ${d.temperatures.map(
                  (t) =>
                    html`<tr data-testid="dataset-row" data-value=${t.T}>
                      <td>${t.T.toFixed(4)}</td>
                      <td class=${t.samples < r.request.samples ? 'short' : ''} data-value=${t.samples}>
                        ${t.samples}${t.samples < r.request.samples ? ` / ${r.request.samples}` : ''}
                      </td>
                      <td data-value=${t.interval}>${t.interval}</td>
                      <td>${t.tauInt.energy.toFixed(2)}${t.tauInt.converged ? '' : ' *'}</td>
                      <td>${t.tauInt.absMagnetization.toFixed(2)}${t.tauInt.converged ? '' : ' *'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
            <p class="note">
              interval and τ<sub>int</sub> in sweeps; interval = max(1, ⌈2·max τ<sub>int</sub>⌉).
              ${unconverged ? html`* the τ<sub>int</sub> window did not converge: treat it as a lower bound.` : nothing}
            </p>
          </div>`;
    return html`${banner}
      <div class="result">${files} ${table}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dataset-panel': DatasetPanel;
  }
}
