import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import {
  GpuContext,
  WEBGPU_HELP,
  WebGPUUnavailableError,
  estimatePi,
  type AdapterSummary,
  type DeviceLostDetail,
  type PiEstimate,
} from '../../src/index.ts';
import './dataset-panel.ts';
import './flow-panel.ts';
import './ising-room.ts';
import './mcrg-panel.ts';
import './rbm-room.ts';
import '../../src/elements/report.ts';
import './study-panel.ts';
import { setUrlParams, urlParams } from './url-state.ts';
import { version } from '../../package.json';

/** Where the app is: reflected on the host as `data-status` (tests wait for `ready` or `error`). */
export type AppStatus = 'starting' | 'running' | 'ready' | 'error';

/** Why the app stopped: reflected on the host as `data-error` while `data-status` is `error`. */
export type AppErrorKind = 'unavailable' | 'lost' | 'failed';

/** One finished π run, as shown in the result panel and the history. */
export interface PiRun extends PiEstimate {
  seed: number;
  /** Wall time of `estimatePi` (submission, GPU work, read-back), in milliseconds. */
  elapsedMs: number;
  /** The first run also compiles the shader and builds the pipelines. */
  first: boolean;
}

const DEFAULT_SAMPLES = 2 ** 22;
const SAMPLE_CHOICES = [2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24, 2 ** 26];
const HISTORY = 8;

/** The lab's rooms, in navigation order: `?room=ID` opens one (the first is the default). */
export const ROOMS = [
  {
    id: 'ising',
    label: 'Ising',
    title: 'Live 2D Ising model: lattice, traces, histograms and temperature scans',
  },
  {
    id: 'rbm',
    label: 'RBM training',
    title: 'Train dense or convolutional RBMs on Ising configurations or digits',
  },
  { id: 'data', label: 'Data sets', title: 'Generate decorrelated Ising data sets and download them' },
  {
    id: 'mcrg',
    label: 'MCRG',
    title: 'Swendsen–Wang Monte Carlo renormalization group: exponents from block spins',
  },
  {
    id: 'flows',
    label: 'RBM flows',
    title: 'Iterate a trained RBM and read each generation with three thermometers',
  },
  { id: 'studies', label: 'Studies', title: 'The papers reproduced: run a preset and read its report' },
  { id: 'reports', label: 'Reports', title: "Open a study report's report.json (or its whole directory)" },
  {
    id: 'diagnostics',
    label: 'Diagnostics',
    title: 'Adapter details, limits, features and the Monte Carlo π smoke test',
  },
] as const;

export type RoomId = (typeof ROOMS)[number]['id'];

/** The studies the Studies room offers (`?room=studies&study=NAME`). */
export const LAB_STUDIES = [
  { id: 'chung-kao', label: 'Chung & Kao: learned block spins' },
  { id: 'qiu', label: 'Qiu: RBMs on rings and digits' },
  { id: 'mehta-schwab', label: 'Mehta & Schwab: deep belief networks and RG' },
] as const;

function roomFromUrl(): RoomId {
  const raw = urlParams().get('room');
  return ROOMS.find((r) => r.id === raw)?.id ?? 'ising';
}

/** Limits worth seeing at a glance, and how to print them. */
const KEY_LIMITS: [name: string, unit: 'bytes' | 'count'][] = [
  ['maxStorageBufferBindingSize', 'bytes'],
  ['maxBufferSize', 'bytes'],
  ['maxComputeWorkgroupStorageSize', 'bytes'],
  ['maxComputeInvocationsPerWorkgroup', 'count'],
  ['maxComputeWorkgroupSizeX', 'count'],
  ['maxComputeWorkgroupsPerDimension', 'count'],
  ['maxStorageBuffersPerShaderStage', 'count'],
];

function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (n >= size) return `${Number((n / size).toFixed(2))} ${unit}`;
  }
  return `${n} B`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';

function formatSamples(n: number): string {
  const log2 = Math.log2(n);
  if (!Number.isInteger(log2)) return formatCount(n);
  const exponent = [...String(log2)].map((d) => SUPERSCRIPT[Number(d)]).join('');
  return `2${exponent} = ${formatCount(n)}`;
}

function formatRate(pointsPerSecond: number): string {
  if (pointsPerSecond >= 1e9) return `${(pointsPerSecond / 1e9).toFixed(2)} G points/s`;
  if (pointsPerSecond >= 1e6) return `${(pointsPerSecond / 1e6).toFixed(1)} M points/s`;
  return `${(pointsPerSecond / 1e3).toFixed(1)} k points/s`;
}

/** Engine messages start in lower case (they are often embedded); a standalone paragraph starts upper case. */
function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** Decimals that show the estimate to the standard error's second significant digit. */
function decimalsFor(standardError: number): number {
  if (!(standardError > 0)) return 6;
  return Math.min(10, Math.max(2, 1 - Math.floor(Math.log10(standardError))));
}

/** A fresh 32-bit seed (the demo's seeds are short enough to type back into `?seed=`). */
function newSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}

/** Reads an optional non-negative integer query parameter (`?samples=`, `?seed=`); estimatePi validates the rest. */
function queryNumber(name: string): number | undefined {
  const raw = new URLSearchParams(location.search).get(name);
  return raw === null || raw === '' ? undefined : Number(raw);
}

/**
 * The demo's root element. It acquires a WebGPU device through blockspin's public API, shows a live
 * Ising simulation on it (`<ising-view>`, the main element), describes the adapter (vendor,
 * architecture, backend, software or hardware, key limits, features) and runs the Monte Carlo π smoke
 * kernel, showing the estimate with its standard error and the elapsed time.
 * Without WebGPU, or when the device is lost, it says so in the page instead of failing silently.
 *
 * Stable hooks for tests: the host's `data-status` (`starting` | `running` | `ready` | `error`) and
 * `data-error` (`unavailable` | `lost` | `failed`); `data-testid` on every reported value, with the
 * raw number in `data-value` where the text is formatted. URL parameters `?samples=N&seed=S` fix the
 * first run.
 *
 * @example
 * <blockspin-app></blockspin-app>
 */
@customElement('blockspin-app')
export class BlockspinApp extends LitElement {
  static override styles = css`
    :host {
      --ink: #1b2330;
      --muted: #5b6677;
      --line: #dde2ea;
      --panel: #ffffff;
      --accent: #2456c7;
      --ok: #1d7a46;
      --bad: #b3261e;
      display: block;
      box-sizing: border-box;
      max-width: 1320px;
      margin: 0 auto;
      padding: 16px 24px 40px;
      color: var(--ink);
      font:
        15px/1.5 system-ui,
        -apple-system,
        'Segoe UI',
        Roboto,
        'Helvetica Neue',
        Arial,
        sans-serif;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 12px;
      margin-bottom: 24px;
    }
    h1 {
      margin: 0;
      font-size: 1.4rem;
      letter-spacing: -0.01em;
    }
    h1 .lab {
      font-weight: 400;
      color: var(--accent);
    }
    .header-right {
      display: flex;
      align-items: center;
      gap: 10px;
    }
    nav {
      display: flex;
      flex-wrap: wrap;
      gap: 2px;
      border-bottom: 1px solid var(--line);
      margin-bottom: 8px;
    }
    nav a {
      padding: 8px 14px;
      color: var(--muted);
      text-decoration: none;
      font-weight: 500;
      border-bottom: 2px solid transparent;
      margin-bottom: -1px;
    }
    nav a:hover {
      color: var(--ink);
    }
    nav a.current {
      color: var(--accent);
      border-bottom-color: var(--accent);
    }
    nav a[data-room='diagnostics'] {
      margin-left: auto;
      font-size: 0.85rem;
    }
    .room-title {
      margin: 0 0 16px;
      color: var(--muted);
      font-size: 0.9rem;
    }
    .subnav {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      margin-bottom: 14px;
    }
    .subnav button {
      background: #fff;
      color: var(--ink);
      border-color: var(--line);
      font-weight: 500;
    }
    .subnav button.current {
      background: #eef3fd;
      border-color: #b9cdf3;
      color: var(--accent);
    }
    .adapter-chip {
      position: relative;
    }
    .adapter-chip summary {
      list-style: none;
      display: inline-flex;
      align-items: center;
      gap: 6px;
      cursor: pointer;
      padding: 3px 10px;
      border: 1px solid var(--line);
      border-radius: 999px;
      background: #fff;
      font-size: 0.85rem;
      max-width: 360px;
    }
    .adapter-chip summary::-webkit-details-marker {
      display: none;
    }
    .chip-name {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .popover {
      position: absolute;
      right: 0;
      top: calc(100% + 6px);
      z-index: 10;
      width: 380px;
      background: #fff;
      border: 1px solid var(--line);
      border-radius: 10px;
      padding: 14px 16px;
      box-shadow: 0 8px 24px rgb(20 30 50 / 14%);
      font-size: 0.85rem;
    }
    .popover dl {
      margin-bottom: 10px;
    }
    h1 small {
      display: block;
      font-size: 0.95rem;
      font-weight: 400;
      color: var(--muted);
    }
    h2 {
      margin: 0 0 12px;
      font-size: 1.05rem;
    }
    .pill {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      padding: 4px 12px;
      border-radius: 999px;
      font-size: 0.85rem;
      font-weight: 600;
      background: #e8ebf0;
      color: var(--muted);
    }
    .pill::before {
      content: '';
      width: 8px;
      height: 8px;
      border-radius: 50%;
      background: currentColor;
    }
    .pill[data-status='ready'] {
      background: #e3f3ea;
      color: var(--ok);
    }
    .pill[data-status='running'] {
      background: #e6edfb;
      color: var(--accent);
    }
    .pill[data-status='error'] {
      background: #fbe9e7;
      color: var(--bad);
    }
    ising-room,
    rbm-room,
    dataset-panel,
    mcrg-panel,
    study-panel,
    flow-panel {
      margin-bottom: 20px;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
      gap: 20px;
      align-items: start;
    }
    section {
      background: var(--panel);
      border: 1px solid var(--line);
      border-radius: 12px;
      padding: 20px 22px;
      box-shadow: 0 1px 2px rgb(20 30 50 / 5%);
    }
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 6px 16px;
      margin: 0 0 16px;
    }
    dt {
      color: var(--muted);
    }
    dd {
      margin: 0;
      overflow-wrap: anywhere;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-size: 0.9rem;
      margin-bottom: 16px;
    }
    th,
    td {
      padding: 5px 0;
      border-bottom: 1px solid var(--line);
      text-align: left;
    }
    td.num,
    th.num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    th {
      color: var(--muted);
      font-weight: 500;
    }
    code,
    .mono {
      font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
      font-size: 0.9em;
    }
    .chips {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      padding: 0;
      margin: 0;
      list-style: none;
    }
    .chips li {
      padding: 2px 8px;
      border-radius: 6px;
      border: 1px solid var(--line);
      font-size: 0.8rem;
      color: var(--muted);
    }
    .chips li.enabled {
      border-color: #b9cdf3;
      background: #eef3fd;
      color: var(--accent);
    }
    .tag {
      display: inline-block;
      padding: 0 8px;
      border-radius: 6px;
      font-size: 0.8rem;
      font-weight: 600;
      background: #e3f3ea;
      color: var(--ok);
    }
    .tag.software {
      background: #fff4dc;
      color: #8a5a00;
    }
    .note {
      margin: 0 0 16px;
      font-size: 0.85rem;
      color: var(--muted);
    }
    .estimate {
      margin: 4px 0 2px;
      font-size: 2.6rem;
      font-weight: 600;
      font-variant-numeric: tabular-nums;
      letter-spacing: -0.02em;
    }
    .estimate .pm {
      font-size: 1.4rem;
      font-weight: 400;
      color: var(--muted);
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 10px;
      align-items: center;
      margin: 16px 0;
    }
    button,
    select {
      font: inherit;
      border-radius: 8px;
      padding: 7px 14px;
      border: 1px solid var(--line);
      background: #fff;
      color: var(--ink);
    }
    button {
      background: var(--accent);
      border-color: var(--accent);
      color: #fff;
      font-weight: 600;
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.55;
      cursor: progress;
    }
    .error {
      margin-bottom: 20px;
      border-color: #f0c4bf;
      background: #fffafa;
    }
    .error h2 {
      color: var(--bad);
    }
    .error p {
      margin: 0 0 8px;
    }
    footer {
      margin-top: 28px;
      font-size: 0.85rem;
      color: var(--muted);
    }
  `;

  /** Where the app is (reflected as the host's `data-status`). */
  @state() private status: AppStatus = 'starting';
  @state() private errorKind: AppErrorKind | undefined;
  @state() private errorMessage = '';
  @state() private adapter: AdapterSummary | undefined;
  @state() private enabledFeatures = new Set<string>();
  @state() private samples = DEFAULT_SAMPLES;
  @state() private runs: PiRun[] = [];
  /** The room shown (`?room=`). */
  @state() private room: RoomId = roomFromUrl();
  /** Bumped by a restart after a lost device: every room element is created afresh for the new device. */
  @state() private generation = 0;

  private gpu: GpuContext | undefined;
  private started = false;

  /** The acquired device and adapter (undefined before acquisition and after disconnection). */
  get context(): GpuContext | undefined {
    return this.gpu;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('popstate', this.onPopState);
    if (!this.started) {
      this.started = true;
      void this.start();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('popstate', this.onPopState);
    // Free the device; the `lost` event that follows belongs to a context we no longer hold.
    const gpu = this.gpu;
    this.gpu = undefined;
    this.started = false;
    gpu?.destroy();
  }

  protected override updated(): void {
    this.dataset.status = this.status;
    if (this.status === 'error' && this.errorKind) this.dataset.error = this.errorKind;
    else delete this.dataset.error;
  }

  private async start(): Promise<void> {
    this.status = 'starting';
    try {
      const gpu = await GpuContext.acquire({ label: 'blockspin demo' });
      if (!this.started) {
        gpu.destroy();
        return;
      }
      this.gpu = gpu;
      gpu.addEventListener('lost', (event) => {
        if (gpu === this.gpu) this.onLost((event as CustomEvent<DeviceLostDetail>).detail);
      });
      gpu.device.addEventListener('uncapturederror', (event) => {
        if (gpu === this.gpu)
          this.fail(new Error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`));
      });
      this.adapter = gpu.summary;
      this.enabledFeatures = new Set(gpu.device.features);
      this.samples = queryNumber('samples') ?? DEFAULT_SAMPLES;
      this.status = 'ready';
      // The π smoke test runs where it is shown: in the Diagnostics room.
      if (this.room === 'diagnostics') await this.run(queryNumber('seed'));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Runs estimatePi once with `seed` (a fresh random seed when omitted). */
  private async run(seed: number = newSeed()): Promise<void> {
    const gpu = this.gpu;
    if (!gpu || this.status === 'running' || this.errorKind === 'lost') return;
    // A failed run (e.g. a bad ?samples=) can be retried with other settings; a lost device cannot.
    this.errorKind = undefined;
    this.errorMessage = '';
    this.status = 'running';
    try {
      const t0 = performance.now();
      const estimate = await estimatePi(gpu.device, { samples: this.samples, seed });
      const elapsedMs = performance.now() - t0;
      if (gpu !== this.gpu || this.status !== 'running') return; // lost or failed meanwhile
      this.runs = [{ ...estimate, seed, elapsedMs, first: this.runs.length === 0 }, ...this.runs].slice(
        0,
        HISTORY,
      );
      this.status = 'ready';
    } catch (err) {
      this.fail(err);
    }
  }

  private onLost(detail: DeviceLostDetail): void {
    this.status = 'error';
    this.errorKind = 'lost';
    const message = detail.message.trim().replace(/\.+$/, '');
    this.errorMessage = `The GPU device was lost (reason: ${detail.reason})${message ? `: ${message}` : ''}. Restart to acquire a new one; a room's saved work (RBM checkpoints) resumes.`;
  }

  /** After a lost device: forget it, acquire a fresh one and re-create the room on it. */
  private async restart(): Promise<void> {
    const old = this.gpu;
    this.gpu = undefined;
    old?.destroy();
    this.errorKind = undefined;
    this.errorMessage = '';
    this.runs = [];
    this.generation += 1;
    this.started = true;
    await this.start();
  }

  private fail(err: unknown): void {
    if (this.errorKind === 'lost') return; // a failed run after a loss: the loss is the news
    this.status = 'error';
    this.errorKind = err instanceof WebGPUUnavailableError ? 'unavailable' : 'failed';
    this.errorMessage = err instanceof Error ? err.message : String(err);
    console.error(err);
  }

  private onSamplesChange(event: Event): void {
    this.samples = Number((event.target as HTMLSelectElement).value);
  }

  override render(): TemplateResult {
    const room = ROOMS.find((r) => r.id === this.room) ?? ROOMS[0];
    return html`
      <header>
        <h1>
          blockspin <span class="lab">lab</span>
          <small>Ising Monte Carlo · restricted Boltzmann machines · renormalization group, on WebGPU</small>
        </h1>
        <div class="header-right">
          ${this.renderAdapterChip()}
          <span class="pill" data-status=${this.status} data-testid="status">${this.statusText()}</span>
        </div>
      </header>
      <nav aria-label="Rooms" data-testid="rooms">
        ${ROOMS.map(
          (r) =>
            html`<a
              href=${`?room=${r.id}`}
              title=${r.title}
              data-room=${r.id}
              class=${r.id === this.room ? 'current' : ''}
              aria-current=${r.id === this.room ? 'page' : 'false'}
              @click=${(e: MouseEvent) => this.onNavigate(e, r.id)}
              >${r.label}</a
            >`,
        )}
      </nav>
      <p class="room-title" data-testid="room-title">${room.title}</p>
      ${this.status === 'error' ? this.renderError() : nothing}
      <main data-room=${this.room}>
        ${this.errorKind === 'unavailable' ? nothing : keyed(this.generation, this.renderRoom())}
      </main>
      <footer>
        blockspin ${version} · the same engines run headless from Node:
        <code>npx blockspin reproduce chung-kao</code>, <code>npx blockspin rbm train</code>,
        <code>npx blockspin mcrg</code>. Every setting of a room is in the address bar, so a link reopens it.
      </footer>
    `;
  }

  /** The current room's content; a restart after a lost device re-creates it (keyed by generation). */
  private renderRoom(): TemplateResult {
    const device = this.gpu?.device;
    switch (this.room) {
      case 'ising':
        return html`<ising-room .device=${device} .adapter=${this.adapter}></ising-room>`;
      case 'rbm':
        return html`<rbm-room .device=${device} .adapter=${this.adapter}></rbm-room>`;
      case 'data':
        return html`<dataset-panel .device=${device} .adapter=${this.adapter}></dataset-panel>`;
      case 'mcrg':
        return html`<mcrg-panel .device=${device}></mcrg-panel>`;
      case 'flows':
        return html`<flow-panel .device=${device}></flow-panel>`;
      case 'studies':
        return this.renderStudies(device);
      case 'reports':
        return html`<blockspin-report></blockspin-report>`;
      case 'diagnostics':
        return html`<div class="grid">${this.renderPi()} ${this.renderAdapter()}</div>
          <p class="note">
            Every π point is a pair of Philox4x32-10 words mapped to [0, 1)²; the GPU counts the points inside
            the quarter circle and sums the counts exactly in the same submission. The count is bit-identical
            to the CPU reference for the same seed, on any adapter.
          </p>`;
    }
  }

  private renderStudies(device: GPUDevice | undefined): TemplateResult {
    const raw = urlParams().get('study');
    const study = LAB_STUDIES.find((s) => s.id === raw)?.id ?? LAB_STUDIES[0].id;
    return html`
      <div class="subnav" role="tablist" data-testid="study-choice">
        ${LAB_STUDIES.map(
          (s) =>
            html`<button
              role="tab"
              class=${s.id === study ? 'current' : ''}
              aria-selected=${s.id === study}
              data-study=${s.id}
              @click=${() => {
                setUrlParams({ study: s.id }, true);
                this.requestUpdate();
              }}
            >
              ${s.label}
            </button>`,
        )}
      </div>
      ${keyed(study, html`<study-panel study=${study} .device=${device} .adapter=${this.adapter}></study-panel>`)}
    `;
  }

  private onNavigate(event: MouseEvent, room: RoomId): void {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return; // new tab: let it go
    event.preventDefault();
    if (room === this.room) return;
    // A room's settings belong to that room: a new room starts from a clean query.
    history.pushState(null, '', `${location.pathname}?room=${room}`);
    this.enterRoom(room);
  }

  private readonly onPopState = (): void => {
    this.enterRoom(roomFromUrl());
    this.requestUpdate(); // the same room with other parameters (e.g. ?study=) renders again too
  };

  private enterRoom(room: RoomId): void {
    this.room = room;
    if (room === 'diagnostics' && this.gpu && this.runs.length === 0 && this.status === 'ready')
      void this.run();
  }

  /** The adapter in a few words, with its details in a popover (the full report is the Diagnostics room). */
  private renderAdapterChip(): TemplateResult {
    const a = this.adapter;
    if (!a) return html``;
    const name = a.description || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'WebGPU adapter';
    return html`<details class="adapter-chip" data-testid="adapter-chip">
      <summary title="Adapter details">
        <span class="tag ${a.software ? 'software' : ''}">${a.software ? 'CPU' : 'GPU'}</span>
        <span class="chip-name">${name}</span>
      </summary>
      <div class="popover" data-testid="adapter-popover">
        <dl>
          <dt>Vendor</dt>
          <dd>${a.vendor || '—'}</dd>
          <dt>Architecture</dt>
          <dd>${a.architecture || '—'}</dd>
          <dt>Implementation</dt>
          <dd>${a.software ? 'software (CPU): correct, but far slower than a GPU' : 'hardware GPU'}</dd>
          <dt>Max storage binding</dt>
          <dd>${formatBytes(a.limits.maxStorageBufferBindingSize ?? 0)}</dd>
          <dt>Max buffer</dt>
          <dd>${formatBytes(a.limits.maxBufferSize ?? 0)}</dd>
          <dt>Workgroup memory</dt>
          <dd>${formatBytes(a.limits.maxComputeWorkgroupStorageSize ?? 0)}</dd>
        </dl>
        <a href="?room=diagnostics" @click=${(e: MouseEvent) => this.onNavigate(e, 'diagnostics')}
          >All limits, features and the π smoke test →</a
        >
      </div>
    </details>`;
  }

  private statusText(): string {
    switch (this.status) {
      case 'starting':
        return 'Acquiring a WebGPU device…';
      case 'running':
        return `Drawing ${formatCount(this.samples)} points…`;
      case 'ready':
        return 'Ready';
      case 'error':
        return this.errorKind === 'unavailable'
          ? 'WebGPU unavailable'
          : this.errorKind === 'lost'
            ? 'Device lost'
            : 'Error';
    }
  }

  private renderError(): TemplateResult {
    const title =
      this.errorKind === 'unavailable'
        ? 'WebGPU is not available here'
        : this.errorKind === 'lost'
          ? 'The GPU device was lost'
          : 'Something went wrong';
    const help =
      this.errorKind === 'unavailable' && !this.errorMessage.includes(WEBGPU_HELP)
        ? html`<p data-testid="error-help">${WEBGPU_HELP}</p>`
        : nothing;
    return html`
      <section class="error" role="alert" data-testid="error">
        <h2 data-testid="error-title">${title}</h2>
        <p data-testid="error-message">${sentence(this.errorMessage)}</p>
        ${help}
        ${
          this.errorKind === 'lost'
            ? html`<button data-testid="restart" @click=${() => void this.restart()}>
                Restart on a new device
              </button>`
            : nothing
        }
      </section>
    `;
  }

  private renderPi(): TemplateResult {
    const last = this.runs[0];
    // Settings and the button work after a run (or a failed one) while the device is alive.
    const busy =
      !this.gpu || this.status === 'starting' || this.status === 'running' || this.errorKind === 'lost';
    return html`
      <section data-testid="pi">
        <h2>Monte Carlo π</h2>
        ${last ? this.renderRun(last) : html`<p class="note">${this.gpu ? 'Running…' : 'Waiting for a device…'}</p>`}
        <div class="controls">
          <label>
            Points
            <select data-testid="samples" ?disabled=${busy} @change=${this.onSamplesChange}>
              ${SAMPLE_CHOICES.map(
                (n) => html`<option value=${n} ?selected=${n === this.samples}>${formatSamples(n)}</option>`,
              )}
              ${
                SAMPLE_CHOICES.includes(this.samples)
                  ? nothing
                  : html`<option value=${this.samples} selected>${formatCount(this.samples)}</option>`
              }
            </select>
          </label>
          <button data-testid="run-again" ?disabled=${busy} @click=${() => void this.run()}>
            Run again with a new seed
          </button>
        </div>
        ${this.runs.length > 1 ? this.renderHistory() : nothing}
      </section>
    `;
  }

  private renderRun(run: PiRun): TemplateResult {
    const decimals = decimalsFor(run.standardError);
    const deviation = run.standardError > 0 ? (run.estimate - Math.PI) / run.standardError : Number.NaN;
    const rate = run.samples / (run.elapsedMs / 1000);
    return html`
      <div class="estimate">
        <span data-testid="pi-estimate" data-value=${run.estimate}>${run.estimate.toFixed(decimals)}</span>
        <span class="pm"
          >±
          <span data-testid="pi-standard-error" data-value=${run.standardError}
            >${run.standardError.toFixed(decimals)}</span
          ></span
        >
      </div>
      <p class="note">
        estimate ± one standard error; π = ${Math.PI.toFixed(decimals)} is
        <span data-testid="pi-deviation" data-value=${deviation}>${Math.abs(deviation).toFixed(2)}</span>
        standard errors away.
      </p>
      <dl>
        <dt>Points</dt>
        <dd data-testid="pi-samples" data-value=${run.samples}>${formatCount(run.samples)}</dd>
        <dt>Inside the quarter circle</dt>
        <dd data-testid="pi-inside" data-value=${run.inside}>${formatCount(run.inside)}</dd>
        <dt>Seed</dt>
        <dd class="mono" data-testid="pi-seed" data-value=${run.seed}>${run.seed}</dd>
        <dt>Elapsed</dt>
        <dd data-testid="pi-elapsed" data-value=${run.elapsedMs}>
          ${run.elapsedMs.toFixed(1)} ms · ${formatRate(rate)}
          ${run.first ? html`<span class="note">(first run: includes shader compilation)</span>` : nothing}
        </dd>
      </dl>
    `;
  }

  private renderHistory(): TemplateResult {
    return html`
      <table data-testid="history">
        <thead>
          <tr>
            <th>Seed</th>
            <th class="num">Points</th>
            <th class="num">Estimate</th>
            <th class="num">± s.e.</th>
            <th class="num">ms</th>
          </tr>
        </thead>
        <tbody>
          ${this.runs.map((r) => {
            const d = decimalsFor(r.standardError);
            return html`<tr>
              <td class="mono">${r.seed}</td>
              <td class="num">${formatCount(r.samples)}</td>
              <td class="num">${r.estimate.toFixed(d)}</td>
              <td class="num">${r.standardError.toFixed(d)}</td>
              <td class="num">${r.elapsedMs.toFixed(1)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    `;
  }

  private renderAdapter(): TemplateResult {
    const a = this.adapter;
    if (!a) {
      return html`<section data-testid="adapter">
        <h2>Adapter</h2>
        <p class="note">${this.status === 'error' ? 'No adapter.' : 'Requesting an adapter…'}</p>
      </section>`;
    }
    const text = (value: string): string => value || '—';
    const subgroups =
      a.subgroupMinSize === null
        ? '—'
        : `${a.subgroupMinSize}${a.subgroupMaxSize !== a.subgroupMinSize ? ` … ${a.subgroupMaxSize}` : ''}`;
    return html`
      <section data-testid="adapter">
        <h2>Adapter</h2>
        <dl>
          <dt>Vendor</dt>
          <dd data-testid="adapter-vendor">${text(a.vendor)}</dd>
          <dt>Architecture</dt>
          <dd data-testid="adapter-architecture">${text(a.architecture)}</dd>
          <dt>Device</dt>
          <dd data-testid="adapter-device">${text(a.device)}</dd>
          <dt>Description</dt>
          <dd data-testid="adapter-description">${text(a.description)}</dd>
          <dt>Backend</dt>
          <dd data-testid="adapter-backend">
            ${a.backend === 'browser' ? 'browser (navigator.gpu)' : 'Dawn (Node)'}
          </dd>
          <dt>Implementation</dt>
          <dd data-testid="adapter-kind" data-value=${a.software ? 'software' : 'hardware'}>
            <span class="tag ${a.software ? 'software' : ''}"
              >${a.software ? 'software (CPU)' : 'hardware GPU'}</span
            >
          </dd>
          <dt>Subgroup size</dt>
          <dd data-testid="adapter-subgroups">${subgroups}</dd>
        </dl>
        ${
          a.software
            ? html`<p class="note">
                A software adapter runs WebGPU on the CPU: results are correct, but orders of magnitude slower
                than on a GPU.
              </p>`
            : nothing
        }
        <table data-testid="limits">
          <thead>
            <tr>
              <th>Limit</th>
              <th class="num">Value</th>
            </tr>
          </thead>
          <tbody>
            ${KEY_LIMITS.map(([name, unit]) => {
              const value = a.limits[name];
              return html`<tr>
                <td><code>${name}</code></td>
                <td class="num" data-testid="limit-${name}" data-value=${value ?? ''}>
                  ${value === undefined ? '—' : unit === 'bytes' ? formatBytes(value) : formatCount(value)}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
        <h2>Features</h2>
        <p class="note">Highlighted: enabled on this device; the rest are supported by the adapter.</p>
        <ul class="chips" data-testid="features">
          ${a.features.length === 0 ? html`<li>none</li>` : nothing}
          ${a.features.map(
            (f) =>
              html`<li
                class=${this.enabledFeatures.has(f) ? 'enabled' : ''}
                title=${this.enabledFeatures.has(f) ? 'enabled on this device' : 'supported by the adapter'}
              >
                ${f}
              </li>`,
          )}
        </ul>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'blockspin-app': BlockspinApp;
  }
}
