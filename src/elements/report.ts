import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { renderFigure } from '../studies/figures.ts';
import {
  describeAdapter,
  formatValueErr,
  formatZ,
  parseReportJson,
  type ReportJson,
} from '../studies/report.ts';
import type { FigureSpec } from '../studies/study.ts';
import { panelStyles } from './common.ts';

/** One figure of the open report: rendered from its Vega-Lite description, or its SVG, or why neither. */
interface ShownFigure {
  name: string;
  svg?: string;
  /** An object URL of the report's own SVG, when no description was given. */
  url?: string;
  missing?: string;
}

/** A report's files by path relative to the report directory (`report.json`, `figures/x.json`, …). */
export type ReportFiles = Map<string, Blob>;

/** How far |z| is, as a class for colouring: within 1, 2, 3 standard errors, or beyond. */
function zBand(z: number): string {
  const a = Math.abs(z);
  return a <= 1 ? 'z1' : a <= 2 ? 'z2' : a <= 3 ? 'z3' : 'far';
}

/**
 * The path of a picked file inside the report directory: a directory pick gives `DIR/figures/x.json`
 * (webkitRelativePath), a plain pick just `x.json`.
 */
export function reportPath(file: File): string {
  const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  if (!rel) return file.name;
  const parts = rel.split('/');
  return parts.length > 1 ? parts.slice(1).join('/') : rel;
}

/**
 * `<blockspin-report>`: reads a study report (the directory `blockspin reproduce NAME` writes, or the lab's
 * download) and shows it: what ran where and for how long, the results table with each value ± error beside the
 * source's figure and the distance z, and the figures, rendered in the page from the same Vega-Lite descriptions
 * (`figures/NAME.json`) the CLI renders to SVG. Open `report.json` alone (results and settings) or the whole
 * directory (figures too), by the buttons or by dropping files; or set `src` to a report.json URL (figures are
 * then fetched beside it).
 *
 * Reflected: `data-status` (`empty` | `loading` | `shown` | `error`), `data-figures` (figures rendered).
 *
 * @example
 * <blockspin-report src="/reports/chung-kao/report.json"></blockspin-report>
 */
@customElement('blockspin-report')
export class BlockspinReport extends LitElement {
  static override styles = [
    panelStyles,
    css`
      :host {
        display: block;
      }
      .open {
        display: flex;
        flex-wrap: wrap;
        gap: 10px;
        align-items: center;
        padding: 14px;
        border: 1px dashed #b9c3d3;
        border-radius: 10px;
        margin-bottom: 14px;
      }
      .open.drag {
        background: #eef3fd;
        border-color: #2456c7;
      }
      .open label.button {
        display: inline-block;
        padding: 6px 12px;
        border-radius: 8px;
        border: 1px solid #dde2ea;
        background: #fff;
        cursor: pointer;
        font-weight: 500;
      }
      .open input {
        display: none;
      }
      dl.meta {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 4px 16px;
        margin: 0 0 14px;
        font-size: 0.9rem;
      }
      dl.meta dt {
        color: #5b6677;
      }
      dl.meta dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.85rem;
        margin-bottom: 16px;
      }
      th,
      td {
        padding: 4px 6px;
        border-bottom: 1px solid #dde2ea;
        text-align: left;
        vertical-align: top;
      }
      td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
      td.method {
        color: #5b6677;
        font-size: 0.8rem;
        max-width: 380px;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .results {
        max-height: 460px;
        overflow-y: auto;
        border: 1px solid #dde2ea;
        border-radius: 8px;
        margin-bottom: 16px;
      }
      .results table {
        margin: 0;
      }
      .results thead th {
        position: sticky;
        top: 0;
        background: #f7f9fc;
      }
      input.filter {
        font: inherit;
        padding: 4px 8px;
        border: 1px solid #dde2ea;
        border-radius: 6px;
        margin: 0 0 8px;
        width: 280px;
      }
      td.z1 {
        color: #1d7a46;
      }
      td.z2 {
        color: #7a6a00;
      }
      td.z3 {
        color: #a14a00;
      }
      td.far {
        color: #b3261e;
        font-weight: 600;
      }
      .partial {
        padding: 8px 12px;
        border-radius: 8px;
        background: #fff4dc;
        color: #8a5a00;
        margin-bottom: 12px;
      }
      .figures {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(440px, 1fr));
        gap: 16px;
      }
      figure {
        margin: 0;
        overflow-x: auto;
      }
      figure svg,
      figure img {
        max-width: 100%;
        height: auto;
      }
      figcaption {
        font-size: 0.8rem;
        color: #5b6677;
      }
      .error {
        color: #b3261e;
      }
    `,
  ];

  /** A report.json URL to load (figures are fetched from `figures/` beside it). */
  @property() src = '';

  @state() private report: ReportJson | undefined;
  @state() private figures: ShownFigure[] = [];
  @state() private status: 'empty' | 'loading' | 'shown' | 'error' = 'empty';
  @state() private error = '';
  @state() private markdown: string | undefined;
  @state() private dragging = false;
  /** Shows only results whose name contains this text. */
  @state() private filter = '';

  private urls: string[] = [];

  /** The report shown (undefined before one is opened). */
  get shown(): ReportJson | undefined {
    return this.report;
  }

  /** Shows a report from its files (paths relative to the report directory; `report.json` required). */
  async open(files: ReportFiles): Promise<void> {
    const json = files.get('report.json');
    if (!json) {
      this.fail(
        `no report.json among the ${files.size} file(s) opened (${[...files.keys()].slice(0, 5).join(', ')}${files.size > 5 ? ', …' : ''}); open a report directory or its report.json`,
      );
      return;
    }
    // Files picked one by one have no directory: `figures/x.json` is then found as `x.json`.
    await this.show(
      await json.text(),
      async (path) => files.get(path) ?? files.get(path.split('/').pop() ?? path),
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.revoke();
  }

  protected override updated(changed: PropertyValues): void {
    this.dataset.status = this.status;
    this.dataset.figures = String(
      this.figures.filter((f) => f.svg !== undefined || f.url !== undefined).length,
    );
    if (changed.has('src') && this.src) void this.load(this.src);
  }

  private async load(src: string): Promise<void> {
    this.status = 'loading';
    try {
      const response = await fetch(src);
      if (!response.ok) throw new Error(`${src}: HTTP ${response.status} ${response.statusText}`);
      const base = new URL(src, location.href);
      await this.show(await response.text(), async (path) => {
        const r = await fetch(new URL(path, base));
        return r.ok ? await r.blob() : undefined;
      });
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private async show(text: string, file: (path: string) => Promise<Blob | undefined>): Promise<void> {
    this.status = 'loading';
    this.revoke();
    let report: ReportJson;
    try {
      report = parseReportJson(text);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return;
    }
    this.report = report;
    this.error = '';
    this.markdown = await (await file('report.md'))?.text();
    this.figures = report.figures.map((name) => ({ name, missing: 'rendering…' }));
    this.status = 'shown';
    const figures: ShownFigure[] = [];
    for (const name of report.figures) {
      figures.push(await this.figure(name, file));
      this.figures = [
        ...figures,
        ...report.figures.slice(figures.length).map((n) => ({ name: n, missing: 'rendering…' })),
      ];
    }
  }

  private async figure(
    name: string,
    file: (path: string) => Promise<Blob | undefined>,
  ): Promise<ShownFigure> {
    const description = await file(`figures/${name}.json`);
    if (description) {
      try {
        const spec = JSON.parse(await description.text()) as FigureSpec['spec'];
        return { name, svg: await renderFigure({ name, title: name, spec }) };
      } catch (err) {
        return { name, missing: `figures/${name}.json: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    const svg = await file(`figures/${name}.svg`);
    if (svg) {
      const url = URL.createObjectURL(svg.type ? svg : new Blob([svg], { type: 'image/svg+xml' }));
      this.urls.push(url);
      return { name, url };
    }
    return { name, missing: 'not opened: open the whole report directory to see the figures' };
  }

  private fail(message: string): void {
    this.status = 'error';
    this.error = message;
  }

  private revoke(): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }

  private async onPick(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const files = new Map<string, Blob>();
    for (const f of input.files ?? []) files.set(reportPath(f), f);
    input.value = '';
    if (files.size > 0) await this.open(files);
  }

  private async onDrop(event: DragEvent): Promise<void> {
    event.preventDefault();
    this.dragging = false;
    const files = new Map<string, Blob>();
    for (const f of event.dataTransfer?.files ?? []) files.set(reportPath(f), f);
    if (files.size > 0) await this.open(files);
  }

  protected override render(): TemplateResult {
    return html`<section>
      <h2>Study report</h2>
      <div
        class="open ${this.dragging ? 'drag' : ''}"
        @dragover=${(e: DragEvent) => {
          e.preventDefault();
          this.dragging = true;
        }}
        @dragleave=${() => (this.dragging = false)}
        @drop=${(e: DragEvent) => void this.onDrop(e)}
      >
        <label class="button"
          >Open report directory…
          <input
            type="file"
            webkitdirectory
            multiple
            data-testid="report-directory"
            @change=${(e: Event) => void this.onPick(e)}
        /></label>
        <label class="button"
          >Open files (report.json, figures/*.json)…
          <input
            type="file"
            multiple
            accept=".json,.md,.svg"
            data-testid="report-files"
            @change=${(e: Event) => void this.onPick(e)}
        /></label>
        <span class="note"
          >or drop them here. A report is what <code>npx blockspin reproduce NAME</code> writes.</span
        >
      </div>
      ${this.status === 'error' ? html`<p class="error" role="alert" data-testid="report-error">${this.error}</p>` : nothing}
      ${this.report ? this.renderReport(this.report) : nothing}
    </section>`;
  }

  private renderReport(r: ReportJson): TemplateResult {
    return html`
      <h3 data-testid="report-title">${r.title}</h3>
      ${
        r.complete
          ? nothing
          : html`<p class="partial" data-testid="report-partial">
              Partial report: the run stopped before the end (${r.stopped ?? 'no reason recorded'}).
            </p>`
      }
      <dl class="meta">
        <dt>Study</dt>
        <dd>
          <code>${r.study}</code>, preset <code>${r.preset}</code>${
            r.overrides?.length
              ? html` overridden by ${r.overrides.map((x, i) => html`${i > 0 ? ', ' : ''}<code>${x}</code>`)}`
              : nothing
          },
          seed ${r.seed}
        </dd>
        <dt>Source</dt>
        <dd>${r.source}</dd>
        <dt>Adapter</dt>
        <dd>${describeAdapter(r.adapter)}</dd>
        <dt>Ran</dt>
        <dd>
          ${r.startedAt} · ${(r.wallSeconds / 60).toFixed(1)} min
          (${r.stages.map((s) => `${s.stage} ${s.seconds.toFixed(0)} s`).join(', ')})
        </dd>
        <dt>Code</dt>
        <dd>
          blockspin ${r.blockspin}${r.commit ? html`, commit <code>${r.commit.slice(0, 10)}</code>` : nothing}
        </dd>
        ${
          r.command
            ? html`<dt>Command</dt>
                <dd><code>${r.command}</code></dd>`
            : nothing
        }
      </dl>
      <h3>Results</h3>
      <input
        class="filter"
        type="search"
        placeholder=${`Filter ${r.results.length} results by name…`}
        aria-label="Filter results by name"
        data-testid="report-filter"
        .value=${this.filter}
        @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)}
      />
      <div class="results">
        <table data-testid="report-results">
          <thead>
            <tr>
              <th>Result</th>
              <th class="num">Ours</th>
              <th class="num">Source</th>
              <th class="num">z</th>
              <th>How</th>
            </tr>
          </thead>
          <tbody>
            ${r.results
              .filter((x) => x.name.includes(this.filter.trim()))
              .map(
                (x) =>
                  html`<tr data-name=${x.name}>
                    <td><code>${x.name}</code></td>
                    <td class="num" data-value=${x.value}>
                      ${formatValueErr(x.value, x.err)}${x.unit ? ` ${x.unit}` : ''}
                    </td>
                    <td class="num" title=${x.source?.where ?? ''}>
                      ${x.source ? formatValueErr(x.source.value, x.source.err) : '—'}
                    </td>
                    <td class="num ${x.z !== undefined ? zBand(x.z) : ''}">
                      ${x.z !== undefined ? formatZ(x.z) : ''}
                    </td>
                    <td class="method" title=${x.method}>${x.method}</td>
                  </tr>`,
              )}
          </tbody>
        </table>
      </div>
      ${
        this.figures.length > 0
          ? html`<h3>Figures</h3>
              <div class="figures">
                ${this.figures.map(
                  (f) =>
                    html`<figure data-testid="report-figure" data-name=${f.name}>
                      ${
                        f.svg !== undefined
                          ? unsafeHTML(f.svg)
                          : f.url !== undefined
                            ? html`<img src=${f.url} alt=${f.name} />`
                            : html`<p class="note">${f.missing}</p>`
                      }
                      <figcaption>${f.name}</figcaption>
                    </figure>`,
                )}
              </div>`
          : nothing
      }
      ${
        this.markdown !== undefined
          ? html`<details>
              <summary>report.md</summary>
              <pre data-testid="report-markdown">${this.markdown}</pre>
            </details>`
          : nothing
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-report': BlockspinReport;
  }
}
