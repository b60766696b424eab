/**
 * End-to-end, the lab's Ising room (`?room=ising`, <ising-room>): builds the demo, serves it with `vite preview` and
 * drives it in headless Chromium with WebGPU on SwiftShader. Live mode at L = 32: the E and |m| traces receive a
 * growing number of points, the histogram of m fills (fractions summing to 1), the running means carry
 * τ_int-corrected errors and the exact E/N of the 32×32 torus is shown beside them; a change of T is written to
 * the address bar and restarts the traces. Scan mode at L = 8 (5 temperatures, short runs) finishes with finite
 * U4, χ and C, the exact Kaufman curves drawn and E within a few error bars of them. The page fits 1280 px
 * without horizontal scrolling; a long scan shows its progress and Cancel keeps what it measured. Embedded in a
 * page without `url-state`, <blockspin-lattice> takes its attributes (not the URL), acquires the page's device and
 * emits `blockspin-readout` and `blockspin-settings`. Screenshots: test-results/room-ising.png,
 * test-results/room-ising-scan.png.
 */
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickComponent,
  type Component,
  componentItems,
  openRoom,
  READY_TIMEOUT,
  results,
  setComponentInput,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  waitForComponent,
  expectNoPageErrors,
} from './harness.ts';

const ROOM: Component = { tag: 'ising-room', name: 'Ising room', errorField: 'ising-room-waiting' };
const LATTICE: Component = {
  tag: 'blockspin-lattice',
  name: 'Ising lattice',
  errorField: 'ising-error-message',
};
const SCAN: Component = {
  tag: 'blockspin-ising-scan',
  name: 'temperature scan',
  errorField: 'scan-error-message',
};

/** A trace or histogram of the room: its `data-points` (0 before the first draw). */
function plotPoints(page: Page, testid: string): Promise<number> {
  return page.evaluate(
    (id: string) =>
      Number(
        labElement('ising-room')?.shadowRoot?.querySelector<HTMLElement>(`[data-testid="${id}"]`)?.dataset
          .points ?? 0,
      ),
    testid,
  );
}

/** Waits until a plot of the room has more than `n` points. */
async function waitForPoints(
  page: Page,
  testid: string,
  n: number,
  timeout = READY_TIMEOUT,
): Promise<number> {
  await page.waitForFunction(
    (id: string, min: number) =>
      Number(
        labElement('ising-room')?.shadowRoot?.querySelector<HTMLElement>(`[data-testid="${id}"]`)?.dataset
          .points ?? 0,
      ) > min,
    { timeout, polling: 200 },
    testid,
    n,
  );
  return plotPoints(page, testid);
}

/** The room's item with test id `id` (data-* and text). */
async function roomItem(page: Page, id: string): Promise<Record<string, string> & { text: string }> {
  const [item] = await componentItems(page, ROOM.tag, id);
  if (!item) throw new Error(`the Ising room has no [data-testid="${id}"]`);
  return item;
}

describe('Ising room (built demo, vite preview, headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it(
    'live: traces grow, the histogram fills, means carry τ_int errors beside the exact E; T goes into the URL; the scan finishes against the exact curves',
    async () => {
      const { page, log } = await openRoom('room=ising&L=32&kernel=simple&T=2.3');
      try {
        await page.setViewport({ width: 1280, height: 800 });
        await waitForComponent(page, LATTICE, ['running'], log, READY_TIMEOUT);
        expect(
          await page.evaluate(() => labElement<HTMLElement>('[data-testid="ising-mode"]')?.dataset.value),
        ).toBe('live');

        // Traces receive points, and keep receiving them.
        const first = await waitForPoints(page, 'ising-trace-energy', 3);
        await waitForPoints(page, 'ising-trace-energy', first + 3);
        expect(await waitForPoints(page, 'ising-trace-magnetization', first)).toBeGreaterThan(first);

        // The histogram of m: 41 bins over [−1, 1], fractions that sum to 1.
        await waitForPoints(page, 'ising-histogram', 0);
        const hist = await page.evaluate(() => {
          const plot = labElement('ising-room')?.shadowRoot?.querySelector(
            'blockspin-plot[data-testid="ising-histogram"]',
          );
          const data = (plot as unknown as { data: { x: number[]; y: (number | null)[][] } } | null)?.data;
          return {
            bins: data?.x.length ?? 0,
            sum: (data?.y[0] ?? []).reduce<number>((s, v) => s + (v ?? 0), 0),
          };
        });
        expect(hist.bins).toBe(41);
        expect(hist.sum).toBeCloseTo(1, 9);

        // Running mean with a τ_int-corrected error, and the exact E/N of the 32×32 torus at T = 2.3.
        await page.waitForFunction(
          () => {
            const el = labElement('ising-room')?.shadowRoot?.querySelector<HTMLElement>(
              '[data-testid="ising-mean-energy"]',
            );
            return Number(el?.dataset.err) > 0;
          },
          { timeout: READY_TIMEOUT, polling: 200 },
        );
        const mean = await roomItem(page, 'ising-mean-energy');
        expect(Number(mean.value)).toBeLessThan(-0.8);
        expect(Number(mean.value)).toBeGreaterThan(-2);
        expect(Number(mean.err)).toBeGreaterThan(0);
        expect(Number(mean.tau)).toBeGreaterThanOrEqual(0);
        expect(mean.text).toMatch(/^−\d\.\d+\(\d+\)$/);
        expect((await roomItem(page, 'ising-tau-energy')).text).toMatch(/τint = [\d.]+ readouts/);
        const exact = Number((await roomItem(page, 'ising-exact-energy')).value);
        // Kaufman, 32×32 at T = 2.3: E/N = −1.37547.
        expect(exact).toBeCloseTo(-1.37547, 4);
        const absM = await roomItem(page, 'ising-mean-abs-magnetization');
        expect(Number(absM.value)).toBeGreaterThan(0);
        expect(Number(absM.value)).toBeLessThanOrEqual(1);

        // Laptop layout: nothing wider than the 1280 px window.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
        await page.screenshot({ path: join(results, 'room-ising.png'), fullPage: true });

        // A new temperature goes into the address bar and starts the traces afresh.
        const before = await plotPoints(page, 'ising-trace-energy');
        await setComponentInput(page, LATTICE, 'ising-temperature', '2.0');
        await page.waitForFunction(() => new URLSearchParams(location.search).get('T') === '2', {
          timeout: 10_000,
          polling: 100,
        });
        const params = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.search)));
        expect(params).toMatchObject({ room: 'ising', L: '32', kernel: 'simple', T: '2' });
        await page.waitForFunction(
          () =>
            /T = 2\.000/.test(
              labElement('ising-room')?.shadowRoot?.querySelector('[data-testid="ising-readout-count"]')
                ?.textContent ?? '',
            ),
          { timeout: READY_TIMEOUT, polling: 100 },
        );
        expect(await plotPoints(page, 'ising-trace-energy')).toBeLessThan(before + 2);
        expectNoPageErrors(log);

        // Scan mode: L = 8, five temperatures, short runs.
        await clickComponent(page, ROOM, 'ising-mode-scan');
        await waitForComponent(page, SCAN, ['idle'], log, 10_000);
        expect(await page.evaluate(() => new URLSearchParams(location.search).get('mode'))).toBe('scan');
        for (const [id, value] of [
          ['scan-L', '8'],
          ['scan-tMin', '1.8'],
          ['scan-tMax', '3.0'],
          ['scan-points', '5'],
          ['scan-thermalize', '200'],
          ['scan-measure', '600'],
          ['scan-seed', '7'],
        ] as const) {
          await setComponentInput(page, SCAN, id, value);
        }
        await waitForComponent(page, SCAN, ['idle'], log, 5_000);
        // The scan's settings are in the address bar too (prefixed: L, T and seed are the lattice's).
        expect(
          await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.search))),
        ).toMatchObject({
          mode: 'scan',
          L: '32',
          scanL: '8',
          scanTmin: '1.8',
          scanTmax: '3',
          scanPoints: '5',
          scanThermalize: '200',
          scanMeasure: '600',
          scanSeed: '7',
        });
        const t0 = performance.now();
        await clickComponent(page, SCAN, 'scan-run');
        await waitForComponent(page, SCAN, ['done'], log, READY_TIMEOUT);
        console.log(
          `Ising scan 8², 5 T, 200 + 600 sweeps: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        const rows = await componentItems(page, SCAN.tag, 'scan-row');
        expect(rows).toHaveLength(5);
        expect(rows.map((r) => Number(r.t))).toEqual(
          [1.8, 2.1, 2.4, 2.7, 3.0].map((t) => expect.closeTo(t, 9)),
        );
        for (const r of rows) {
          for (const key of ['u4', 'chi', 'c', 'energy', 'exactEnergy', 'exactC']) {
            expect(Number.isFinite(Number(r[key])), `${key} at T = ${r.t}: ${r[key]}`).toBe(true);
          }
          expect(Number(r.u4)).toBeLessThanOrEqual(2 / 3 + 1e-9);
          expect(Number(r.chi)).toBeGreaterThan(0);
          expect(Number(r.c)).toBeGreaterThan(0);
          // E within 5 of its error bars (+ a little for the finite run) of Kaufman's exact value.
          expect(Math.abs(Number(r.energy) - Number(r.exactEnergy))).toBeLessThan(
            5 * Number(r.energyErr) + 0.01,
          );
        }
        // Low T is ordered (U4 → 2/3), high T is not.
        expect(Number(rows[0]?.u4)).toBeGreaterThan(Number(rows[4]?.u4));
        expect(
          await page.evaluate(() => labElement<HTMLElement>('blockspin-ising-scan')?.dataset.points),
        ).toBe('5');
        // The exact curves: drawn for E and C (Kaufman); χ and U4 say there is none at L = 8.
        const plots = await componentItems(page, SCAN.tag, 'scan-plot-energy');
        expect(plots[0]?.exact).toBe('yes');
        expect(Number(plots[0]?.points)).toBeGreaterThan(100);
        expect((await componentItems(page, SCAN.tag, 'scan-plot-c'))[0]?.exact).toBe('yes');
        expect((await componentItems(page, SCAN.tag, 'scan-plot-u4'))[0]?.exact).toBe('no');
        expect((await componentItems(page, SCAN.tag, 'scan-note'))[0]?.text).toContain(
          'no exact finite-L curve',
        );
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
        await page.screenshot({ path: join(results, 'room-ising-scan.png'), fullPage: true });

        // A long scan shows its progress and stops on Cancel, keeping what it measured.
        await setComponentInput(page, SCAN, 'scan-measure', '200000');
        await clickComponent(page, SCAN, 'scan-run');
        await page.waitForFunction(
          () => {
            const p = labElement('blockspin-ising-scan')?.shadowRoot?.querySelector<HTMLElement>(
              '[data-testid="scan-progress"]',
            );
            return p?.dataset.phase === 'measure' && Number(p.dataset.done) >= 100;
          },
          { timeout: READY_TIMEOUT, polling: 100 },
        );
        await clickComponent(page, SCAN, 'scan-cancel');
        await waitForComponent(page, SCAN, ['done'], log, 30_000);
        const progress = (await componentItems(page, SCAN.tag, 'scan-progress'))[0];
        expect(Number(progress?.done)).toBeLessThan(200_000);
        expect((await componentItems(page, SCAN.tag, 'scan-note'))[0]?.text).toContain('(cancelled)');
        const partial = await componentItems(page, SCAN.tag, 'scan-row');
        expect(partial).toHaveLength(5);
        for (const r of partial) expect(Number.isFinite(Number(r.c))).toBe(true);
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT * 2,
  );

  it(
    'embedded: <blockspin-lattice> without url-state takes its attributes (not the URL), acquires a device and emits readout and settings events',
    async () => {
      // A room without GPU work; the URL names another lattice, which the embedded element must ignore.
      const { page, log } = await openRoom('room=reports&L=64&T=3');
      try {
        await page.evaluate(() => {
          const events: { type: string; detail: unknown }[] = [];
          (window as unknown as { latticeEvents: typeof events }).latticeEvents = events;
          const el = document.createElement('blockspin-lattice');
          el.setAttribute('size', '32');
          el.setAttribute('kernel', 'simple');
          el.setAttribute('temperature', '2.0');
          el.setAttribute('seed', '5');
          for (const type of ['blockspin-readout', 'blockspin-settings'])
            el.addEventListener(type, (e) => events.push({ type, detail: (e as CustomEvent).detail }));
          document.body.append(el);
        });
        const status = () =>
          page.evaluate(() => document.querySelector<HTMLElement>('blockspin-lattice')?.dataset.status);
        await page.waitForFunction(
          () => document.querySelector<HTMLElement>('blockspin-lattice')?.dataset.status === 'running',
          { timeout: READY_TIMEOUT, polling: 100 },
        );
        expect(await status()).toBe('running');
        await page.waitForFunction(
          () =>
            (window as unknown as { latticeEvents: { type: string }[] }).latticeEvents.filter(
              (e) => e.type === 'blockspin-readout',
            ).length >= 3,
          { timeout: READY_TIMEOUT, polling: 100 },
        );
        const readout = await page.evaluate(
          () =>
            (
              window as unknown as { latticeEvents: { type: string; detail: Record<string, unknown> }[] }
            ).latticeEvents.find((e) => e.type === 'blockspin-readout')?.detail,
        );
        expect(readout).toMatchObject({
          L: 32,
          T: 2,
          h: 0,
          kernel: 'simple',
          algorithm: 'metropolis',
          seed: 5,
          replica: 0,
        });
        expect(Number.isFinite(readout?.energy)).toBe(true);
        // A property set later applies like the slider and is announced; the URL is never touched.
        await page.evaluate(() => {
          const el = document.querySelector('blockspin-lattice') as unknown as { temperature: number };
          el.temperature = 2.5;
        });
        await page.waitForFunction(
          () =>
            (
              window as unknown as { latticeEvents: { type: string; detail: { changed?: string[] } }[] }
            ).latticeEvents.some((e) => e.type === 'blockspin-settings' && e.detail.changed?.includes('T')),
          { timeout: 10_000, polling: 100 },
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(await page.evaluate(() => location.search)).toBe('?room=reports&L=64&T=3');
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );
});
