/**
 * The settings of `<blockspin-rbm-trainer>` without the DOM: the form's fields (strings, as typed), the presets,
 * parsing into a training request with problems that name the value and the limit (the engines' and the
 * CLI's own rules are applied where they exist), the GPU buffer checks against an adapter's limits, and the
 * time estimate against the user's cap. Everything here runs in Node (test/elements/rbm-options.test.ts).
 */
import { resolveDatasetOptions } from '../ising/dataset.ts';
import { resolveIsingConfig } from '../ising/config.ts';
import {
  CONV_LIMITS,
  MAX_UPDATES,
  type ConvGeometry,
  type LearningRateSchedule,
  type OptimizerKind,
  type RbmUnits,
  type TrainingOptions,
  type VisibleBiasInit,
} from '../rbm/engine.ts';
import { convGeometry as checkedConvGeometry } from '../rbm/geometry.ts';

/** The CLI's conv geometry rules (src/rbm/geometry.ts), with messages that say `conv F:k:s` as the form does. */
export function convGeometry(
  conv: Omit<ConvGeometry, 'Lv'>,
  data: { nv: number; shape: readonly number[] },
): ConvGeometry {
  return checkedConvGeometry(conv, data, 'conv');
}

/** Where the training data come from. */
export type DataKind = 'ising' | 'file' | 'mnist';

/** The trainer's form: every field as the user typed it (names are the inputs' `name`s and the URL keys). */
export interface TrainerForm {
  data: DataKind;
  /** Ising: lattice side, temperatures (comma list), configurations per T, thermalisation and decorrelation sweeps, seed. */
  L: string;
  temperatures: string;
  perT: string;
  therm: string;
  every: string;
  dataSeed: string;
  /** Ising update: metropolis, heatbath, or sw (Swendsen–Wang clusters: short autocorrelation times near T_c). */
  algorithm: 'metropolis' | 'heatbath' | 'sw';
  /** MNIST: digits (comma list, empty = all) and image count; grey levels binarised at `binarize` (MNIST, files). */
  digits: string;
  mnistCount: string;
  binarize: string;
  /** Model. */
  model: 'dense' | 'conv';
  units: RbmUnits;
  hidden: string;
  filters: string;
  kernel: string;
  stride: string;
  /** Training. */
  method: 'cd' | 'pcd';
  k: string;
  chains: string;
  meanField: string;
  optimizer: OptimizerKind;
  lr: string;
  momentum: string;
  schedule: 'constant' | 'sqrt' | 'exp';
  scheduleFinal: string;
  scheduleEpochs: string;
  gamma: string;
  l1: string;
  l2: string;
  batch: string;
  epochs: string;
  seed: string;
  holdout: string;
  initScale: string;
  init: 'normal' | 'uniform';
  visibleBias: string;
  visibleBiasInit: VisibleBiasInit;
  hiddenBias: string;
  /** The cap: the most minutes one epoch may take by the estimate. */
  capMinutes: string;
}

/** The trainer's field names. */
export type TrainerField = keyof TrainerForm;

/** The CLI's defaults (`blockspin rbm train`), for the fields a preset does not set. */
export const DEFAULT_FORM: TrainerForm = {
  data: 'ising',
  L: '32',
  temperatures: '1.8, 3.5',
  perT: '200',
  therm: '500',
  every: '4',
  dataSeed: '1',
  algorithm: 'metropolis',
  digits: '',
  mnistCount: '2000',
  binarize: '0.5',
  model: 'dense',
  units: 'ising',
  hidden: '64',
  filters: '1',
  kernel: '8',
  stride: '2',
  method: 'cd',
  k: '1',
  chains: '100',
  meanField: 'false',
  optimizer: 'sgd',
  lr: '0.05',
  momentum: '0.9',
  schedule: 'constant',
  scheduleFinal: '0.001',
  scheduleEpochs: '10',
  gamma: '0.85',
  l1: '0',
  l2: '0',
  batch: '10',
  epochs: '10',
  seed: '1',
  holdout: '0.2',
  initScale: '0.01',
  init: 'normal',
  visibleBias: 'true',
  visibleBiasInit: 'log-odds',
  hiddenBias: 'true',
  capMinutes: '10',
};

/** A named starting point of the form. */
export interface TrainerPreset {
  id: string;
  label: string;
  /** One line on what it is for. */
  note: string;
  form: Partial<TrainerForm>;
}

/** The presets, in menu order (the first is the default). */
export const TRAINER_PRESETS: readonly TrainerPreset[] = [
  {
    id: 'ising-32-quick',
    label: 'Ising 32² quick',
    note: 'A dense 1024 → 64 RBM on 32² configurations below and above T_c; seconds per epoch even on a CPU adapter.',
    form: {},
  },
  {
    id: 'ising-128-conv',
    label: 'Ising 128² conv',
    note: 'Chung & Kao’s geometry and optimiser (one 8×8 filter, stride 2: 16,384 → 4,096 hidden; Adam 10⁻³) on 128² Swendsen–Wang configurations at T_c.',
    form: {
      L: '128',
      temperatures: '2.269',
      perT: '256',
      therm: '200',
      every: '2',
      algorithm: 'sw',
      model: 'conv',
      filters: '1',
      kernel: '8',
      stride: '2',
      batch: '16',
      optimizer: 'adam',
      lr: '0.001',
      epochs: '5',
      holdout: '0.1',
    },
  },
  {
    id: 'ising-128-dense',
    label: 'Ising 128² dense 16384×1024',
    note: 'A dense 16,384 × 1,024 RBM (64 MiB of weights; Adam 10⁻³) on 128² Swendsen–Wang configurations at T_c: meant for a GPU.',
    form: {
      L: '128',
      temperatures: '2.269',
      perT: '256',
      therm: '200',
      every: '2',
      algorithm: 'sw',
      model: 'dense',
      hidden: '1024',
      batch: '16',
      optimizer: 'adam',
      lr: '0.001',
      epochs: '5',
      holdout: '0.1',
    },
  },
  {
    id: 'mnist',
    label: 'MNIST',
    note: 'Binarised MNIST digits, 784 → 144, the CLI’s defaults (bench/README.md, “RBM training quality”).',
    form: { data: 'mnist', units: 'bernoulli', hidden: '144', mnistCount: '2000', epochs: '10' },
  },
];

/** The form of a preset (unknown ids give the first), with `overrides` applied. */
export function presetForm(id: string, overrides: Partial<Record<string, string>> = {}): TrainerForm {
  const preset = TRAINER_PRESETS.find((p) => p.id === id) ?? TRAINER_PRESETS[0]!;
  const form: TrainerForm = { ...DEFAULT_FORM, ...preset.form };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined && key in DEFAULT_FORM) (form as unknown as Record<string, string>)[key] = value;
  }
  return form;
}

/** The fields where `form` differs from its preset (what the URL keeps beside `preset`). */
export function formOverrides(presetId: string, form: TrainerForm): Record<string, string> {
  const base = presetForm(presetId);
  const out: Record<string, string> = {};
  for (const key of Object.keys(base) as TrainerField[]) {
    if (form[key] !== base[key]) out[key] = form[key];
  }
  return out;
}

/** A problem with the settings; `field` names the input it is about. */
export interface TrainerProblem {
  message: string;
  field?: TrainerField;
}

/** Ising data to generate in the page. */
export interface IsingDataRequest {
  kind: 'ising';
  L: number;
  temperatures: number[];
  perT: number;
  therm: number;
  every: number;
  seed: number;
  algorithm: 'metropolis' | 'heatbath' | 'sw';
  /** Sweeps measured for τ_int (default: the generator's, max(500, therm)); benchmarks take fewer. */
  tauSweeps?: number;
}

/** The data part of a request. */
export type DataRequest =
  | IsingDataRequest
  | { kind: 'mnist'; digits?: number[]; count: number; binarize: number }
  | { kind: 'file'; binarize: number };

/** A validated training run (the geometry of a conv RBM is completed once the data's shape is known). */
export interface TrainRequest {
  data: DataRequest;
  units: RbmUnits;
  /** Dense hidden units, or the conv filters (Lv from the data). */
  hidden?: number;
  conv?: Omit<ConvGeometry, 'Lv'>;
  training: TrainingOptions;
  epochs: number;
  seed: number;
  holdout: number;
  initScale: number;
  init: 'normal' | 'uniform';
  visibleBias: boolean;
  visibleBiasInit: VisibleBiasInit;
  hiddenBias: boolean;
  capMinutes: number;
}

/** The largest image count the MNIST loader takes (the `mnist` package's 10,000 digits). */
export const MNIST_MAX = 10_000;

/**
 * Parses and validates the form (no GPU): each problem names the field, the value and the limit. The
 * engine's own checks (RbmEngine's options, resolveTraining) run again when the run starts.
 */
export function parseTrainerForm(
  form: TrainerForm,
): { request: TrainRequest } | { problems: TrainerProblem[] } {
  const problems: TrainerProblem[] = [];
  const fail = (field: TrainerField, message: string): undefined => {
    problems.push({ field, message });
    return undefined;
  };
  const integer = (field: TrainerField, label: string, min: number, max = 0xffffffff): number => {
    const raw = form[field].trim();
    const n = Number(raw);
    if (raw === '' || !Number.isInteger(n) || n < min || n > max) {
      fail(field, `${label} ${raw || '(empty)'} must be an integer in ${min} … ${max}`);
      return min;
    }
    return n;
  };
  const number = (
    field: TrainerField,
    label: string,
    { min = -Infinity, max = Infinity, open = false, below = false } = {},
  ): number => {
    const raw = form[field].trim();
    const x = Number(raw);
    const low = open ? x <= min : x < min;
    const high = below ? x >= max : x > max;
    if (raw === '' || !Number.isFinite(x) || low || high) {
      const range =
        max === Infinity
          ? `${open ? '>' : '≥'} ${min}`
          : `in ${open ? '(' : '['}${min}, ${max}${below ? ')' : ']'}`;
      fail(field, `${label} ${raw || '(empty)'} must be a finite number ${range}`);
      return Math.max(min, 0);
    }
    return x;
  };
  const flag = (field: TrainerField): boolean => form[field] === 'true';

  let data: DataRequest | undefined;
  if (form.data === 'ising') {
    const L = integer('L', 'Lattice side L', 2, 4096);
    const temperatures: number[] = [];
    for (const part of form.temperatures.split(',').map((s) => s.trim())) {
      const T = Number(part);
      if (part === '' || !Number.isFinite(T) || T <= 0) {
        fail(
          'temperatures',
          `temperature '${part}' must be a finite number > 0 (give a comma list, e.g. 1.8, 2.27, 3.5)`,
        );
        break;
      }
      temperatures.push(T);
    }
    const perT = integer('perT', 'Configurations per T', 1, 1_000_000);
    const therm = integer('therm', 'Thermalisation sweeps', 0, 1_000_000);
    const every = integer('every', 'Decorrelation sweeps', 1, 1_000_000);
    const seed = integer('dataSeed', 'Data seed', 0, Number.MAX_SAFE_INTEGER);
    const algorithm = (['metropolis', 'heatbath', 'sw'] as const).includes(form.algorithm)
      ? form.algorithm
      : 'metropolis';
    if (!problems.some((p) => p.field === 'L')) {
      try {
        resolveIsingConfig({ L, replicas: 1, T: 1, algorithm });
      } catch (err) {
        fail('L', (err as Error).message);
      }
    }
    if (problems.length === 0) {
      try {
        resolveDatasetOptions({ L, temperatures, samples: perT, therm, every, seed, algorithm });
      } catch (err) {
        fail('perT', (err as Error).message);
      }
    }
    data = { kind: 'ising', L, temperatures, perT, therm, every, seed, algorithm };
  } else if (form.data === 'mnist') {
    const digits: number[] = [];
    for (const part of form.digits
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const d = Number(part);
      if (!Number.isInteger(d) || d < 0 || d > 9) {
        fail('digits', `digit '${part}' must be 0 … 9 (a comma list; empty for all ten)`);
        break;
      }
      digits.push(d);
    }
    const count = integer('mnistCount', 'Images', 1, MNIST_MAX);
    const binarize = number('binarize', 'Binarisation threshold', { min: 0, max: 1, below: true });
    data = { kind: 'mnist', ...(digits.length ? { digits } : {}), count, binarize };
  } else {
    data = {
      kind: 'file',
      binarize: number('binarize', 'Binarisation threshold', { min: 0, max: 1, below: true }),
    };
  }

  const units = form.units === 'bernoulli' ? 'bernoulli' : 'ising';
  let hidden: number | undefined;
  let conv: Omit<ConvGeometry, 'Lv'> | undefined;
  if (form.model === 'conv') {
    const filters = integer('filters', 'Filters F', 1, CONV_LIMITS.filters);
    const k = integer('kernel', 'Filter size k', 1, CONV_LIMITS.k);
    const stride = integer('stride', 'Stride s', 1, CONV_LIMITS.Lv);
    conv = { filters, k, stride };
    if (
      data.kind === 'ising' &&
      !problems.some((p) => ['filters', 'kernel', 'stride', 'L'].includes(p.field ?? ''))
    ) {
      try {
        convGeometry(conv, { nv: data.L * data.L, shape: [data.L, data.L] });
      } catch (err) {
        fail(k > data.L ? 'kernel' : 'stride', (err as Error).message);
      }
    }
  } else {
    hidden = integer('hidden', 'Hidden units', 1, 1 << 24);
  }

  const pcd = form.method === 'pcd' ? integer('chains', 'PCD chains', 1, 1 << 20) : 0;
  const k = integer('k', 'Gibbs steps k', 1, 1000);
  const optimizer = (['sgd', 'momentum', 'adam'] as const).includes(form.optimizer) ? form.optimizer : 'sgd';
  const lr = number('lr', 'Learning rate', { min: 0, open: true });
  const momentum = number('momentum', 'Momentum', { min: 0, max: 1, below: true });
  let schedule: LearningRateSchedule = { kind: 'constant' };
  if (form.schedule === 'sqrt') {
    schedule = {
      kind: 'sqrt',
      final: number('scheduleFinal', 'Final learning rate', { min: 0, open: true }),
      decayEpochs: number('scheduleEpochs', 'Decay epochs', { min: 0, open: true }),
    };
  } else if (form.schedule === 'exp') {
    schedule = { kind: 'exponential', gamma: number('gamma', 'Decay factor γ', { min: 0, open: true }) };
  }
  const l1 = number('l1', 'L1 weight decay', { min: 0 });
  const l2 = number('l2', 'L2 weight decay', { min: 0 });
  const batch = integer('batch', 'Batch', 1);
  const epochs = integer('epochs', 'Epochs', 1, 1_000_000);
  const seed = integer('seed', 'Seed', 0, Number.MAX_SAFE_INTEGER);
  const holdout = number('holdout', 'Held-out fraction', { min: 0, max: 1, below: true });
  const initScale = number('initScale', 'Initial weight scale', { min: 0 });
  const capMinutes = number('capMinutes', 'Cap (minutes per epoch)', { min: 0, open: true });

  // Sizes known before any data is loaded: the Ising and MNIST sample counts.
  const samples =
    data.kind === 'ising'
      ? data.perT * data.temperatures.length
      : data.kind === 'mnist'
        ? data.count
        : undefined;
  const split = samples !== undefined && problems.length === 0 ? holdoutProblem(samples, holdout) : null;
  if (split) problems.push(split);
  if (samples !== undefined && problems.length === 0) {
    const train = trainingCount(samples, holdout);
    if (batch > train)
      fail(
        'batch',
        `Batch ${batch} exceeds the ${train} training samples (${samples} less ${(holdout * 100).toFixed(0)} % held out)`,
      );
    else if (epochs * Math.floor(train / batch) > MAX_UPDATES)
      fail(
        'epochs',
        `Epochs ${epochs} × ${Math.floor(train / batch)} updates per epoch exceeds ${MAX_UPDATES} updates (the u32 random-number step counter)`,
      );
  }
  if (problems.length > 0) return { problems };
  const training: TrainingOptions = {
    batch,
    k,
    pcd,
    meanFieldFinal: flag('meanField'),
    optimizer,
    lr,
    momentum,
    l1,
    l2,
    schedule,
  };
  return {
    request: {
      data,
      units,
      ...(hidden !== undefined ? { hidden } : {}),
      ...(conv ? { conv } : {}),
      training,
      epochs,
      seed,
      holdout,
      initScale,
      init: form.init === 'uniform' ? 'uniform' : 'normal',
      visibleBias: flag('visibleBias'),
      visibleBiasInit: form.visibleBiasInit === 'zero' ? 'zero' : 'log-odds',
      hiddenBias: flag('hiddenBias'),
      capMinutes,
    },
  };
}

/** Training samples left by `splitHoldout` (src/rbm/data.ts): n − round(n · fraction). */
export function trainingCount(n: number, holdout: number): number {
  return holdout > 0 ? n - Math.round(n * holdout) : n;
}

/** The problem with holding out `holdout` of `n` samples (splitHoldout needs 1 … n − 1 held out), or null. */
export function holdoutProblem(n: number, holdout: number): TrainerProblem | null {
  if (holdout <= 0) return null;
  const m = Math.round(n * holdout);
  if (m >= 1 && m <= n - 1) return null;
  return {
    field: 'holdout',
    message: `Held-out fraction ${holdout} of ${n} samples gives ${m} held-out samples; need 1 … ${n - 1} (or 0 for none)`,
  };
}

/** The shape of a run as the GPU sees it. */
export interface RunShape {
  nv: number;
  nh: number;
  conv?: ConvGeometry;
  batch: number;
  /** PCD chains, or the batch for CD. */
  chains: number;
  /** Rows of the per-epoch monitor. */
  monitorRows: number;
}

/** Rows the per-epoch monitor scores (of each of the training and held-out sets): fewer for large visible layers. */
export function monitorRows(nv: number, n: number): number {
  return Math.min(n, nv > 4096 ? 256 : 1000);
}

/**
 * The free-energy monitor expands a conv RBM's filters into a dense nv × nh matrix: above this many bytes the
 * free-energy gap and pseudo-likelihood are skipped (the reconstruction error, conv-aware, is kept).
 */
export const MONITOR_DENSE_BYTES = 64 * 2 ** 20;

/** True when the free-energy monitors run for an nv × nh model (its dense weights take at most MONITOR_DENSE_BYTES). */
export function freeEnergyMonitored(nv: number, nh: number): boolean {
  return nv * nh * 4 <= MONITOR_DENSE_BYTES;
}

/** A byte count as the messages print it (KiB, MiB, GiB). */
export function describeBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * The run's largest GPU buffers against the adapter's limits (the smaller of maxStorageBufferBindingSize and
 * maxBufferSize): the parameters (W alone is nv × nh for a dense RBM), the minibatch and chains, and the
 * monitor's rows and dense weights. Each problem names the buffer, its size and the limit.
 */
export function bufferProblems(
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  s: RunShape,
): TrainerProblem[] {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const problems: TrainerProblem[] = [];
  for (const { what, bytes, field } of bufferChecks(s)) {
    if (bytes / 4 >= 2 ** 32) {
      problems.push({ field, message: `${what} is ${bytes / 4} values; the kernels index at most 2^32 − 1` });
    } else if (bytes > limit) {
      problems.push({
        field,
        message: `${what} needs ${describeBytes(bytes)} (${bytes} bytes); this adapter allows ${describeBytes(limit)} per storage buffer (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize})`,
      });
    }
  }
  return problems;
}

/** The run's largest buffer against the limit, in words: `largest buffer: … (64.0 MiB) of 1.00 GiB allowed`. */
export function largestBuffer(
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  s: RunShape,
): string {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const top = bufferChecks(s).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return `largest GPU buffer: ${top.what}, ${describeBytes(top.bytes)} of the ${describeBytes(limit)} this adapter allows`;
}

/** The run's buffers that grow with its size: what, bytes, and the field that sets them. */
function bufferChecks(s: RunShape): { what: string; bytes: number; field: TrainerField }[] {
  const { nv, nh, conv } = s;
  const hidden = conv
    ? `${nh} hidden units (F ${conv.filters} × (${conv.Lv} / s ${conv.stride})²)`
    : `${nh} hidden units`;
  const width = Math.max(nv, nh);
  const widest = nh >= nv ? hidden : `${nv} visible units`;
  const weights = conv ? conv.filters * conv.k * conv.k : nv * nh;
  const checks: { what: string; bytes: number; field: TrainerField }[] = [
    {
      what: conv
        ? `the parameters (${weights} filter weights + biases)`
        : `the weights ${nv} × ${nh} + biases`,
      bytes: (weights + nv + nh) * 4,
      field: conv ? 'filters' : 'hidden',
    },
    { what: `a minibatch of ${s.batch} rows × ${widest}`, bytes: s.batch * width * 4, field: 'batch' },
    { what: `${s.chains} chains × ${widest}`, bytes: s.chains * width * 4, field: 'chains' },
    {
      what: `the monitor's ${s.monitorRows} rows × ${widest}`,
      bytes: s.monitorRows * width * 4,
      field: 'batch',
    },
  ];
  if (freeEnergyMonitored(nv, nh))
    checks.push({
      what: `the monitor's dense weights ${nv} × ${nh}`,
      bytes: (nv * nh + nv + nh) * 4,
      field: conv ? 'filters' : 'hidden',
    });
  return checks;
}

/** A time estimate of one epoch, from a timed probe of a few updates on this adapter. */
export interface EpochEstimate {
  /** Seconds per update measured (after a warm-up update). */
  secondsPerUpdate: number;
  /** Updates timed. */
  probeUpdates: number;
  updatesPerEpoch: number;
  /** Seconds per epoch: updates × seconds per update (the monitor and checkpoint come on top). */
  secondsPerEpoch: number;
  epochs: number;
}

/** The estimate of `epochs` epochs of `updatesPerEpoch` updates at `secondsPerUpdate`. */
export function epochEstimate(
  secondsPerUpdate: number,
  probeUpdates: number,
  updatesPerEpoch: number,
  epochs: number,
): EpochEstimate {
  return {
    secondsPerUpdate,
    probeUpdates,
    updatesPerEpoch,
    secondsPerEpoch: secondsPerUpdate * updatesPerEpoch,
    epochs,
  };
}

/** A duration as the estimate prints it: `850 ms`, `12.4 s`, `3.2 min`, `1.5 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The estimate in words: `≈ 3.2 min per epoch (128 updates × 1.5 s), 16.0 min for 5 epochs`. */
export function describeEstimate(e: EpochEstimate): string {
  return (
    `≈ ${formatDuration(e.secondsPerEpoch)} per epoch (${e.updatesPerEpoch} updates × ${formatDuration(e.secondsPerUpdate)}, ` +
    `timed over ${e.probeUpdates} update${e.probeUpdates === 1 ? '' : 's'} on this adapter), ${formatDuration(e.secondsPerEpoch * e.epochs)} for ${e.epochs} epoch${e.epochs === 1 ? '' : 's'}`
  );
}

/** The refusal when the estimate exceeds the cap (minutes per epoch), or null when it fits. */
export function capProblem(e: EpochEstimate, capMinutes: number): TrainerProblem | null {
  if (e.secondsPerEpoch <= capMinutes * 60) return null;
  return {
    field: 'capMinutes',
    message:
      `Refused: the estimate is ${formatDuration(e.secondsPerEpoch)} per epoch (${e.updatesPerEpoch} updates × ${formatDuration(e.secondsPerUpdate)}), ` +
      `above the cap of ${capMinutes} min per epoch. Raise the cap, or use fewer samples, a smaller model or a GPU.`,
  };
}
