/**
 * End-to-end, the RBM-flow lab panel (<flow-panel>): builds the demo (`vite build --mode demo`), serves it with
 * `vite preview` and drives it in headless Chromium with WebGPU on SwiftShader (no GPU needed), at the `test`
 * preset: Prepare (data, reference scan, MLP thermometer, the 'all' RBM) reaches `ready` with the thermometer's
 * accuracy shown; a 4-generation flow of 20 chains from T = 2.25 plots 3 × 5 readings (generations 0 … 4),
 * draws the first chain's lattice in the two spin colours and shows three finite temperatures with errors; a bad
 * generation count is named inline; a model file whose nv is not L² is refused naming both. The harness is
 * test/e2e/harness.ts. Screenshot: test-results/flow-panel.png (git-ignored).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPIN_PALETTE } from '../../src/index.ts';
import {
  clickComponent,
  type Component,
  componentElement,
  componentItems,
  openRoom,
  READY_TIMEOUT,
  results,
  rgbOf,
  setComponentInput,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  waitForComponent,
} from './harness.ts';

/** Prepare at the test preset on SwiftShader: data, scan, thermometer, RBM (about a minute on two cores). */
const PREPARE_TIMEOUT = 180_000;
const FLOW_TIMEOUT = 60_000;

const PANEL: Component = { tag: 'flow-panel', name: 'flow panel', errorField: 'flow-error' };

describe('flow panel (built demo, vite preview, headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it('prepares the test preset, flows 4 generations from T = 2.25 with the lattice, live plot and readings; names a bad generation count and refuses a model whose nv is not L²', async () => {
    const { page, log } = await openRoom('room=flows');
    const control = (id: string, value?: string): Promise<void> =>
      value === undefined ? clickComponent(page, PANEL, id) : setComponentInput(page, PANEL, id, value);
    const items = (id: string) => componentItems(page, PANEL.tag, id);
    try {
      await waitForComponent(page, PANEL, ['idle'], log, READY_TIMEOUT);
      await control('flow-preset', 'test');
      await control('flow-experiment', 'all');
      await control('flow-seed', '1');
      const t0 = performance.now();
      await control('flow-prepare');
      await waitForComponent(page, PANEL, ['preparing'], log, 10_000);
      expect(await waitForComponent(page, PANEL, ['ready', 'error', 'stopped'], log, PREPARE_TIMEOUT)).toBe(
        'ready',
      );
      const prepareSeconds = (performance.now() - t0) / 1000;
      const accuracy = Number((await items('flow-accuracy'))[0]?.value);
      expect(accuracy).toBeGreaterThan(0);
      expect(accuracy).toBeLessThanOrEqual(1);
      const model = (await items('flow-model'))[0];
      expect(model).toMatchObject({ units: 'ising', nv: '100', nh: '25' });

      // A 4-generation flow of 20 chains from T = 2.25.
      const starts = await page.evaluate(() =>
        [
          ...(document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector('flow-panel')
            ?.shadowRoot?.querySelectorAll<HTMLOptionElement>('[data-testid="flow-start"] option') ?? []),
        ].map((o) => ({ value: o.value, text: o.textContent?.trim() ?? '' })),
      );
      const start = starts.find((s) => s.text === 'T = 2.25');
      expect(start, JSON.stringify(starts)).toBeDefined();
      expect(starts.map((s) => s.text)).toEqual(
        expect.arrayContaining(['T = 0 (all up)', 'T = ∞ (half up)']),
      );
      await control('flow-start', start!.value);
      await control('flow-step', 'sampled');
      await control('flow-generations', '4');
      await control('flow-chains', '20');
      const t1 = performance.now();
      await control('flow-run');
      expect(await waitForComponent(page, PANEL, ['done', 'error', 'stopped'], log, FLOW_TIMEOUT)).toBe(
        'done',
      );
      const flowSeconds = (performance.now() - t1) / 1000;

      expect((await items('flow-plot'))[0]?.points).toBe(String(3 * 5));
      const svgMarks = await page.evaluate(
        () =>
          document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector('flow-panel')
            ?.shadowRoot?.querySelectorAll('[data-testid="flow-plot"] svg path').length ?? 0,
      );
      expect(svgMarks).toBeGreaterThan(3);
      const readings = await items('flow-reading');
      expect(readings.map((r) => r.thermometer)).toEqual(['mlp', 'energy', 'magnetization']);
      for (const r of readings) {
        expect(Number.isFinite(Number(r.value)), JSON.stringify(r)).toBe(true);
        expect(Number(r.value), r.thermometer).toBeGreaterThan(0);
        expect(Number(r.err), r.thermometer).toBeGreaterThanOrEqual(0);
      }
      expect((await items('flow-readings'))[0]?.generation).toBe('4');
      expect(['true', 'false']).toContain((await items('flow-thermal'))[0]?.value);

      // The lattice: generation 4 of the first chain, every pixel one of the two spin colours, both present
      // (20 chains at T = 2.25 after 4 steps of an RBM trained on all T: neither all up nor all down is a
      // sure thing, so it asks only for spin colours, and both where the chain is not ordered).
      expect((await items('flow-lattice'))[0]?.generation).toBe('4');
      const pixels = await page.evaluate(() => {
        const canvas = document
          .querySelector('blockspin-app')
          ?.shadowRoot?.querySelector('flow-panel')
          ?.shadowRoot?.querySelector<HTMLCanvasElement>('canvas[data-testid="flow-lattice"]');
        const context = canvas?.getContext('2d');
        if (!canvas || !context) return null;
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        const colours: Record<string, number> = {};
        for (let i = 0; i < data.length; i += 4) {
          const key = `${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`;
          colours[key] = (colours[key] ?? 0) + 1;
        }
        return { width: canvas.width, height: canvas.height, colours };
      });
      expect(pixels).not.toBeNull();
      expect(pixels!.width).toBe(200);
      const up = `${rgbOf(SPIN_PALETTE.up).join(',')},255`;
      const down = `${rgbOf(SPIN_PALETTE.down).join(',')},255`;
      for (const key of Object.keys(pixels!.colours))
        expect([up, down], 'a pixel not a spin colour').toContain(key);
      const counted = (pixels!.colours[up] ?? 0) + (pixels!.colours[down] ?? 0);
      expect(counted).toBe(200 * 200);

      await (
        await componentElement(page, PANEL, 'section')
      ).screenshot({
        path: join(results, 'flow-panel.png'),
      });

      // A bad generation count is named inline, before any GPU work.
      await control('flow-generations', '5000');
      await waitForComponent(page, PANEL, ['error'], log, 10_000);
      const bad = await items('flow-error-message');
      expect(bad.map((b) => b.field)).toEqual(['generations']);
      expect(bad[0]?.text).toContain('generations = 5000 must be an integer in 1 … 1,000');
      await control('flow-generations', '4');
      await waitForComponent(page, PANEL, ['ready'], log, 10_000);

      // A model file whose nv is not L² = 100 is refused, naming both.
      const file = join(mkdtempSync(join(tmpdir(), 'blockspin-flow-')), 'model-8x8.json');
      writeFileSync(
        file,
        JSON.stringify({ units: 'ising', nv: 64, nh: 16, W: new Array(64 * 16).fill(0), a: [], b: [] }),
      );
      const input = (await componentElement(
        page,
        PANEL,
        '[data-testid="flow-load"]',
      )) as ElementHandle<HTMLInputElement>;
      await input.uploadFile(file);
      await waitForComponent(page, PANEL, ['error'], log, 10_000);
      const refused = await items('flow-error-message');
      expect(refused[0]?.text).toContain('nv = 64');
      expect(refused[0]?.text).toContain('L² = 100');
      expect(await page.evaluate(() => labElement<HTMLElement>('flow-panel')?.dataset.error)).toBe('model');
      // The trained model is kept.
      expect((await items('flow-model'))[0]).toMatchObject({ nv: '100', nh: '25' });
      // A W of the wrong length is refused too.
      writeFileSync(file, JSON.stringify({ units: 'ising', nv: 100, nh: 25, W: [1, 2, 3] }));
      await input.uploadFile(file);
      await page.waitForFunction(
        () =>
          document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector('flow-panel')
            ?.shadowRoot?.querySelector('[data-testid="flow-error-message"]')
            ?.textContent?.includes('W has 3 values'),
        { timeout: 10_000, polling: 100 },
      );
      expect((await items('flow-error-message'))[0]?.text).toContain('nv·nh = 100·25 = 2,500');

      expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error ?? '')).toBe(
        '',
      );
      expect(log.pageErrors.map((e) => e.stack ?? e.message)).toEqual([]);
      console.log(`flow panel: prepare ${prepareSeconds.toFixed(1)} s, flow ${flowSeconds.toFixed(1)} s`);
    } finally {
      await page.close();
    }
  }, 360_000);
});
