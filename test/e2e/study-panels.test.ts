/**
 * End-to-end, the lab's panels of the Qiu and Mehta & Schwab studies (<study-panel study="qiu"> and
 * <study-panel study="mehta-schwab">, the same component as Chung & Kao's): builds the demo, serves it with
 * `vite preview` and drives it in headless Chromium with WebGPU on SwiftShader, each at the `test` preset with a
 * fixed seed: Run reaches `complete`, every stage reported finished, the live training curves received points,
 * the headline results are shown as finite numbers with errors, every figure of the output (the ring's weight
 * profiles and hidden correlations, MNIST reconstructions and samples; the DBN's receptive-field mosaics) is
 * rendered to SVG with marks in it, and Download report offers report.json for the run. The harness is
 * test/e2e/harness.ts. Screenshots: test-results/study-qiu.png, test-results/study-mehta-schwab.png.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickComponent,
  type Component,
  componentElement,
  componentItems,
  openRoom,
  READY_TIMEOUT,
  results,
  setComponentInput,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  waitForComponent,
  waitForComponentElements,
} from './harness.ts';

/** A study at its `test` preset in the page on SwiftShader (under a minute in Node; the page is slower). */
const STUDY_TIMEOUT = 240_000;

const cases: { study: string; heading: string; headline: string[]; liveFigures: boolean }[] = [
  {
    study: 'qiu',
    heading: 'Qiu in the page',
    headline: [
      'qiu.ring.reconstructionError',
      'qiu.ring.hiddenCorrelation.chi2dof',
      'qiu.ring.decimationMass',
      'qiu.mnist.pixelError',
    ],
    liveFigures: false,
  },
  {
    study: 'mehta-schwab',
    heading: 'Mehta & Schwab in the page',
    headline: ['mehta.rfRadius.layer1', 'mehta.rfRadius.layer2', 'mehta.rfRadius.layer3'],
    // Each layer's receptive fields, drawn while the networks train.
    liveFigures: true,
  },
];

describe('study panels: Qiu and Mehta & Schwab (built demo, vite preview, headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it.each(cases)(
    '$study: runs the test preset in the page with live curves, shows the headline results with errors, every figure and the report',
    async ({ study, heading, headline, liveFigures }) => {
      const tag = `study-panel[study="${study}"]`;
      const panel: Component = { tag, name: `${study} panel`, errorField: 'study-error' };
      const items = (id: string) => componentItems(page, tag, id);
      const { page, log } = await openRoom(`room=studies&study=${study}`);
      try {
        await waitForComponent(page, panel, ['idle'], log, READY_TIMEOUT);
        const title = await page.evaluate(
          (t: string) =>
            document
              .querySelector('blockspin-app')
              ?.shadowRoot?.querySelector(t)
              ?.shadowRoot?.querySelector('h2')
              ?.textContent?.replace(/\s+/g, ' ')
              .trim() ?? '',
          tag,
        );
        expect(title).toContain(heading);
        await setComponentInput(page, panel, 'study-preset', 'test');
        await setComponentInput(page, panel, 'study-seed', '3');
        await waitForComponent(page, panel, ['idle'], log, 5_000);
        const t0 = performance.now();
        await clickComponent(page, panel, 'study-run');
        await waitForComponent(page, panel, ['running'], log, 10_000);
        if (liveFigures)
          await waitForComponentElements(page, tag, '[data-testid="study-live-figure"] svg image', 60_000);
        const status = await waitForComponent(
          page,
          panel,
          ['complete', 'partial', 'error'],
          log,
          STUDY_TIMEOUT,
        );
        const seconds = (performance.now() - t0) / 1000;
        expect(status, `study error: ${JSON.stringify(await items('study-error-message'))}`).toBe('complete');
        expect(await items('study-partial')).toEqual([]);

        const stages = await items('study-stage');
        expect(stages.length).toBeGreaterThan(0);
        expect(stages.map((s) => s.state)).toEqual(stages.map(() => 'done'));
        expect((await items('study-log'))[0]?.text ?? '').not.toBe('');
        // The live training curves drew points while the models trained.
        const curves = await items('study-curves');
        expect(Number(curves[0]?.points)).toBeGreaterThan(0);

        const rows = await items('study-result');
        for (const name of headline) {
          const row = rows.find((r) => r.name === name);
          expect(row, name).toBeDefined();
          expect(Number.isFinite(Number(row!.value)), name).toBe(true);
          const err = Number(row!.err);
          expect(Number.isFinite(err) && err >= 0, `${name} err ${row!.err}`).toBe(true);
        }

        const figureCount = await page.evaluate(
          (t: string) =>
            (labElement(t) as (Element & { output?: { figures: unknown[] } }) | null | undefined)?.output
              ?.figures.length ?? 0,
          tag,
        );
        expect(figureCount).toBeGreaterThan(2);
        await waitForComponentElements(page, tag, '[data-testid="study-figure"] svg', 120_000, figureCount);
        const figures = await page.evaluate(
          (t: string) =>
            [
              ...(document
                .querySelector('blockspin-app')
                ?.shadowRoot?.querySelector(t)
                ?.shadowRoot?.querySelectorAll<HTMLElement>('[data-testid="study-figure"]') ?? []),
            ].map((f) => ({ name: f.dataset.name, marks: f.querySelectorAll('svg path, svg rect').length })),
          tag,
        );
        for (const f of figures) expect(f.marks, f.name).toBeGreaterThan(4);
        await (
          await componentElement(page, panel, 'section')
        ).screenshot({
          path: join(results, `study-${study}.png`),
        });

        await clickComponent(page, panel, 'study-download');
        await waitForComponentElements(page, tag, '[data-testid="study-file"]', 60_000);
        const report = await page.evaluate(async (t: string) => {
          const link = document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector(t)
            ?.shadowRoot?.querySelector<HTMLAnchorElement>(
              '[data-testid="study-file"][data-name="report.json"]',
            );
          if (!link) throw new Error('no report.json link');
          return (await (await fetch(link.href)).json()) as { study: string; preset: string; seed: number };
        }, tag);
        expect(report).toMatchObject({ study, preset: 'test', seed: 3 });
        expect(log.pageErrors).toEqual([]);
        console.info(`${study} test preset in the page on SwiftShader: ${seconds.toFixed(1)} s`);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + STUDY_TIMEOUT + 180_000,
  );
});
