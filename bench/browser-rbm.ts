/**
 * RBM training in the browser at 128²: samples per second of CD-1 updates of the lab's "Ising 128² conv" and
 * "Ising 128² dense 16384×1024" presets, trained in the page by <blockspin-rbm-trainer> on 128² Ising
 * configurations generated there, on the adapter the page gets. It builds and serves the demo and drives headless
 * Chromium through the end-to-end harness (test/e2e/harness.ts: SwiftShader without a GPU), opens the RBM room
 * and calls the trainer's `benchmark()`: a warm-up update, then timed updates (each waited for) until the count or
 * the time budget is reached. The whole run is capped (default 3 minutes). Prints a markdown table and JSON.
 *
 *   npx tsx bench/browser-rbm.ts [--updates 8] [--budget 45] [--cap 180] [--json]
 */
import { parseArgs } from 'node:util';
import type { Page } from 'puppeteer';
import { openPage, startDemo, stopDemo } from '../test/e2e/harness.ts';
import type { TrainerBenchmark } from '../src/elements/rbm-trainer.ts';

const { values } = parseArgs({
  options: {
    updates: { type: 'string', default: '8' },
    budget: { type: 'string', default: '45' },
    cap: { type: 'string', default: '180' },
    json: { type: 'boolean', default: false },
  },
});
const updates = Number(values.updates);
const budgetSeconds = Number(values.budget);
const capSeconds = Number(values.cap);
for (const [name, x] of [
  ['--updates', updates],
  ['--budget', budgetSeconds],
  ['--cap', capSeconds],
] as const) {
  if (!(x > 0)) throw new Error(`${name} ${x} must be > 0`);
}

const PRESETS = ['ising-128-conv', 'ising-128-dense'] as const;

interface Row extends TrainerBenchmark {
  wallSeconds: number;
}

/** Waits for the RBM room's trainer to be ready (its device acquired). */
async function readyTrainer(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      ['idle', 'resumable'].includes(
        document
          .querySelector('blockspin-app')
          ?.shadowRoot?.querySelector('rbm-room')
          ?.shadowRoot?.querySelector<HTMLElement>('blockspin-rbm-trainer')?.dataset.status ?? '',
      ),
    { timeout: 120_000, polling: 200 },
  );
}

async function run(): Promise<{ adapter: Record<string, string>; rows: Row[]; skipped: string[] }> {
  await startDemo();
  const { page, log } = await openPage('/?room=rbm');
  try {
    await readyTrainer(page);
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      const i = a?.info;
      return {
        vendor: i?.vendor ?? '',
        architecture: i?.architecture ?? '',
        description: i?.description ?? '',
        maxStorageBufferBindingSize: String(a?.limits.maxStorageBufferBindingSize ?? ''),
        userAgent: navigator.userAgent,
      };
    });
    const rows: Row[] = [];
    const skipped: string[] = [];
    const started = performance.now();
    for (const preset of PRESETS) {
      const left = capSeconds - (performance.now() - started) / 1000;
      if (left < 10) {
        skipped.push(`${preset}: the ${capSeconds} s cap was reached`);
        continue;
      }
      const t0 = performance.now();
      const result = await page.evaluate(
        (p: string, u: number, b: number) => {
          const trainer = document
            .querySelector('blockspin-app')
            ?.shadowRoot?.querySelector('rbm-room')
            ?.shadowRoot?.querySelector('blockspin-rbm-trainer');
          if (!trainer) throw new Error('no <blockspin-rbm-trainer> in the RBM room');
          return trainer.benchmark({ preset: p, updates: u, budgetSeconds: b });
        },
        preset,
        updates,
        Math.min(budgetSeconds, left / 2),
      );
      rows.push({ ...result, wallSeconds: (performance.now() - t0) / 1000 });
    }
    // Under tsx (esbuild keepNames) the harness's injected `defineLabElement` refers to esbuild's `__name`
    // helper, which the page lacks: that one error is harmless here (this script does not use labElement).
    const errors = log.pageErrors.filter((e) => !/__name is not defined/.test(e.message));
    if (errors.length > 0) throw errors[0]!;
    return { adapter, rows, skipped };
  } finally {
    await page.close();
  }
}

function table(rows: Row[]): string {
  const lines = [
    '| model | nv × nh | batch | CD-k | timed updates | s / update | samples/s | data (s) |',
    '| ----- | ------- | ----- | ---- | ------------- | ---------- | --------- | -------- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.model} | ${r.nv} × ${r.nh} | ${r.batch} | ${r.k} | ${r.updates} | ${r.secondsPerUpdate.toFixed(3)} | ` +
        `${r.samplesPerSecond.toFixed(1)} | ${r.dataSeconds.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

const timeout = new Promise<never>((_, reject) =>
  setTimeout(
    () => reject(new Error(`bench/browser-rbm.ts: over the ${capSeconds + 120} s limit`)),
    (capSeconds + 120) * 1000,
  ).unref(),
);
try {
  const { adapter, rows, skipped } = await Promise.race([run(), timeout]);
  const date = new Date().toISOString();
  if (!values.json) {
    process.stdout.write(
      `RBM training in the browser, 128² (CD-1 updates in the page; ${date})\n` +
        `adapter: ${adapter.vendor} / ${adapter.architecture} ${adapter.description ? `(${adapter.description})` : ''}\n\n` +
        `${table(rows)}\n${skipped.map((s) => `skipped: ${s}\n`).join('')}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ date, adapter, rows, skipped }, null, 2)}\n`);
} finally {
  await stopDemo();
}
