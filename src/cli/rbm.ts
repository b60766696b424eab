/** `blockspin rbm train | eval | sample`: RBM training with checkpoints, evaluation and sampling. */
import { Command, InvalidArgumentError } from 'commander';
import { checkStorageSize } from '../gpu/buffers.ts';
import { GpuContext } from '../gpu/device.ts';
import { checkOutputFile, writeFileAtomically } from '../io/atomic-file.ts';
import { decodeNpy, encodeNpy } from '../io/npy.ts';
import { annealedImportanceSampling, baseRateBiases } from '../rbm/ais.ts';
import { engineParameters, fingerprint, loadCheckpoint, saveCheckpoint } from '../rbm/checkpoint.ts';
import { loadTrainingData, splitHoldout, type TrainingSource } from '../rbm/data.ts';
import {
  learningRate,
  MAX_UPDATES,
  RbmDivergedError,
  RbmEngine,
  type ConvGeometry,
  type LearningRateSchedule,
  type OptimizerKind,
  type RbmUnits,
  type TrainingOptions,
  type VisibleBiasInit,
} from '../rbm/engine.ts';
import { loadModel } from '../rbm/model-files.ts';
import { epochMetrics, MAX_EXACT_UNITS, RbmMonitor, type EpochMetrics } from '../rbm/monitor.ts';
import { gibbsSample } from '../rbm/sample.ts';
import { convGeometry } from '../rbm/geometry.ts';
import { choiceArg, integerArg, numberArg } from './args.ts';
import { adapterBrief } from './info.ts';
import { interruptSignal, progressBar } from './progress.ts';
import { DeviceLostError } from '../gpu/lost.ts';
import { reportDeviceLoss } from './device-loss.ts';

/**
 * `rbm train`'s training defaults, measured with bench/rbm-quality.ts on binarised MNIST 0s and 1s
 * (784 → 144, 20 epochs, 20 % held out; figures in bench/README.md). `pcd` is the chain count the help
 * suggests for generative use.
 */
export const RBM_TRAIN_DEFAULTS = {
  training: { optimizer: 'sgd', lr: 0.05, batch: 10, k: 1, pcd: 0, momentum: 0.9 } satisfies TrainingOptions,
  pcdExample: 100,
} as const;

/** Rows used for per-epoch monitoring of each of the training and held-out sets. */
const MONITOR_ROWS = 1000;

/** `--data` value: a path, or `mnist[:digits[:count]]` for the mnist package (e.g. mnist:0,1:2000). */
export function dataSource(value: string): TrainingSource {
  const m = /^mnist(?::([0-9,]*))?(?::(\d+))?$/.exec(value);
  if (!m) return value;
  const digits = m[1] ? m[1].split(',').filter(Boolean).map(Number) : undefined;
  if (digits?.some((d) => !Number.isInteger(d) || d < 0 || d > 9)) {
    throw new InvalidArgumentError(`--data ${value}: digits must be 0 … 9`);
  }
  return { mnist: { ...(digits ? { digits } : {}), ...(m[2] ? { count: Number(m[2]) } : {}) } };
}

/** Binarisation threshold for the loader: files must be binary unless --binarize is given; mnist uses 0.5. */
function binarizeFor(source: TrainingSource, threshold: number | undefined): number | false {
  if (threshold !== undefined) return threshold;
  return typeof source === 'object' && 'mnist' in source ? 0.5 : false;
}

function convArg(value: string): Omit<ConvGeometry, 'Lv'> {
  const m = /^(\d+):(\d+):(\d+)$/.exec(value);
  if (!m)
    throw new InvalidArgumentError(
      `--conv ${value} must be F:k:s (filters, filter size, stride), e.g. 1:8:2`,
    );
  const [filters, k, stride] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (filters < 1 || k < 1 || stride < 1)
    throw new InvalidArgumentError(`--conv ${value}: F, k and s must be ≥ 1`);
  return { filters, k, stride };
}

/**
 * Checks, once the adapter's limits are known and before any buffer is made, that the run's largest
 * buffers fit: the training batch and chains, the per-epoch monitor's dense copy of the weights (a conv
 * RBM's filters expanded to nv × nh) and its rows. Errors name the sizes (F for a conv RBM) and the limit.
 */
function checkRunFits(
  device: GPUDevice,
  shape: { nv: number; nh: number; conv?: ConvGeometry },
  rows: { batch: number; chains: number; monitor: number },
): void {
  const { nv, nh, conv } = shape;
  const hidden = conv
    ? `nh = ${nh} hidden units (F ${conv.filters} × (Lv ${conv.Lv} / s ${conv.stride})²)`
    : `nh = ${nh} hidden units`;
  const width = Math.max(nv, nh);
  const widest = nh >= nv ? hidden : `nv = ${nv} visible units`;
  const checks: [string, number][] = [
    [`a minibatch of ${rows.batch} rows × ${widest}`, rows.batch * width * 4],
    [`${rows.chains} chains × ${widest}`, rows.chains * width * 4],
    [`the monitor's ${rows.monitor} rows × ${widest}`, rows.monitor * width * 4],
    [`the monitor's dense weights nv ${nv} × ${hidden}`, (nv * nh + nv + nh) * 4],
  ];
  // Indices in the kernels are u32: no buffer may hold 2^32 values or more.
  for (const [what, bytes] of checks) {
    if (bytes / 4 >= 2 ** 32)
      throw new RangeError(`${what} is ${bytes / 4} values; the kernels index at most 2^32 − 1`);
    checkStorageSize(device, what, bytes);
  }
}

function binarizeArg(value: string): number {
  const t = Number(value);
  if (value.trim() === '' || !(t >= 0 && t < 1))
    throw new InvalidArgumentError(`--binarize ${value} must be a threshold in [0, 1)`);
  return t;
}

function scheduleArg(value: string): LearningRateSchedule {
  if (value === 'constant') return { kind: 'constant' };
  let m = /^sqrt:([^:]+):([^:]+)$/.exec(value);
  if (m) {
    const final = Number(m[1]);
    const decayEpochs = Number(m[2]);
    if (!(final > 0) || !(decayEpochs > 0))
      throw new InvalidArgumentError(`--schedule ${value}: FINAL and EPOCHS must be > 0`);
    return { kind: 'sqrt', final, decayEpochs };
  }
  m = /^exp:([^:]+)$/.exec(value);
  if (m) {
    const gamma = Number(m[1]);
    if (!(gamma > 0)) throw new InvalidArgumentError(`--schedule ${value}: GAMMA must be > 0`);
    return { kind: 'exponential', gamma };
  }
  throw new InvalidArgumentError(`--schedule ${value} must be constant, sqrt:FINAL:EPOCHS or exp:GAMMA`);
}

interface TrainCli {
  data: TrainingSource;
  hidden?: number;
  units: RbmUnits;
  conv?: Omit<ConvGeometry, 'Lv'>;
  k: number;
  pcd?: number;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: OptimizerKind;
  momentum: number;
  l1: number;
  l2: number;
  schedule: LearningRateSchedule;
  holdout: number;
  seed: number;
  initScale: number;
  init: 'normal' | 'uniform';
  visibleBias: boolean;
  visibleBiasInit: VisibleBiasInit;
  hiddenBias: boolean;
  meanField?: boolean;
  binarize?: number;
  out: string;
  resume?: string;
  json?: boolean;
}

async function runTrain(o: TrainCli): Promise<void> {
  // Everything that needs no GPU is checked first.
  if (!o.resume) {
    const fs = await import('node:fs/promises');
    const entries = await fs.readdir(o.out).catch(() => null);
    if (entries && entries.length > 0) {
      throw new Error(`--out ${o.out} exists and is not empty; pass --resume ${o.out} to continue that run`);
    }
  }
  const resumed = o.resume ? await loadCheckpoint(o.resume) : null;
  const units = resumed?.meta.engine.units ?? o.units;
  const all = await loadTrainingData(o.data, { units, binarize: binarizeFor(o.data, o.binarize) });
  const holdoutFraction = resumed?.meta.data.holdout ?? o.holdout;
  const seed = resumed ? BigInt(resumed.meta.engine.seed) : o.seed;
  const split =
    holdoutFraction > 0 ? splitHoldout(all, holdoutFraction, seed) : { train: all, holdout: null };
  const { train, holdout } = split;
  const print = fingerprint(train.data);
  if (resumed && (resumed.meta.data.fingerprint !== print || resumed.meta.data.nv !== all.nv)) {
    throw new Error(
      `checkpoint ${o.resume} was trained on other data (fingerprint ${resumed.meta.data.fingerprint}, nv ${resumed.meta.data.nv}); ` +
        `this data gives ${print}, nv ${all.nv}`,
    );
  }
  let conv: ConvGeometry | undefined = resumed?.meta.engine.conv ?? undefined;
  if (!resumed && o.conv) conv = convGeometry(o.conv, all);
  if (!resumed && !conv && o.hidden === undefined) throw new Error('give --hidden N (dense) or --conv F:k:s');
  const training: TrainingOptions = resumed?.meta.training ?? {
    batch: o.batch,
    k: o.k,
    pcd: o.pcd ?? 0,
    meanFieldFinal: o.meanField ?? false,
    optimizer: o.optimizer,
    lr: o.lr,
    momentum: o.momentum,
    l1: o.l1,
    l2: o.l2,
    schedule: o.schedule,
  };
  if (training.batch > train.n)
    throw new Error(`--batch ${training.batch} exceeds the ${train.n} training samples`);
  const updatesPerEpoch = Math.floor(train.n / training.batch);
  if (o.epochs * updatesPerEpoch > MAX_UPDATES) {
    throw new Error(
      `--epochs ${o.epochs} × ${updatesPerEpoch} updates per epoch = ${o.epochs * updatesPerEpoch} updates; ` +
        `the random-number step counter is u32 (at most ${MAX_UPDATES} updates per run)`,
    );
  }

  const gpu = await GpuContext.acquire();
  try {
    const nh = conv ? conv.filters * (conv.Lv / conv.stride) ** 2 : (resumed?.meta.engine.nh ?? o.hidden!);
    checkRunFits(
      gpu.device,
      { nv: all.nv, nh, ...(conv ? { conv } : {}) },
      {
        batch: training.batch,
        chains: training.pcd || training.batch,
        monitor: Math.min(MONITOR_ROWS, train.n),
      },
    );
  } catch (err) {
    gpu.destroy();
    throw err;
  }
  const interrupt = interruptSignal();
  const progress = progressBar('updates');
  let rbm: RbmEngine | undefined;
  // The epoch the checkpoint on disk holds (what a lost device leaves to resume from).
  let savedEpoch: number | null = resumed ? resumed.meta.epochs : null;
  try {
    rbm = new RbmEngine(gpu.device, {
      ...(conv ? { conv } : { nv: all.nv, nh: resumed?.meta.engine.nh ?? o.hidden }),
      units,
      visibleBias: resumed?.meta.engine.visibleBias ?? o.visibleBias,
      // A resumed run restores its parameters; the recorded choice is kept for its next checkpoints.
      visibleBiasInit: resumed ? (resumed.meta.engine.visibleBiasInit ?? 'zero') : o.visibleBiasInit,
      hiddenBias: resumed?.meta.engine.hiddenBias ?? o.hiddenBias,
      seed,
      initScale: o.initScale,
      initDistribution: o.init,
    });
    rbm.setData(train.data, train.n);
    rbm.configureTraining(training);
    const history: unknown[] = resumed ? [...resumed.model.history] : [];
    if (resumed) rbm.restoreTrainingState(resumed.state);
    const dataInfo = {
      source: all.source,
      n: train.n,
      nv: all.nv,
      shape: all.shape,
      fingerprint: print,
      holdout: holdoutFraction,
    };
    const save = (): Promise<string> =>
      saveCheckpoint(o.out, rbm!, {
        seed,
        data: dataInfo,
        history,
        adapter: adapterBrief(gpu.summary),
        settings: { epochsRequested: o.epochs },
      });
    const perEpoch = rbm.batchesPerEpoch;
    const totalUpdates = o.epochs * perEpoch;
    while (rbm.epochCount < o.epochs) {
      const t0 = performance.now();
      const result = await rbm.trainEpochs(1, {
        signal: interrupt.signal,
        onUpdates: (updates) => progress.update('train', updates, totalUpdates),
      });
      progress.update('train', rbm.updateCount, totalUpdates);
      if (result.aborted) break;
      const lr = learningRate(
        training.lr,
        training.schedule ?? { kind: 'constant' },
        rbm.updateCount / perEpoch,
      );
      const metrics = await epochMetrics(
        rbm,
        train,
        holdout,
        rbm.epochCount,
        lr,
        (performance.now() - t0) / 1000,
        {
          rows: MONITOR_ROWS,
          freeEnergy: true,
        },
      );
      history.push(metrics);
      if (o.json) process.stdout.write(`${JSON.stringify(metrics)}\n`);
      await save();
      savedEpoch = rbm.epochCount;
    }
    progress.stop();
    const dir = await save();
    const last = history[history.length - 1] as EpochMetrics | undefined;
    if (!o.json) {
      process.stderr.write(
        `${interrupt.signal.aborted ? 'interrupted; ' : ''}checkpoint and model in ${dir} (epoch ${rbm.epochCount}, ${rbm.updateCount} updates)` +
          (last
            ? `; reconstruction error ${last.reconstructionError.train.toFixed(4)}` +
              (last.logLikelihood
                ? `, log-likelihood ${last.logLikelihood.train.toFixed(4)} nats/sample`
                : '')
            : '') +
          '\n',
      );
    }
  } catch (err) {
    if (err instanceof RbmDivergedError) {
      throw new Error(`${err.message}; the checkpoint in ${o.out} holds the last good epoch`, { cause: err });
    }
    if (err instanceof DeviceLostError) {
      // Nothing can be read from a lost device: the checkpoint written after the last epoch stands.
      progress.stop();
      reportDeviceLoss(
        err,
        savedEpoch === null
          ? `no epoch had finished: nothing was saved in ${o.out}`
          : `the checkpoint in ${o.out} holds epoch ${savedEpoch}; continue bit-exactly with --resume ${o.out}`,
      );
      return;
    }
    throw err;
  } finally {
    progress.stop();
    interrupt.dispose();
    rbm?.destroy();
    gpu.destroy();
  }
}

async function modelEngine(dir: string, device: GPUDevice): Promise<{ rbm: RbmEngine; shape: number[] }> {
  const model = await loadModel(dir);
  const r = model.rbm;
  const rbm = new RbmEngine(device, {
    ...('nv' in r
      ? { nv: r.nv, nh: r.nh }
      : { conv: { Lv: r.Lv, filters: r.filters, k: r.k, stride: r.stride } }),
    units: r.units,
    visibleBias: model.biases.visible,
    hiddenBias: model.biases.hidden,
  });
  const p = engineParameters(model);
  const w = rbm.weightCount;
  rbm.setParameters({ W: p.subarray(0, w), a: p.subarray(w, w + rbm.nv), b: p.subarray(w + rbm.nv) });
  const shape = model.training.visibleShape;
  const valid =
    Array.isArray(shape) &&
    shape.every((x) => Number.isInteger(x)) &&
    shape.reduce((s: number, x: number) => s * x, 1) === rbm.nv;
  return { rbm, shape: valid ? (shape as number[]) : 'nv' in r ? [r.nv] : [r.Lv, r.Lv] };
}

/** `rbm eval`'s AIS defaults: runs × steps, annealing from the evaluated data's base rates. */
export const AIS_DEFAULTS = { runs: 16, steps: 2000 } as const;

const AIS_HELP = `
ln Z: exact when the smaller layer has ≤ ${MAX_EXACT_UNITS} units, else annealed importance sampling (Salakhutdinov &
Murray 2008) from the data's base rates, with its standard error (ln Z's error is the log-likelihood's).
Cost: runs × steps Gibbs steps of the model. The defaults (${AIS_DEFAULTS.runs} × ${AIS_DEFAULTS.steps}) took 22–35 s on a busy
two-core CPU adapter (SwiftShader) for 784 × 64 units, and five seeds landed within 0.4 nats (spread 0.2) of a
32 × 20,000-step estimate. On a GPU the runs run in parallel and the time goes with the steps (one
submission each). For more precision raise --ais-steps first (less bias: AIS underestimates ln Z when
few runs carry the weight, and a warning says so), then --ais-runs (error ∝ 1/√runs); the paper's
--ais-runs 100 --ais-steps 14500 took 9.4 min on SwiftShader.
`;

async function runEval(o: {
  model: string;
  data: TrainingSource;
  aisRuns: number;
  aisSteps: number;
  binarize?: number;
  json?: boolean;
}): Promise<void> {
  const gpu = await GpuContext.acquire();
  const progress = progressBar('β steps');
  let rbm: RbmEngine | undefined;
  try {
    rbm = (await modelEngine(o.model, gpu.device)).rbm;
    const data = await loadTrainingData(o.data, {
      units: rbm.units,
      binarize: binarizeFor(o.data, o.binarize),
    });
    if (data.nv !== rbm.nv)
      throw new Error(`the data has ${data.nv} units per sample; the model has nv = ${rbm.nv}`);
    const monitor = new RbmMonitor(rbm);
    const exact = Math.min(rbm.nv, rbm.nh) <= MAX_EXACT_UNITS;
    const logZ = exact
      ? { method: 'exact', value: await monitor.logPartition(), err: 0 }
      : await annealedImportanceSampling(rbm, {
          runs: o.aisRuns,
          steps: o.aisSteps,
          // Salakhutdinov & Murray's base model: the evaluated data's base rates (far fewer steps than uniform).
          baseVisibleBias: baseRateBiases(data.data, data.n, data.nv, rbm.units),
          onProgress: (d, n) => progress.update('ais', d, n),
        }).then((a) => ({
          method: 'ais',
          value: a.logZ,
          err: a.err,
          lower: a.lower,
          upper: a.upper,
          runs: a.runs,
          steps: a.steps,
          effectiveRuns: a.effectiveRuns,
          base: 'data base rates',
        }));
    progress.stop();
    if (logZ.method === 'ais' && 'effectiveRuns' in logZ && logZ.effectiveRuns < logZ.runs / 4) {
      process.stderr.write(
        `blockspin: warning: the AIS weights rest on ${logZ.effectiveRuns.toFixed(1)} of ${logZ.runs} runs, so ln Z is ` +
          `probably underestimated beyond its error bar; raise --ais-steps (then --ais-runs)\n`,
      );
    }
    const freeEnergy = await monitor.meanFreeEnergy(data.data, data.n);
    const result = {
      model: o.model,
      data: data.source,
      samples: data.n,
      reconstructionError: await monitor.reconstructionError(data.data, data.n),
      freeEnergy,
      pseudoLogLikelihood: await monitor.pseudoLogLikelihood(data.data, data.n),
      logZ,
      logLikelihood: -freeEnergy - logZ.value,
      adapter: adapterBrief(gpu.summary),
    };
    if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(
        [
          `samples                ${result.samples} from ${result.data}`,
          `reconstruction error   ${result.reconstructionError.toFixed(4)}`,
          `free energy            ${freeEnergy.toFixed(4)} nats/sample`,
          `pseudo-log-likelihood  ${result.pseudoLogLikelihood.toFixed(4)}`,
          `ln Z (${logZ.method})${' '.repeat(logZ.method === 'ais' ? 11 : 9)}${logZ.value.toFixed(4)}${logZ.err ? ` ± ${logZ.err.toFixed(4)}` : ''}`,
          `log-likelihood         ${result.logLikelihood.toFixed(4)}${logZ.err ? ` ± ${logZ.err.toFixed(4)}` : ''} nats/sample`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    progress.stop();
    rbm?.destroy();
    gpu.destroy();
  }
}

/**
 * Start states for `rbm sample`: a PCD checkpoint's persistent chains (chains.npy; chain c starts where stored
 * chain c mod P ended) with 'chains', or with 'auto' when the model directory has them; null: fair coins.
 */
async function startStates(
  dir: string,
  start: 'auto' | 'chains' | 'noise',
  chains: number,
  rbm: RbmEngine,
): Promise<Float32Array | null> {
  if (start === 'noise') return null;
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const file = path.join(dir, 'chains.npy');
  const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && start === 'auto') return null;
    if (err.code === 'ENOENT')
      throw new Error(
        `--start chains: ${file} does not exist (only a PCD run's checkpoint has persistent chains)`,
      );
    throw err;
  });
  if (!bytes) return null;
  const npy = decodeNpy(new Uint8Array(bytes), file);
  const [stored, width] = npy.shape;
  if (npy.dtype !== 'float32' || npy.shape.length !== 2 || width !== rbm.nv || !stored) {
    throw new Error(`${file} is ${npy.dtype} [${npy.shape}]; expected float32 [chains, ${rbm.nv}]`);
  }
  const out = new Float32Array(chains * rbm.nv);
  for (let c = 0; c < chains; c++) {
    const from = (c % stored) * rbm.nv;
    out.set((npy.data as Float32Array).subarray(from, from + rbm.nv), c * rbm.nv);
  }
  return out;
}

async function runSample(o: {
  model: string;
  chains: number;
  steps: number;
  seed: number;
  start: 'auto' | 'chains' | 'noise';
  out: string;
  force?: boolean;
}): Promise<void> {
  // The output is checked before any GPU work (a directory, a missing parent, an existing file).
  await checkOutputFile(o.out, { force: o.force, what: '--out' });
  const gpu = await GpuContext.acquire();
  const progress = progressBar('Gibbs steps');
  let rbm: RbmEngine | undefined;
  try {
    const m = await modelEngine(o.model, gpu.device);
    rbm = m.rbm;
    const start = await startStates(o.model, o.start, o.chains, rbm);
    const v = await gibbsSample(rbm, o.chains, o.steps, {
      seed: o.seed,
      ...(start ? { start } : {}),
      onProgress: (done) => progress.update('sample', done, o.steps),
    });
    progress.stop();
    const bytes = encodeNpy({ dtype: 'int8', shape: [o.chains, ...m.shape], data: Int8Array.from(v) });
    const target = await writeFileAtomically(o.out, bytes, { force: o.force, what: '--out' });
    process.stderr.write(
      `wrote ${o.chains} samples [${[o.chains, ...m.shape].join(', ')}] (int8, ${rbm.units} values) to ${target}\n`,
    );
  } finally {
    progress.stop();
    rbm?.destroy();
    gpu.destroy();
  }
}

const D = RBM_TRAIN_DEFAULTS.training;

/** Why the defaults are what they are (printed after the option list of `rbm train --help`). */
const TRAIN_DEFAULTS_HELP = `
Defaults: CD-${D.k}, plain SGD at learning rate ${D.lr}, minibatches of ${D.batch}, visible biases started at the
data's log-odds (Hinton's practical guide). Small batches make many updates per epoch (160 on 1600 samples),
and plain SGD at 0.05 is what the scikit-learn comparison uses. On binarised MNIST 0s and 1s (784 → 144,
20 epochs, 20 % held out) they reach 5.4 % held-out reconstruction error, scikit-learn's BernoulliRBM
5.8 % scored the same way; the previous defaults (Adam 1e-3, batches of 64: 25 updates per epoch, each moving
a parameter by at most ~1e-3, from zero visible biases) ended at 9.0 % with samples of mean pixel 0.47 against
the data's 0.13 (bench/README.md, "RBM training quality").
CD-1 learns features and reconstructions; samples drawn from it (rbm sample) are brighter than the data
(mean pixel 0.20). For a generative model use persistent chains with a decaying rate,
--pcd ${RBM_TRAIN_DEFAULTS.pcdExample} --schedule exp:0.85: the chains end at the data's mean pixel (0.129 against 0.129, 784 → 64,
20 epochs), and rbm sample continues them from the checkpoint (--start auto): 0.135 after 1000 steps, where
chains started from fair coins stay in brighter modes (0.18 after 3000 steps; bench/README.md).
`;

export function registerRbm(program: Command): void {
  const rbm = program.command('rbm').description('restricted Boltzmann machines: train, evaluate, sample');

  rbm
    .command('train')
    .description('train an RBM by CD-k or PCD-k; checkpoints (and the model) in --out after every epoch')
    .requiredOption(
      '--data <source>',
      'NPY/IDX file, Ising data-set directory, or mnist[:digits[:count]]',
      dataSource,
    )
    .option('--hidden <n>', 'hidden units (dense RBM)', integerArg('--hidden', 1))
    .option(
      '--binarize <t>',
      'binarise grey-level data in [0, 1] at t (files must otherwise be binary)',
      binarizeArg,
    )
    .option(
      '--units <u>',
      'bernoulli ({0,1}) | ising (±1)',
      choiceArg('--units', ['bernoulli', 'ising'] as const),
      'bernoulli',
    )
    .option('--conv <F:k:s>', 'convolutional weights: F filters of k×k, stride s (square data)', convArg)
    .option('--k <n>', 'Gibbs steps per update', integerArg('--k', 1, 1000), D.k)
    .option(
      '--pcd <chains>',
      `persistent contrastive divergence with this many chains (for generative use, e.g. --pcd ${RBM_TRAIN_DEFAULTS.pcdExample})`,
      integerArg('--pcd', 1),
    )
    .option('--mean-field', 'mean-field final visible step')
    .option('--epochs <n>', 'epochs', integerArg('--epochs', 1), 100)
    .option('--batch <n>', 'minibatch size', integerArg('--batch', 1), D.batch)
    .option('--lr <x>', 'learning rate', numberArg('--lr', { positive: true }), D.lr)
    .option(
      '--optimizer <o>',
      'sgd | momentum | adam',
      choiceArg('--optimizer', ['sgd', 'momentum', 'adam'] as const),
      D.optimizer,
    )
    .option('--momentum <x>', 'momentum (with --optimizer momentum)', numberArg('--momentum'), D.momentum)
    .option('--l1 <x>', 'L1 weight decay', numberArg('--l1'), 0)
    .option('--l2 <x>', 'L2 weight decay', numberArg('--l2'), 0)
    .option('--schedule <s>', 'constant | sqrt:FINAL:EPOCHS | exp:GAMMA', scheduleArg, { kind: 'constant' })
    .option('--holdout <f>', 'held-out fraction for monitoring (0: none)', numberArg('--holdout'), 0.2)
    .option('--seed <n>', 'random seed', integerArg('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option('--init-scale <x>', 'initial weight scale', numberArg('--init-scale'), 0.01)
    .option(
      '--init <d>',
      'normal | uniform initial weights',
      choiceArg('--init', ['normal', 'uniform'] as const),
      'normal',
    )
    .option('--no-visible-bias', 'no visible bias')
    .option(
      '--visible-bias-init <i>',
      "log-odds (the data's per-unit log-odds, Hinton's guide) | zero",
      choiceArg('--visible-bias-init', ['log-odds', 'zero'] as const),
      'log-odds',
    )
    .option('--no-hidden-bias', 'no hidden bias')
    .requiredOption('--out <dir>', 'model + checkpoint directory')
    .option('--resume <dir>', 'continue from a checkpoint (usually the same as --out)')
    .option('--json', 'print one JSON line of metrics per epoch')
    .addHelpText('after', TRAIN_DEFAULTS_HELP)
    .action((o: TrainCli) => {
      if (!(o.holdout >= 0 && o.holdout < 1))
        throw new InvalidArgumentError(`--holdout ${o.holdout} must be in [0, 1)`);
      return runTrain(o);
    });

  rbm
    .command('eval')
    .description(
      'evaluate a model on data: reconstruction error, free energy, pseudo-LL, ln Z, log-likelihood',
    )
    .requiredOption('--model <dir>', 'model directory')
    .requiredOption(
      '--data <source>',
      'NPY/IDX file, Ising data-set directory, or mnist[:digits[:count]]',
      dataSource,
    )
    .option(
      '--binarize <t>',
      'binarise grey-level data in [0, 1] at t (files must otherwise be binary)',
      binarizeArg,
    )
    .option(
      '--ais-runs <n>',
      'AIS runs when ln Z cannot be enumerated (the error falls as 1/√runs)',
      integerArg('--ais-runs', 2, 1 << 20),
      AIS_DEFAULTS.runs,
    )
    .option(
      '--ais-steps <n>',
      'AIS intermediate distributions (more steps: less bias, more effective runs)',
      integerArg('--ais-steps', 3, 10_000_000),
      AIS_DEFAULTS.steps,
    )
    .option('--json', 'print one JSON object')
    .addHelpText('after', AIS_HELP)
    .action(runEval);

  rbm
    .command('sample')
    .description('draw samples by free-running Gibbs chains and write them as NPY (int8)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--chains <n>', 'independent chains (one sample each)', integerArg('--chains', 1, 1 << 20), 100)
    .option('--steps <k>', 'Gibbs steps per chain', integerArg('--steps', 0, 10_000_000), 1000)
    .option(
      '--seed <n>',
      'random seed of the chains (the same seed gives the same samples)',
      integerArg('--seed', 0, Number.MAX_SAFE_INTEGER),
      1,
    )
    .option(
      '--start <s>',
      "chains: continue a PCD checkpoint's persistent chains (chains.npy) | noise: fair coins | auto: chains when the model directory has them",
      choiceArg('--start', ['auto', 'chains', 'noise'] as const),
      'auto',
    )
    .requiredOption('--out <file>', 'output .npy file (an existing file is kept unless --force)')
    .option('--force', 'replace an existing --out file')
    .action(runSample);
}
