/**
 * Figures render headless to well-formed SVG with one mark per plotted value: error bars with their points and
 * the exact-value rule at its place, heatmaps with one cell per matrix entry per panel; bad input is refused.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { errorBarPlot, heatmap, imageGrid, linePlot, renderFigure } from '../../src/studies/figures.ts';
import { adler32, base64, crc32, encodePng } from '../../src/studies/png.ts';

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

describe('png', () => {
  it('CRC-32, Adler-32 and base64 match their reference values', () => {
    const bytes = (t: string) => new TextEncoder().encode(t);
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926);
    expect(adler32(bytes('Wikipedia'))).toBe(0x11e60398);
    for (const n of [0, 1, 2, 3, 4, 5, 300]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
  });

  it('an RGB PNG holds the pixels (inflated with zlib), with stored blocks past 65,535 bytes', () => {
    for (const [w, h] of [
      [3, 2],
      [200, 120], // 72,120 bytes of scanlines: two stored blocks
    ] as const) {
      const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7) & 0xff);
      const png = encodePng(w, h, rgb);
      expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const view = new DataView(png.buffer, png.byteOffset);
      expect([view.getUint32(16), view.getUint32(20)]).toEqual([w, h]);
      // IDAT follows IHDR (8 + 25 bytes): length, 'IDAT', zlib data.
      const length = view.getUint32(33);
      expect(new TextDecoder().decode(png.subarray(37, 41))).toBe('IDAT');
      const raw = inflateSync(png.subarray(41, 41 + length));
      expect(raw.length).toBe(h * (1 + 3 * w));
      for (let y = 0; y < h; y++) {
        expect(raw[y * (1 + 3 * w)]).toBe(0);
        expect(
          Buffer.compare(
            raw.subarray(y * (1 + 3 * w) + 1, (y + 1) * (1 + 3 * w)),
            rgb.subarray(y * 3 * w, (y + 1) * 3 * w),
          ),
        ).toBe(0);
      }
    }
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/needs 12 bytes; got 11/);
  });
});

describe('imageGrid', () => {
  it('draws one embedded PNG per panel and states the colour scale', async () => {
    const panels = [0, 1, 2].map((k) => ({
      label: `unit ${k}`,
      rows: 5,
      cols: 4,
      data: Array.from({ length: 20 }, (_, i) => (i - 10) * (k + 1)),
    }));
    const svg = await renderFigure(imageGrid({ name: 'grid', title: 'Filters', panels, columns: 2 }));
    parseSvg(svg);
    const images = svg.match(/<image [^>]*href="data:image\/png;base64,[A-Za-z0-9+/=]+"/g) ?? [];
    expect(images).toHaveLength(3);
    expect(svg).toContain('blue −30 · white 0 · red +30');
    const greys = await renderFigure(
      imageGrid({
        name: 'g',
        title: 'Digits',
        panels,
        colours: 'greys',
        scale: 'panel',
        valueTitle: 'pixel',
      }),
    );
    expect(greys).toContain("white = each panel's lowest");
  });

  it('refuses a matrix whose size does not match its data, non-finite values and repeated labels', () => {
    const p = { label: 'a', rows: 2, cols: 2, data: [1, 2, 3] };
    expect(() => imageGrid({ name: 'x', title: 't', panels: [p] })).toThrow(/3 values; 2×2 needs 4/);
    expect(() =>
      imageGrid({ name: 'x', title: 't', panels: [{ ...p, data: [1, 2, 3, Number.NaN] }] }),
    ).toThrow(/entry \(1, 1\)/);
    expect(() =>
      imageGrid({
        name: 'x',
        title: 't',
        panels: [
          { ...p, data: [1, 2, 3, 4] },
          { ...p, data: [1, 2, 3, 4] },
        ],
      }),
    ).toThrow(/labels must differ/);
    expect(() => imageGrid({ name: 'x', title: 't', panels: [] })).toThrow(/no panels/);
  });
});

describe('linePlot', () => {
  const panels = ['MLP', 'energy', '|m|'];
  const points = panels.flatMap((panel) =>
    [0.5, 2, 4].flatMap((T) =>
      Array.from({ length: 40 }, (_, x) => ({
        x,
        y: T + (2.27 - T) * (1 - 0.9 ** x),
        series: `T = ${T}`,
        panel,
      })),
    ),
  );

  it('draws one line per series in each panel and one rule per panel, all at one height', async () => {
    const doc = parseSvg(
      await renderFigure(
        linePlot({ name: 'fan', title: 'Fan', points, rule: { value: 2.27, label: 'T_c' } }),
      ),
    );
    // A line mark with a series field is one group per series and panel, holding its path.
    const lines = markGroups(doc, 'lines');
    expect(lines).toHaveLength(9);
    for (const g of lines) expect(items(g)).toHaveLength(1);
    // Not one rule per data row (360 here): the rule layer reads one aggregated row per panel.
    const rules = markGroups(doc, 'rule');
    expect(rules).toHaveLength(3);
    for (const g of rules) expect(items(g)).toHaveLength(1);
    const heights = rules.map((g) => translateY(items(g)[0]!));
    expect(new Set(heights).size).toBe(1);
  });

  it('leaves the rule out when not asked for', async () => {
    const doc = parseSvg(await renderFigure(linePlot({ name: 'fan', title: 'Fan', points })));
    expect(markGroups(doc, 'rule')).toHaveLength(0);
  });
});

describe('renderFigure', () => {
  it('names the figure whose spec does not compile', async () => {
    await expect(renderFigure({ name: 'broken', title: 'b', spec: { mark: 'nonsense' } })).rejects.toThrow(
      /figure 'broken'/,
    );
  });
});
