/**
 * Node side of the `bench rbm` peers that cannot run in Node:
 * - the browser harness: builds this folder's page with Vite (into a temporary directory), serves it on
 *   127.0.0.1 with `vite preview`, opens it in headless Chromium through puppeteer, waits for
 *   `window.rbmBench` and returns it (blockspin and TensorFlow.js timed in the same page);
 * - scikit-learn's BernoulliRBM (bench/sklearn_rbm.py) under /usr/bin/python3, when `import sklearn` works.
 * Needs a source checkout with the dev dependencies (vite, puppeteer, @tensorflow/*) and Chromium.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RbmBenchModel } from '../rbm.ts';
import type { BrowserRbmReport } from './report.ts';

const here = import.meta.dirname;
const root = resolve(here, '../..');

/**
 * Imports a dev dependency at run time. The specifier is a variable so that the library build (which
 * bundles the CLI) leaves vite and puppeteer out instead of bundling them.
 */
async function devImport<T>(name: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ name)) as T;
  } catch (err) {
    throw new Error(
      `the browser harness needs the dev dependency '${name}' (npm install in a source checkout)`,
      { cause: err },
    );
  }
}

/** Debian's chromium; PUPPETEER_EXECUTABLE_PATH (puppeteer's own variable) overrides it. */
export const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';

const COMMON_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Without a GPU, Chromium's WebGPU runs on its bundled SwiftShader Vulkan driver (the same library the
 * Node run loads), and ANGLE on SwiftShader gives TF.js's WebGL fallback a context. With a GPU, Chromium
 * picks its default (hardware) adapter.
 */
function chromiumArgs(software: boolean): string[] {
  return software
    ? [
        ...COMMON_ARGS,
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-webgpu-adapter=swiftshader',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
      ]
    : [
        ...COMMON_ARGS,
        '--enable-features=Vulkan,VulkanFromANGLE',
        '--use-angle=vulkan',
        '--ignore-gpu-blocklist',
      ];
}

export interface BrowserRunOptions {
  models: RbmBenchModel[];
  ks: number[];
  batch: number;
  steps: number;
  warmup: number;
  /** Run blockspin in the page as well (default true). */
  blockspin?: boolean;
  /** Bernoulli draws of the TF.js peer (see tfjs-rbm.ts). */
  rngs: ('uniform' | 'hash')[];
  /** TF.js backends to try in order (default webgpu, webgl, cpu). */
  backends?: string[];
  /** The Node adapter was software (SwiftShader): pin Chromium to SwiftShader too. */
  software: boolean;
  /** Milliseconds the page may take (default 30 min). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface BrowserRunResult {
  report: BrowserRbmReport;
  chromium: string;
  consoleErrors: string[];
}

/** Builds, serves and runs the harness page; returns what it reported. */
export async function runBrowserRbm(options: BrowserRunOptions): Promise<BrowserRunResult> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set PUPPETEER_EXECUTABLE_PATH)`,
    );
  }
  if (!existsSync(join(here, 'index.html'))) {
    throw new Error(`the harness page is not at ${here} (the browser harness needs a source checkout)`);
  }
  const log = options.log ?? (() => {});
  const [{ build, preview }, { default: puppeteer }] = await Promise.all([
    devImport<typeof import('vite')>('vite'),
    devImport<typeof import('puppeteer')>('puppeteer'),
  ]);
  const outDir = mkdtempSync(join(tmpdir(), 'blockspin-rbm-bench-'));
  const userDataDir = mkdtempSync(join(tmpdir(), 'blockspin-chromium-'));
  const config = {
    configFile: false as const,
    root: here,
    logLevel: 'warn' as const,
    publicDir: false as const,
    // wgsl_reflect's `main` is CommonJS inside a `"type": "module"` package: use its ES module.
    resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      // src/gpu/node-gpu.ts (Dawn) is only imported under Node.
      rollupOptions: { external: [/^node:/] },
      chunkSizeWarningLimit: 4096,
    },
  };
  let server: Awaited<ReturnType<typeof preview>> | undefined;
  let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
  try {
    log('browser harness: building the page with Vite');
    await build(config);
    server = await preview({ ...config, preview: { host: '127.0.0.1', port: 0 } });
    const address = server.httpServer.address() as AddressInfo | null;
    if (!address) throw new Error('vite preview did not listen');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumArgs(options.software),
      userDataDir,
      protocolTimeout: options.timeoutMs ?? 30 * 60_000,
    });
    const chromium = await browser.version();
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e instanceof Error ? (e.stack ?? e.message) : String(e)));
    const query = new URLSearchParams({
      models: options.models.join(','),
      ks: options.ks.join(','),
      batch: String(options.batch),
      steps: String(options.steps),
      warmup: String(options.warmup),
      blockspin: options.blockspin === false ? '0' : '1',
      rng: options.rngs.join(','),
      backends: (options.backends ?? ['webgpu', 'webgl', 'cpu']).join(','),
    });
    log(`browser harness: ${chromium} at http://127.0.0.1:${address.port}/?${query}`);
    await page.goto(`http://127.0.0.1:${address.port}/?${query}`, { waitUntil: 'load' });
    const deadline = performance.now() + (options.timeoutMs ?? 30 * 60_000);
    let last = '';
    for (;;) {
      const state = await page.evaluate(() => ({
        status: window.rbmBench?.status ?? 'loading',
        progress: window.rbmBench?.progress ?? '',
      }));
      if (state.progress !== last) log(`browser harness: ${(last = state.progress)}`);
      if (state.status === 'done' || state.status === 'error') break;
      if (performance.now() > deadline) {
        throw new Error(
          `the harness page did not finish in time (last step: ${state.progress}); console: ${consoleErrors.join(' | ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const report = (await page.evaluate(() => window.rbmBench)) as BrowserRbmReport;
    return { report, chromium, consoleErrors };
  } finally {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    rmSync(outDir, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

export interface SklearnResult {
  name: string;
  samplesPerSec: number;
  gflops: number;
  batch: number;
  k: number;
  steps: number;
  seconds: number;
  threads: number | null;
}

export const PYTHON = '/usr/bin/python3';

/** Whether /usr/bin/python3 can import sklearn (null), or why not. */
export function sklearnUnavailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `${PYTHON} cannot import sklearn (apt-get install -y python3-sklearn): ${probe.stderr.trim().split('\n').at(-1) ?? ''}`;
  }
  return null;
}

/** Runs bench/sklearn_rbm.py (BernoulliRBM.partial_fit, dense nv × nh) and parses its JSON line. */
export async function runSklearnRbm(options: {
  batch: number;
  nv: number;
  nh: number;
  seconds?: number;
}): Promise<SklearnResult> {
  const args = [
    resolve(root, 'bench/sklearn_rbm.py'),
    '--batch',
    String(options.batch),
    '--nv',
    String(options.nv),
    '--nh',
    String(options.nh),
    '--seconds',
    String(options.seconds ?? 2),
  ];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) throw new Error(`${PYTHON} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SklearnResult;
}
