import { LitElement, css, html, unsafeCSS, type PropertyValues, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';
import type { PlotData } from './plot-data.ts';

export { histogram, type PlotData } from './plot-data.ts';

/** How one series is drawn. */
export type PlotStyle = 'line' | 'points' | 'linepoints' | 'bars' | 'step';

/** One y series of a {@link BlockspinPlot}: its legend label and look. */
export interface PlotSeries {
  label: string;
  /** CSS colour; defaults to the palette in order. */
  color?: string;
  /** `line` (default), `points`, `linepoints`, `bars` (histograms) or `step`. */
  style?: PlotStyle;
  /** Dashed line (reference curves, e.g. an exact result). */
  dash?: boolean;
  /** Line width in CSS pixels (default 1.5). */
  width?: number;
}

/** A categorical palette that stays readable on white and for common colour-vision deficiencies. */
export const PLOT_PALETTE = [
  '#2456c7',
  '#c2410c',
  '#15803d',
  '#7c3aed',
  '#b91c1c',
  '#0e7490',
  '#a16207',
  '#4b5563',
];

/** The most points a streamed plot keeps per series (older points are dropped, a note says so). */
export const DEFAULT_MAX_POINTS = 20_000;

/**
 * `<blockspin-plot>`: a live 2D plot (uPlot) for streams of measurements — traces of E and |m| as a chain runs,
 * training curves, histograms, and scans with error bars and an exact curve beside them. Give it `series`
 * (labels and styles) and either set `data` whole or stream with {@link addPoint}; redraws are batched to one
 * per animation frame, so appending thousands of points per second keeps the page responsive. The width
 * follows the element's box; `height` is in CSS pixels.
 *
 * Reflected for tests and hosts: `data-points` (points of the longest series shown).
 *
 * @example
 * const plot = document.createElement('blockspin-plot');
 * plot.xLabel = 'sweep'; plot.yLabel = 'E / N';
 * plot.series = [{ label: 'E' }, { label: 'running mean', dash: true }];
 * plot.addPoint(1, [-1.2, -1.2]);
 */
@customElement('blockspin-plot')
export class BlockspinPlot extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host {
        display: block;
        min-width: 200px;
        font:
          12px/1.4 system-ui,
          sans-serif;
        color: #1b2330;
      }
      .title {
        font-weight: 600;
        font-size: 0.85rem;
        margin: 0 0 2px;
      }
      [hidden] {
        display: none !important;
      }
      .empty {
        display: grid;
        place-items: center;
        color: #5b6677;
        border: 1px dashed #dde2ea;
        border-radius: 6px;
      }
      .note {
        color: #5b6677;
        font-size: 0.75rem;
        margin: 2px 0 0;
      }
      .uplot {
        width: 100%;
      }
      .u-legend {
        font-size: 12px;
      }
    `,
  ];

  /** Heading above the plot (optional). */
  @property() heading = '';
  @property({ attribute: 'x-label' }) xLabel = '';
  @property({ attribute: 'y-label' }) yLabel = '';
  /** Plot height in CSS pixels (axes included). */
  @property({ type: Number }) height = 220;
  @property({ type: Boolean, attribute: 'log-x' }) logX = false;
  @property({ type: Boolean, attribute: 'log-y' }) logY = false;
  /** Fixed y range; automatic when unset. */
  @property({ attribute: false }) yRange: [number, number] | undefined;
  /** Fixed x range; automatic when unset. */
  @property({ attribute: false }) xRange: [number, number] | undefined;
  /** Vertical marker lines (e.g. T_c), with labels. */
  @property({ attribute: false }) markers: { x: number; label: string }[] = [];
  @property({ attribute: false }) series: PlotSeries[] = [];
  /** The whole data set; {@link addPoint} adds to it. */
  @property({ attribute: false }) data: PlotData = { x: [], y: [] };
  /** Most points kept when streaming. */
  @property({ type: Number, attribute: 'max-points' }) maxPoints = DEFAULT_MAX_POINTS;
  /** Shown instead of an empty plot. */
  @property() placeholder = 'No data yet';

  private chart: uPlot | undefined;
  private chartKey = '';
  private frame = 0;
  private dropped = 0;
  private resize: ResizeObserver | undefined;
  private width = 0;
  private renderedEmpty = true;

  /** Points in the plot now. */
  get points(): number {
    return this.data.x.length;
  }

  /** Adds one x with a value per series (`null` for none); the plot redraws at the next animation frame. */
  addPoint(x: number, ys: (number | null)[], errors?: (number | null)[]): void {
    if (!Number.isFinite(x)) throw new RangeError(`blockspin-plot: x must be a finite number; got ${x}`);
    if (ys.length !== this.series.length) {
      throw new RangeError(
        `blockspin-plot: addPoint needs one value per series (${this.series.length}); got ${ys.length}`,
      );
    }
    const d = this.data;
    d.x.push(x);
    this.series.forEach((_, i) => {
      (d.y[i] ??= new Array<number | null>(d.x.length - 1).fill(null)).push(sanitize(ys[i] ?? null));
      if (errors !== undefined) {
        d.errors ??= [];
        (d.errors[i] ??= new Array<number | null>(d.x.length - 1).fill(null)).push(
          sanitize(errors[i] ?? null),
        );
      } else if (d.errors?.[i] !== undefined) d.errors[i].push(null);
    });
    if (d.x.length > this.maxPoints) {
      const drop = d.x.length - this.maxPoints;
      d.x.splice(0, drop);
      for (const y of d.y) y.splice(0, drop);
      for (const e of d.errors ?? []) e?.splice(0, drop);
      if (this.dropped === 0) this.requestUpdate(); // shows the note once
      this.dropped += drop;
    }
    this.schedule();
  }

  /** Removes every point. */
  clear(): void {
    this.data = { x: [], y: [] };
    this.dropped = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0 && w !== this.width) {
        this.width = w;
        this.chart?.setSize({ width: w, height: this.plotHeight() });
        if (!this.chart) this.schedule();
      }
    });
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.chart?.destroy();
    this.chart = undefined;
    this.chartKey = '';
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.size > 0) this.schedule();
  }

  protected override render(): TemplateResult {
    const empty = this.points === 0;
    this.renderedEmpty = empty;
    // uPlot owns .u-host's children; Lit never renders inside it (it would lose its markers when uPlot mounts).
    return html`${this.heading ? html`<p class="title">${this.heading}</p>` : ''}
      ${empty ? html`<div class="empty" style=${`height:${this.plotHeight()}px`}>${this.placeholder}</div>` : ''}
      <div
        class="u-host"
        ?hidden=${empty}
        role="img"
        aria-label=${`${this.heading || this.yLabel} against ${this.xLabel}`}
      ></div>
      ${
        this.dropped > 0
          ? html`<p class="note">Showing the latest ${this.maxPoints.toLocaleString('en-US')} points.</p>`
          : ''
      }`;
  }

  private plotHeight(): number {
    return Math.max(80, this.height - (this.heading ? 20 : 0));
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Builds the chart when the series or axes changed, else just hands uPlot the new data. */
  private draw(): void {
    this.dataset.points = String(this.points);
    // Points arrive by addPoint (no Lit update): switch between the placeholder and the chart when needed.
    if ((this.points === 0) !== this.renderedEmpty) {
      this.requestUpdate();
      void this.updateComplete.then(() => this.schedule());
      return;
    }
    const host = this.renderRoot.querySelector<HTMLElement>('.u-host');
    if (!host) return;
    if (this.points === 0) {
      this.chart?.destroy();
      this.chart = undefined;
      this.chartKey = '';
      return;
    }
    const width = this.width || Math.floor(this.getBoundingClientRect().width) || 480;
    const key = JSON.stringify([
      this.series,
      this.xLabel,
      this.yLabel,
      this.logX,
      this.logY,
      this.yRange,
      this.xRange,
      this.markers,
      this.height,
      this.heading,
    ]);
    const data = [this.data.x, ...this.series.map((_, i) => this.data.y[i] ?? [])] as uPlot.AlignedData;
    if (this.chart && key === this.chartKey) {
      this.chart.setData(data);
      return;
    }
    this.chart?.destroy();
    host.replaceChildren();
    this.chartKey = key;
    this.chart = new uPlot(this.options(width), data, host);
  }

  private options(width: number): uPlot.Options {
    const errors = (): PlotData['errors'] => this.data.errors;
    const markers = this.markers;
    const series = this.series;
    return {
      width,
      height: this.plotHeight(),
      legend: { show: series.length > 1 || series[0]?.label !== '' },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: {
          time: false,
          distr: this.logX ? 3 : 1,
          ...(this.xRange ? { range: this.xRange } : {}),
        },
        y: {
          distr: this.logY ? 3 : 1,
          ...(this.yRange ? { range: this.yRange } : {}),
        },
      },
      axes: [
        { label: this.xLabel, labelSize: 18, size: 36, font: '11px system-ui', labelFont: '12px system-ui' },
        { label: this.yLabel, labelSize: 18, size: 52, font: '11px system-ui', labelFont: '12px system-ui' },
      ],
      series: [
        { label: this.xLabel || 'x' },
        ...series.map((s, i): uPlot.Series => {
          const color = s.color ?? PLOT_PALETTE[i % PLOT_PALETTE.length];
          const style = s.style ?? 'line';
          const base: uPlot.Series = {
            label: s.label,
            stroke: color,
            width: s.width ?? 1.5,
            ...(s.dash ? { dash: [6, 4] } : {}),
            spanGaps: false,
          };
          if (style === 'points')
            return { ...base, paths: () => null, points: { show: true, size: 6, fill: color } };
          if (style === 'linepoints') return { ...base, points: { show: true, size: 5, fill: color } };
          if (style === 'bars') {
            return {
              ...base,
              fill: `${color}55`,
              paths: uPlot.paths.bars?.({ size: [0.95, Infinity], align: 0 }),
              points: { show: false },
            };
          }
          if (style === 'step')
            return { ...base, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } };
          return { ...base, points: { show: false } };
        }),
      ],
      hooks: {
        draw: [
          (u: uPlot) => {
            const ctx = u.ctx;
            ctx.save();
            // Error bars: a whisker at each point of every series with errors.
            (errors() ?? []).forEach((err, i) => {
              if (!err || u.series[i + 1]?.show === false) return;
              const ys = u.data[i + 1];
              ctx.strokeStyle = series[i]?.color ?? PLOT_PALETTE[i % PLOT_PALETTE.length] ?? '#000';
              ctx.lineWidth = Math.max(1, devicePixelRatio);
              ctx.beginPath();
              u.data[0].forEach((x, j) => {
                const y = ys?.[j];
                const e = err[j];
                if (y == null || e == null || !(e > 0)) return;
                const px = u.valToPos(x, 'x', true);
                const top = u.valToPos(y + e, 'y', true);
                const bottom = u.valToPos(y - e, 'y', true);
                const cap = 3 * devicePixelRatio;
                ctx.moveTo(px, top);
                ctx.lineTo(px, bottom);
                ctx.moveTo(px - cap, top);
                ctx.lineTo(px + cap, top);
                ctx.moveTo(px - cap, bottom);
                ctx.lineTo(px + cap, bottom);
              });
              ctx.stroke();
            });
            // Marker lines, e.g. T_c.
            for (const m of markers) {
              const px = u.valToPos(m.x, 'x', true);
              if (!(px >= u.bbox.left && px <= u.bbox.left + u.bbox.width)) continue;
              ctx.strokeStyle = '#5b6677';
              ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.lineWidth = devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(px, u.bbox.top);
              ctx.lineTo(px, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.setLineDash([]);
              ctx.fillStyle = '#5b6677';
              ctx.font = `${11 * devicePixelRatio}px system-ui`;
              ctx.fillText(m.label, px + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
  }
}

function sanitize(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-plot': BlockspinPlot;
  }
}
