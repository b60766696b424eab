/**
 * `blockspin reproduce mehta-schwab`: Mehta & Schwab, "An exact mapping between the variational renormalization
 * group and deep learning" (arXiv:1410.3831; ../../shared/papers/mehta-schwab-2014-reading-group-slides.md):
 * a deep belief network 1600-400-100-25 trained layer by layer, with L1, on 40×40 Ising configurations at
 * K = 0.408; its receptive fields (products of the layers' weights back to the lattice) look local and grow with
 * depth, like block spins. The paper shows pictures and prints no numbers; this study makes the claim a number:
 *
 * 1. data: Swendsen–Wang configurations at K and at the off-critical K's (ordered start, τ_int measured, saved
 *    ≥ ⌈2 τ_int⌉ sweeps apart; every other configuration flipped so both signs are present);
 * 2. DBNs ({0,1} units, no biases, CD-1, SGD with momentum and L1; PHYSICS.md "Mehta & Schwab: settings"), one
 *    per training seed and per data set: the critical data, the same with the sites shuffled by one fixed
 *    permutation (the network no longer sees the lattice), and the off-critical data;
 * 3. receptive fields and their half-mass radius on the torus (src/studies/receptive-fields.ts), per seed the
 *    median over a layer's units, then mean ± standard error over the seeds; beside them the same for products of
 *    randomly permuted weights, for the shuffled-sites network (in the lattice coordinates it sees), for ideal
 *    b×b block spins (b = √(L²/n)) and for a uniform field (completely delocalised).
 *
 * Headline names: `mehta.rfRadius.layerN` (N = 1, 2, 3, …), `mehta.rfRadius.layerN.K0.3` and `.K0.6`.
 */
import { generateDataset } from '../ising/dataset.ts';
import { propagateUp } from '../rbm/dbn.ts';
import { RbmEngine } from '../rbm/engine.ts';
import { StageClock, stageRunner } from './checkpoints.ts';
import { imageGrid } from './figures.ts';
import { mehtaSchwabOutput } from './mehta-schwab-report.ts';
import { integerOption, positiveOption } from './options.ts';
import {
  blockSpinRadius,
  column,
  fieldRadii,
  meanAbsCosine,
  median,
  permuteEntries,
  randomPermutation,
  receptiveFields,
  uniformRadius,
  unscrambleRows,
} from './receptive-fields.ts';
import {
  StudyStopped,
  type FigureSpec,
  type Preset,
  type Study,
  type StudyContext,
  type StudyOutput,
} from './study.ts';

export interface MehtaSchwabOptions {
  /** Base seed: data, site shuffle, training seeds and weight permutations all derive from it. */
  seed: number;
  /** Lattice side (source: 40). */
  L: number;
  /** Coupling of the main data set (source: 0.408, just above T_c). */
  K: number;
  /** Off-critical couplings, each with its own data set and DBNs (K > K_c starts ordered). */
  offCritical: number[];
  /** Configurations per coupling (source: 20,000). */
  configurations: number;
  /** Swendsen–Wang thermalisation sweeps before τ_int is measured and configurations are saved. */
  therm: number;
  /** Hidden widths, bottom first (source: 400, 100, 25); each L²/n must be the square of a divisor of L. */
  hidden: number[];
  /** Training epochs of each layer (not given by the source: chosen). */
  epochs: number[];
  /** Minibatch size (replication: 1000). */
  batch: number;
  /** SGD learning rate (replication: 0.1). */
  lr: number;
  /** Momentum (replication: 0.5). */
  momentum: number;
  /** L1 weight penalty (replication: 0.008). */
  l1: number;
  /** Initial weights N(0, initScale²). */
  initScale: number;
  /** Independent training seeds per data set (errors are over these; at least 2). */
  seeds: number;
  /** Receptive fields drawn per layer (the first `mosaic` units; every unit when a layer has fewer). */
  mosaic: number;
  /** Rows of a layer's input used for the live reconstruction-error curve. */
  monitorRows: number;
}

/** The source's coupling (Mehta & Schwab §VI): just above the critical temperature, K_c = 0.4407. */
export const SOURCE_K = 0.408;

const paper: MehtaSchwabOptions = {
  seed: 1,
  L: 40,
  K: SOURCE_K,
  offCritical: [0.3, 0.6],
  configurations: 20_000,
  therm: 1000,
  hidden: [400, 100, 25],
  // Epochs are not in the source or the replication's notes: 100 per layer, chosen (2000 updates per layer).
  epochs: [100, 100, 100],
  batch: 1000,
  lr: 0.1,
  momentum: 0.5,
  l1: 0.008,
  initScale: 0.01,
  seeds: 3,
  mosaic: 25,
  monitorRows: 500,
};

export const MEHTA_SCHWAB_PRESETS: Record<Preset, MehtaSchwabOptions> = {
  test: {
    ...paper,
    L: 16,
    configurations: 300,
    therm: 100,
    hidden: [64, 16, 4],
    epochs: [4, 4, 4],
    batch: 50,
    seeds: 2,
    mosaic: 16,
    monitorRows: 100,
  },
  quick: {
    ...paper,
    L: 24,
    configurations: 1000,
    therm: 200,
    hidden: [144, 36, 9],
    epochs: [10, 15, 20],
    batch: 100,
    seeds: 3,
    monitorRows: 200,
  },
  standard: {
    ...paper,
    configurations: 2000,
    therm: 500,
    // ~2 min per DBN on 2 SwiftShader cores (13 s per layer-1 epoch), 12 DBNs + data: ~30 min.
    epochs: [8, 12, 20],
    // With 2000 configurations, batch 1000 would make 2 updates an epoch: batch 100 gives 160 updates to layer 1.
    batch: 100,
    seeds: 3,
  },
  paper,
};

/** Checks every option (before any GPU work), naming the bad value and its limit. */
export function checkMehtaSchwabOptions(o: MehtaSchwabOptions): void {
  integerOption('seed', o.seed, 0, 2 ** 31 - 1);
  integerOption('L', o.L, 4, 256);
  positiveOption('K', o.K);
  if (!Array.isArray(o.offCritical))
    throw new RangeError(`offCritical ${String(o.offCritical)} must be a list of couplings`);
  o.offCritical.forEach((k, i) => {
    positiveOption(`offCritical[${i}]`, k);
    if (k === o.K)
      throw new RangeError(
        `offCritical[${i}] ${k} equals K ${o.K}; the off-critical runs need other couplings`,
      );
    if (o.offCritical.indexOf(k) !== i) throw new RangeError(`offCritical[${i}] ${k} appears twice`);
  });
  integerOption('configurations', o.configurations, 2, 1_000_000);
  integerOption('therm', o.therm, 0, 1_000_000);
  if (!Array.isArray(o.hidden) || o.hidden.length < 1 || o.hidden.length > 8)
    throw new RangeError(`hidden ${JSON.stringify(o.hidden)} must list 1 … 8 layer widths`);
  let width = o.L * o.L;
  o.hidden.forEach((n, i) => {
    integerOption(`hidden[${i}]`, n, 1, width);
    const b = Math.round(Math.sqrt((o.L * o.L) / n));
    if (b * b * n !== o.L * o.L || o.L % b !== 0)
      throw new RangeError(
        `hidden[${i}] ${n}: L²/n = ${((o.L * o.L) / n).toFixed(3)} must be b² with b a divisor of L ${o.L} (a b×b block per unit)`,
      );
    width = n;
  });
  if (!Array.isArray(o.epochs) || o.epochs.length !== o.hidden.length)
    throw new RangeError(
      `epochs ${JSON.stringify(o.epochs)} must give one count per layer (${o.hidden.length})`,
    );
  o.epochs.forEach((e, i) => integerOption(`epochs[${i}]`, e, 1, 100_000));
  integerOption('batch', o.batch, 1, o.configurations);
  positiveOption('lr', o.lr);
  if (typeof o.momentum !== 'number' || !(o.momentum >= 0 && o.momentum < 1))
    throw new RangeError(`momentum ${String(o.momentum)} must be a number in [0, 1)`);
  if (typeof o.l1 !== 'number' || !(o.l1 >= 0) || !Number.isFinite(o.l1))
    throw new RangeError(`l1 ${String(o.l1)} must be a finite number ≥ 0`);
  positiveOption('initScale', o.initScale);
  integerOption('seeds', o.seeds, 2, 100);
  integerOption('mosaic', o.mosaic, 1, 400);
  integerOption('monitorRows', o.monitorRows, 1, o.configurations);
}

/** One data set: ±1 configurations at coupling K and how they were sampled. */
export interface CouplingData {
  K: number;
  spins: Int8Array;
  count: number;
  interval: number;
  tauEnergy: number;
  tauAbsM: number;
  converged: boolean;
}

/** The data sets a DBN is trained on: the main K, its site-shuffled copy, each off-critical K. */
export interface Variant {
  /** 'critical', 'shuffled' or `K${K}`. */
  name: string;
  label: string;
  K: number;
  shuffled: boolean;
}

/** One trained DBN: its weights, the radii of its fields (and of its nulls) per layer, its training curve. */
export interface TrainedDbn {
  variant: string;
  seedIndex: number;
  seed: number;
  /** Per layer, [n_{l−1} × n_l] row-major. */
  weights: Float32Array[];
  /** Per layer, the half-mass radius of each unit's field (lattice coordinates as the network sees them). */
  radii: Float64Array[];
  /** critical only: the radii of the products of permuted weights. */
  permutedRadii?: Float64Array[];
  /** shuffled only: the radii with the shuffle undone (the fields on the true lattice). */
  unscrambledRadii?: Float64Array[];
  /** Per layer, the mean |cosine| between its units' fields (0 for block spins; 1 for copies of one field). */
  similarity: number[];
  /** Reconstruction error per layer and epoch. */
  curves: { layer: number; epoch: number; y: number }[];
  seconds: number;
}

export interface MehtaSchwabState {
  data: CouplingData[];
  dataSeconds: number;
  variants: Variant[];
  dbns: TrainedDbn[];
  /** The site shuffle of the shuffled-sites data (network input i = lattice site perm[i]). */
  sitePermutation: Uint32Array;
  stages: { stage: string; seconds: number }[];
  resumed: string[];
  stopped: string | null;
  /** Radii of the comparisons: ideal b×b block per layer and a uniform field. */
  blockSpin: number[];
  blockSizes: number[];
  uniform: number;
}

/** The variants of a run, in order. */
export function variantsOf(o: MehtaSchwabOptions): Variant[] {
  return [
    { name: 'critical', label: `K = ${o.K}`, K: o.K, shuffled: false },
    { name: 'shuffled', label: `K = ${o.K}, sites shuffled`, K: o.K, shuffled: true },
    ...o.offCritical.map((K) => ({ name: `K${K}`, label: `K = ${K}`, K, shuffled: false })),
  ];
}

/** The training seed of (variant index, seed index). */
export function dbnSeed(o: MehtaSchwabOptions, variant: number, seedIndex: number): number {
  return o.seed + 1000 * (variant + 1) + 17 * seedIndex;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
const jsonBytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const parseJson = (b: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(b));

/** The data of every coupling, from its checkpoint or by Swendsen–Wang. */
async function couplingData(
  context: StudyContext,
  o: MehtaSchwabOptions,
  state: MehtaSchwabState,
): Promise<void> {
  const couplings = [o.K, ...o.offCritical];
  const clock = new StageClock();
  const saved = await context.checkpoints?.read('data');
  const meta = saved?.get('data.json');
  if (saved && meta) {
    const m = parseJson(meta) as { sets: Omit<CouplingData, 'spins'>[]; seconds: number };
    for (const s of m.sets) {
      const bytes = saved.get(`spins-K${s.K}.bin`);
      if (!bytes) throw new Error(`checkpoint data lacks spins-K${s.K}.bin`);
      state.data.push({
        ...s,
        spins: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice(),
      });
    }
    state.dataSeconds = m.seconds;
    state.resumed.push('data');
    context.log('data: taken from the checkpoint of an earlier run');
    return;
  }
  const sites = o.L * o.L;
  const ds = await generateDataset(context.device, {
    L: o.L,
    temperatures: couplings.map((K) => 1 / K),
    samples: o.configurations,
    algorithm: 'sw',
    // Ordered starts: below T_c a random start can freeze into stripes (PHYSICS.md); above T_c it thermalises fast.
    init: 'up',
    therm: o.therm,
    tauSweeps: Math.max(200, o.therm),
    chains: Math.min(16, o.configurations),
    seed: o.seed,
    signal: context.signal,
    onProgress: (phase, done, total) => context.progress(`data (${phase})`, done, total),
  });
  if (ds.deviceLost) throw ds.deviceLost;
  if (!ds.complete) throw new StudyStopped('interrupted while sampling the data');
  couplings.forEach((K, i) => {
    const t = ds.temperatures[i]!;
    const spins = Int8Array.from(t.spins);
    // Every other configuration flipped: both signs present (changes nothing above T_c, by symmetry).
    for (let r = 1; r < o.configurations; r += 2)
      for (let s = r * sites; s < (r + 1) * sites; s++) spins[s] = -spins[s]!;
    state.data.push({
      K,
      spins,
      count: o.configurations,
      interval: t.interval,
      tauEnergy: t.tauInt.energy,
      tauAbsM: t.tauInt.absMagnetization,
      converged: t.tauInt.converged,
    });
    context.log(
      `data K = ${K}: ${o.configurations} configurations ${t.interval} sweeps apart; τ_int(E) ${t.tauInt.energy.toFixed(2)}, τ_int(|m|) ${t.tauInt.absMagnetization.toFixed(2)}`,
    );
  });
  state.dataSeconds = clock.elapsed();
  await context.checkpoints?.write('data', [
    {
      name: 'data.json',
      bytes: jsonBytes({
        sets: state.data.map(({ spins: _s, ...rest }) => rest),
        seconds: state.dataSeconds,
      }),
    },
    ...state.data.map((d) => ({ name: `spins-K${d.K}.bin`, bytes: bytesOf(d.spins) })),
  ]);
}

/** The {0,1} rows of a data set, with the sites reordered by `perm` when given (row i ← site perm[i]). */
function dataRows(d: CouplingData, sites: number, perm: Uint32Array | null): Float32Array {
  const out = new Float32Array(d.count * sites);
  for (let r = 0; r < d.count; r++) {
    const base = r * sites;
    for (let i = 0; i < sites; i++) out[base + i] = d.spins[base + (perm ? perm[i]! : i)]! > 0 ? 1 : 0;
  }
  return out;
}

/** Mean squared difference between input rows and their one-step reconstruction (v → h sample → v means). */
async function reconstructionError(
  rbm: RbmEngine,
  rows: Float32Array,
  n: number,
  step: number,
): Promise<number> {
  const { samples: h } = await rbm.conditional(rows, n, { hidden: true, step });
  const { means: v } = await rbm.conditional(h, n, { hidden: false, step });
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - rows[i]!) ** 2;
  return s / v.length;
}

/** Trains one DBN greedily (each layer on the previous layer's hidden means) and returns its weights. */
async function trainStack(
  context: StudyContext,
  o: MehtaSchwabOptions,
  rows: Float32Array,
  seed: number,
  label: string,
): Promise<{ weights: Float32Array[]; curves: TrainedDbn['curves'] }> {
  const n = o.configurations;
  const weights: Float32Array[] = [];
  const curves: TrainedDbn['curves'] = [];
  let input = rows;
  let width = o.L * o.L;
  let real = false;
  for (let l = 0; l < o.hidden.length; l++) {
    const nh = o.hidden[l]!;
    const rbm = new RbmEngine(context.device, {
      nv: width,
      nh,
      units: 'bernoulli',
      visibleBias: false,
      hiddenBias: false,
      initScale: o.initScale,
      seed: (BigInt(seed) << 8n) | BigInt(l),
    });
    try {
      rbm.setData(input, n, { realValued: real });
      rbm.configureTraining({
        batch: o.batch,
        lr: o.lr,
        optimizer: 'momentum',
        momentum: o.momentum,
        l1: o.l1,
        k: 1,
      });
      const m = Math.min(o.monitorRows, n);
      const monitor = input.slice(0, m * width);
      const model = `layer ${l + 1} (${label})`;
      const stage = `train ${label}, layer ${l + 1}`;
      const epochs = o.epochs[l]!;
      const record = async (epoch: number) => {
        const y = await reconstructionError(rbm, monitor, m, 0x4d000 + epoch);
        curves.push({ layer: l + 1, epoch, y });
        context.update?.({ kind: 'curve', model, series: 'reconstruction', x: epoch, y });
      };
      await record(0);
      for (let e = 1; e <= epochs; e++) {
        const r = await rbm.trainEpochs(1, { signal: context.signal });
        if (r.aborted) throw new StudyStopped('interrupted');
        await record(e);
        context.progress(stage, e, epochs);
      }
      weights.push((await rbm.getParameters()).W);
      if (context.update) context.update({ kind: 'figure', figure: liveFields(o, weights, label) });
      if (l < o.hidden.length - 1) {
        input = await propagateUp(rbm, input, n, 'means');
        real = true;
      }
    } finally {
      rbm.destroy();
    }
    width = nh;
  }
  return { weights, curves };
}

/**
 * The receptive fields of the newest trained layer (products of `weights` back to the lattice), for the lab while
 * the study runs: one figure per layer, replaced as each network trains.
 */
function liveFields(o: MehtaSchwabOptions, weights: readonly Float32Array[], label: string): FigureSpec {
  const l = weights.length - 1;
  const nh = o.hidden[l]!;
  const P = receptiveFields(weights, [o.L * o.L, ...o.hidden.slice(0, l + 1)])[l]!;
  const shown = Math.min(o.mosaic, nh);
  return imageGrid({
    name: `live-fields-layer${l + 1}`,
    title: `Receptive fields of layer ${l + 1} (${label}; ${shown} of ${nh} units)`,
    panels: Array.from({ length: shown }, (_, j) => ({
      label: `unit ${j + 1}`,
      rows: o.L,
      cols: o.L,
      data: column(P, o.L * o.L, nh, j),
    })),
    columns: Math.min(shown, 10),
    cellSize: Math.max(2, Math.round(60 / o.L)),
    valueTitle: 'weight product',
    scale: 'panel',
  });
}

/** The products of the layers' weights with every matrix's entries permuted (the null of no learning). */
export function permutedFields(
  weights: readonly Float32Array[],
  widths: readonly number[],
  seed: number,
): Float64Array[] {
  return receptiveFields(
    weights.map((W, l) => permuteEntries(W, seed, l + 1)),
    widths,
  );
}

/** Radii of every layer's fields of a DBN (and its nulls), from its weights. */
export function analyseDbn(
  o: MehtaSchwabOptions,
  variant: Variant,
  weights: Float32Array[],
  sitePermutation: Uint32Array,
  seed: number,
): Pick<TrainedDbn, 'radii' | 'permutedRadii' | 'unscrambledRadii' | 'similarity'> {
  const widths = [o.L * o.L, ...o.hidden];
  const P = receptiveFields(weights, widths);
  const out: Pick<TrainedDbn, 'radii' | 'permutedRadii' | 'unscrambledRadii' | 'similarity'> = {
    radii: P.map((p, l) => fieldRadii(p, o.L, o.hidden[l]!)),
    similarity: P.map((p, l) => meanAbsCosine(p, o.L * o.L, o.hidden[l]!)),
  };
  if (variant.name === 'critical')
    out.permutedRadii = permutedFields(weights, widths, seed + 500).map((p, l) =>
      fieldRadii(p, o.L, o.hidden[l]!),
    );
  if (variant.shuffled)
    out.unscrambledRadii = P.map((p, l) =>
      fieldRadii(unscrambleRows(p, sitePermutation, o.hidden[l]!), o.L, o.hidden[l]!),
    );
  return out;
}

const dbnCheckpoint = (variant: string, s: number) => `dbn-${variant}-seed${s + 1}`;

async function runDbn(
  context: StudyContext,
  o: MehtaSchwabOptions,
  state: MehtaSchwabState,
  vi: number,
  s: number,
): Promise<void> {
  const variant = state.variants[vi]!;
  const seed = dbnSeed(o, vi, s);
  const name = dbnCheckpoint(variant.name, s);
  const saved = await context.checkpoints?.read(name);
  let weights: Float32Array[];
  let curves: TrainedDbn['curves'];
  let seconds: number;
  const clock = new StageClock();
  if (saved?.get('dbn.json')) {
    const meta = parseJson(saved.get('dbn.json')!) as { curves: TrainedDbn['curves']; seconds: number };
    weights = o.hidden.map((_, l) => {
      const b = saved.get(`W${l + 1}.bin`);
      if (!b) throw new Error(`checkpoint ${name} lacks W${l + 1}.bin`);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    });
    curves = meta.curves;
    seconds = meta.seconds;
    state.resumed.push(name);
    context.log(`${variant.label}, seed ${s + 1}: taken from the checkpoint of an earlier run`);
  } else {
    const data = state.data.find((d) => d.K === variant.K)!;
    const rows = dataRows(data, o.L * o.L, variant.shuffled ? state.sitePermutation : null);
    const label = `seed ${s + 1}${variant.name === 'critical' ? '' : `, ${variant.shuffled ? 'shuffled sites' : `K = ${variant.K}`}`}`;
    ({ weights, curves } = await trainStack(context, o, rows, seed, label));
    seconds = clock.elapsed();
    await context.checkpoints?.write(name, [
      { name: 'dbn.json', bytes: jsonBytes({ curves, seconds }) },
      ...weights.map((W, l) => ({ name: `W${l + 1}.bin`, bytes: bytesOf(W) })),
    ]);
  }
  const radii = analyseDbn(o, variant, weights, state.sitePermutation, seed);
  state.dbns.push({ variant: variant.name, seedIndex: s, seed, weights, curves, seconds, ...radii });
  context.log(
    `${variant.label}, seed ${s + 1}: median radius per layer ${radii.radii.map((r) => median(r).toFixed(2)).join(', ')}` +
      (radii.permutedRadii
        ? ` (permuted ${radii.permutedRadii.map((r) => median(r).toFixed(2)).join(', ')})`
        : '') +
      (radii.unscrambledRadii
        ? ` (shuffle undone ${radii.unscrambledRadii.map((r) => median(r).toFixed(2)).join(', ')})`
        : ''),
  );
}

async function run(options: MehtaSchwabOptions, context: StudyContext): Promise<StudyOutput> {
  checkMehtaSchwabOptions(options);
  const o = options;
  const blockSizes = o.hidden.map((n) => Math.round(Math.sqrt((o.L * o.L) / n)));
  const state: MehtaSchwabState = {
    data: [],
    dataSeconds: 0,
    variants: variantsOf(o),
    dbns: [],
    sitePermutation: randomPermutation(o.L * o.L, o.seed, 0x5173),
    stages: [],
    resumed: [],
    stopped: null,
    blockSpin: blockSizes.map((b) => blockSpinRadius(o.L, b)),
    blockSizes,
    uniform: uniformRadius(o.L),
  };
  const stage = stageRunner(state.stages, context.signal);
  try {
    await stage('data', () => couplingData(context, o, state));
    for (let vi = 0; vi < state.variants.length; vi++)
      for (let s = 0; s < o.seeds; s++)
        await stage(`dbn ${state.variants[vi]!.name} seed ${s + 1}`, () => runDbn(context, o, state, vi, s));
  } catch (err) {
    if (err instanceof StudyStopped) state.stopped = err.message;
    else throw err;
  }
  return mehtaSchwabOutput(o, state);
}

export const mehtaSchwabStudy: Study<MehtaSchwabOptions> = {
  name: 'mehta-schwab',
  title:
    'Receptive fields of a deep belief network on critical Ising data grow like block spins? (Mehta & Schwab)',
  source:
    'Mehta & Schwab, arXiv:1410.3831 (2014), via shared/papers/mehta-schwab-2014-reading-group-slides.md; replication settings in shared/PHYSICS.md',
  presets: MEHTA_SCHWAB_PRESETS,
  check: checkMehtaSchwabOptions,
  run,
};
