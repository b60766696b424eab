/**
 * End-to-end, the RBM-flow lab panel (<flow-panel>): builds the demo (`vite build --mode demo`), serves it with
 * `vite preview` and drives it in headless Chromium with WebGPU on SwiftShader (no GPU needed), at the `test`
 * preset: Prepare (data, reference scan, MLP thermometer, the 'all' RBM) reaches `ready` with the thermometer's
 * accuracy shown; a 4-generation flow of 20 chains from T = 2.25 plots 3 × 5 readings (generations 0 … 4),
 * draws the first chain's lattice in the two spin colours and shows three finite temperatures with errors; a bad
 * generation count is named inline; a model file whose nv is not L² is refused naming both. The harness pieces
 * are those of test/e2e/demo.test.ts. Screenshot: test-results/flow-panel.png (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPIN_PALETTE } from '../../src/index.ts';

const root = resolve(import.meta.dirname, '../..');
const configFile = resolve(root, 'vite.config.ts');
const results = resolve(root, 'test-results');
/** CI installs Debian's chromium; PUPPETEER_EXECUTABLE_PATH (puppeteer's own variable) overrides it. */
const chromium = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';

/** As test/e2e/demo.test.ts: SwiftShader for Dawn's Vulkan and for the compositor (a WebGPU canvas presents). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** SwiftShader runs WebGPU on the CPU: device acquisition and shader compilation take seconds. */
const READY_TIMEOUT = 180_000;
/** Prepare at the test preset on SwiftShader: data, scan, thermometer, RBM (about a minute on two cores). */
const PREPARE_TIMEOUT = 180_000;
const FLOW_TIMEOUT = 60_000;

interface PageLog {
  pageErrors: Error[];
  consoleErrors: string[];
}

interface Component {
  tag: string;
  name: string;
  errorField: string;
}

const PANEL: Component = { tag: 'flow-panel', name: 'flow panel', errorField: 'flow-error' };
const ISING_VIEW: Component = { tag: 'ising-view', name: 'Ising view', errorField: 'ising-error-message' };

let server: PreviewServer | undefined;
let browser: Browser | undefined;
let userDataDir: string | undefined;
let baseUrl = '';

async function openPage(path: string): Promise<{ page: Page; log: PageLog }> {
  if (!browser) throw new Error('browser not launched (beforeAll failed?)');
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const log: PageLog = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (err) => log.pageErrors.push(err instanceof Error ? err : new Error(String(err))));
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.consoleErrors.push(msg.text());
  });
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return { page, log };
}

/** The `data-status` of a component inside the app's shadow root, or `(no <tag>)`. */
function componentStatus(page: Page, tag: string): Promise<string> {
  return page.evaluate(
    (t: string) =>
      document.querySelector('blockspin-app')?.shadowRoot?.querySelector<HTMLElement>(t)?.dataset.status ??
      `(no ${t})`,
    tag,
  );
}

/** Every element with test id `id` in a component, as its data-* attributes and its text. */
function componentItems(
  page: Page,
  tag: string,
  id: string,
): Promise<(Record<string, string> & { text: string })[]> {
  return page.evaluate(
    (t: string, testid: string) => {
      const host = document.querySelector('blockspin-app')?.shadowRoot?.querySelector(t);
      return [...(host?.shadowRoot?.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`) ?? [])].map(
        (el) => ({ ...el.dataset, text: (el.textContent ?? '').replace(/\s+/g, ' ').trim() }),
      );
    },
    tag,
    id,
  );
}

/** Waits until a component reports `data-status` in `statuses`; on timeout names its status and errors. */
async function waitForComponent(
  page: Page,
  component: Component,
  statuses: string[],
  log: PageLog,
  timeout: number,
): Promise<string> {
  try {
    await page.waitForFunction(
      (t: string, wanted: string[]) =>
        wanted.includes(
          document.querySelector('blockspin-app')?.shadowRoot?.querySelector<HTMLElement>(t)?.dataset
            .status ?? '',
        ),
      { timeout, polling: 100 },
      component.tag,
      statuses,
    );
  } catch (err) {
    const errors = await componentItems(page, component.tag, component.errorField);
    throw new Error(
      `the ${component.name} did not reach ${statuses.join('|')} within ${timeout / 1000} s (status: ` +
        `${await componentStatus(page, component.tag)}; error: ${errors.map((e) => e.text).join('; ') || '—'}); ` +
        `console errors: ${JSON.stringify(log.consoleErrors)}; page errors: ${log.pageErrors.map((e) => e.message).join('; ')}`,
      { cause: err },
    );
  }
  return componentStatus(page, component.tag);
}

/** Sets an input or select of a component and fires `change`, as a user edit would. */
async function setComponentInput(page: Page, component: Component, id: string, value: string): Promise<void> {
  await page.evaluate(
    (tag: string, name: string, testid: string, v: string) => {
      const host = document.querySelector('blockspin-app')?.shadowRoot?.querySelector(tag);
      const el = host?.shadowRoot?.querySelector<HTMLInputElement | HTMLSelectElement>(
        `[data-testid="${testid}"]`,
      );
      if (!el) throw new Error(`the ${name} has no [data-testid="${testid}"]`);
      el.value = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    },
    component.tag,
    component.name,
    id,
    value,
  );
}

/** Clicks a button of a component (an error if it is missing or disabled). */
async function clickComponent(page: Page, component: Component, id: string): Promise<void> {
  await page.evaluate(
    (tag: string, name: string, testid: string) => {
      const host = document.querySelector('blockspin-app')?.shadowRoot?.querySelector(tag);
      const el = host?.shadowRoot?.querySelector<HTMLButtonElement>(`[data-testid="${testid}"]`);
      if (!el) throw new Error(`the ${name} has no [data-testid="${testid}"]`);
      if (el.disabled) throw new Error(`[data-testid="${testid}"] is disabled`);
      el.click();
    },
    component.tag,
    component.name,
    id,
  );
}

/** An element inside a component's shadow root (screenshots, file uploads). */
async function componentElement(
  page: Page,
  component: Component,
  selector: string,
): Promise<ElementHandle<Element>> {
  const handle = await page.evaluateHandle(
    (tag: string, sel: string) =>
      document.querySelector('blockspin-app')?.shadowRoot?.querySelector(tag)?.shadowRoot?.querySelector(sel),
    component.tag,
    selector,
  );
  const element = handle.asElement();
  if (!element) throw new Error(`the ${component.name} has no ${selector}`);
  return element as ElementHandle<Element>;
}

/**
 * Opens the page with a small Ising view and π run (64², 65536 samples) and pauses the view once it runs,
 * so that the panel's job gets the (software) GPU to itself.
 */
async function openPausedView(): Promise<{ page: Page; log: PageLog }> {
  const opened = await openPage('/?L=64&samples=65536');
  try {
    await waitForComponent(opened.page, ISING_VIEW, ['running'], opened.log, READY_TIMEOUT);
    await clickComponent(opened.page, ISING_VIEW, 'ising-pause');
  } catch (err) {
    await opened.page.close();
    throw err;
  }
  return opened;
}

function hexRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

describe('flow panel (built demo, vite preview, headless Chromium on SwiftShader)', () => {
  beforeAll(async () => {
    if (!existsSync(chromium)) {
      throw new Error(
        `Chromium not found at ${chromium}: the end-to-end test needs it (apt-get install -y chromium, ` +
          `or set PUPPETEER_EXECUTABLE_PATH). It is not skipped, so a CI without Chromium fails loudly.`,
      );
    }
    mkdirSync(results, { recursive: true });
    await build({ configFile, mode: 'demo', logLevel: 'warn' });
    server = await preview({
      configFile,
      mode: 'demo',
      logLevel: 'warn',
      preview: { host: '127.0.0.1', port: 0 },
    });
    const address = server.httpServer.address() as AddressInfo | null;
    if (!address || typeof address === 'string')
      throw new Error(`vite preview has no TCP address: ${String(address)}`);
    baseUrl = `http://127.0.0.1:${address.port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'blockspin-chromium-'));
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      userDataDir,
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('prepares the test preset, flows 4 generations from T = 2.25 with the lattice, live plot and readings; names a bad generation count and refuses a model whose nv is not L²', async () => {
    const { page, log } = await openPausedView();
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
      const up = `${hexRgb(SPIN_PALETTE.up).join(',')},255`;
      const down = `${hexRgb(SPIN_PALETTE.down).join(',')},255`;
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
      expect(
        await page.evaluate(
          () =>
            document.querySelector('blockspin-app')?.shadowRoot?.querySelector<HTMLElement>('flow-panel')
              ?.dataset.error,
        ),
      ).toBe('model');
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
