/**
 * End-to-end, the lab's RBM room (`?room=rbm`, <rbm-room> with <blockspin-rbm-trainer>): builds the demo, serves
 * it with `vite preview` and drives it in headless Chromium with WebGPU on SwiftShader.
 * - A tiny Ising RBM (8×8 lattice, two temperatures, dense 64 → 16) set through the URL trains in the page; a
 *   reload mid-run offers "Resume epoch N of M" from the OPFS checkpoint, and resuming finishes the run with the
 *   epoch count and history kept: the curves have a point per epoch, the filter mosaic and the samples are drawn,
 *   nothing scrolls sideways at 1280 px. The downloads are a model directory that parseModelFiles,
 *   parseCheckpointFiles and the CLI's loaders accept with the right shapes; `blockspin rbm train --resume`
 *   continues the page's run from them; uploading the CLI's model continues it in the page again.
 * - The 128² presets show a timed estimate and are refused when the cap is below it (nothing trains at 128²);
 *   outside the lab the element acquires the page's shared device.
 * - A lost device stops the run; the app's restart re-creates the room and the run resumes from its checkpoint.
 * - Stop keeps the last epoch's checkpoint and offers to resume it; without OPFS the checkpoints go to IndexedDB,
 *   and a reload still resumes.
 * - The MNIST preset (made small) trains on digits in the page.
 * Screenshots: test-results/room-rbm.png (and room-rbm-full.png), room-rbm-large.png, room-rbm-large-dense.png.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, parseCheckpointFiles } from '../../src/rbm/checkpoint.ts';
import { cli } from '../helpers/cli.ts';
import { loadModel, parseModelFiles } from '../../src/rbm/model-files.ts';
import {
  openPage,
  READY_TIMEOUT,
  results,
  START_TIMEOUT,
  startDemo,
  stopDemo,
  type PageLog,
} from './harness.ts';

/** The tiny run, as URL settings of the room (each is a field of the trainer's form). */
const TINY =
  '/?room=rbm&preset=ising-32-quick&L=8&temperatures=1.8,3.5&perT=100&therm=100&every=2&hidden=16&batch=10&epochs=4';

const TRAIN_TIMEOUT = 150_000;

/** The trainer inside the app's and the room's shadow roots (the harness's `labElement`). */
async function trainer(page: Page): Promise<ElementHandle<HTMLElement>> {
  const handle = await page.evaluateHandle(() => labElement('blockspin-rbm-trainer') ?? null);
  const element = handle.asElement();
  if (!element) throw new Error('no <blockspin-rbm-trainer> in the RBM room');
  return element as ElementHandle<HTMLElement>;
}

/** The trainer's `data-status`, `data-error` and `data-epoch`, and its error messages. */
async function trainerState(
  page: Page,
): Promise<{ status: string; error: string; epoch: number; problems: string[] }> {
  const t = await trainer(page);
  return t.evaluate((el) => ({
    status: el.dataset.status ?? '',
    error: el.dataset.error ?? '',
    epoch: Number(el.dataset.epoch ?? 0),
    problems: [...(el.shadowRoot?.querySelectorAll('[data-testid="rbm-error-message"]') ?? [])].map(
      (li) => li.textContent?.trim() ?? '',
    ),
  }));
}

/** Waits for the trainer to reach one of `statuses` (the error names its state and the page's errors). */
async function waitForTrainer(
  page: Page,
  statuses: string[],
  log: PageLog,
  timeout: number,
): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = await trainerState(page).catch(() => null);
    if (s && statuses.includes(s.status)) return s.status;
    if (Date.now() - t0 > timeout) {
      throw new Error(
        `the trainer did not reach ${statuses.join('|')} within ${timeout / 1000} s: ${JSON.stringify(s)}; ` +
          `console errors ${JSON.stringify(log.consoleErrors)}; page errors ${log.pageErrors.map((e) => e.message).join('; ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Clicks a button of the trainer by test id (an error if it is missing or disabled). */
async function click(page: Page, testid: string): Promise<void> {
  const t = await trainer(page);
  await t.evaluate((el, id) => {
    const b = el.shadowRoot?.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`);
    if (!b) throw new Error(`no [data-testid="${id}"]`);
    if (b.disabled) throw new Error(`[data-testid="${id}"] is disabled`);
    b.click();
  }, testid);
}

/** Sets a field of the trainer's form and fires `change`, as a user edit would. */
async function setField(page: Page, testid: string, value: string): Promise<void> {
  const t = await trainer(page);
  await t.evaluate(
    (el, id, v) => {
      const input = el.shadowRoot?.querySelector<HTMLInputElement | HTMLSelectElement>(
        `[data-testid="${id}"]`,
      );
      if (!input) throw new Error(`no [data-testid="${id}"]`);
      input.value = v;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    testid,
    value,
  );
}

/** What the live view shows: points per curve, drawn (non-background) pixels of each canvas, tiles. */
async function liveView(page: Page): Promise<{
  curves: Record<string, number>;
  filters: { tiles: number; inked: number; width: number };
  samples: { tiles: number; inked: number; width: number };
}> {
  const t = await trainer(page);
  return t.evaluate((el) => {
    const root = el.shadowRoot!;
    const curves: Record<string, number> = {};
    for (const p of root.querySelectorAll<HTMLElement>('blockspin-plot'))
      curves[p.dataset.testid ?? '?'] = Number(p.dataset.points ?? 0);
    const canvas = (id: string): { tiles: number; inked: number; width: number } => {
      const c = root.querySelector<HTMLCanvasElement>(`canvas[data-testid="${id}"]`)!;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      // Background and gaps are #dde2ea; anything else is a drawn unit.
      for (let i = 0; i < px.length; i += 4)
        if (px[i] !== 221 || px[i + 1] !== 226 || px[i + 2] !== 234) inked++;
      return { tiles: Number(c.dataset.tiles), inked, width: c.width };
    };
    return { curves, filters: canvas('rbm-filters'), samples: canvas('rbm-samples') };
  });
}

/** The downloads offered: name → bytes (fetched from their object URLs in the page). */
async function downloads(page: Page): Promise<Record<string, Uint8Array>> {
  const t = await trainer(page);
  const files = await t.evaluate(async (el) => {
    const out: Record<string, number[]> = {};
    for (const a of el.shadowRoot?.querySelectorAll<HTMLAnchorElement>('a[data-testid="rbm-download"]') ??
      []) {
      out[a.download] = [...new Uint8Array(await (await fetch(a.href)).arrayBuffer())];
    }
    return out;
  });
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Uint8Array.from(v)]));
}

describe('RBM room (built demo, vite preview, headless Chromium on SwiftShader)', () => {
  beforeAll(startDemo, START_TIMEOUT);
  afterAll(stopDemo);

  it(
    'trains a tiny Ising RBM live, offers CLI model files, and resumes from the OPFS checkpoint after a reload',
    async () => {
      const { page, log } = await openPage(TINY);
      try {
        await page.setViewport({ width: 1280, height: 800 });
        await waitForTrainer(page, ['idle'], log, READY_TIMEOUT);
        await click(page, 'rbm-train');
        // Reload once two epochs are checkpointed (the run is then mid-way: 4 epochs requested).
        await page.waitForFunction(
          () => Number(labElement('blockspin-rbm-trainer')?.dataset.epoch ?? 0) >= 2,
          { timeout: TRAIN_TIMEOUT, polling: 50 },
        );
        await page.reload({ waitUntil: 'load' });
        await waitForTrainer(page, ['resumable'], log, READY_TIMEOUT);
        const saved = await (
          await trainer(page)
        ).evaluate((el) => {
          const b = el.shadowRoot!.querySelector<HTMLElement>('[data-testid="rbm-saved"]')!;
          return {
            epoch: Number(b.dataset.epoch),
            epochs: Number(b.dataset.epochs),
            button: el.shadowRoot!.querySelector('[data-testid="rbm-resume"]')?.textContent?.trim(),
          };
        });
        expect(saved.epoch).toBeGreaterThanOrEqual(2);
        expect(saved.epoch).toBeLessThan(4);
        expect(saved.epochs).toBe(4);
        expect(saved.button).toBe(`Resume epoch ${saved.epoch} of 4`);
        // The URL settings survived the reload too.
        expect(page.url()).toContain('hidden=16');

        await click(page, 'rbm-resume');
        await waitForTrainer(page, ['complete'], log, TRAIN_TIMEOUT);
        const s = await trainerState(page);
        expect(s.epoch).toBe(4);
        // Plots redraw (and reflect data-points) at the next animation frame.
        await page
          .waitForFunction(
            () =>
              [
                ...(labElement('blockspin-rbm-trainer')?.shadowRoot?.querySelectorAll<HTMLElement>(
                  'blockspin-plot',
                ) ?? []),
              ].every((p) => Number(p.dataset.points) >= 4),
            { timeout: 10_000, polling: 100 },
          )
          .catch(() => {});
        const view = await liveView(page);
        // The history before the reload is kept: one point per epoch, 1 … 4.
        expect(view.curves['rbm-curve-recon']).toBe(4);
        expect(view.curves['rbm-curve-gap']).toBe(4);
        expect(view.curves['rbm-curve-pll']).toBe(4);
        expect(view.filters.tiles).toBe(16);
        expect(view.filters.inked).toBeGreaterThan(16 * 64 * 0.5);
        expect(view.samples.tiles).toBe(16);
        expect(view.samples.inked).toBeGreaterThan(16 * 64 * 0.9);

        // Laptop layout: nothing wider than the 1280-pixel window.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);

        const files = await downloads(page);
        expect(Object.keys(files).sort()).toEqual(
          ['W.npy', 'a.npy', 'b.npy', 'checkpoint.json', 'data.npy', 'model.json', 'optimizer.npy'].sort(),
        );
        const model = parseModelFiles(files, 'downloaded model');
        expect(model.rbm.units).toBe('ising');
        expect('nv' in model.rbm && [model.rbm.nv, model.rbm.nh, model.rbm.W.length]).toEqual([
          64,
          16,
          64 * 16,
        ]);
        expect(model.history).toHaveLength(4);
        expect(model.training.visibleShape).toEqual([8, 8]);
        const checkpoint = parseCheckpointFiles(files, 'downloaded checkpoint');
        expect([checkpoint.meta.epochs, checkpoint.state.updates]).toEqual([4, 4 * 16]);
        expect(checkpoint.meta.data.n).toBe(160);

        // The CLI's own loaders (`rbm eval|sample --model DIR`, `rbm train --resume DIR`) read them from a directory.
        const dir = mkdtempSync(join(tmpdir(), 'blockspin-rbm-room-'));
        try {
          for (const [name, b] of Object.entries(files)) writeFileSync(join(dir, name), b);
          expect((await loadModel(dir)).rbm).toMatchObject({ nv: 64, nh: 16, units: 'ising' });
          expect((await loadCheckpoint(dir)).meta.epochs).toBe(4);
          // The CLI continues the page's run: same data (fingerprint checked), its optimiser state and history.
          const resumed = await cli([
            'rbm',
            'train',
            '--data',
            join(dir, 'data.npy'),
            '--resume',
            dir,
            '--out',
            dir,
            '--epochs',
            '5',
          ]);
          expect(resumed.stderr).toMatch(/checkpoint and model in .* \(epoch 5, 80 updates\)/);
          expect(resumed.code).toBe(0);
          const cliModel = await loadModel(dir);
          expect(cliModel.history).toHaveLength(5);

          await page.screenshot({ path: join(results, 'room-rbm.png') });
          await page.screenshot({ path: join(results, 'room-rbm-full.png'), fullPage: true });

          // Upload the model directory's four files (the CLI's epoch-5 model now) to continue from it, two more epochs.
          const upload = await (
            await trainer(page)
          ).evaluateHandle((el) => el.shadowRoot!.querySelector('input[data-testid="rbm-upload"]'));
          await (upload.asElement() as ElementHandle<HTMLInputElement>).uploadFile(
            ...['model.json', 'W.npy', 'a.npy', 'b.npy'].map((n) => join(dir, n)),
          );
          await page.waitForFunction(
            () =>
              !!labElement('blockspin-rbm-trainer')?.shadowRoot?.querySelector(
                '[data-testid="rbm-uploaded"]',
              ),
            { timeout: 10_000 },
          );
          await setField(page, 'rbm-epochs', '2');
          await click(page, 'rbm-train');
          await waitForTrainer(page, ['complete'], log, TRAIN_TIMEOUT);
          expect((await trainerState(page)).epoch).toBe(2);
          const continued = parseModelFiles(await downloads(page), 'continued model');
          expect(continued.training).toMatchObject({ epochs: 2, startedFromEpochs: 5 });
          expect(String(continued.training.startedFrom)).toContain('W.npy');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        expect(log.pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + 2 * TRAIN_TIMEOUT,
  );

  it(
    'the 128² presets show a timed estimate and refuse to start when it exceeds the cap; standalone, the element acquires a device',
    async () => {
      const { page, log } = await openPage('/?room=rbm&preset=ising-128-conv');
      try {
        await page.setViewport({ width: 1280, height: 800 });
        await waitForTrainer(page, ['idle', 'resumable'], log, READY_TIMEOUT);
        await setField(page, 'rbm-capMinutes', '0.0001');
        await click(page, 'rbm-train');
        await waitForTrainer(page, ['error'], log, TRAIN_TIMEOUT);
        const s = await trainerState(page);
        expect(s.error).toBe('cap');
        expect(s.problems.join(' ')).toMatch(
          /estimate is .* per epoch .* above the cap of 0\.0001 min per epoch/,
        );
        const estimate = await (
          await trainer(page)
        ).evaluate((el) => {
          const e = el.shadowRoot!.querySelector<HTMLElement>('[data-testid="rbm-estimate"]');
          return {
            text: e?.textContent?.replace(/\s+/g, ' ').trim() ?? '',
            perEpoch: Number(e?.dataset.secondsPerEpoch),
          };
        });
        expect(estimate.text).toMatch(
          /Estimate: ≈ .* per epoch \(14 updates × .*timed over \d+ updates? on this adapter/,
        );
        expect(estimate.perEpoch).toBeGreaterThan(0);
        // Nothing was trained.
        expect(s.epoch).toBe(0);
        await page.screenshot({ path: join(results, 'room-rbm-large.png') });

        // The dense 16384 × 1024 preset: Estimate times it (64 MiB of weights) without training.
        await setField(page, 'rbm-preset', 'ising-128-dense');
        await setField(page, 'rbm-capMinutes', '10');
        await click(page, 'rbm-estimate-button');
        await page.waitForFunction(
          () =>
            !!labElement('blockspin-rbm-trainer')?.shadowRoot?.querySelector('[data-testid="rbm-estimate"]'),
          { timeout: TRAIN_TIMEOUT, polling: 200 },
        );
        await waitForTrainer(page, ['idle', 'resumable', 'error'], log, TRAIN_TIMEOUT);
        const dense = await (
          await trainer(page)
        ).evaluate((el) => el.shadowRoot!.querySelector('[data-testid="rbm-estimate"]')?.textContent ?? '');
        expect(dense).toMatch(/per epoch \(14 updates × /);
        expect(page.url()).toContain('preset=ising-128-dense');
        expect((await trainerState(page)).epoch).toBe(0);
        await page.screenshot({ path: join(results, 'room-rbm-large-dense.png') });

        // Outside the lab (as `blockspin/elements` in any page): without a device it acquires the page's shared one.
        const standalone = await page.evaluate(async () => {
          const el = document.createElement('blockspin-rbm-trainer');
          el.setAttribute('store-key', 'standalone');
          el.preset = 'mnist';
          document.body.append(el);
          for (let i = 0; i < 600 && el.dataset.status !== 'idle'; i++)
            await new Promise((r) => setTimeout(r, 100));
          const status = el.dataset.status;
          const preset = el.shadowRoot?.querySelector<HTMLSelectElement>('[data-testid="rbm-preset"]')?.value;
          el.remove();
          return { status, preset };
        });
        expect(standalone).toEqual({ status: 'idle', preset: 'mnist' });
        expect(log.pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + TRAIN_TIMEOUT,
  );
  it(
    'a lost device stops the run, the app restarts on a new device and the run resumes from its checkpoint',
    async () => {
      const { page, log } = await openPage(TINY.replace('epochs=4', 'epochs=6'));
      try {
        await waitForTrainer(page, ['idle', 'resumable'], log, READY_TIMEOUT);
        await click(page, 'rbm-train');
        await page.waitForFunction(
          () => Number(labElement('blockspin-rbm-trainer')?.dataset.epoch ?? 0) >= 1,
          { timeout: TRAIN_TIMEOUT, polling: 50 },
        );
        // Lose the lab's device mid-run (as a driver reset would).
        await (
          await trainer(page)
        ).evaluate((el) => (el as HTMLElement & { device: GPUDevice }).device.destroy());
        await waitForTrainer(page, ['error'], log, 30_000);
        const lost = await trainerState(page);
        expect(lost.error).toBe('lost');
        expect(lost.problems.join(' ')).toMatch(
          /The GPU device was lost \(destroyed\)\. The checkpoint of epoch \d+ is kept/,
        );
        await page.evaluate(() =>
          document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector<HTMLButtonElement>('[data-testid="restart"]')
            ?.click(),
        );
        await waitForTrainer(page, ['resumable'], log, READY_TIMEOUT);
        const saved = await (
          await trainer(page)
        ).evaluate((el) => {
          const b = el.shadowRoot!.querySelector<HTMLElement>('[data-testid="rbm-saved"]')!;
          return [Number(b.dataset.epoch), Number(b.dataset.epochs)];
        });
        expect(saved[0]).toBeGreaterThanOrEqual(1);
        expect(saved[0]).toBeLessThan(6);
        expect(saved[1]).toBe(6);
        await click(page, 'rbm-resume');
        await waitForTrainer(page, ['complete'], log, TRAIN_TIMEOUT);
        expect((await trainerState(page)).epoch).toBe(6);
        expect(log.pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + 2 * TRAIN_TIMEOUT,
  );
  it(
    'PCD with momentum: Stop keeps the checkpoint; without OPFS the checkpoints go to IndexedDB, and a reload still resumes',
    async () => {
      const { page, log } = await openPage(
        `${TINY.replace('epochs=4', 'epochs=8')}&method=pcd&chains=20&optimizer=momentum`,
        (p) =>
          p.evaluateOnNewDocument(() => {
            // A browser without the origin-private file system.
            delete (StorageManager.prototype as Partial<StorageManager>).getDirectory;
          }),
      );
      try {
        await waitForTrainer(page, ['idle'], log, READY_TIMEOUT);
        const note = await (
          await trainer(page)
        ).evaluate((el) => el.shadowRoot!.querySelector('[data-testid="rbm-store"]')?.textContent ?? '');
        expect(note).toMatch(/no origin-private file system/);
        await click(page, 'rbm-train');
        await page.waitForFunction(
          () => Number(labElement('blockspin-rbm-trainer')?.dataset.epoch ?? 0) >= 2,
          { timeout: TRAIN_TIMEOUT, polling: 50 },
        );
        // Stop keeps the last epoch's checkpoint and offers to resume it at once.
        await click(page, 'rbm-stop');
        await waitForTrainer(page, ['stopped'], log, TRAIN_TIMEOUT);
        const stopped = await trainerState(page);
        expect(stopped.epoch).toBeGreaterThanOrEqual(2);
        expect(stopped.epoch).toBeLessThan(8);
        const offer = await (
          await trainer(page)
        ).evaluate((el) => el.shadowRoot!.querySelector('[data-testid="rbm-resume"]')?.textContent?.trim());
        expect(offer).toBe(`Resume epoch ${stopped.epoch} of 8`);
        await page.reload({ waitUntil: 'load' });
        await waitForTrainer(page, ['resumable'], log, READY_TIMEOUT);
        await click(page, 'rbm-resume');
        await waitForTrainer(page, ['complete'], log, TRAIN_TIMEOUT);
        expect((await trainerState(page)).epoch).toBe(8);
        // A PCD run: its checkpoint holds the chains, and the samples shown are those chains.
        expect(Object.keys(await downloads(page))).toContain('chains.npy');
        const caption = await (
          await trainer(page)
        ).evaluate(
          (el) =>
            el.shadowRoot!.querySelector('[data-testid="rbm-samples"]')?.parentElement?.textContent ?? '',
        );
        expect(caption).toMatch(/persistent \(PCD\) chains/);
        expect(log.pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + 2 * TRAIN_TIMEOUT,
  );
  it(
    'trains on MNIST digits in the page (the MNIST preset, made small)',
    async () => {
      const { page, log } = await openPage(
        '/?room=rbm&preset=mnist&mnistCount=100&hidden=16&epochs=1&digits=0,1',
      );
      try {
        await waitForTrainer(page, ['idle', 'resumable'], log, READY_TIMEOUT);
        await click(page, 'rbm-train');
        await waitForTrainer(page, ['complete', 'error'], log, TRAIN_TIMEOUT);
        const s = await trainerState(page);
        expect(s.problems).toEqual([]);
        expect(s.epoch).toBe(1);
        const view = await liveView(page);
        expect(view.samples.tiles).toBe(16);
        expect(view.samples.width).toBe(4 * 29 + 1); // 28×28 digits, 4 per row
        const info = await (
          await trainer(page)
        ).evaluate((el) => el.shadowRoot!.querySelector('[data-testid="rbm-data-info"]')?.textContent ?? '');
        expect(info).toMatch(/100 samples of 28×28 .*: 80 for training, 20 held out/);
        expect(log.pageErrors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    READY_TIMEOUT + TRAIN_TIMEOUT,
  );
});
