/**
 * The lab's shell in headless Chromium (SwiftShader): the room navigation and its URL state (links, back
 * button), the adapter chip's popover, the Reports room opening a committed study report (results, and figures
 * rendered from their Vega-Lite descriptions), and the embedding example (demo/embed.html: a plain page whose
 * <blockspin-lattice> runs on the page's own device).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElementHandle } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openPage,
  READY_TIMEOUT,
  results,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  expectNoPageErrors,
} from './harness.ts';

const report = resolve(import.meta.dirname, '../../docs/reports/chung-kao');

describe('the lab shell (built, served by vite preview, in headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it(
    'navigates between rooms by the tabs, keeps the room in the URL, goes back; shows the adapter in a popover',
    async () => {
      const { page, log } = await openPage('/?room=data');
      try {
        await page.waitForFunction(
          () => document.querySelector('blockspin-app')?.dataset.status === 'ready',
          {
            timeout: READY_TIMEOUT,
          },
        );
        const current = (): Promise<{ room: string | null; tab: string | null; search: string }> =>
          page.evaluate(() => ({
            room: labElement('main')?.dataset.room ?? null,
            tab: labElement('nav a.current')?.dataset.room ?? null,
            search: location.search,
          }));
        expect(await current()).toEqual({ room: 'data', tab: 'data', search: '?room=data' });
        expect(await page.evaluate(() => labElement('dataset-panel') !== null)).toBe(true);

        const rooms = await page.evaluate(() =>
          [...(document.querySelector('blockspin-app')?.shadowRoot?.querySelectorAll('nav a') ?? [])].map(
            (a) => (a as HTMLElement).dataset.room,
          ),
        );
        expect(rooms).toEqual(['ising', 'rbm', 'data', 'mcrg', 'flows', 'studies', 'reports', 'diagnostics']);

        // Each tab shows its room's element and only it.
        const elementOf: Record<string, string> = {
          mcrg: 'mcrg-panel',
          flows: 'flow-panel',
          studies: 'study-panel',
          reports: 'blockspin-report',
          data: 'dataset-panel',
        };
        for (const [room, tag] of Object.entries(elementOf)) {
          await page.evaluate((r: string) => labElement(`nav a[data-room="${r}"]`)?.click(), room);
          await page.waitForFunction((t: string) => labElement(t) !== null, { timeout: 10_000 }, tag);
          expect(await current()).toEqual({ room, tab: room, search: `?room=${room}` });
          const others = Object.values(elementOf).filter((t) => t !== tag);
          expect(
            await page.evaluate((ts: string[]) => ts.filter((t) => labElement(t) !== null), others),
          ).toEqual([]);
        }
        // The studies room picks its study by ?study=.
        await page.evaluate(() => labElement('nav a[data-room="studies"]')?.click());
        await page.evaluate(() => labElement('[data-study="qiu"]')?.click());
        await page.waitForFunction(() => labElement('study-panel')?.getAttribute('study') === 'qiu', {
          timeout: 10_000,
        });
        expect((await current()).search).toBe('?room=studies&study=qiu');

        // Back goes to the previous room.
        await page.goBack();
        await page.waitForFunction(() => labElement('study-panel')?.getAttribute('study') === 'chung-kao', {
          timeout: 10_000,
        });
        await page.goBack();
        await page.waitForFunction(() => labElement('main')?.dataset.room === 'data', { timeout: 10_000 });

        // The adapter chip opens a popover with the adapter's details and a link to Diagnostics.
        await page.evaluate(() => labElement('[data-testid="adapter-chip"] summary')?.click());
        const popover = await page.evaluate(() => {
          const p = labElement('[data-testid="adapter-popover"]');
          return p ? { visible: p.getBoundingClientRect().height > 0, text: p.textContent ?? '' } : null;
        });
        expect(popover?.visible).toBe(true);
        expect(popover?.text).toContain('Max storage binding');
        await page.screenshot({ path: join(results, 'lab-adapter-popover.png') });
        await page.evaluate(() =>
          labElement<HTMLAnchorElement>('[data-testid="adapter-popover"] a')?.click(),
        );
        await page.waitForFunction(() => labElement('[data-testid="pi-estimate"]') !== null, {
          timeout: READY_TIMEOUT,
        });
        expect((await current()).room).toBe('diagnostics');
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    "opens a study report's files in the Reports room: results with errors and z, figures from their descriptions",
    async () => {
      const { page, log } = await openPage('/?room=reports');
      try {
        await page.waitForFunction(() => labElement('blockspin-report') !== null, { timeout: READY_TIMEOUT });
        const input = (await page.evaluateHandle(() =>
          labElement('blockspin-report')?.shadowRoot?.querySelector('[data-testid="report-files"]'),
        )) as ElementHandle<HTMLInputElement>;
        const figures = readdirSync(join(report, 'figures'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => join(report, 'figures', f));
        await input.uploadFile(join(report, 'report.json'), join(report, 'report.md'), ...figures);
        await page.waitForFunction(
          (n: number) => {
            const el = labElement('blockspin-report');
            return el?.dataset.status === 'shown' && Number(el.dataset.figures) === n;
          },
          { timeout: 120_000, polling: 200 },
          figures.length,
        );
        const shown = await page.evaluate(() => {
          const root = labElement('blockspin-report')?.shadowRoot;
          return {
            title: root?.querySelector('[data-testid="report-title"]')?.textContent ?? '',
            rows: [...(root?.querySelectorAll('[data-testid="report-results"] tbody tr') ?? [])].map(
              (tr) => ({
                name: (tr as HTMLElement).dataset.name,
                cells: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
              }),
            ),
            svgs: root?.querySelectorAll('[data-testid="report-figure"] svg').length ?? 0,
          };
        });
        expect(shown.title).toContain('Chung');
        const yt = shown.rows.find((r) => r.name === 'yt.learned.n1.c1');
        expect(yt?.cells[1]).toMatch(/^0\.9\d+ ± 0\.00\d+$/);
        expect(yt?.cells[2]).toBe('0.92170 ± 0.00090');
        expect(shown.svgs).toBe(figures.length);
        await page.screenshot({ path: join(results, 'lab-report.png'), fullPage: true });

        // The filter keeps the results whose name contains its text.
        const filtered = await page.evaluate(async () => {
          const el = labElement('blockspin-report');
          const input = el?.shadowRoot?.querySelector<HTMLInputElement>('[data-testid="report-filter"]');
          if (!el || !input) throw new Error('no report filter');
          input.value = 'majority';
          input.dispatchEvent(new Event('input'));
          await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
          return [
            ...(el.shadowRoot?.querySelectorAll<HTMLElement>('[data-testid="report-results"] tbody tr') ??
              []),
          ].map((tr) => tr.dataset.name ?? '');
        });
        expect(filtered.length).toBeGreaterThan(0);
        expect(filtered.length).toBeLessThan(shown.rows.length);
        expect(filtered.every((n) => n.includes('majority'))).toBe(true);

        // A file that is not a report is named in the page.
        await input.uploadFile(join(report, 'figures', 'training-loss.json'));
        await page.waitForFunction(() => labElement('blockspin-report')?.dataset.status === 'error', {
          timeout: 10_000,
        });
        expect(
          await page.evaluate(
            () =>
              labElement('blockspin-report')?.shadowRoot?.querySelector('[data-testid="report-error"]')
                ?.textContent,
          ),
        ).toContain('no report.json among the 1 file(s) opened (training-loss.json)');
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'the embedding example runs <blockspin-lattice> in a plain page on its own device',
    async () => {
      // The longest main-thread task while the element acquires its device, compiles its pipelines and runs
      // (logged, not asserted: speed is for benchmarks).
      const { page, log } = await openPage('/embed.html', (p) =>
        p.evaluateOnNewDocument(() => {
          const w = window as unknown as { longestTaskMs: number };
          w.longestTaskMs = 0;
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) w.longestTaskMs = Math.max(w.longestTaskMs, e.duration);
          }).observe({ type: 'longtask', buffered: true });
        }),
      );
      try {
        await page.waitForFunction(
          () =>
            document.querySelector<HTMLElement>('[data-testid="embed-status"]')?.dataset.state !==
              undefined &&
            document.querySelector<HTMLElement>('blockspin-lattice')?.dataset.status === 'running',
          { timeout: READY_TIMEOUT, polling: 200 },
        );
        expect(await page.evaluate(() => document.getElementById('embed-status')?.dataset.state)).toBe('ok');
        const lattice = await page.evaluate(
          () =>
            document
              .querySelector('blockspin-lattice')
              ?.shadowRoot?.querySelector<HTMLElement>('[data-testid="ising-lattice"]')?.dataset.value,
        );
        expect(lattice).toBe('128');
        await page.screenshot({ path: join(results, 'lab-embed.png'), fullPage: true });
        const longest = await page.evaluate(
          () => (window as unknown as { longestTaskMs: number }).longestTaskMs,
        );
        console.info(
          `embedded lattice: longest main-thread task ${longest.toFixed(0)} ms (start, compile, run)`,
        );
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );
});
