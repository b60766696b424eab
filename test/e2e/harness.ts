/**
 * The end-to-end harness shared by test/e2e/*.test.ts: builds the demo (`vite build --mode demo`, into a
 * temporary folder per test file), serves it with `vite preview` on 127.0.0.1 and launches headless Chromium with
 * WebGPU on SwiftShader (no GPU needed); then opens pages and drives the lab's rooms and elements
 * (`<blockspin-lattice>`, the panels) through the shadow roots by their `data-testid`s (`labElement`). Not a test
 * file itself (vitest includes only `*.test.ts`). Each test file runs in its own process (`pool: 'forks'`), so
 * the server and browser below are per file.
 *
 * @example
 * beforeAll(startDemo, START_TIMEOUT);
 * afterAll(stopDemo);
 * const { page, log } = await openPage('/?L=64');
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer';
import { build, preview, type PreviewServer } from 'vite';
import { expect } from 'vitest';

/** The repository root. */
const root = resolve(import.meta.dirname, '../..');
/** The one vite config: `--mode demo` builds and previews the demo. */
const configFile = resolve(root, 'vite.config.ts');
/** Where screenshots go (git-ignored). */
export const results = resolve(root, 'test-results');
/** CI installs Debian's chromium; PUPPETEER_EXECUTABLE_PATH (puppeteer's own variable) overrides it. */
const chromium = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';

/**
 * `--use-angle=swiftshader` + `--enable-unsafe-swiftshader` give the compositor a SwiftShader backend
 * that can share images with Dawn's Vulkan SwiftShader: without them a WebGPU *canvas* cannot be
 * presented (the GPU process logs "Could not find SharedImageBackingFactory … WebgpuSwapChainTexture")
 * and the device is lost at the first getCurrentTexture(). Compute-only pages work either way.
 */
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

/** SwiftShader runs WebGPU on the CPU: acquisition, compilation and 2^22 points take seconds, not ms. */
export const READY_TIMEOUT = 180_000;

/** How long {@link startDemo} may take: a demo build, the preview server and Chromium's start. */
export const START_TIMEOUT = 240_000;

/** What a page reported: uncaught exceptions fail the test; console errors are kept for the message. */
export interface PageLog {
  pageErrors: Error[];
  consoleErrors: string[];
}

/** A component of the app: its tag, its name in messages and the test id of its error field. */
export interface Component {
  tag: string;
  name: string;
  errorField: string;
}

/** The live Ising lattice (in the Ising room, `?room=ising`, the default). */
export const ISING_VIEW: Component = {
  tag: 'blockspin-lattice',
  name: 'Ising view',
  errorField: 'ising-error-message',
};

let server: PreviewServer | undefined;
let browser: Browser | undefined;
let userDataDir: string | undefined;
let outDir: string | undefined;
let baseUrl = '';

/**
 * Builds the demo, serves it with `vite preview` on a free port and launches Chromium (for `beforeAll`, with
 * {@link START_TIMEOUT}). A missing Chromium is an error, not a skip, so a CI without it fails loudly.
 */
export async function startDemo(): Promise<void> {
  if (!existsSync(chromium)) {
    throw new Error(
      `Chromium not found at ${chromium}: the end-to-end test needs it (apt-get install -y chromium, ` +
        `or set PUPPETEER_EXECUTABLE_PATH). It is not skipped, so a CI without Chromium fails loudly.`,
    );
  }
  mkdirSync(results, { recursive: true });
  // Each test file (its own process) builds into its own folder: files running at once must not empty or
  // rewrite the folder another one is serving.
  outDir = mkdtempSync(join(tmpdir(), 'blockspin-demo-'));
  await build({ configFile, mode: 'demo', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({
    configFile,
    mode: 'demo',
    logLevel: 'warn',
    build: { outDir },
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
}

/** Fails the test with the page's uncaught errors (and its console errors, for context) if there were any. */
export function expectNoPageErrors(log: PageLog): void {
  expect(
    log.pageErrors.map((e) => e.stack ?? e.message),
    `uncaught page errors (console errors: ${JSON.stringify(log.consoleErrors)})`,
  ).toEqual([]);
}

/** Closes what {@link startDemo} opened (for `afterAll`); never throws. */
export async function stopDemo(): Promise<void> {
  await browser?.close().catch(() => {});
  await server?.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}

/**
 * Opens `path` of the served demo in a new 1280×900 page that logs its errors; `setup` runs before the
 * navigation (e.g. `evaluateOnNewDocument`).
 */
export async function openPage(
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
  await page.evaluateOnNewDocument(defineLabElement);
  await setup?.(page);
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return { page, log };
}

declare global {
  /**
   * In the page (defined by {@link openPage}): the first element matching `selector` anywhere inside the lab
   * (`<blockspin-app>`'s shadow root and every shadow root below it: rooms hold elements in their own shadow
   * roots), or in the document when there is no app (the embedding example).
   */
  function labElement<K extends keyof HTMLElementTagNameMap>(selector: K): HTMLElementTagNameMap[K] | null;
  function labElement<E extends Element = HTMLElement>(selector: string): E | null;
}

/**
 * Defines `labElement` in a page (runs in the browser, before the page's scripts). Plain JavaScript in a string:
 * a TypeScript function would carry its transpiler's helpers (e.g. esbuild's `__name` under tsx) into the page.
 */
const defineLabElement = `
  (() => {
    const walk = (root, selector) => {
      const hit = root.querySelector(selector);
      if (hit) return hit;
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) {
          const found = walk(el.shadowRoot, selector);
          if (found) return found;
        }
      }
      return null;
    };
    globalThis.labElement = (selector) => {
      const app = document.querySelector('blockspin-app');
      return walk(app?.shadowRoot ?? document, selector);
    };
  })();
`;

/** The `data-status` of a component inside the app's shadow root, or `(no <tag>)`. */
export function componentStatus(page: Page, tag: string): Promise<string> {
  return page.evaluate((t: string) => labElement<HTMLElement>(t)?.dataset.status ?? `(no ${t})`, tag);
}

/** Every element with test id `id` in a component, as its data-* attributes and its text. */
export function componentItems(
  page: Page,
  tag: string,
  id: string,
): Promise<(Record<string, string> & { text: string })[]> {
  return page.evaluate(
    (t: string, testid: string) => {
      const host = labElement(t);
      return [...(host?.shadowRoot?.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`) ?? [])].map(
        (el) => ({ ...el.dataset, text: (el.textContent ?? '').replace(/\s+/g, ' ').trim() }),
      );
    },
    tag,
    id,
  );
}

/**
 * Waits until a component reports `data-status` in `statuses`; returns the status reached. On timeout the
 * error names the component, its status, its error field(s) and the page's errors.
 */
export async function waitForComponent(
  page: Page,
  component: Component,
  statuses: string[],
  log: PageLog,
  timeout: number,
): Promise<string> {
  try {
    await page.waitForFunction(
      (t: string, wanted: string[]) => wanted.includes(labElement<HTMLElement>(t)?.dataset.status ?? ''),
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
export async function setComponentInput(
  page: Page,
  component: Component,
  id: string,
  value: string,
): Promise<void> {
  await page.evaluate(
    (tag: string, name: string, testid: string, v: string) => {
      const host = labElement(tag);
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
export async function clickComponent(page: Page, component: Component, id: string): Promise<void> {
  await page.evaluate(
    (tag: string, name: string, testid: string) => {
      const host = labElement(tag);
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

/** An element inside a component's shadow root (element screenshots, file uploads). */
export async function componentElement(
  page: Page,
  component: Component,
  selector: string,
): Promise<ElementHandle<Element>> {
  const handle = await page.evaluateHandle(
    (tag: string, sel: string) => labElement(tag)?.shadowRoot?.querySelector(sel),
    component.tag,
    selector,
  );
  const element = handle.asElement();
  if (!element) throw new Error(`the ${component.name} has no ${selector}`);
  return element as ElementHandle<Element>;
}

/**
 * Opens a room of the lab (`search` is the query without `?`, e.g. `room=mcrg` or `room=studies&study=qiu`) and
 * waits until the app has its device (within `timeout`); only that room runs, so its job has the (software) GPU
 * to itself. The page is closed if that fails.
 */
export async function openRoom(
  search: string,
  timeout = READY_TIMEOUT,
): Promise<{ page: Page; log: PageLog }> {
  const opened = await openPage(`/?${search}`);
  try {
    await opened.page.waitForFunction(
      () => ['ready', 'error'].includes(document.querySelector('blockspin-app')?.dataset.status ?? ''),
      { timeout, polling: 100 },
    );
  } catch (err) {
    await opened.page.close();
    throw err;
  }
  return opened;
}

/** A `#rrggbb` colour as its red, green and blue bytes: `rgbOf('#f2a93b')` is `[242, 169, 59]`. */
export function rgbOf(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** Waits until a component's shadow root has at least `count` elements matching `selector`. */
export async function waitForComponentElements(
  page: Page,
  tag: string,
  selector: string,
  timeout: number,
  count = 1,
): Promise<void> {
  await page.waitForFunction(
    (t: string, sel: string, n: number) =>
      (labElement(t)?.shadowRoot?.querySelectorAll(sel).length ?? 0) >= n,
    { timeout, polling: 100 },
    tag,
    selector,
    count,
  );
}
