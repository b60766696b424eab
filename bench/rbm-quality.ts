/**
 * Training quality, blockspin against scikit-learn's BernoulliRBM, on the same data and split:
 * binarised MNIST 0s and 1s (mnist:0,1:2000, threshold 0.5), 80/20 split by `splitHoldout` (seed 1, as
 * `rbm train --seed 1`), 784 → 144, 20 epochs. Every model — blockspin's under several training settings
 * and scikit-learn's (bench/sklearn_rbm_fit.py, its weights exported) — is scored by the same estimators
 * on its exported W, a, b:
 *   - held-out reconstruction error, one v → h → v pass with sampled h and v (the CPU oracle with fixed
 *     uniforms; what Qiu's 4.8 % and `rbm train`'s monitor report) and its mean-field expectation;
 *   - held-out log-likelihood per sample with ln Z from blockspin's AIS (same runs, steps and seed, annealing
 *     from the training data's base rates; biased low, so the log-likelihood is an upper estimate);
 *   - mean pixel of free-running samples (blockspin's `gibbsSample`, the code behind `rbm sample`).
 *
 * Usage: npx tsx bench/rbm-quality.ts [--epochs 20] [--hidden 144] [--config SPEC]… [--no-sklearn] [--ais-runs 100]
 *        [--ais-steps 2000] [--chains 500] [--sample-steps 1000]
 * SPEC: comma-separated key=value over optimizer, lr, momentum, batch, k, pcd, gamma (lr × gamma per epoch),
 * init (log-odds | zero), name;
 * without --config the old defaults (adam 1e-3, batch 64, zero visible bias) and the current `rbm train`
 * defaults are measured. Prints a Markdown table and one JSON line per model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainingOptions, RbmEngine as Engine } from '../src/index.ts';
import type { DenseRbm } from '../src/reference/rbm.ts';

// `?raw` WGSL imports under plain `npx tsx` (the same hooks as bin/blockspin.js), before the library loads.
register('../bin/loader-hooks.js', import.meta.url);
const {
  annealedImportanceSampling,
  baseRateBiases,
  decodeNpy,
  encodeNpy,
  gibbsSample,
  GpuContext,
  loadTrainingData,
  RbmEngine,
  RbmMonitor,
  splitHoldout,
} = await import('../src/index.ts');
const { mulberry32 } = await import('../src/reference/prng.ts');
const { reconstructionError } = await import('../src/reference/rbm.ts');
const { RBM_TRAIN_DEFAULTS } = await import('../src/cli/rbm.ts');

interface Config {
  name: string;
  training: TrainingOptions;
  visibleBiasInit: 'log-odds' | 'zero';
}

function parseConfig(spec: string): Config {
  const c: Config = {
    name: spec,
    training: { ...RBM_TRAIN_DEFAULTS.training },
    visibleBiasInit: 'log-odds',
  };
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=') as [string, string | undefined];
    if (value === undefined) throw new Error(`--config ${spec}: '${part}' is not key=value`);
    if (key === 'name') c.name = value;
    else if (key === 'optimizer') c.training.optimizer = value as TrainingOptions['optimizer'];
    else if (key === 'init') c.visibleBiasInit = value as Config['visibleBiasInit'];
    else if (key === 'gamma') c.training.schedule = { kind: 'exponential', gamma: Number(value) };
    else if (['lr', 'batch', 'k', 'pcd', 'momentum'].includes(key)) {
      const x = Number(value);
      if (!Number.isFinite(x)) throw new Error(`--config ${spec}: ${key}=${value} is not a number`);
      (c.training as unknown as Record<string, number>)[key] = x;
    } else throw new Error(`--config ${spec}: unknown key '${key}'`);
  }
  return c;
}

const DEFAULT_CONFIGS = [
  'name=old defaults (adam 1e-3, batch 64; a = 0),optimizer=adam,lr=0.001,batch=64,k=1,pcd=0,init=zero',
  'name=rbm train defaults',
  `name=rbm train defaults --pcd ${RBM_TRAIN_DEFAULTS.pcdExample},pcd=${RBM_TRAIN_DEFAULTS.pcdExample}`,
];

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const x = Number(args[i + 1]);
  if (!Number.isInteger(x) || x < 1) throw new Error(`${name} ${args[i + 1]} must be a positive integer`);
  return x;
}

interface Score {
  name: string;
  seconds: number;
  reconstructionError: { sampled: number; meanField: number; trainSampled: number };
  logLikelihood: number;
  logZ: { value: number; err: number; seconds: number };
  sampleMeanPixel: number;
  /** Mean pixel of the persistent chains at the end of training (PCD only). */
  pcdChainMeanPixel: number | null;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const epochs = option(args, '--epochs', 20);
  const aisRuns = option(args, '--ais-runs', 100);
  const aisSteps = option(args, '--ais-steps', 2000);
  const chains = option(args, '--chains', 500);
  const sampleSteps = option(args, '--sample-steps', 1000);
  const specs = args.flatMap((a, i) => (args[i - 1] === '--config' ? [a] : []));
  const configs = (specs.length ? specs : DEFAULT_CONFIGS).map(parseConfig);
  const sklearn = !args.includes('--no-sklearn');
  const nh = option(args, '--hidden', 144);

  const all = await loadTrainingData(
    { mnist: { digits: [0, 1], count: 2000 } },
    { units: 'bernoulli', binarize: 0.5 },
  );
  const { train, holdout } = splitHoldout(all, 0.2, 1);
  const nv = all.nv;
  const mean = (d: Float32Array): number => d.reduce((s, x) => s + x, 0) / d.length;
  process.stderr.write(
    `data ${all.source}: ${train.n} train / ${holdout.n} held out, mean pixel ${mean(all.data).toFixed(4)}\n`,
  );

  // AIS base model: the training data's base rates (Salakhutdinov & Murray), the same for every model.
  const base = baseRateBiases(train.data, train.n, nv, 'bernoulli');
  const gpu = await GpuContext.acquire();
  const scores: Score[] = [];
  const score = async (
    name: string,
    rbm: Engine,
    seconds: number,
    chainsAtEnd: Float32Array | null = null,
  ): Promise<Score> => {
    const p = await rbm.getParameters();
    const model: DenseRbm = {
      units: 'bernoulli',
      nv,
      nh,
      W: Float64Array.from(p.W),
      a: Float64Array.from(p.a),
      b: Float64Array.from(p.b),
    };
    const sampled = (rows: Float32Array): number => reconstructionError(model, rows, mulberry32(7));
    const t0 = performance.now();
    const ais = await annealedImportanceSampling(rbm, {
      runs: aisRuns,
      steps: aisSteps,
      baseVisibleBias: base,
    });
    const aisSeconds = (performance.now() - t0) / 1000;
    const f = await new RbmMonitor(rbm).meanFreeEnergy(holdout.data, holdout.n);
    const samples = await gibbsSample(rbm, chains, sampleSteps, { seed: 1 });
    const s: Score = {
      name,
      seconds,
      reconstructionError: {
        sampled: sampled(holdout.data),
        meanField: reconstructionError(model, holdout.data, 'mean-field'),
        trainSampled: sampled(train.data),
      },
      logLikelihood: -f - ais.logZ,
      logZ: { value: ais.logZ, err: ais.err, seconds: aisSeconds },
      sampleMeanPixel: mean(samples),
      pcdChainMeanPixel: chainsAtEnd && chainsAtEnd.length > 0 ? mean(chainsAtEnd) : null,
    };
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return s;
  };
  try {
    for (const c of configs) {
      const rbm = new RbmEngine(gpu.device, { nv, nh, seed: 1, visibleBiasInit: c.visibleBiasInit });
      try {
        const t0 = performance.now();
        rbm.setData(train.data, train.n);
        rbm.configureTraining(c.training);
        await rbm.trainEpochs(epochs);
        const seconds = (performance.now() - t0) / 1000;
        scores.push(await score(c.name, rbm, seconds, (await rbm.trainingState()).chains));
      } finally {
        rbm.destroy();
      }
    }
    if (sklearn) {
      const dir = mkdtempSync(join(tmpdir(), 'blockspin-rbm-quality-'));
      const bits = Uint8Array.from(train.data);
      writeFileSync(join(dir, 'train.npy'), encodeNpy({ dtype: 'uint8', shape: [train.n, nv], data: bits }));
      const out = execFileSync(
        '/usr/bin/python3',
        [
          join(import.meta.dirname, 'sklearn_rbm_fit.py'),
          ...['--dir', dir, '--epochs', String(epochs), '--hidden', String(nh)],
        ],
        { encoding: 'utf8' },
      );
      const info = JSON.parse(out.trim().split('\n').pop() as string) as { name: string; seconds: number };
      const read = (f: string): Float64Array =>
        Float64Array.from(decodeNpy(new Uint8Array(readFileSync(join(dir, f)))).data as ArrayLike<number>);
      const rbm = new RbmEngine(gpu.device, {
        nv,
        nh,
        seed: 1,
        parameters: { W: read('W.npy'), a: read('a.npy'), b: read('b.npy') },
      });
      try {
        scores.push(await score(`${info.name}, lr 0.05, batch 10`, rbm, info.seconds));
      } finally {
        rbm.destroy();
      }
    }
  } finally {
    gpu.destroy();
  }
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  process.stdout.write(
    `\nadapter: ${gpu.summary.vendor} ${gpu.summary.architecture} (${gpu.summary.software ? 'software' : 'hardware'})\n` +
      `data: mean pixel ${mean(all.data).toFixed(4)}; ${epochs} epochs; AIS ${aisRuns} runs × ${aisSteps} steps; ` +
      `${chains} chains × ${sampleSteps} Gibbs steps\n\n` +
      '| model | held-out recon. error (sampled) | (mean-field) | train (sampled) | held-out LL (nats) | sample mean pixel | PCD chains | training s |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- |\n' +
      scores
        .map(
          (s) =>
            `| ${s.name} | ${pct(s.reconstructionError.sampled)} | ${pct(s.reconstructionError.meanField)} | ` +
            `${pct(s.reconstructionError.trainSampled)} | ${s.logLikelihood.toFixed(1)} ± ${s.logZ.err.toFixed(1)} | ` +
            `${s.sampleMeanPixel.toFixed(3)} | ${s.pcdChainMeanPixel?.toFixed(3) ?? ''} | ${s.seconds.toFixed(0)} |`,
        )
        .join('\n') +
      '\n',
  );
}

await main();
