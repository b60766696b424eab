import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { exact as exactIsing, type AdapterSummary } from '../../src/index.ts';
import { panelStyles } from '../../src/elements/common.ts';
import {
  formatEstimate,
  formatTau,
  RunningSeries,
  type RunningEstimate,
} from '../../src/elements/ising-room-stats.ts';
import '../../src/elements/ising-scan.ts';
import '../../src/elements/lattice.ts';
import type { LatticeReadout, LatticeSettingsChange } from '../../src/elements/lattice.ts';
import { histogram, type BlockspinPlot, type PlotSeries } from '../../src/elements/plot.ts';
import '../../src/elements/plot.ts';
import { setUrlParams, urlParams } from './url-state.ts';

/** The room's two modes: the live lattice with its traces, or a temperature scan. */
export type IsingRoomMode = 'live' | 'scan';

/** Bins of the live histogram of m over [−1, 1]. */
const HISTOGRAM_BINS = 41;
/** Fraction of each trace left out of the running estimates as burn-in. */
const BURN_IN = 0.2;
/** Readouts after the burn-in before τ_int and the error are shown (fewer cannot close Sokal's window). */
const MIN_READOUTS = 20;

const ENERGY_SERIES: PlotSeries[] = [
  { label: 'E/N', color: '#2456c7', width: 1 },
  { label: 'running mean', color: '#1b2330', dash: true },
  { label: 'exact (Kaufman)', color: '#c2410c', dash: true },
];
const MAGNETIZATION_SERIES: PlotSeries[] = [
  { label: '|m|', color: '#15803d', width: 1 },
  { label: 'running mean', color: '#1b2330', dash: true },
];
const HISTOGRAM_SERIES: PlotSeries[] = [{ label: 'fraction of readouts', color: '#7c3aed', style: 'bars' }];
/** Fixed axis ranges (constants: a new array per render would redraw the plots for nothing). */
const UNIT_RANGE: [number, number] = [0, 1];
const M_RANGE: [number, number] = [-1, 1];

function modeFromUrl(): IsingRoomMode {
  return urlParams().get('mode') === 'scan' ? 'scan' : 'live';
}

/** Exact E/N of the periodic L×L lattice at T and h = 0 (Kaufman), or null where it does not apply. */
function exactEnergy(L: number, T: number, h: number): number | null {
  if (h !== 0 || !(T > 0) || L < 2) return null;
  return exactIsing.kaufman(1 / T, L, L).energyPerSpin;
}

/**
 * `<ising-room>`: the lab's Ising room. In `live` mode, the live lattice (`<blockspin-lattice url-state>`) with,
 * beside it, traces of E/N and |m| per readout with their running means, the exact E/N of the finite lattice
 * (Kaufman, h = 0), the running means with τ_int-corrected errors (`⟨E⟩ = −1.4532(41), τ_int = 3.1`) after a
 * 20 % burn-in, and a live histogram of m. A change of settings (T, h, algorithm, L, kernel, seed) starts the
 * traces afresh. In `scan` mode, a temperature scan (`<blockspin-ising-scan>`). The mode is in the URL
 * (`mode=scan`), the lattice's settings too (`L`, `T`, `kernel`, `h`, `algorithm`, `seed`), and the scan's
 * (`scanL`, `scanTmin`, …; see <blockspin-ising-scan>).
 *
 * The room does not acquire a device: it waits for `device` from the lab.
 */
@customElement('ising-room')
export class IsingRoom extends LitElement {
  static override styles = [
    panelStyles,
    css`
      :host {
        display: block;
      }
      .modes {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px;
        margin: 0 0 12px;
      }
      .switch {
        display: inline-flex;
        border: 1px solid var(--line, #dde2ea);
        border-radius: 8px;
        overflow: hidden;
      }
      .switch button {
        font: inherit;
        font-size: 0.9rem;
        font-weight: 600;
        padding: 5px 14px;
        border: 0;
        background: #fff;
        color: var(--muted, #5b6677);
        cursor: pointer;
      }
      .switch button + button {
        border-left: 1px solid var(--line, #dde2ea);
      }
      .switch button[aria-pressed='true'] {
        background: var(--accent, #2456c7);
        color: #fff;
      }
      .modes .note {
        margin: 0;
      }
      .live {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(340px, 400px);
        gap: 16px;
        align-items: start;
      }
      @media (max-width: 1100px) {
        .live {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      aside section {
        padding: 14px 16px;
      }
      aside h2 {
        font-size: 0.95rem;
      }
      .stats {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 12px;
        margin: 0 0 10px;
        font-size: 0.9rem;
      }
      .stats dt {
        color: var(--muted, #5b6677);
      }
      .stats dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .stats .value {
        font-weight: 600;
      }
      .stats .tau {
        color: var(--muted, #5b6677);
        font-size: 0.8rem;
      }
      .z-bad {
        color: var(--bad, #b3261e);
        font-weight: 600;
      }
      blockspin-plot {
        margin-top: 6px;
      }
      .waiting {
        color: var(--muted, #5b6677);
      }
    `,
  ];

  /** The lab's device (owned by the lab); the room waits while there is none. */
  @property({ attribute: false }) device: GPUDevice | undefined;
  /** The adapter the device came from (a software adapter gets a hint to keep lattices small). */
  @property({ attribute: false }) adapter: AdapterSummary | undefined;

  @state() private mode: IsingRoomMode = modeFromUrl();
  @state() private energyEstimate: RunningEstimate | undefined;
  @state() private absEstimate: RunningEstimate | undefined;
  /** The settings of the current traces (from the latest readout). */
  @state() private current: { L: number; T: number; h: number; algorithm: string } | undefined;
  @state() private exact: number | null = null;
  @state() private sweepsPerReadout = NaN;
  /** Bumped by a reset: the plots are created afresh (a cleared plot starts empty, with its own axes). */
  @state() private generation = 0;

  @query('[data-testid="ising-trace-energy"]') private energyPlot: BlockspinPlot | null | undefined;
  @query('[data-testid="ising-trace-magnetization"]') private magnetizationPlot:
    BlockspinPlot | null | undefined;
  @query('[data-testid="ising-histogram"]') private histogramPlot: BlockspinPlot | null | undefined;

  private energy = new RunningSeries({ burnIn: BURN_IN });
  private absMagnetization = new RunningSeries({ burnIn: BURN_IN });
  private magnetization: number[] = [];
  private sweeps: number[] = [];

  /** Switches between the live lattice and the temperature scan (and writes `mode=` into the URL). */
  setMode(mode: IsingRoomMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    setUrlParams({ mode: mode === 'scan' ? 'scan' : undefined });
    this.resetTraces();
  }

  private resetTraces(): void {
    this.energy.clear();
    this.absMagnetization.clear();
    this.magnetization = [];
    this.sweeps = [];
    this.energyEstimate = undefined;
    this.absEstimate = undefined;
    this.sweepsPerReadout = NaN;
    this.generation += 1;
  }

  private onSettings(event: CustomEvent<LatticeSettingsChange>): void {
    // The pace of the animation is not physics: the traces go on.
    if (event.detail.changed.every((k) => k === 'sweepsPerFrame')) return;
    this.resetTraces();
  }

  private onReadout(event: CustomEvent<LatticeReadout>): void {
    const r = event.detail;
    const last = this.sweeps[this.sweeps.length - 1];
    if (last !== undefined && r.sweeps <= last) {
      // The same state read again (a pause), or a new engine that no settings event announced.
      if (r.sweeps === last) return;
      this.resetTraces();
    }
    if (!this.current || this.current.L !== r.L || this.current.T !== r.T || this.current.h !== r.h) {
      this.exact = exactEnergy(r.L, r.T, r.h);
    }
    this.current = { L: r.L, T: r.T, h: r.h, algorithm: r.algorithm };
    this.sweeps.push(r.sweeps);
    this.energy.push(r.energy);
    this.absMagnetization.push(Math.abs(r.magnetization));
    this.magnetization.push(r.magnetization);
    const e = this.energy.estimate();
    const a = this.absMagnetization.estimate();
    this.energyEstimate = e;
    this.absEstimate = a;
    const first = this.sweeps[0] as number;
    this.sweepsPerReadout = this.sweeps.length > 1 ? (r.sweeps - first) / (this.sweeps.length - 1) : NaN;
    const exact = this.exact;
    const measured = this.magnetization.slice(this.energy.discarded);
    const counts = histogram(measured, -1, 1, HISTOGRAM_BINS);
    const total = Math.max(1, measured.length);
    const halfBin = 1 / HISTOGRAM_BINS;
    // After the next render (a reset just above has replaced the plots): the traces stream (addPoint), the
    // histogram is replaced whole.
    void this.updateComplete.then(() => {
      this.energyPlot?.addPoint(r.sweeps, [r.energy, finite(e.mean), exact]);
      this.magnetizationPlot?.addPoint(r.sweeps, [Math.abs(r.magnetization), finite(a.mean)]);
      const plot = this.histogramPlot;
      if (plot) {
        plot.data = {
          x: counts.x.map((x) => x + halfBin),
          y: [(counts.y[0] ?? []).map((c) => (c ?? 0) / total)],
        };
      }
    });
  }

  override render(): TemplateResult {
    return html`
      <div class="modes">
        <div class="switch" role="group" aria-label="Mode" data-testid="ising-mode" data-value=${this.mode}>
          <button
            aria-pressed=${this.mode === 'live'}
            data-testid="ising-mode-live"
            @click=${() => this.setMode('live')}
          >
            Live lattice
          </button>
          <button
            aria-pressed=${this.mode === 'scan'}
            data-testid="ising-mode-scan"
            @click=${() => this.setMode('scan')}
          >
            Temperature scan
          </button>
        </div>
        <p class="note">
          ${
            this.mode === 'live'
              ? 'One chain, watched live: traces, running means with autocorrelation-corrected errors, the histogram of m.'
              : 'One replica per temperature: U4, χ, C and E against T, with the exact finite-lattice curves.'
          }
          ${
            this.mode === 'live' && this.adapter?.software
              ? html`<span data-testid="ising-software-note"
                  >${this.adapter.description || this.adapter.architecture} is a software adapter: small
                  lattices (L ≤ 64) give the traces many points.</span
                >`
              : nothing
          }
        </p>
      </div>
      ${
        !this.device
          ? html`<p class="waiting" data-testid="ising-room-waiting">Waiting for a WebGPU device…</p>`
          : this.mode === 'live'
            ? this.renderLive()
            : html`<blockspin-ising-scan
                url-state
                .device=${this.device}
                data-testid="ising-scan"
              ></blockspin-ising-scan>`
      }
    `;
  }

  private renderLive(): TemplateResult {
    return html`<div class="live">
      <blockspin-lattice
        url-state
        .device=${this.device}
        data-testid="ising-lattice-element"
        @blockspin-readout=${this.onReadout}
        @blockspin-settings=${this.onSettings}
      ></blockspin-lattice>
      <aside>
        <section>
          <div class="title">
            <h2>Measurements <small>replica 0, one point per readout</small></h2>
          </div>
          ${this.renderStats()}
          ${keyed(
            this.generation,
            html`<blockspin-plot
              data-testid="ising-trace-energy"
              heading="Energy per spin"
              x-label="sweep"
              y-label="E / N"
              .height=${170}
              .series=${ENERGY_SERIES}
              placeholder="Waiting for readouts…"
            ></blockspin-plot>`,
          )}
          ${keyed(
            this.generation,
            html`<blockspin-plot
              data-testid="ising-trace-magnetization"
              heading="|Magnetisation| per spin"
              x-label="sweep"
              y-label="|m|"
              .height=${170}
              .yRange=${UNIT_RANGE}
              .series=${MAGNETIZATION_SERIES}
              placeholder="Waiting for readouts…"
            ></blockspin-plot>`,
          )}
          ${keyed(
            this.generation,
            html`<blockspin-plot
              data-testid="ising-histogram"
              heading="Histogram of m (after burn-in)"
              x-label="m"
              y-label="fraction"
              .height=${160}
              .xRange=${M_RANGE}
              .series=${HISTOGRAM_SERIES}
              placeholder="Waiting for readouts…"
            ></blockspin-plot>`,
          )}
        </section>
      </aside>
    </div>`;
  }

  private renderStats(): TemplateResult {
    // Fewer readouts than MIN_READOUTS: the mean alone (τ_int and the error would be noise).
    const reliable = (est: RunningEstimate | undefined): RunningEstimate | undefined =>
      est && est.n < MIN_READOUTS ? { ...est, err: NaN, tauInt: NaN } : est;
    const e = reliable(this.energyEstimate);
    const a = reliable(this.absEstimate);
    const perReadout = this.sweepsPerReadout;
    const tau = (est: RunningEstimate | undefined): TemplateResult => {
      if (!est || !Number.isFinite(est.tauInt) || est.n < MIN_READOUTS)
        return html`τ<sub>int</sub>: after ${MIN_READOUTS} readouts`;
      const sweeps = Number.isFinite(perReadout) ? ` ≈ ${formatTau(est.tauInt * perReadout)} sweeps` : '';
      return html`τ<sub>int</sub> = ${formatTau(est.tauInt)}
        readouts${sweeps}${est.converged ? '' : ' (window not closed: error too small)'}`;
    };
    const z = e && this.exact !== null && e.err > 0 ? (e.mean - this.exact) / e.err : null;
    const num = (x: number | undefined | null): string =>
      x === undefined || x === null || !Number.isFinite(x) ? '' : String(x);
    const c = this.current;
    return html`<dl class="stats">
      <dt>⟨E⟩/N</dt>
      <dd>
        <span
          class="value"
          data-testid="ising-mean-energy"
          data-value=${num(e?.mean)}
          data-err=${num(e?.err)}
          data-tau=${num(e?.tauInt)}
          >${e ? formatEstimate(e) : '—'}</span
        >
        <span class="tau" data-testid="ising-tau-energy">${tau(e)}</span>
      </dd>
      <dt>exact, ${c ? `${c.L}×${c.L}` : 'L×L'}</dt>
      <dd data-testid="ising-exact-energy" data-value=${num(this.exact)}>
        ${
          this.exact !== null
            ? html`${formatEstimate({ mean: this.exact, err: 0 })}
                <span class="tau"
                  >Kaufman, periodic, h =
                  0${
                    z !== null
                      ? html`; MC − exact =
                          <span
                            class=${Math.abs(z) > 3 ? 'z-bad' : ''}
                            data-testid="ising-energy-z"
                            data-value=${z}
                            >${z >= 0 || Math.abs(z) < 0.05 ? '+' : '−'}${Math.abs(z).toFixed(1)}σ</span
                          >`
                      : nothing
                  }</span
                >`
            : html`<span class="tau">only for h = 0</span>`
        }
      </dd>
      <dt>⟨|m|⟩</dt>
      <dd>
        <span
          class="value"
          data-testid="ising-mean-abs-magnetization"
          data-value=${num(a?.mean)}
          data-err=${num(a?.err)}
          data-tau=${num(a?.tauInt)}
          >${a ? formatEstimate(a) : '—'}</span
        >
        <span class="tau" data-testid="ising-tau-magnetization">${tau(a)}</span>
      </dd>
      <dt>Readouts</dt>
      <dd data-testid="ising-readout-count" data-value=${e?.n ?? 0}>
        ${e ? `${e.n.toLocaleString('en-US')} measured, ${e.discarded.toLocaleString('en-US')} burn-in` : '—'}
        ${c ? html`<span class="tau">· T = ${c.T.toFixed(3)}, ${c.algorithm}</span>` : nothing}
      </dd>
    </dl>`;
  }
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

declare global {
  interface HTMLElementTagNameMap {
    'ising-room': IsingRoom;
  }
}
