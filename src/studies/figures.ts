/**
 * Figures of a report: one declarative Vega-Lite spec per figure (../shared/REPORTS.md), rendered to SVG headless
 * (vega's `renderer: 'none'` view needs no DOM or canvas, so the same code runs in Node and in the page) and shown
 * live in the lab by vega-embed from the same spec. Also the few spec builders the studies share: values with
 * error bars against a parameter with the exact value as a rule, and small matrices (filters) as heatmaps.
 */
import type { JsonValue } from '../rg/result-files.ts';
import { pngDataUrl } from './png.ts';
import type { FigureSpec } from './study.ts';

/** The Vega-Lite schema the builders write (vega-lite 6). */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A figure's name: a file stem (`<name>.svg`, `<name>.json`), letters, digits, `.`, `_`, `-`. */
export const FIGURE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Throws unless `name` is a usable file stem for a figure. */
export function checkFigureName(name: string): void {
  if (!FIGURE_NAME.test(name) || name.length > 100) {
    throw new Error(
      `figure name '${name}' must be 1 … 100 letters, digits, '.', '_' or '-' (a file stem), starting with a letter or digit`,
    );
  }
}

/**
 * Renders a figure's Vega-Lite spec to an SVG string (headless: no DOM, no canvas; Node or browser).
 * vega and vega-lite are loaded on first use, so code that only writes JSON never pays for them.
 *
 * @example
 * const svg = await renderFigure(errorBarPlot({ name: 'yt', title: 'y_t', points, exact: { value: 1, label: 'exact' } }));
 */
export async function renderFigure(figure: FigureSpec): Promise<string> {
  checkFigureName(figure.name);
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  let compiled: ReturnType<typeof vegaLite.compile>;
  try {
    compiled = vegaLite.compile(figure.spec as unknown as Parameters<typeof vegaLite.compile>[0]);
  } catch (err) {
    throw new Error(
      `figure '${figure.name}': the Vega-Lite spec does not compile (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One plotted value with its standard error. */
export interface ErrorBarPoint {
  x: number;
  y: number;
  /** One standard error (the bar spans y ± err). */
  err: number;
  /** The series (legend entry), e.g. 'learned, N_r = 1'; omit for a single series. */
  series?: string;
}

export interface ErrorBarPlotOptions {
  name: string;
  title: string;
  points: ErrorBarPoint[];
  /** Axis titles. */
  xTitle?: string;
  yTitle?: string;
  /** Draw lines joining each series' points in x order (default true). */
  lines?: boolean;
  /** The exact value, drawn as a horizontal rule across the plot (e.g. y_t = 1). */
  exact?: { value: number; label: string };
  /** Only integer x ticks (e.g. N_c); default false. */
  integerX?: boolean;
}

function finiteOrThrow(what: string, x: number, nonNegative = false): void {
  if (!Number.isFinite(x) || (nonNegative && x < 0)) {
    throw new Error(`${what} is ${x}; it must be a finite number${nonNegative ? ' ≥ 0' : ''}`);
  }
}

/**
 * Values with error bars against a parameter, one colour per series, with the exact value as a dashed rule:
 * e.g. y_t against N_c for each N_r and blocking rule, the exact 1 across. Marks are named `errorbars`,
 * `points`, `lines` and `exact`, so a test (or a stylesheet) can find them in the SVG.
 *
 * @example
 * errorBarPlot({ name: 'yt-vs-nc', title: 'y_t against N_c', points: [{ x: 1, y: 0.98, err: 0.01 }],
 *   xTitle: 'N_c', yTitle: 'y_t', exact: { value: 1, label: 'exact y_t = 1' }, integerX: true });
 */
export function errorBarPlot(options: ErrorBarPlotOptions): FigureSpec {
  checkFigureName(options.name);
  if (options.points.length === 0) throw new Error(`figure '${options.name}': no points to plot`);
  options.points.forEach((p, i) => {
    finiteOrThrow(`figure '${options.name}' point ${i} x`, p.x);
    finiteOrThrow(`figure '${options.name}' point ${i} y`, p.y);
    finiteOrThrow(`figure '${options.name}' point ${i} err`, p.err, true);
  });
  if (options.exact) finiteOrThrow(`figure '${options.name}' exact value`, options.exact.value);
  const series = options.points.some((p) => p.series !== undefined);
  const values: JsonValue[] = options.points.map((p) => ({
    x: p.x,
    y: p.y,
    err: p.err,
    lo: p.y - p.err,
    hi: p.y + p.err,
    ...(series ? { series: p.series ?? '' } : {}),
  }));
  const x: { [key: string]: JsonValue } = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle ?? 'x',
    scale: { zero: false, nice: false, padding: 12 },
    ...(options.integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
  };
  const y = { field: 'y', type: 'quantitative', title: options.yTitle ?? 'y', scale: { zero: false } };
  const color: { [key: string]: JsonValue } = series
    ? // Series names are sentences ('majority rule (ours, same samples)'): room for them, below the plot.
      {
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          legend: { orient: 'bottom', direction: 'vertical', labelLimit: 600 },
        },
      }
    : {};
  const layer: JsonValue[] = [];
  if (options.lines ?? true) {
    layer.push({
      name: 'lines',
      mark: { type: 'line', strokeWidth: 1, opacity: 0.6 },
      encoding: { x, y, ...color, ...(series ? { detail: { field: 'series' } } : {}) },
    });
  }
  layer.push(
    {
      name: 'errorbars',
      mark: { type: 'rule' },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, ...color },
    },
    {
      name: 'points',
      mark: { type: 'point', filled: true, size: 40 },
      encoding: {
        x,
        y,
        ...color,
        tooltip: [
          { field: 'x', type: 'quantitative' },
          { field: 'y', type: 'quantitative', format: '.5f' },
          { field: 'err', type: 'quantitative', format: '.2g' },
          ...(series ? [{ field: 'series', type: 'nominal' }] : []),
        ],
      },
    },
  );
  if (options.exact) {
    layer.push({
      name: 'exact',
      data: { values: [{ y: options.exact.value, label: options.exact.label }] },
      mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
      encoding: { y: { field: 'y', type: 'quantitative' }, tooltip: { field: 'label', type: 'nominal' } },
    });
  }
  return {
    name: options.name,
    title: options.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: options.title,
      width: 420,
      height: 280,
      data: { values },
      layer,
    },
  };
}

/** One small matrix, row-major (e.g. an 8×8 filter at one epoch). */
export interface HeatmapPanel {
  /** The panel's title, e.g. 'epoch 3'. */
  label: string;
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

export interface HeatmapOptions {
  name: string;
  title: string;
  panels: HeatmapPanel[];
  /** Panels per row before wrapping (default min(panels, 10)). */
  columns?: number;
  /** The legend's title (default 'value'). */
  valueTitle?: string;
  /** Pixel size of one cell (default 10). */
  cellSize?: number;
  /**
   * Colour scale symmetric about 0 (a diverging scheme, for weights of either sign; default true), or a
   * sequential one over the data's range.
   */
  diverging?: boolean;
}

/**
 * Throws unless the figure has panels with distinct labels, each a rows×cols matrix of finite values (errors name
 * the figure, the panel and the entry); returns the labels in order.
 */
function checkPanels(name: string, panels: readonly HeatmapPanel[]): string[] {
  checkFigureName(name);
  if (panels.length === 0) throw new Error(`figure '${name}': no panels to draw`);
  const labels = panels.map((p) => p.label);
  if (new Set(labels).size !== labels.length) {
    throw new Error(`figure '${name}': panel labels must differ (they name the facets)`);
  }
  for (const p of panels) {
    if (!Number.isInteger(p.rows) || !Number.isInteger(p.cols) || p.rows < 1 || p.cols < 1) {
      throw new Error(`figure '${name}' panel '${p.label}': ${p.rows}×${p.cols} is not a matrix size`);
    }
    if (p.data.length !== p.rows * p.cols) {
      throw new Error(
        `figure '${name}' panel '${p.label}': ${p.data.length} values; ${p.rows}×${p.cols} needs ${p.rows * p.cols}`,
      );
    }
    for (let i = 0; i < p.data.length; i++) {
      finiteOrThrow(
        `figure '${name}' panel '${p.label}' entry (${Math.floor(i / p.cols)}, ${i % p.cols})`,
        p.data[i]!,
      );
    }
  }
  return labels;
}

/**
 * Small matrices as heatmaps, one panel per matrix in a wrapped facet sharing one colour scale: e.g. the 8×8
 * filter of a convolutional RBM at each epoch. The cells are the `cells` mark (one rect per entry).
 *
 * @example
 * heatmap({ name: 'filters', title: 'Filter by epoch', panels: epochs.map((w, e) => ({ label: `epoch ${e}`, rows: 8, cols: 8, data: w })) });
 */
export function heatmap(options: HeatmapOptions): FigureSpec {
  const labels = checkPanels(options.name, options.panels);
  const values: JsonValue[] = [];
  let maxAbs = 0;
  for (const p of options.panels) {
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) {
        const v = p.data[r * p.cols + c]!;
        maxAbs = Math.max(maxAbs, Math.abs(v));
        values.push({ panel: p.label, row: r, col: c, value: v });
      }
    }
  }
  const cell = options.cellSize ?? 10;
  const rows = Math.max(...options.panels.map((p) => p.rows));
  const cols = Math.max(...options.panels.map((p) => p.cols));
  const diverging = options.diverging ?? true;
  const scale: { [key: string]: JsonValue } = diverging
    ? { scheme: 'redblue', reverse: true, domain: [-(maxAbs || 1), maxAbs || 1] }
    : { scheme: 'viridis' };
  return {
    name: options.name,
    title: options.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: options.title,
      data: { values },
      columns: options.columns ?? Math.min(options.panels.length, 10),
      facet: { field: 'panel', type: 'ordinal', sort: labels, title: null },
      spec: {
        name: 'cells',
        width: cols * cell,
        height: rows * cell,
        mark: { type: 'rect' },
        encoding: {
          x: { field: 'col', type: 'ordinal', axis: null },
          y: { field: 'row', type: 'ordinal', axis: null },
          color: { field: 'value', type: 'quantitative', title: options.valueTitle ?? 'value', scale },
          tooltip: [
            { field: 'panel', type: 'nominal' },
            { field: 'row', type: 'ordinal' },
            { field: 'col', type: 'ordinal' },
            { field: 'value', type: 'quantitative', format: '.3g' },
          ],
        },
      },
      resolve: { scale: { color: 'shared' } },
    },
  };
}

export interface ImageGridOptions {
  name: string;
  title: string;
  panels: HeatmapPanel[];
  /** Panels per row before wrapping (default min(panels, 10)). */
  columns?: number;
  /** Screen pixels per matrix entry (default 4). */
  cellSize?: number;
  /**
   * 'diverging' (default): blue for negative, white for 0, red for positive, symmetric about 0 (weights);
   * 'greys': white at the lowest value, black at the highest (pixels, probabilities).
   */
  colours?: 'diverging' | 'greys';
  /** One colour scale for all panels (default), or each panel scaled by its own range (max |value|). */
  scale?: 'shared' | 'panel';
  /** What the values are, for the subtitle that states the colour scale (default 'value'). */
  valueTitle?: string;
}

/** Blue (−1) … white (0) … red (+1), as the lab's live filter view. */
function divergingRgb(t: number): [number, number, number] {
  const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.min(1, Math.abs(t));
  return [247 + (r - 247) * a, 247 + (g - 247) * a, 247 + (b - 247) * a].map(Math.round) as [
    number,
    number,
    number,
  ];
}

/**
 * Matrices as images, one panel per matrix in a wrapped facet: e.g. 144 MNIST filters, receptive fields on a
 * 40×40 lattice, or digits. Each panel is one embedded PNG (an `image` mark), not one rect per entry, so a
 * mosaic of thousands of pixels stays a small SVG; the subtitle states the colour scale. For small matrices
 * whose values a reader wants to hover, use {@link heatmap}.
 *
 * @example
 * imageGrid({ name: 'filters', title: 'Filters', panels: W.map((w, j) => ({ label: `h${j}`, rows: 28, cols: 28, data: w })) });
 */
export function imageGrid(options: ImageGridOptions): FigureSpec {
  const labels = checkPanels(options.name, options.panels);
  const greys = options.colours === 'greys';
  const shared = (options.scale ?? 'shared') === 'shared';
  const range = (data: ArrayLike<number>) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      lo = Math.min(lo, data[i]!);
      hi = Math.max(hi, data[i]!);
    }
    return { lo, hi, maxAbs: Math.max(Math.abs(lo), Math.abs(hi)) };
  };
  const ranges = options.panels.map((p) => range(p.data));
  const all = {
    lo: Math.min(...ranges.map((r) => r.lo)),
    hi: Math.max(...ranges.map((r) => r.hi)),
    maxAbs: Math.max(...ranges.map((r) => r.maxAbs)),
  };
  const values: JsonValue[] = options.panels.map((p, k) => {
    const r = shared ? all : ranges[k]!;
    const rgb = new Uint8Array(p.rows * p.cols * 3);
    for (let i = 0; i < p.data.length; i++) {
      const v = p.data[i]!;
      let c: [number, number, number];
      if (greys) {
        const t = r.hi > r.lo ? (v - r.lo) / (r.hi - r.lo) : 0;
        const g = Math.round(255 * (1 - t));
        c = [g, g, g];
      } else {
        c = divergingRgb(r.maxAbs > 0 ? v / r.maxAbs : 0);
      }
      rgb.set(c, 3 * i);
    }
    return { panel: p.label, url: pngDataUrl(p.cols, p.rows, rgb) };
  });
  const what = options.valueTitle ?? 'value';
  const fmt = (x: number) => Number(x.toPrecision(3)).toString();
  const subtitle = shared
    ? greys
      ? `${what}: white ${fmt(all.lo)} … black ${fmt(all.hi)}`
      : `${what}: blue −${fmt(all.maxAbs)} · white 0 · red +${fmt(all.maxAbs)}`
    : greys
      ? `${what}: white = each panel's lowest, black = its highest`
      : `${what}: blue negative, white 0, red positive, each panel scaled by its own max |${what}|`;
  const cell = options.cellSize ?? 4;
  const width = Math.max(...options.panels.map((p) => p.cols)) * cell;
  const height = Math.max(...options.panels.map((p) => p.rows)) * cell;
  return {
    name: options.name,
    title: options.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: { text: options.title, subtitle },
      data: { values },
      columns: options.columns ?? Math.min(options.panels.length, 10),
      facet: {
        field: 'panel',
        type: 'ordinal',
        sort: labels,
        title: null,
        header: { labelFontSize: 9, labelPadding: 2 },
      },
      spacing: 6,
      spec: {
        width,
        height,
        view: { stroke: '#dde2ea' },
        mark: {
          type: 'image',
          width,
          height,
          aspect: false,
          smooth: false,
          align: 'left',
          baseline: 'top',
          // No aria-label: it would repeat the whole data URL.
          aria: false,
        },
        encoding: {
          x: { value: 0 },
          y: { value: 0 },
          url: { field: 'url', type: 'nominal' },
        },
      },
    },
  };
}

/** One point of a line in a faceted line plot. */
export interface LinePoint {
  x: number;
  y: number;
  /** The line it belongs to (e.g. the flow's start temperature). */
  series: string;
  /** The panel it is drawn in (e.g. the thermometer). */
  panel: string;
}

export interface LinePlotOptions {
  name: string;
  title: string;
  points: LinePoint[];
  xTitle?: string;
  yTitle?: string;
  /** Series titles in legend order (default: first appearance). */
  seriesOrder?: string[];
  /** A horizontal dashed rule in every panel (e.g. T_c). */
  rule?: { value: number; label: string };
}

/**
 * Many lines per panel, panels side by side sharing the y scale: e.g. a fan of RBM flows (temperature against
 * generation, one line per start) with one panel per thermometer. Marks: `lines`, and `rule` when given.
 */
export function linePlot(options: LinePlotOptions): FigureSpec {
  checkFigureName(options.name);
  if (options.points.length === 0) throw new Error(`figure '${options.name}': no points to plot`);
  options.points.forEach((p, i) => {
    finiteOrThrow(`figure '${options.name}' point ${i} x`, p.x);
    finiteOrThrow(`figure '${options.name}' point ${i} y`, p.y);
  });
  const order = options.seriesOrder ?? [...new Set(options.points.map((p) => p.series))];
  const panels = [...new Set(options.points.map((p) => p.panel))];
  const layer: JsonValue[] = [
    {
      name: 'lines',
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'x' },
        y: { field: 'y', type: 'quantitative', title: options.yTitle ?? 'y', scale: { zero: false } },
        color: {
          field: 'series',
          type: 'ordinal',
          sort: order,
          scale: { scheme: 'viridis' },
          legend: { orient: 'right', labelLimit: 300 },
        },
        detail: { field: 'series' },
        tooltip: [
          { field: 'series', type: 'nominal' },
          { field: 'x', type: 'quantitative' },
          { field: 'y', type: 'quantitative', format: '.4f' },
        ],
      },
    },
  ];
  if (options.rule) {
    layer.push({
      name: 'rule',
      // One row per panel: a rule reading the panel's data draws one (identical) rule per data row.
      transform: [{ aggregate: [{ op: 'count', as: 'rows' }], groupby: ['panel'] }],
      mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
      encoding: {
        y: { datum: options.rule.value, type: 'quantitative' },
        tooltip: { value: options.rule.label },
      },
    });
  }
  return {
    name: options.name,
    title: options.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: options.title,
      data: { values: options.points.map((p) => ({ ...p })) },
      facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null } },
      spec: { width: 260, height: 220, layer },
      resolve: { scale: { y: 'shared' } },
    },
  };
}

/** A histogram of values already binned: `counts[i]` of bin [edges[i], edges[i+1]), per series. */
export interface HistogramSeries {
  series: string;
  /** The panel it is drawn in; when any histogram names one, every panel is drawn apart, series overlaid. */
  panel?: string;
  edges: number[];
  counts: number[];
}

/** More histogram series than this are drawn as small multiples rather than overlaid. */
const FACET_ABOVE = 3;

/**
 * Histograms as bars normalised to unit area (so series with different counts compare), one colour per series,
 * overlaid for up to FACET_ABOVE series and as small multiples beyond (mark `bars`).
 */
export function histogramPlot(options: {
  name: string;
  title: string;
  histograms: HistogramSeries[];
  xTitle?: string;
}): FigureSpec {
  checkFigureName(options.name);
  if (options.histograms.length === 0) throw new Error(`figure '${options.name}': no histograms`);
  const panelled = options.histograms.some((h) => h.panel !== undefined);
  const values: JsonValue[] = [];
  for (const h of options.histograms) {
    if (h.edges.length !== h.counts.length + 1)
      throw new Error(
        `figure '${options.name}' histogram '${h.series}': ${h.edges.length} edges for ${h.counts.length} bins`,
      );
    const total = h.counts.reduce((a, c) => a + c, 0);
    h.counts.forEach((c, i) => {
      const lo = h.edges[i]!;
      const hi = h.edges[i + 1]!;
      finiteOrThrow(`figure '${options.name}' bin ${i} edge`, lo);
      values.push({
        series: h.series,
        panel: panelled ? (h.panel ?? '') : h.series,
        lo,
        hi,
        density: total > 0 ? c / total / (hi - lo) : 0,
      });
    });
  }
  const series = [...new Set(options.histograms.map((h) => h.series))];
  const panels = [...new Set(values.map((v) => (v as { panel: string }).panel))];
  // Many series overlap into mud: small multiples, one panel per series (or per named panel).
  const facet = panelled || series.length > FACET_ABOVE;
  const encoding = {
    x: { field: 'lo', type: 'quantitative', title: options.xTitle ?? 'value' },
    x2: { field: 'hi' },
    y: { field: 'density', type: 'quantitative', title: 'density', stack: null },
    color: {
      field: 'series',
      type: 'nominal',
      title: null,
      sort: series,
      legend: facet && !panelled ? null : { orient: 'bottom', labelLimit: 400 },
    },
  };
  if (facet) {
    return {
      name: options.name,
      title: options.title,
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        title: options.title,
        data: { values },
        columns: 4,
        facet: { field: 'panel', type: 'nominal', sort: panels, title: null },
        spec: {
          name: 'bars',
          width: 180,
          height: 110,
          mark: { type: 'rect', opacity: panelled ? 0.5 : 0.8 },
          encoding,
        },
      },
    };
  }
  return {
    name: options.name,
    title: options.title,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      title: options.title,
      width: 420,
      height: 240,
      data: { values },
      name: 'bars',
      mark: { type: 'rect', opacity: 0.45 },
      encoding,
    },
  };
}
