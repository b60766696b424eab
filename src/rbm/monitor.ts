/**
 * RBM monitoring on the GPU: free energies, exact ln Z and log-likelihood (enumerating the smaller layer,
 * ≤ 20 units), reconstruction error and pseudo-log-likelihood. All per sample, in nats.
 */
import { createBuffer, createStorageBuffer, createUniformBuffer, readBuffer } from '../gpu/buffers.ts';
import { Dispatch, Program, submitStep } from '../gpu/kernel.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { philox4x32 } from '../gpu/philox.ts';
import type { TrainingData } from './data.ts';
import type { RbmEngine } from './engine.ts';
import { rbmSources } from './shaders.ts';

/** Most units of the smaller layer for exact enumeration (2^20 states). */
export const MAX_EXACT_UNITS = 20;
const WORKGROUP = 64;
/** States per enumeration dispatch (bounded result buffer). */
const CHUNK = 1 << 20;

/** [W (nv × nh) | a | b] of an engine, with a conv RBM's tied filters expanded to the dense matrix. */
export async function denseModel(rbm: RbmEngine): Promise<Float32Array> {
  const { W, a, b } = await rbm.getParameters();
  const { nv, nh } = rbm;
  const out = new Float32Array(nv * nh + nv + nh);
  const c = rbm.conv;
  if (!c) out.set(W, 0);
  else {
    for (let f = 0; f < c.filters; f++) {
      for (let I = 0; I < c.side; I++) {
        for (let J = 0; J < c.side; J++) {
          const j = f * c.side * c.side + I * c.side + J;
          for (let p = 0; p < c.k; p++) {
            for (let q = 0; q < c.k; q++) {
              const i = ((c.stride * I + p) % c.Lv) * c.Lv + ((c.stride * J + q) % c.Lv);
              out[i * nh + j] = (out[i * nh + j] as number) + (W[(f * c.k + p) * c.k + q] as number);
            }
          }
        }
      }
    }
  }
  out.set(a, nv * nh);
  out.set(b, nv * nh + nv);
  return out;
}

function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  if (!Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp((values[i] as number) - max);
  return max + Math.log(s);
}

export class RbmMonitor {
  private readonly program: Program;

  constructor(readonly rbm: RbmEngine) {
    this.program = Program.get(rbm.device, rbmSources.monitor);
  }

  private async run(
    entry: 'freeEnergy' | 'enumerateLayer',
    model: Float32Array,
    rows: Float32Array,
    settings: { rows: number; firstState?: number; states?: number; hiddenSide?: number },
    count: number,
  ): Promise<Float32Array> {
    const { device, nv, nh } = this.rbm;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const modelBuffer = createBuffer(device, {
      label: 'rbm monitor model',
      size: model.byteLength,
      usage,
      contents: model,
    });
    const rowBuffer = createBuffer(device, {
      label: 'rbm monitor rows',
      size: Math.max(4, rows.byteLength),
      usage,
      contents: rows.length > 0 ? rows : new Float32Array(1),
    });
    const result = createStorageBuffer(device, 'rbm monitor result', count * 4);
    const view = this.program.structView('MonitorParams').set({
      nv,
      nh,
      rows: settings.rows,
      firstState: settings.firstState ?? 0,
      states: settings.states ?? 0,
      hiddenSide: settings.hiddenSide ?? 0,
    });
    const uniforms = createUniformBuffer(device, 'rbm monitor params', view.data);
    try {
      const dispatch = new Dispatch(device, {
        label: `rbm ${entry}`,
        pipeline: this.program.pipeline(entry, {
          isingUnits: this.rbm.units === 'ising',
          workgroupSize: WORKGROUP,
        }),
        bindGroups: [
          this.program.bindGroup(0, { params: uniforms, model: modelBuffer, rowsIn: rowBuffer, result }),
        ],
        workgroups: Math.ceil(count / WORKGROUP),
      });
      submitStep(device, `rbm ${entry}`, [dispatch]);
      return new Float32Array(await readBuffer(device, result));
    } finally {
      for (const b of [modelBuffer, rowBuffer, result, uniforms]) b.destroy();
    }
  }

  private checkRows(rows: Float32Array, n: number): void {
    if (!Number.isInteger(n) || n < 1 || rows.length !== n * this.rbm.nv) {
      throw new RangeError(`rows has ${rows.length} values; expected n = ${n} (≥ 1) × nv ${this.rbm.nv}`);
    }
  }

  /** F(v) of each row (`rows[r·nv + i]` in the units' values). */
  async freeEnergies(rows: Float32Array, n: number): Promise<Float32Array> {
    this.checkRows(rows, n);
    return this.run('freeEnergy', await denseModel(this.rbm), rows, { rows: n }, n);
  }

  /** Exact ln Z by enumerating the smaller layer (≤ 20 units) on the GPU; logsumexp in f64. */
  async logPartition(): Promise<number> {
    const { nv, nh } = this.rbm;
    const hiddenSide = nh <= nv;
    const units = Math.min(nv, nh);
    if (units > MAX_EXACT_UNITS) {
      throw new RangeError(
        `exact ln Z enumerates the smaller layer: ${units} units exceeds ${MAX_EXACT_UNITS}; use AIS`,
      );
    }
    const model = await denseModel(this.rbm);
    const total = 2 ** units;
    const parts: number[] = [];
    for (let first = 0; first < total; first += CHUNK) {
      const states = Math.min(CHUNK, total - first);
      const values = await this.run(
        'enumerateLayer',
        model,
        new Float32Array(0),
        { rows: 0, firstState: first, states, hiddenSide: hiddenSide ? 1 : 0 },
        states,
      );
      parts.push(logSumExp(Float64Array.from(values)));
    }
    return logSumExp(parts);
  }

  /** Mean log-likelihood per sample (nats): mean(−F(v)) − ln Z, exact (smaller layer ≤ 20 units). */
  async logLikelihood(rows: Float32Array, n: number, logZ?: number): Promise<number> {
    const f = await this.freeEnergies(rows, n);
    const lnZ = logZ ?? (await this.logPartition());
    let s = 0;
    for (const x of f) s -= x;
    return s / n - lnZ;
  }

  /** Mean free energy per sample. */
  async meanFreeEnergy(rows: Float32Array, n: number): Promise<number> {
    const f = await this.freeEnergies(rows, n);
    let s = 0;
    for (const x of f) s += x;
    return s / n;
  }

  /** Fraction of visible units that differ after one v → h (sample) → v (sample) pass. */
  async reconstructionError(rows: Float32Array, n: number, step = 0): Promise<number> {
    this.checkRows(rows, n);
    const h = await this.rbm.conditional(rows, n, { hidden: true, step });
    const v = await this.rbm.conditional(h.samples, n, { hidden: false, step });
    let wrong = 0;
    for (let i = 0; i < rows.length; i++) if (v.samples[i] !== rows[i]) wrong++;
    return wrong / rows.length;
  }

  /**
   * Stochastic pseudo-log-likelihood per sample: nv · ln σ(F(ṽ) − F(v)), ṽ = v with one unit flipped,
   * the unit chosen per row by Philox from `seed` (as scikit-learn's BernoulliRBM.score_samples).
   */
  async pseudoLogLikelihood(rows: Float32Array, n: number, seed = 0): Promise<number> {
    this.checkRows(rows, n);
    const { nv } = this.rbm;
    const key = seedKey(seed);
    const flipped = rows.slice();
    const low = this.rbm.units === 'ising' ? -1 : 0;
    for (let r = 0; r < n; r++) {
      const i = Math.floor(
        ((philox4x32([r, 0, 0, streamWord(RngPurpose.rbmMonitor, 0)], key)[0] >>> 0) / 2 ** 32) * nv,
      );
      flipped[r * nv + i] = flipped[r * nv + i] === 1 ? low : 1;
    }
    const [f, g] = [await this.freeEnergies(rows, n), await this.freeEnergies(flipped, n)];
    let s = 0;
    for (let r = 0; r < n; r++) {
      const d = (g[r] as number) - (f[r] as number);
      s += nv * -(Math.max(-d, 0) + Math.log1p(Math.exp(-Math.abs(d)))); // ln σ(d), stable
    }
    return s / n;
  }
}

/** One epoch's metrics, as `blockspin rbm train --json` prints them (null where not monitored). */
export interface EpochMetrics {
  epoch: number;
  updates: number;
  lr: number;
  seconds: number;
  reconstructionError: { train: number; holdout: number | null };
  freeEnergy: { train: number; holdout: number | null; gap: number | null } | null;
  pseudoLogLikelihood: { train: number; holdout: number | null } | null;
  logLikelihood: { train: number; holdout: number | null } | null;
}

function firstRows(d: TrainingData, n: number): { rows: Float32Array; n: number } {
  const m = Math.min(n, d.n);
  return { rows: d.data.subarray(0, m * d.nv), n: m };
}

/** How much an epoch's monitor scores. */
export interface EpochMonitorOptions {
  /** Rows of each of the training and held-out sets (their first ones). */
  rows: number;
  /** Whether the free energies, their gap and the pseudo-log-likelihood are computed (they need a dense copy of a conv RBM's weights). */
  freeEnergy: boolean;
}

/**
 * The monitors after an epoch (src/rbm/monitor.ts) on the first rows of the training and held-out sets:
 * reconstruction error always; free energies (and their gap), pseudo-log-likelihood and — when the smaller
 * layer can be enumerated — the exact log-likelihood while the dense copy of the weights is small enough.
 */
export async function epochMetrics(
  rbm: RbmEngine,
  train: TrainingData,
  holdout: TrainingData | null,
  epoch: number,
  lr: number,
  seconds: number,
  options: EpochMonitorOptions,
): Promise<EpochMetrics> {
  const monitor = new RbmMonitor(rbm);
  const rows = options.rows;
  const t = firstRows(train, rows);
  const h = holdout ? firstRows(holdout, rows) : null;
  const reconstructionError = {
    train: await monitor.reconstructionError(t.rows, t.n, epoch),
    holdout: h ? await monitor.reconstructionError(h.rows, h.n, epoch) : null,
  };
  if (!options.freeEnergy) {
    return {
      epoch,
      updates: rbm.updateCount,
      lr,
      seconds,
      reconstructionError,
      freeEnergy: null,
      pseudoLogLikelihood: null,
      logLikelihood: null,
    };
  }
  const exact = Math.min(rbm.nv, rbm.nh) <= MAX_EXACT_UNITS;
  const logZ = exact ? await monitor.logPartition() : null;
  const fTrain = await monitor.meanFreeEnergy(t.rows, t.n);
  const fHold = h ? await monitor.meanFreeEnergy(h.rows, h.n) : null;
  return {
    epoch,
    updates: rbm.updateCount,
    lr,
    seconds,
    reconstructionError,
    freeEnergy: { train: fTrain, holdout: fHold, gap: fHold === null ? null : fHold - fTrain },
    pseudoLogLikelihood: {
      train: await monitor.pseudoLogLikelihood(t.rows, t.n, epoch),
      holdout: h ? await monitor.pseudoLogLikelihood(h.rows, h.n, epoch) : null,
    },
    logLikelihood:
      logZ === null ? null : { train: -fTrain - logZ, holdout: fHold === null ? null : -fHold - logZ },
  };
}
