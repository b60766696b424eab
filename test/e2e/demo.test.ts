/**
 * End-to-end: builds the demo (`vite build --mode demo`), serves dist/demo with `vite preview` on
 * 127.0.0.1, and drives it in headless Chromium with WebGPU on SwiftShader (no GPU needed). Checks the
 * adapter report, a π estimate within 5 standard errors whose count equals the CPU oracle's, a second
 * run, the in-page messages for a lost device and for a browser without WebGPU, and that no page
 * throws. Screenshots go to test-results/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countInsideReference } from '../../src/reference/pi.ts';

const root = resolve(import.meta.dirname, '../..');
const configFile = resolve(root, 'vite.config.ts');
const results = resolve(root, 'test-results');
/** CI installs Debian's chromium; PUPPETEER_EXECUTABLE_PATH (puppeteer's own variable) overrides it. */
const chromium = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** SwiftShader runs WebGPU on the CPU: acquisition, compilation and 2^22 points take seconds, not ms. */
const READY_TIMEOUT = 180_000;

/** What a page reported: uncaught exceptions fail the test; console errors are kept for the message. */
interface PageLog {
  pageErrors: Error[];
  consoleErrors: string[];
}

/** A reported value in the app's shadow DOM: its text and its raw `data-value`. */
interface Field {
  text: string;
  value: string | null;
}

let server: PreviewServer | undefined;
let browser: Browser | undefined;
let userDataDir: string | undefined;
let baseUrl = '';

async function openPage(
  path: string,
  setup?: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; log: PageLog }> {
  if (!browser) throw new Error('browser not launched (beforeAll failed?)');
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const log: PageLog = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (err) => log.pageErrors.push(err instanceof Error ? err : new Error(String(err))));
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.consoleErrors.push(msg.text());
  });
  await setup?.(page);
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return { page, log };
}

/** Waits until the app's host reports `data-status` in `statuses`; returns the status reached. */
async function waitForStatus(page: Page, statuses: string[], log: PageLog): Promise<string> {
  try {
    await page.waitForFunction(
      (wanted: string[]) => wanted.includes(document.querySelector('blockspin-app')?.dataset.status ?? ''),
      { timeout: READY_TIMEOUT, polling: 100 },
      statuses,
    );
  } catch (err) {
    const now = await page.evaluate(
      () => document.querySelector('blockspin-app')?.dataset.status ?? '(no app)',
    );
    throw new Error(
      `the demo did not reach ${statuses.join('|')} within ${READY_TIMEOUT / 1000} s (status: ${now}); ` +
        `console errors: ${JSON.stringify(log.consoleErrors)}; page errors: ${log.pageErrors.map((e) => e.message).join('; ')}`,
      { cause: err },
    );
  }
  return page.evaluate(() => document.querySelector('blockspin-app')?.dataset.status ?? '');
}

/** Every `[data-testid]` element of the app's shadow root, by test id. */
async function fields(page: Page): Promise<Record<string, Field>> {
  return page.evaluate(() => {
    const out: Record<string, { text: string; value: string | null }> = {};
    const shadow = document.querySelector('blockspin-app')?.shadowRoot;
    for (const el of shadow?.querySelectorAll<HTMLElement>('[data-testid]') ?? []) {
      out[el.dataset.testid as string] = {
        text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
        value: el.dataset.value ?? null,
      };
    }
    return out;
  });
}

function field(all: Record<string, Field>, id: string): Field {
  const f = all[id];
  if (!f) throw new Error(`the page has no [data-testid="${id}"]; it has: ${Object.keys(all).join(', ')}`);
  return f;
}

function numberOf(all: Record<string, Field>, id: string): number {
  const value = Number(field(all, id).value);
  if (!Number.isFinite(value))
    throw new Error(`[data-testid="${id}"] has no numeric data-value: ${JSON.stringify(all[id])}`);
  return value;
}

async function errorDetails(page: Page): Promise<string> {
  const all = await fields(page);
  return `${all['error-title']?.text ?? ''}: ${all['error-message']?.text ?? ''}`;
}

function expectNoPageErrors(log: PageLog): void {
  expect(
    log.pageErrors.map((e) => e.stack ?? e.message),
    `uncaught page errors (console errors: ${JSON.stringify(log.consoleErrors)})`,
  ).toEqual([]);
}

describe('demo (built, served by vite preview, in headless Chromium on SwiftShader)', () => {
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

  it(
    'shows the adapter and a π estimate within 5 standard errors, equal to the CPU oracle; runs again',
    async () => {
      const { page, log } = await openPage('/');
      try {
        const status = await waitForStatus(page, ['ready', 'error'], log);
        if (status !== 'ready') throw new Error(`the demo reported an error: ${await errorDetails(page)}`);

        let all = await fields(page);
        const vendor = field(all, 'adapter-vendor').text;
        const architecture = field(all, 'adapter-architecture').text;
        expect(vendor).not.toBe('');
        expect(architecture).not.toBe('');
        // --use-webgpu-adapter=swiftshader: the report must say so.
        expect(architecture).toBe('swiftshader');
        expect(field(all, 'adapter-kind').value).toBe('software');
        expect(field(all, 'adapter-backend').text).toContain('browser');
        expect(numberOf(all, 'limit-maxStorageBufferBindingSize')).toBeGreaterThanOrEqual(128 * 2 ** 20);
        expect(field(all, 'features').text).not.toBe('');

        const samples = numberOf(all, 'pi-samples');
        const inside = numberOf(all, 'pi-inside');
        const estimate = numberOf(all, 'pi-estimate');
        const standardError = numberOf(all, 'pi-standard-error');
        const seed = numberOf(all, 'pi-seed');
        expect(samples).toBe(2 ** 22);
        expect(estimate).toBe((4 * inside) / samples);
        expect(standardError).toBeGreaterThan(0);
        expect(Math.abs(estimate - Math.PI)).toBeLessThan(5 * standardError);
        expect(numberOf(all, 'pi-elapsed')).toBeGreaterThan(0);
        // The browser's WebGPU count is the CPU oracle's, bit for bit.
        expect(inside).toBe(countInsideReference(samples, seed));

        await page.evaluate(() =>
          document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector<HTMLButtonElement>('[data-testid="run-again"]')
            ?.click(),
        );
        await page.waitForFunction(
          () => {
            const app = document.querySelector('blockspin-app');
            return (
              app?.dataset.status !== 'running' &&
              app?.shadowRoot?.querySelectorAll('[data-testid="history"] tbody tr').length === 2
            );
          },
          { timeout: READY_TIMEOUT, polling: 100 },
        );
        expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.status)).toBe(
          'ready',
        );
        all = await fields(page);
        expect(numberOf(all, 'pi-seed')).not.toBe(seed);
        expect(Math.abs(numberOf(all, 'pi-estimate') - Math.PI)).toBeLessThan(
          5 * numberOf(all, 'pi-standard-error'),
        );

        await page.screenshot({ path: join(results, 'demo.png'), fullPage: true });
        expectNoPageErrors(log);
        if (log.consoleErrors.length) console.warn('demo console errors:', log.consoleErrors);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT * 2,
  );

  it(
    'shows device loss in the page',
    async () => {
      const { page, log } = await openPage('/?samples=65536&seed=3');
      try {
        const status = await waitForStatus(page, ['ready', 'error'], log);
        if (status !== 'ready') throw new Error(`the demo reported an error: ${await errorDetails(page)}`);
        expect(numberOf(await fields(page), 'pi-inside')).toBe(countInsideReference(65536, 3));
        await page.evaluate(() => document.querySelector('blockspin-app')?.context?.destroy());
        await waitForStatus(page, ['error'], log);
        expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error)).toBe(
          'lost',
        );
        expect(await errorDetails(page)).toMatch(/lost.*reason: destroyed/s);
        await page.screenshot({ path: join(results, 'demo-lost.png'), fullPage: true });
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'shows a bad sample count in the page, and runs again once it is fixed',
    async () => {
      const { page, log } = await openPage('/?samples=0&seed=1');
      try {
        await waitForStatus(page, ['error'], log);
        expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error)).toBe(
          'failed',
        );
        expect(await errorDetails(page)).toContain('Samples 0 must be an integer in 1 …');
        await page.evaluate(() => {
          const root = document.querySelector('blockspin-app')?.shadowRoot;
          const select = root?.querySelector<HTMLSelectElement>('[data-testid="samples"]');
          if (!select) throw new Error('no samples select');
          select.value = String(2 ** 18);
          select.dispatchEvent(new Event('change'));
          root?.querySelector<HTMLButtonElement>('[data-testid="run-again"]')?.click();
        });
        await waitForStatus(page, ['ready'], log);
        const all = await fields(page);
        expect(numberOf(all, 'pi-samples')).toBe(2 ** 18);
        expect(numberOf(all, 'pi-inside')).toBe(countInsideReference(2 ** 18, numberOf(all, 'pi-seed')));
        expect(all['error']).toBeUndefined();
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'explains in the page when the browser has no WebGPU',
    async () => {
      const { page, log } = await openPage('/', (p) =>
        p.evaluateOnNewDocument(() => {
          Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
        }),
      );
      try {
        await waitForStatus(page, ['error'], log);
        expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error)).toBe(
          'unavailable',
        );
        const details = await errorDetails(page);
        expect(details).toContain('WebGPU is not available here');
        expect(details).toContain('WebGPU is needed');
        await page.screenshot({ path: join(results, 'demo-no-webgpu.png'), fullPage: true });
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );
});
