/**
 * End-to-end: builds the demo (`vite build --mode demo`), serves dist/demo with `vite preview` on
 * 127.0.0.1, and drives it in headless Chromium with WebGPU on SwiftShader (no GPU needed). Checks the
 * live Ising view (it runs on the default 512² lattice; at L = 128 the canvas shows exactly the
 * engine's spins, site by site, in the two palette colours, and the readouts equal a CPU recount; the
 * readouts move; pause, resume, a quench to T = 1 that orders the lattice without losing its state,
 * heat-bath, a field that reverses the magnetisation; in-page errors for bad URL parameters; rebuilds),
 * the data-set panel (a bad L named in the page; a small data set whose download links serve NPY files of
 * the right shape and a dataset.json that says complete; Cancel offers the partial set marked
 * incomplete and revokes the old links), the MCRG panel (a bad level count named inline; a small run whose level
 * canvases show replica 0 and its blocked levels site by site as the GPU level buffers hold them, y_t and y_h
 * tables of value(err) cells coloured by their distance from the exact 1 and 15/8; Stop keeps the run, Start
 * continues it), the study panel (Chung & Kao at the test preset: each stage finishes, the filter drawn live on
 * a canvas, the training curves and the live MCRG table of value ± err; results with errors, the report's
 * figures as SVG, report.json among the download links; Stop gives a partial output), the adapter report, a π
 * estimate within 5 standard errors whose count equals the CPU oracle's, a
 * second run, the in-page messages for a lost device and for a browser without WebGPU, and that no
 * page throws. Screenshots go to test-results/ (git-ignored).
 */
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countInsideReference } from '../../src/reference/pi.ts';
import {
  clickComponent,
  type Component,
  componentElement,
  componentItems,
  componentStatus,
  ISING_VIEW,
  openPage,
  openRoom,
  type PageLog,
  READY_TIMEOUT,
  results,
  rgbOf,
  setComponentInput,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  waitForComponent,
  waitForComponentElements,
  expectNoPageErrors,
} from './harness.ts';

/** A reported value in the app's shadow DOM: its text and its raw `data-value`. */
interface Field {
  text: string;
  value: string | null;
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

// ── the Ising view (<blockspin-lattice> in the Ising room) ─────────────────────────────────────

/** How long the Ising view may take to build its first lattice (shader compilation on SwiftShader). */
const VIEW_TIMEOUT = 120_000;

/** Every `[data-testid]` element of a component's shadow root, by test id (the last one of a repeated id). */
async function componentFields(page: Page, tag: string): Promise<Record<string, Field>> {
  return page.evaluate((t: string) => {
    const out: Record<string, { text: string; value: string | null }> = {};
    const host = labElement(t);
    for (const el of host?.shadowRoot?.querySelectorAll<HTMLElement>('[data-testid]') ?? []) {
      out[el.dataset.testid as string] = {
        text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
        value: el.dataset.value ?? null,
      };
    }
    return out;
  }, tag);
}

/** The value of a component's input or select `[data-testid=id]` (undefined without one). */
function componentInput(page: Page, tag: string, id: string): Promise<string | undefined> {
  return page.evaluate(
    (t: string, testid: string) =>
      document
        .querySelector('blockspin-app')
        ?.shadowRoot?.querySelector(t)
        ?.shadowRoot?.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-testid="${testid}"]`)?.value,
    tag,
    id,
  );
}

/**
 * Sets a component's input to a bad value and expects the problem named in its error field, with the
 * component's status `error` (kind `input`); nothing runs.
 */
async function expectInputProblem(
  page: Page,
  component: Component,
  log: PageLog,
  input: { id: string; value: string },
  message: string,
): Promise<void> {
  await setComponentInput(page, component, input.id, input.value);
  await waitForComponent(page, component, ['error'], log, 10_000);
  expect(
    await page.evaluate((tag: string) => labElement<HTMLElement>(tag)?.dataset.error, component.tag),
  ).toBe('input');
  expect(field(await componentFields(page, component.tag), component.errorField).text).toContain(message);
}

/** The page ended clean: no app error, no uncaught page errors and (`consoleToo`) no console errors. */
async function expectCleanPage(page: Page, log: PageLog, consoleToo = false): Promise<void> {
  expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error ?? '')).toBe('');
  expectNoPageErrors(log);
  if (consoleToo) expect(log.consoleErrors, 'console errors').toEqual([]);
}

/** The view's `data-status`, or '(no blockspin-lattice)'. */
const viewStatus = (page: Page): Promise<string> => componentStatus(page, ISING_VIEW.tag);
/** Every `[data-testid]` element of the view's shadow root, by test id. */
const viewFields = (page: Page): Promise<Record<string, Field>> => componentFields(page, ISING_VIEW.tag);
/** Waits until the view reports `data-status` in `statuses`. */
const waitForView = (page: Page, statuses: string[], log: PageLog, timeout = VIEW_TIMEOUT): Promise<string> =>
  waitForComponent(page, ISING_VIEW, statuses, log, timeout);

/**
 * Waits until the readout `id`'s data-value is above (`>`) or below (`<`) `threshold`; returns the
 * value and the seconds it took.
 */
async function waitForReadout(
  page: Page,
  id: string,
  op: '<' | '>',
  threshold: number,
  timeout = VIEW_TIMEOUT,
): Promise<{ value: number; seconds: number }> {
  const t0 = performance.now();
  try {
    await page.waitForFunction(
      (testid: string, below: boolean, limit: number) => {
        const view = labElement('blockspin-lattice');
        const raw = view?.shadowRoot?.querySelector<HTMLElement>(`[data-testid="${testid}"]`)?.dataset.value;
        if (raw === undefined || raw === '') return false;
        const x = Number(raw);
        return below ? x < limit : x > limit;
      },
      { timeout, polling: 100 },
      id,
      op === '<',
      threshold,
    );
  } catch (err) {
    const now = (await viewFields(page))[id];
    throw new Error(
      `${id} did not get ${op} ${threshold} within ${timeout / 1000} s (now ${JSON.stringify(now)})`,
      { cause: err },
    );
  }
  return { value: numberOf(await viewFields(page), id), seconds: (performance.now() - t0) / 1000 };
}

/** Sets a control of the view (input or select) and fires `event`, as a user edit would. */
async function setControl(page: Page, id: string, value: string, event: 'input' | 'change'): Promise<void> {
  await page.evaluate(
    (testid: string, v: string, type: string) => {
      const view = labElement('blockspin-lattice');
      const el = view?.shadowRoot?.querySelector<HTMLInputElement | HTMLSelectElement>(
        `[data-testid="${testid}"]`,
      );
      if (!el) throw new Error(`the Ising view has no [data-testid="${testid}"]`);
      el.value = v;
      el.dispatchEvent(new Event(type));
    },
    id,
    value,
    event,
  );
}

async function clickControl(page: Page, id: string): Promise<void> {
  await page.evaluate((testid: string) => {
    const view = labElement('blockspin-lattice');
    const el = view?.shadowRoot?.querySelector<HTMLButtonElement>(`[data-testid="${testid}"]`);
    if (!el) throw new Error(`the Ising view has no [data-testid="${testid}"]`);
    el.click();
  }, id);
}

/** An element inside the view's shadow root, for element screenshots. */
async function viewElement(page: Page, selector: string): Promise<ElementHandle<Element>> {
  const handle = await page.evaluateHandle(
    (sel: string) => labElement('blockspin-lattice')?.shadowRoot?.querySelector(sel),
    selector,
  );
  const element = handle.asElement();
  if (!element) throw new Error(`the Ising view has no ${selector}`);
  return element as ElementHandle<Element>;
}

/** Decodes a PNG with the browser's own decoder (drawn into a 2D canvas): RGBA bytes, row-major. */
async function decodePng(
  page: Page,
  png: Uint8Array,
): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const decoded = await page.evaluate(async (base64: string) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const { naturalWidth: width, naturalHeight: height } = image;
    const context = new OffscreenCanvas(width, height).getContext('2d');
    if (!context) throw new Error('no 2D context');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, width, height).data;
    let binary = '';
    for (let i = 0; i < pixels.length; i += 0x8000) {
      binary += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
    }
    return { width, height, rgba: btoa(binary) };
  }, Buffer.from(png).toString('base64'));
  return { ...decoded, rgba: new Uint8Array(Buffer.from(decoded.rgba, 'base64')) };
}

/** Which palette colour a pixel is (within ±`tolerance` per channel), or 'other'. */
function classify(
  rgba: Uint8Array,
  offset: number,
  palette: Record<'up' | 'down' | 'background', [number, number, number]>,
  tolerance = 6,
): 'up' | 'down' | 'background' | 'other' {
  for (const name of ['up', 'down', 'background'] as const) {
    const c = palette[name];
    if (c.every((v, i) => Math.abs((rgba[offset + i] as number) - v) <= tolerance)) return name;
  }
  return 'other';
}

/** CPU oracle of the readouts: energy and magnetisation per spin of ±1 spins (periodic, J = 1, h = 0). */
function observablesOf(spins: number[], L: number): { energy: number; magnetization: number } {
  let bonds = 0;
  let sum = 0;
  for (let y = 0; y < L; y++) {
    for (let x = 0; x < L; x++) {
      const s = spins[y * L + x] as number;
      sum += s;
      bonds += s * ((spins[y * L + ((x + 1) % L)] as number) + (spins[((y + 1) % L) * L + x] as number));
    }
  }
  return { energy: -bonds / (L * L), magnetization: sum / (L * L) };
}

// ── the data-set panel (<dataset-panel> inside the app's shadow root) ──────────────────────────────

/** How long a small data set may take on SwiftShader (2000 sweeps of a few 8×8 replicas, plus compilation). */
const DATASET_TIMEOUT = 120_000;

const DATASET_PANEL = { tag: 'dataset-panel', name: 'data-set panel', errorField: 'dataset-error' };

/** The panel's `data-status`, or '(no dataset-panel)'. */
const panelStatus = (page: Page): Promise<string> => componentStatus(page, DATASET_PANEL.tag);
/** Every `[data-testid]` element of the panel's shadow root, by test id. */
const panelFields = (page: Page): Promise<Record<string, Field>> => componentFields(page, DATASET_PANEL.tag);
/** Waits until the panel reports `data-status` in `statuses`. */
const waitForPanel = (
  page: Page,
  statuses: string[],
  log: PageLog,
  timeout = DATASET_TIMEOUT,
): Promise<string> => waitForComponent(page, DATASET_PANEL, statuses, log, timeout);

/** Sets an input or select of the panel and fires `change`, as a user edit would. */
const setPanelInput = (page: Page, id: string, value: string): Promise<void> =>
  setComponentInput(page, DATASET_PANEL, id, value);

const clickPanel = (page: Page, id: string): Promise<void> => clickComponent(page, DATASET_PANEL, id);

/** The panel's download links: the `download` name, the object URL and whether it is marked incomplete. */
function panelLinks(page: Page): Promise<{ name: string; href: string; incomplete: boolean }[]> {
  return page.evaluate(() => {
    const panel = labElement('dataset-panel');
    return [
      ...(panel?.shadowRoot?.querySelectorAll<HTMLAnchorElement>('a[data-testid="dataset-file"]') ?? []),
    ].map((a) => ({
      name: a.download,
      href: a.href,
      incomplete: a.parentElement?.querySelector('.tag')?.textContent?.trim() === 'incomplete',
    }));
  });
}

/** Fetches a (blob) URL inside the page: its bytes, base64-encoded over the bridge. */
async function fetchInPage(page: Page, url: string): Promise<Uint8Array> {
  const base64 = await page.evaluate(async (href: string) => {
    const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }, url);
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** The parts of an NPY (version 1) file the test checks: magic, header dict text, data bytes. */
function npyParts(bytes: Uint8Array): { magic: string; header: string; data: Uint8Array } {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  const headerLength = (bytes[8] as number) | ((bytes[9] as number) << 8);
  const header = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength));
  return { magic, header, data: bytes.subarray(10 + headerLength) };
}

// ── the MCRG panel (<mcrg-panel> inside the app's shadow root) ─────────────────────────────────────

/** How long the small MCRG run may take on SwiftShader (compilation, thermalisation, first tables). */
const MCRG_TIMEOUT = 90_000;

const MCRG_PANEL = { tag: 'mcrg-panel', name: 'MCRG panel', errorField: 'mcrg-error' };

/** Every `[data-testid]` element of the MCRG panel's shadow root, by test id. */
const mcrgFields = (page: Page): Promise<Record<string, Field>> => componentFields(page, MCRG_PANEL.tag);
/** Waits until the MCRG panel reports `data-status` in `statuses`. */
const waitForMcrg = (page: Page, statuses: string[], log: PageLog, timeout = MCRG_TIMEOUT): Promise<string> =>
  waitForComponent(page, MCRG_PANEL, statuses, log, timeout);

/** Sets an input or select of the MCRG panel and fires `change`, as a user edit would. */
const setMcrgInput = (page: Page, id: string, value: string): Promise<void> =>
  setComponentInput(page, MCRG_PANEL, id, value);

const clickMcrg = (page: Page, id: string): Promise<void> => clickComponent(page, MCRG_PANEL, id);

/** Waits until the MCRG panel's `[data-testid=id]` has a data-value above `threshold`; returns it. */
async function waitForMcrgValue(page: Page, id: string, threshold: number): Promise<number> {
  try {
    await page.waitForFunction(
      (testid: string, limit: number) => {
        const panel = labElement('mcrg-panel');
        const raw = panel?.shadowRoot?.querySelector<HTMLElement>(`[data-testid="${testid}"]`)?.dataset.value;
        return raw !== undefined && raw !== '' && Number(raw) > limit;
      },
      { timeout: MCRG_TIMEOUT, polling: 100 },
      id,
      threshold,
    );
  } catch (err) {
    throw new Error(
      `MCRG ${id} did not get > ${threshold} within ${MCRG_TIMEOUT / 1000} s (now ${JSON.stringify((await mcrgFields(page))[id])})`,
      { cause: err },
    );
  }
  return numberOf(await mcrgFields(page), id);
}

/** The cells of an MCRG table (`mcrg-yt` or `mcrg-yh`): row header N_c, then each cell's text and data. */
function mcrgTable(
  page: Page,
  id: string,
): Promise<{ nc: string; cells: { text: string; value: number; err: number; z: string; band: string }[] }[]> {
  return page.evaluate((testid: string) => {
    const panel = labElement('mcrg-panel');
    const rows = panel?.shadowRoot?.querySelectorAll(`[data-testid="${testid}"] tbody tr`) ?? [];
    return [...rows].map((tr) => ({
      nc: tr.querySelector('th')?.textContent?.trim() ?? '',
      cells: [...tr.querySelectorAll<HTMLElement>('td')].map((td) => ({
        text: (td.textContent ?? '').trim(),
        value: Number(td.dataset.value),
        err: Number(td.dataset.err),
        z: td.dataset.z ?? '',
        band: td.className,
      })),
    }));
  }, id);
}

/** An element inside the MCRG panel's shadow root, for element screenshots. */
const mcrgElement = (page: Page, selector: string): Promise<ElementHandle<Element>> =>
  componentElement(page, MCRG_PANEL, selector);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('demo (built, served by vite preview, in headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it(
    'opens the Ising view on a 512² lattice at T_c and runs it',
    async () => {
      const { page, log } = await openPage('/');
      try {
        await waitForView(page, ['running'], log);
        const first = await waitForReadout(page, 'ising-sweeps', '>', 0);
        let all = await viewFields(page);
        expect(numberOf(all, 'ising-lattice')).toBe(512);
        expect(field(all, 'ising-lattice').text).toContain('packed');
        expect(numberOf(all, 'ising-seed')).toBe(1);
        expect(numberOf(all, 'ising-t-ratio')).toBeCloseTo(1, 3);
        expect(numberOf(all, 'ising-field-value')).toBe(0);
        expect(field(all, 'ising-lattice').text).toContain('512×512');
        // Near T_c the energy per spin is near −√2 (exact at L → ∞); a random start is at 0.
        const later = await waitForReadout(page, 'ising-sweeps', '>', first.value);
        all = await viewFields(page);
        expect(numberOf(all, 'ising-energy')).toBeLessThan(-1);
        expect(numberOf(all, 'ising-sweep-rate')).toBeGreaterThan(0);
        expect(numberOf(all, 'ising-flip-rate')).toBeGreaterThan(0);
        console.info(
          `Ising 512² on SwiftShader: ${later.value} sweeps, ${numberOf(all, 'ising-sweep-rate').toFixed(1)} sweeps/s, ` +
            `${numberOf(all, 'ising-flip-rate').toPrecision(3)} spin updates/ns`,
        );
        await (await viewElement(page, 'section')).screenshot({ path: join(results, 'ising-default.png') });
        await expectCleanPage(page, log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'draws exactly the engine spins, moves the readouts, pauses and resumes, orders after a quench to T = 1, reverses in a field',
    async () => {
      const { page, log } = await openPage('/?L=128');
      try {
        await waitForView(page, ['running'], log);
        // The readouts move: two reads a second apart differ (sweeps always; E or M almost surely).
        const a = await waitForReadout(page, 'ising-sweeps', '>', 0);
        const before = await viewFields(page);
        await sleep(1000);
        await waitForReadout(page, 'ising-sweeps', '>', a.value);
        const after = await viewFields(page);
        expect(numberOf(after, 'ising-sweeps')).toBeGreaterThan(numberOf(before, 'ising-sweeps'));
        expect(
          numberOf(after, 'ising-energy') !== numberOf(before, 'ising-energy') ||
            numberOf(after, 'ising-magnetization') !== numberOf(before, 'ising-magnetization'),
        ).toBe(true);

        // Pause: the state stops, and the readouts describe exactly the state drawn.
        await clickControl(page, 'ising-pause');
        await waitForView(page, ['paused'], log);
        const paused = await viewFields(page);
        const geometry = await page.evaluate(async () => {
          const view = labElement('blockspin-lattice');
          const canvas = view?.shadowRoot?.querySelector('canvas');
          if (!view?.engine || !view.renderer || !canvas) throw new Error('no engine, renderer or canvas');
          return {
            L: view.engine.config.Lx,
            width: canvas.width,
            height: canvas.height,
            placement: view.renderer.placement,
            palette: { ...view.renderer.palette },
            spins: Array.from(await view.engine.getSpins()),
          };
        });
        expect(geometry.L).toBe(128);
        const oracle = observablesOf(geometry.spins, geometry.L);
        expect(numberOf(paused, 'ising-energy')).toBeCloseTo(oracle.energy, 12);
        expect(numberOf(paused, 'ising-magnetization')).toBeCloseTo(oracle.magnetization, 12);
        await sleep(1000);
        expect(numberOf(await viewFields(page), 'ising-sweeps')).toBe(numberOf(paused, 'ising-sweeps'));

        // The canvas as the compositor shows it: every site in its spin's colour, nothing else.
        const canvas = await viewElement(page, 'canvas');
        const png = await canvas.screenshot({ path: join(results, 'ising-canvas.png') });
        const shot = await decodePng(page, png);
        const palette = {
          up: rgbOf(geometry.palette.up),
          down: rgbOf(geometry.palette.down),
          background: rgbOf(geometry.palette.background),
        };
        const counts = { up: 0, down: 0, background: 0, other: 0 };
        for (let i = 0; i < shot.width * shot.height; i++) counts[classify(shot.rgba, 4 * i, palette)]++;
        const total = shot.width * shot.height;
        expect(counts.other / total, `pixels in no palette colour: ${JSON.stringify(counts)}`).toBeLessThan(
          0.01,
        );
        const upShare = counts.up / (counts.up + counts.down);
        expect(upShare).toBeGreaterThan(0.05);
        expect(upShare).toBeLessThan(0.95);
        expect(upShare).toBeCloseTo((1 + oracle.magnetization) / 2, 1);
        const { originX, originY, pixelsPerSite } = geometry.placement;
        const sx = shot.width / geometry.width;
        const sy = shot.height / geometry.height;
        let mismatches = 0;
        for (let y = 0; y < geometry.L; y++) {
          for (let x = 0; x < geometry.L; x++) {
            const px = Math.floor((originX + (x + 0.5) * pixelsPerSite) * sx);
            const py = Math.floor((originY + (y + 0.5) * pixelsPerSite) * sy);
            const seen = classify(shot.rgba, 4 * (py * shot.width + px), palette);
            if (seen !== (geometry.spins[y * geometry.L + x] === 1 ? 'up' : 'down')) mismatches++;
          }
        }
        expect(mismatches, `sites drawn in the wrong colour (of ${geometry.L ** 2})`).toBe(0);
        await (await viewElement(page, 'section')).screenshot({ path: join(results, 'ising.png') });

        // Resume, then quench to T = 1: the state is kept (no reset) and the energy falls toward −2.
        await clickControl(page, 'ising-pause');
        await waitForView(page, ['running'], log);
        await waitForReadout(page, 'ising-sweeps', '>', numberOf(paused, 'ising-sweeps'));
        await setControl(page, 'ising-temperature', '1', 'change');
        let all = await viewFields(page);
        expect(numberOf(all, 'ising-t-ratio')).toBeCloseTo(1 / (2 / Math.log(1 + Math.SQRT2)), 6);
        const sweepsAtQuench = numberOf(all, 'ising-sweeps');
        expect(sweepsAtQuench).toBeGreaterThan(numberOf(paused, 'ising-sweeps'));
        const ordered = await waitForReadout(page, 'ising-energy', '<', -1.6);
        all = await viewFields(page);
        expect(numberOf(all, 'ising-sweeps')).toBeGreaterThan(sweepsAtQuench);
        expect(numberOf(all, 'ising-seed')).toBe(1);
        console.info(
          `Ising 128² quench to T = 1: e = ${ordered.value.toFixed(4)} after ${ordered.seconds.toFixed(1)} s ` +
            `(${numberOf(all, 'ising-sweeps') - sweepsAtQuench} sweeps)`,
        );

        // Heat-bath from the next sweep, same state: still ordered, still sweeping.
        await setControl(page, 'ising-algorithm', 'heatbath', 'change');
        const switched = numberOf(await viewFields(page), 'ising-sweeps');
        await waitForReadout(page, 'ising-sweeps', '>', switched + 20);
        all = await viewFields(page);
        expect(numberOf(all, 'ising-energy')).toBeLessThan(-1.6);
        expect(await viewStatus(page)).toBe('running');
        await page.screenshot({ path: join(results, 'ising-quench.png') });

        // A field against the ordered phase: droplets of the favoured sign nucleate and take over.
        const m = numberOf(all, 'ising-magnetization');
        const h = m < 0 ? 1 : -1;
        await setControl(page, 'ising-field', String(h), 'input');
        expect(numberOf(await viewFields(page), 'ising-field-value')).toBe(h);
        const flipped = await waitForReadout(
          page,
          'ising-magnetization',
          h > 0 ? '>' : '<',
          h > 0 ? 0.5 : -0.5,
        );
        console.info(
          `Ising 128² at T = 1: h = ${h} reversed m = ${m.toFixed(3)} in ${flipped.seconds.toFixed(1)} s`,
        );
        await expectCleanPage(page, log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT * 2,
  );

  it(
    'shows bad Ising URL parameters in the page, and rebuilds when the lattice or kernel is changed',
    async () => {
      let { page, log } = await openPage('/?L=abc&T=9&kernel=fast');
      try {
        await waitForView(page, ['error'], log);
        expect(await page.evaluate(() => labElement('blockspin-lattice')?.dataset.error)).toBe('params');
        const message = field(await viewFields(page), 'ising-error-message').text;
        expect(message).toContain('?L=abc: L must be an integer in 4 … 8192');
        expect(message).toContain('?T=9: T must be a number in 0.5 … 5');
        expect(message).toContain("?kernel=fast: kernel must be 'packed' or 'simple'");
        await setControl(page, 'ising-L', '64', 'change');
        await waitForView(page, ['running'], log);
        const all = await viewFields(page);
        expect(numberOf(all, 'ising-lattice')).toBe(64);
        expect(all['ising-error']).toBeUndefined();
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }

      // ?L=100 is an integer in range but not a lattice the default packed kernel takes: a URL problem
      // ('params', naming the parameter), found before any engine is built.
      ({ page, log } = await openPage('/?L=100'));
      try {
        await waitForView(page, ['error'], log);
        expect(await page.evaluate(() => labElement('blockspin-lattice')?.dataset.error)).toBe('params');
        expect(field(await viewFields(page), 'ising-error-message').text).toContain(
          "?L=100: kernel 'packed' needs L a multiple of 32; got L = 100",
        );
        await setControl(page, 'ising-kernel', 'simple', 'change');
        await waitForView(page, ['running'], log);
        let all = await viewFields(page);
        expect(numberOf(all, 'ising-lattice')).toBe(100);
        expect(field(all, 'ising-lattice').text).toContain('simple');
        const sweeps = (await waitForReadout(page, 'ising-sweeps', '>', 40)).value;
        // Reset (while paused, so the count is exact): a new engine with a new seed, at sweep 0.
        await clickControl(page, 'ising-pause');
        await waitForView(page, ['paused'], log);
        await clickControl(page, 'ising-reset');
        await page.waitForFunction(
          () => {
            const view = labElement('blockspin-lattice');
            const seed = view?.shadowRoot?.querySelector<HTMLElement>('[data-testid="ising-seed"]')?.dataset
              .value;
            return view?.dataset.status === 'paused' && seed !== undefined && seed !== '1';
          },
          { timeout: VIEW_TIMEOUT, polling: 100 },
        );
        all = await viewFields(page);
        expect(numberOf(all, 'ising-lattice')).toBe(100);
        expect(numberOf(all, 'ising-sweeps')).toBe(0);
        expect(sweeps).toBeGreaterThan(40);
        await clickControl(page, 'ising-pause');
        await waitForView(page, ['running'], log);
        await waitForReadout(page, 'ising-sweeps', '>', 0);
        await expectCleanPage(page, log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'generates a data set in the page and offers it for download; names a bad L; Cancel offers the rest as incomplete',
    async () => {
      const { page, log } = await openPage('/?room=data');
      try {
        await waitForPanel(page, ['idle'], log);
        const defaults = await panelFields(page);
        expect(field(defaults, 'dataset-status').text).toBe('Ready');

        // A bad value is named in the page, and nothing is generated.
        await expectInputProblem(
          page,
          DATASET_PANEL,
          log,
          { id: 'dataset-L', value: '7' },
          'L = 7 must be even (the checkerboard update needs two sublattices)',
        );
        expect(await panelLinks(page)).toEqual([]);

        await setPanelInput(page, 'dataset-L', '8');
        await waitForPanel(page, ['idle'], log);
        await setPanelInput(page, 'dataset-temperatures', '2.0,3.0');
        await setPanelInput(page, 'dataset-samples', '10');
        expect(await panelStatus(page)).toBe('idle');
        const t0 = performance.now();
        await clickPanel(page, 'dataset-generate');
        expect(await waitForPanel(page, ['complete', 'incomplete', 'error'], log)).toBe('complete');
        const seconds = (performance.now() - t0) / 1000;

        const links = await panelLinks(page);
        expect(links.map((l) => l.name)).toEqual([
          'ising_8x8_T2.0000.npy',
          'ising_8x8_T3.0000.npy',
          'dataset.json',
        ]);
        expect(links.every((l) => l.href.startsWith('blob:') && !l.incomplete)).toBe(true);

        const npy = npyParts(await fetchInPage(page, (links[0] as { href: string }).href));
        expect(npy.magic).toBe('\x93NUMPY');
        expect(npy.header).toContain("'shape': (10, 8, 8)");
        expect(npy.header).toContain("'descr': '|i1'");
        expect(npy.data.length).toBe(10 * 8 * 8);
        expect(new Set(new Int8Array(npy.data.buffer, npy.data.byteOffset, npy.data.length))).toEqual(
          new Set([1, -1]),
        );

        const meta = JSON.parse(
          new TextDecoder().decode(await fetchInPage(page, (links[2] as { href: string }).href)),
        ) as {
          complete: boolean;
          model: { L: number; Ly: number };
          temperatures: { T: number; file: string; samples: number; interval: number }[];
          adapter: { architecture: string } | null;
        };
        expect(meta.complete).toBe(true);
        expect(meta.model).toMatchObject({ L: 8, Ly: 8 });
        expect(meta.temperatures.map((t) => [t.T, t.file, t.samples])).toEqual([
          [2, 'ising_8x8_T2.0000.npy', 10],
          [3, 'ising_8x8_T3.0000.npy', 10],
        ]);
        expect(meta.adapter?.architecture).toBe('swiftshader');

        const rows = await page.evaluate(() => {
          const panel = labElement('dataset-panel');
          return [...(panel?.shadowRoot?.querySelectorAll('[data-testid="dataset-row"]') ?? [])].map((tr) =>
            [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
          );
        });
        expect(rows.map((r) => r.slice(0, 3))).toEqual(
          meta.temperatures.map((t) => [t.T.toFixed(4), '10', String(t.interval)]),
        );
        expect(field(await panelFields(page), 'dataset-banner').text).toMatch(/^Complete: 20 configurations/);
        const panel = await page.evaluateHandle(() => labElement('dataset-panel') ?? null);
        await (panel.asElement() as ElementHandle<Element>).screenshot({
          path: join(results, 'dataset-panel.png'),
        });
        console.info(`data set 8², T = 2, 3, 10 samples each: ${seconds.toFixed(1)} s`);

        // Cancel during sampling: what was taken is offered, marked incomplete; the old links are revoked.
        await setPanelInput(page, 'dataset-samples', '20000');
        await clickPanel(page, 'dataset-generate');
        await page.waitForFunction(
          () => {
            const panel = labElement('dataset-panel');
            const p = panel?.shadowRoot?.querySelector<HTMLElement>('[data-testid="dataset-progress"]');
            return p?.dataset.phase === 'sample' && Number(p.dataset.done) > 0;
          },
          { timeout: DATASET_TIMEOUT, polling: 50 },
        );
        const progress = field(await panelFields(page), 'dataset-progress').text;
        expect(progress).toMatch(/Step 3 of 3 · Sampling [\d,]+ \/ [\d,]+ sweeps/);
        await clickPanel(page, 'dataset-cancel');
        expect(await waitForPanel(page, ['complete', 'incomplete', 'error'], log)).toBe('incomplete');
        const partial = await panelLinks(page);
        expect(partial.map((l) => l.name)).toEqual(links.map((l) => l.name));
        expect(partial.every((l) => l.incomplete)).toBe(true);
        expect(field(await panelFields(page), 'dataset-banner').text).toContain(
          'Incomplete data set — cancelled.',
        );
        const partialMeta = JSON.parse(
          new TextDecoder().decode(await fetchInPage(page, (partial[2] as { href: string }).href)),
        ) as { complete: boolean; temperatures: { samples: number }[] };
        expect(partialMeta.complete).toBe(false);
        const taken = partialMeta.temperatures.map((t) => t.samples);
        expect(taken.every((n) => n < 20000)).toBe(true);
        const partialNpy = npyParts(await fetchInPage(page, (partial[0] as { href: string }).href));
        expect(partialNpy.header).toContain(`'shape': (${taken[0]}, 8, 8)`);
        await expect(fetchInPage(page, (links[0] as { href: string }).href)).rejects.toThrow(/fetch/i);
        await (panel.asElement() as ElementHandle<Element>).screenshot({
          path: join(results, 'dataset-panel-incomplete.png'),
        });
        await expectCleanPage(page, log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'MCRG panel: names a bad level count; a small run draws replica 0 and its blocked levels from the GPU, fills the y_t and y_h tables with the exact values marked; Stop keeps it, Start continues',
    async () => {
      const { page, log } = await openRoom('room=mcrg');
      try {
        await waitForMcrg(page, ['idle'], log);
        let all = await mcrgFields(page);
        expect(field(all, 'mcrg-status').text).toBe('Ready');
        // K defaults to Onsager's K_c = ½ ln(1 + √2).
        const mcrgInput = (id: string): Promise<string | undefined> =>
          componentInput(page, MCRG_PANEL.tag, id);
        const K = await mcrgInput('mcrg-K');
        expect(Number(K)).toBeCloseTo(0.5 * Math.log1p(Math.SQRT2), 12);
        // T edits K = 1/T; "set K_c" puts K_c back.
        await setMcrgInput(page, 'mcrg-T', '2.5');
        expect(Number(await mcrgInput('mcrg-K'))).toBeCloseTo(0.4, 12);
        await clickMcrg(page, 'mcrg-critical');
        expect(Number(await mcrgInput('mcrg-K'))).toBe(Number(K));
        expect(Number(await mcrgInput('mcrg-T'))).toBeCloseTo(2 / Math.log1p(Math.SQRT2), 8);

        // Too many levels for L = 16 is named inline, with the value and the limit; nothing runs.
        await expectInputProblem(
          page,
          MCRG_PANEL,
          log,
          { id: 'mcrg-L', value: '16' },
          '3 levels of b = 2 leave 2 from L 16; the last lattice must be at least 4',
        );
        await setMcrgInput(page, 'mcrg-levels', '2');
        await waitForMcrg(page, ['idle'], log);
        await setMcrgInput(page, 'mcrg-replicas', '16');
        await setMcrgInput(page, 'mcrg-samples-input', String(16 * 2000));
        await setMcrgInput(page, 'mcrg-therm', '20');
        await setMcrgInput(page, 'mcrg-seed', '3');
        expect(await componentStatus(page, 'mcrg-panel')).toBe('idle');

        const t0 = performance.now();
        await clickMcrg(page, 'mcrg-start');
        await waitForMcrg(page, ['running'], log);
        // The tables need ≥ 10 jackknife bins; they appear and fill in while the run goes on.
        await page.waitForFunction(
          () => {
            const panel = labElement('mcrg-panel');
            return (
              panel?.shadowRoot?.querySelector('[data-testid="mcrg-yt"] td[data-value]') !== null ||
              panel?.dataset.status === 'error'
            );
          },
          { timeout: MCRG_TIMEOUT, polling: 100 },
        );
        const firstTable = (performance.now() - t0) / 1000;
        const samplesAtTable = await waitForMcrgValue(page, 'mcrg-samples', 0);
        // More samples come in and are analysed (the tables are re-made as they accumulate).
        await waitForMcrgValue(page, 'mcrg-samples', samplesAtTable + 16 * 50);
        await clickMcrg(page, 'mcrg-stop');
        expect(await waitForMcrg(page, ['stopped', 'complete', 'error'], log)).toBe('stopped');
        all = await mcrgFields(page);
        const stopped = numberOf(all, 'mcrg-samples');
        expect(stopped % 16).toBe(0);
        expect(stopped).toBeGreaterThan(samplesAtTable);
        expect(numberOf(all, 'mcrg-tau')).toBeGreaterThan(0);
        expect(field(all, 'mcrg-tau').text).toMatch(/^\d+(\.\d+)?\(\d+\) measurements/);
        expect(numberOf(all, 'mcrg-bins')).toBeGreaterThanOrEqual(10);

        // y_t: rows N_c = 1 … 7, columns N_r = 1, 2, cells value(err); y_h: 4 rows; the exact values marked.
        const yt = await mcrgTable(page, 'mcrg-yt');
        const yh = await mcrgTable(page, 'mcrg-yh');
        expect(yt.map((r) => r.nc)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
        expect(yh.map((r) => r.nc)).toEqual(['1', '2', '3', '4']);
        for (const row of [...yt, ...yh]) {
          expect(row.cells).toHaveLength(2);
          for (const c of row.cells) {
            expect(c.text).toMatch(/^\d+\.\d+\(\d+\)\*?$/);
            expect(c.err).toBeGreaterThan(0);
            expect(Number.isFinite(c.value)).toBe(true);
            expect(['z1', 'z2', 'z3', 'far']).toContain(c.band);
          }
        }
        expect(numberOf(all, 'mcrg-yt-exact')).toBe(1);
        expect(numberOf(all, 'mcrg-yh-exact')).toBe(1.875);
        expect(field(all, 'mcrg-yt-exact').text).toContain('exact 1');
        expect(field(all, 'mcrg-yh-exact').text).toContain('15/8');
        // The cell colours are the distance from the exact value in errors.
        for (const [table, exactValue] of [
          [yt, 1],
          [yh, 1.875],
        ] as const) {
          for (const c of table.flatMap((r) => r.cells)) {
            const z = Math.abs(c.value - exactValue) / c.err;
            expect(Number(c.z)).toBeCloseTo(z, 6);
            expect(c.band).toBe(z <= 1 ? 'z1' : z <= 2 ? 'z2' : z <= 3 ? 'z3' : 'far');
          }
        }
        // Majority rule on 16² at K_c: y_h is near 15/8 already (a sanity bound, not a precision test).
        const yh22 = yh[1]?.cells[1];
        expect(Math.abs((yh22?.value ?? 0) - 1.875)).toBeLessThan(0.2);

        // Stopped means stopped: nothing more is measured.
        await sleep(800);
        expect(numberOf(await mcrgFields(page), 'mcrg-samples')).toBe(stopped);

        // The canvases show replica 0 and its blocked levels, site by site, straight from the level buffers.
        const levels = await page.evaluate(async () => {
          const panel = labElement('mcrg-panel');
          const runner = panel?.runner;
          if (!panel || !runner) throw new Error('no MCRG runner');
          const out = [];
          for (let n = 0; n < runner.pipeline.sizes.length; n++) {
            const side = runner.pipeline.sizes[n] as number;
            const canvas = panel.shadowRoot?.querySelector<HTMLCanvasElement>(
              `[data-testid="mcrg-level-${n}"]`,
            );
            if (!canvas) throw new Error(`no canvas for level ${n}`);
            out.push({
              side,
              width: canvas.width,
              height: canvas.height,
              placement: panel.levelPlacements[n],
              spins: Array.from((await runner.pipeline.readLevel(n)).subarray(0, side * side)),
            });
          }
          return out;
        });
        expect(levels.map((l) => l.side)).toEqual([16, 8, 4]);
        const palette = { up: rgbOf('#f2a93b'), down: rgbOf('#1f3a80'), background: rgbOf('#ffffff') };
        const drawn: number[][] = [];
        for (const [n, level] of levels.entries()) {
          const png = await (
            await mcrgElement(page, `[data-testid="mcrg-level-${n}"]`)
          ).screenshot({
            path: join(results, `mcrg-level-${n}.png`),
          });
          const shot = await decodePng(page, png);
          const { originX, originY, pixelsPerSite } = level.placement ?? {
            originX: 0,
            originY: 0,
            pixelsPerSite: 0,
          };
          expect(pixelsPerSite).toBeGreaterThanOrEqual(4);
          const sx = shot.width / level.width;
          const sy = shot.height / level.height;
          const sites: number[] = [];
          for (let y = 0; y < level.side; y++)
            for (let x = 0; x < level.side; x++) {
              const px = Math.floor((originX + (x + 0.5) * pixelsPerSite) * sx);
              const py = Math.floor((originY + (y + 0.5) * pixelsPerSite) * sy);
              const seen = classify(shot.rgba, 4 * (py * shot.width + px), palette);
              sites.push(seen === 'up' ? 1 : seen === 'down' ? -1 : 0);
            }
          expect(sites, `level ${n} as drawn vs the level buffer`).toEqual(level.spins);
          drawn.push(sites);
        }
        // …and each drawn level is the majority rule of the one before (where the 2×2 sum is not a tie).
        for (let n = 1; n < drawn.length; n++) {
          const fine = drawn[n - 1] as number[];
          const side = (levels[n] as { side: number }).side;
          let decided = 0;
          for (let Y = 0; Y < side; Y++)
            for (let X = 0; X < side; X++) {
              const f = (x: number, y: number): number => fine[y * 2 * side + x] as number;
              const sum =
                f(2 * X, 2 * Y) + f(2 * X + 1, 2 * Y) + f(2 * X, 2 * Y + 1) + f(2 * X + 1, 2 * Y + 1);
              if (sum === 0) continue;
              decided++;
              expect((drawn[n] as number[])[Y * side + X], `level ${n} site (${X}, ${Y})`).toBe(
                Math.sign(sum),
              );
            }
          expect(decided).toBeGreaterThan(0);
        }
        await (await mcrgElement(page, 'section')).screenshot({ path: join(results, 'mcrg-panel.png') });

        // Start again continues the same run: the count grows from where it stopped.
        expect(field(await mcrgFields(page), 'mcrg-start').text).toBe('Continue');
        const runnerBefore = await page.evaluateHandle(() => labElement('mcrg-panel')?.runner);
        await clickMcrg(page, 'mcrg-start');
        await waitForMcrgValue(page, 'mcrg-samples', stopped);
        const same = await page.evaluate(
          (before) => labElement('mcrg-panel')?.runner === before,
          runnerBefore,
        );
        expect(same).toBe(true);
        await clickMcrg(page, 'mcrg-stop');
        expect(await waitForMcrg(page, ['stopped', 'complete', 'error'], log)).toBe('stopped');
        console.info(
          `MCRG 16², 2 levels, 16 SW replicas on SwiftShader: first tables after ${firstTable.toFixed(1)} s, ` +
            `${stopped} samples at the first Stop`,
        );
        await expectCleanPage(page, log, true);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'study panel: runs Chung & Kao at the test preset (data, training, MCRG) with the live filter, curves and MCRG table, shows results with errors, figures and the report files; Stop gives a partial output',
    async () => {
      const { page, log } = await openRoom('room=studies&study=chung-kao');
      const panel = { tag: 'study-panel', name: 'study panel', errorField: 'study-error' };
      const control = (id: string, value?: string): Promise<void> =>
        value === undefined ? clickComponent(page, panel, id) : setComponentInput(page, panel, id, value);
      const items = (id: string): Promise<(Record<string, string> & { text: string })[]> =>
        componentItems(page, panel.tag, id);
      const STUDY_TIMEOUT = 150_000;
      try {
        await waitForComponent(page, panel, ['idle'], log, READY_TIMEOUT);
        // The page offers `quick` by default; the test runs `test` with a fixed seed.
        expect(await componentInput(page, panel.tag, 'study-preset')).toBe('quick');
        // A bad seed is named before any GPU work.
        await expectInputProblem(
          page,
          panel,
          log,
          { id: 'study-seed', value: '-1' },
          'seed = -1 must be an integer in 0 … 4,294,967,295',
        );
        await control('study-preset', 'test');
        await control('study-seed', '2');
        await waitForComponent(page, panel, ['idle'], log, 5_000);

        const t0 = performance.now();
        await control('study-run');
        await waitForComponent(page, panel, ['running'], log, 10_000);
        // The progress line names the stage while it runs.
        await waitForComponentElements(
          page,
          panel.tag,
          '[data-testid="study-progress"][data-phase^="data"]',
          60_000,
        );
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

        // Every stage reported through context.progress finished: data, training (each filter), MCRG.
        const stages = await items('study-stage');
        expect(stages.map((s) => s.state)).toEqual(stages.map(() => 'done'));
        const names = stages.map((s) => s.stage ?? '');
        expect(names[0]).toMatch(/^data/);
        expect(names).toContain('train filter 1 of 1');
        expect(names.at(-1)).toBe('mcrg 16²');
        for (const s of stages) expect(Number(s.done), s.stage).toBe(Number(s.total));
        const times = await items('study-stage-time');
        expect(times.map((t) => t.stage)).toEqual(['data', 'train filter 1', 'mcrg 16²']);
        for (const t of times) expect(Number(t.value), t.stage).toBeGreaterThan(0);
        // The log pane has the study's own lines.
        const logText = (await items('study-log'))[0]?.text ?? '';
        expect(logText).toMatch(/data: 1000 configurations, τ_int\(E\) = \d/);
        expect(logText).toContain('filter 1: loss');

        // The live views (context.update): the filter drawn while it trained, the curves, the MCRG table.
        const filterViews = await items('study-filter-view');
        expect(Number(filterViews[0]?.filterFrames)).toBeGreaterThanOrEqual(1);
        expect((await items('study-filter')).map((f) => f.model)).toEqual(['filter 1']);
        const canvases = await page.evaluate(() =>
          [
            ...(document
              .querySelector('blockspin-app')
              ?.shadowRoot?.querySelector('study-panel')
              ?.shadowRoot?.querySelectorAll<HTMLCanvasElement>('[data-testid="study-filter"] canvas') ?? []),
          ].map((c) => {
            const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
            // Drawn: every pixel opaque, and not all white (a filter of weights of either sign).
            let opaque = 0;
            let coloured = 0;
            for (let i = 0; i < pixels.length; i += 4) {
              if (pixels[i + 3] === 255) opaque++;
              if (pixels[i] !== pixels[i + 2]) coloured++;
            }
            return { side: c.width, opaque, coloured };
          }),
        );
        expect(canvases).toHaveLength(1);
        expect(canvases[0]!.opaque).toBe(canvases[0]!.side ** 2);
        expect(canvases[0]!.coloured).toBeGreaterThan(0);
        // 5 epochs + the start, loss, cross-entropy and reconstruction: 18 points, rendered at most once a second.
        await waitForComponentElements(
          page,
          panel.tag,
          '[data-testid="study-curves"][data-points="18"] svg',
          30_000,
        );
        const live = (await items('study-mcrg-live'))[0];
        expect(live?.stage).toBe('mcrg 16²');
        expect(live?.final).toBe('true');
        expect(Number(live?.samples)).toBeGreaterThan(0);
        const liveCells = await items('study-mcrg-cell');
        const majority = liveCells.find((c) => c.rule === 'majority' && c.step === '1' && c.nc === '1');
        expect(majority, 'live y_t, majority, N_r = 1, N_c = 1').toBeDefined();
        expect(Number.isFinite(Number(majority!.value))).toBe(true);
        expect(Number(majority!.err)).toBeGreaterThan(0);
        expect(majority!.text).toMatch(/^-?\d+(\.\d+)? ± \d+(\.\d+)?$/);

        // The results: numbers with errors, compared with Table 1 where it has the value.
        const rows = await items('study-result');
        expect(rows.length).toBeGreaterThan(10);
        for (const name of [
          'yt.learned.n1.c7',
          'yt.majority.n1.c7',
          'yt.learned.n2.c7',
          'yt.majority.n2.c7',
        ]) {
          const row = rows.find((r) => r.name === name);
          expect(row, name).toBeDefined();
          const value = Number(row!.value);
          const err = Number(row!.err);
          expect(Number.isFinite(value), name).toBe(true);
          // At 16² and 640 samples the values are far from converged: the test asks for numbers with errors.
          expect(err, name).toBeGreaterThan(0);
          expect(Number.isFinite(err), name).toBe(true);
          expect(Number.isFinite(Number(row!.z)), `${name} z`).toBe(true);
          expect(row!.text).toMatch(/-?\d+\.\d+ ± \d+\.\d+/);
        }

        // The figures, rendered to SVG in the page: the filters, the training curves, y_t against N_c.
        const figureCount = await page.evaluate(() => labElement('study-panel')?.output?.figures.length ?? 0);
        expect(figureCount).toBeGreaterThan(0);
        await waitForComponentElements(
          page,
          panel.tag,
          '[data-testid="study-figure"] svg',
          60_000,
          figureCount,
        );
        const figures = await page.evaluate(() =>
          [
            ...(document
              .querySelector('blockspin-app')
              ?.shadowRoot?.querySelector('study-panel')
              ?.shadowRoot?.querySelectorAll<HTMLElement>('[data-testid="study-figure"]') ?? []),
          ].map((f) => ({ name: f.dataset.name, marks: f.querySelectorAll('svg path, svg rect').length })),
        );
        expect(figures.map((f) => f.name)).toEqual(
          expect.arrayContaining(['filter-evolution', 'filters-final', 'training-loss', 'yt-vs-nc-n1']),
        );
        for (const f of figures) expect(f.marks, f.name).toBeGreaterThan(4);
        await (
          await componentElement(page, panel, 'section')
        ).screenshot({
          path: join(results, 'study-panel.png'),
        });

        // Download report: one link per file of the report directory; report.json says what ran.
        await control('study-download');
        await waitForComponentElements(page, panel.tag, '[data-testid="study-file"]', 60_000);
        const files = (await items('study-file')).map((f) => f.name);
        expect(files).toEqual(
          expect.arrayContaining(['report.json', 'report.md', 'figures/yt-vs-nc-n1.svg']),
        );
        const report = await page.evaluate(async () => {
          const host = labElement('study-panel');
          const link = host?.shadowRoot?.querySelector<HTMLAnchorElement>(
            '[data-testid="study-file"][data-name="report.json"]',
          );
          if (!link) throw new Error('no report.json link');
          return (await (await fetch(link.href)).json()) as {
            complete: boolean;
            preset: string;
            seed: number;
            results: unknown[];
            figures: string[];
          };
        });
        expect(report.complete).toBe(true);
        expect(report.preset).toBe('test');
        expect(report.seed).toBe(2);
        expect(report.results).toHaveLength(rows.length);
        expect(report.figures).toHaveLength(figureCount);
        console.info(
          `Chung & Kao test preset in the page on SwiftShader: ${seconds.toFixed(1)} s ` +
            `(${times.map((t) => `${t.stage} ${Number(t.value).toFixed(1)} s`).join(', ')})`,
        );

        // Stop during the data stage: the study returns what it has, shown marked partial.
        await control('study-run');
        await waitForComponent(page, panel, ['running'], log, 10_000);
        await waitForComponentElements(page, panel.tag, '[data-testid="study-stage"]', 60_000);
        await control('study-stop');
        expect(await waitForComponent(page, panel, ['complete', 'partial', 'error'], log, 60_000)).toBe(
          'partial',
        );
        expect((await items('study-partial'))[0]?.text).toContain('stopped in the lab (Stop)');
        expect((await items('study-stage')).at(-1)?.state).toBe('stopped');

        await expectCleanPage(page, log, true);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );

  it(
    'shows the adapter and a π estimate within 5 standard errors, equal to the CPU oracle; runs again',
    async () => {
      const { page, log } = await openPage('/?room=diagnostics');
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
    'shows device loss in the page, and Restart runs the room again on a new device',
    async () => {
      const { page, log } = await openPage('/?L=64');
      try {
        const status = await waitForStatus(page, ['ready', 'error'], log);
        if (status !== 'ready') throw new Error(`the demo reported an error: ${await errorDetails(page)}`);
        await waitForView(page, ['running'], log);
        await page.evaluate(() => document.querySelector('blockspin-app')?.context?.destroy());
        await waitForStatus(page, ['error'], log);
        expect(await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error)).toBe(
          'lost',
        );
        expect(await errorDetails(page)).toMatch(/lost.*reason: destroyed/s);
        // The Ising view stops and says so.
        await waitForView(page, ['error'], log);
        expect(await page.evaluate(() => labElement('blockspin-lattice')?.dataset.error)).toBe('lost');
        expect(field(await viewFields(page), 'ising-error-message').text).toContain('lost');
        await page.screenshot({ path: join(results, 'demo-lost.png'), fullPage: true });
        // Restart acquires a new device and the room starts afresh on it.
        await page.evaluate(() => labElement<HTMLButtonElement>('[data-testid="restart"]')?.click());
        await waitForStatus(page, ['ready'], log);
        await waitForView(page, ['running'], log);
        expect(
          await page.evaluate(() => document.querySelector('blockspin-app')?.dataset.error),
        ).toBeUndefined();
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
      const { page, log } = await openPage('/?room=diagnostics&samples=0&seed=1');
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
        expect(await viewStatus(page)).toBe('(no blockspin-lattice)');
        await page.screenshot({ path: join(results, 'demo-no-webgpu.png'), fullPage: true });
        expectNoPageErrors(log);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT,
  );
});
