/**
 * Figures render headless to well-formed SVG with one mark per plotted value: error bars with their points and
 * the exact-value rule at its place, heatmaps with one cell per matrix entry per panel; bad input is refused.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { errorBarPlot, heatmap, renderFigure } from '../../src/studies/figures.ts';

function parseSvg(svg: string): Document {
  const doc = new DOMParser({
    onError: (level, message) => {
      throw new Error(`SVG is not well-formed XML (${level}): ${message}`);
    },
  }).parseFromString(svg, 'image/svg+xml');
  expect(doc.documentElement?.nodeName).toBe('svg');
  return doc;
}

/** The `<g>` of the Vega mark named `name` (class `… role-mark <name>_marks`), in document order. */
function markGroups(doc: Document, name: string): Element[] {
  return [...doc.getElementsByTagName('g')].filter((g) =>
    (g.getAttribute('class') ?? '').split(/\s+/).includes(`${name}_marks`),
  );
}

/** The drawn items (paths, lines) directly inside a mark group. */
function items(group: Element): Element[] {
  return [...group.childNodes].filter(
    (n): n is Element => n.nodeType === 1 && ['path', 'line'].includes(n.nodeName),
  );
}

/** The y translation of the element's transform="translate(x,y)". */
function translateY(e: Element): number {
  const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(e.getAttribute('transform') ?? '');
  expect(m, `no translate in ${e.getAttribute('transform')}`).not.toBeNull();
  return Number(m![2]);
}

describe('errorBarPlot', () => {
  const points = [1, 2, 3, 4, 5].flatMap((nc) => [
    { x: nc, y: 1.02 - nc / 200, err: 0.004, series: 'learned' },
    { x: nc, y: 0.96 + nc / 200, err: 0.003, series: 'majority' },
  ]);

  it('draws one point and one error bar per value, and the exact value as a rule at its height', async () => {
    const figure = errorBarPlot({
      name: 'yt-vs-nc',
      title: 'y_t against N_c',
      points,
      xTitle: 'N_c',
      yTitle: 'y_t',
      exact: { value: 1, label: 'exact y_t = 1' },
      integerX: true,
    });
    const doc = parseSvg(await renderFigure(figure));
    const [pointGroup] = markGroups(doc, 'points');
    const [barGroup] = markGroups(doc, 'errorbars');
    const [exactGroup] = markGroups(doc, 'exact');
    expect(items(pointGroup!)).toHaveLength(points.length);
    expect(items(barGroup!)).toHaveLength(points.length);
    const rules = items(exactGroup!);
    expect(rules).toHaveLength(1);
    // Two series: one line each.
    expect(markGroups(doc, 'lines')).toHaveLength(2);
    // The rule sits at y = 1: between the points of value below and above 1, by linear interpolation of the
    // y scale fixed from two points (SVG y grows downwards).
    const ys = items(pointGroup!).map(translateY);
    const [a, b] = [points[0]!, points[1]!];
    const pixelPerUnit = (ys[1]! - ys[0]!) / (b.y - a.y);
    const expected = ys[0]! + (1 - a.y) * pixelPerUnit;
    expect(translateY(rules[0]!)).toBeCloseTo(expected, 0);
    expect(doc.getElementsByTagName('text').length).toBeGreaterThan(0);
  });

  it('leaves out the rule and the lines when not asked for', async () => {
    const doc = parseSvg(
      await renderFigure(
        errorBarPlot({ name: 'plain', title: 'plain', points: [{ x: 1, y: 2, err: 0.1 }], lines: false }),
      ),
    );
    expect(items(markGroups(doc, 'points')[0]!)).toHaveLength(1);
    expect(markGroups(doc, 'exact')).toHaveLength(0);
    expect(markGroups(doc, 'lines')).toHaveLength(0);
  });

  it('refuses non-finite values, negative errors and bad names, naming them', () => {
    const base = { title: 't', points: [{ x: 1, y: 1, err: 0.1 }] };
    expect(() => errorBarPlot({ ...base, name: 'a/b' })).toThrow(/figure name 'a\/b'/);
    expect(() => errorBarPlot({ ...base, name: 'n', points: [{ x: 1, y: NaN, err: 0 }] })).toThrow(
      /point 0 y is NaN/,
    );
    expect(() => errorBarPlot({ ...base, name: 'n', points: [{ x: 1, y: 1, err: -1 }] })).toThrow(
      /point 0 err is -1; it must be a finite number ≥ 0/,
    );
    expect(() => errorBarPlot({ ...base, name: 'n', points: [] })).toThrow(/no points/);
  });
});

describe('heatmap', () => {
  it('draws one cell per entry in each panel, one panel per matrix', async () => {
    const panels = [0, 1, 2].map((epoch) => ({
      label: `epoch ${epoch}`,
      rows: 8,
      cols: 8,
      data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + epoch)),
    }));
    const doc = parseSvg(await renderFigure(heatmap({ name: 'filters', title: 'Filters by epoch', panels })));
    const groups = markGroups(doc, 'cells');
    expect(groups).toHaveLength(3);
    for (const g of groups) expect(items(g)).toHaveLength(64);
    const titles = [...doc.getElementsByTagName('text')].map((t) => t.textContent);
    for (const p of panels) expect(titles).toContain(p.label);
  });

  it('refuses a matrix whose size does not match its data, and repeated labels', () => {
    expect(() =>
      heatmap({ name: 'h', title: 'h', panels: [{ label: 'a', rows: 2, cols: 3, data: [1, 2, 3] }] }),
    ).toThrow(/panel 'a': 3 values; 2×3 needs 6/);
    const p = { label: 'a', rows: 1, cols: 1, data: [1] };
    expect(() => heatmap({ name: 'h', title: 'h', panels: [p, p] })).toThrow(/labels must differ/);
  });
});

describe('renderFigure', () => {
  it('names the figure whose spec does not compile', async () => {
    await expect(renderFigure({ name: 'broken', title: 'b', spec: { mark: 'nonsense' } })).rejects.toThrow(
      /figure 'broken'/,
    );
  });
});
