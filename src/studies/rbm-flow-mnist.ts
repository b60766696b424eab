/**
 * de Gier (2022, thesis §4.4, ../../shared/papers/de-gier-2022-rbm-flow-thesis.md): RBM flows on MNIST, a part
 * of the `rbm-flow` study. An RBM 784 → 49 ({0,1} units with biases, CD-1, plain minibatch gradient descent,
 * no regularisation) is trained on two digits (4 and 8; 4 and 9) and flowed v → h → v from held-out images of
 * every digit; a digit classifier (an MLP over all ten digits) reads every generation. The thesis finds several
 * fixed distributions for the plain data (a 4 stays a 4, an 8 an 8, and for 4/8 a 1 stays a 1), and a single
 * one once the two digits are connected by added samples: interpolations (1 − α)n₁ + αn₂, α = 0.1 … 0.9
 * ('mixed'), or a noise bridge (1 − α)n + αη, α = 0 … 0.5 ('noise').
 *
 * Representation: {0,1} pixels. The plain data are the package's grey levels binarised at 0.5 (loadMnist); the
 * mixtures and noisy samples are real values in [0, 1] built from those binary images (setData realValued),
 * with η a fair coin in {0, 1} (the ±1 of the thesis mapped to the data's range). The flows start from the
 * binarised held-out images and take sampled steps (h ~ P(h|v), v ~ P(v|h)); the classifier reads the sampled
 * {0,1} configurations.
 *
 * Sizes: the `mnist` package holds ~1000 images per digit (the thesis: ~2700), so the added samples are scaled
 * in proportion (mnistTrainingSet). Report names: `mnist.PAIR.VARIANT.pD` (PAIR e.g. 48, D a pair digit or 1),
 * `mnist.PAIR.VARIANT.spread` and `mnist.classifier.accuracy`.
 */
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { seedKey } from '../gpu/rng.ts';
import { MlpEngine } from '../nn/mlp.ts';
import { loadMnist } from '../rbm/data.ts';
import { RbmEngine } from '../rbm/engine.ts';
import { rbmFlow } from '../rbm/flow.ts';
import { StageClock } from './checkpoints.ts';
import { heatmap, imageGrid, linePlot, type LinePoint } from './figures.ts';
import { formatValueErr } from './report.ts';
import { StudyStopped, type FigureSpec, type ResultEntry, type StudyContext } from './study.ts';
import { integerOption, positiveOption } from './options.ts';

/** The three training sets of §4.4. */
export type MnistFlowVariant = 'plain' | 'mixed' | 'noise';

export const MNIST_FLOW_VARIANTS: readonly MnistFlowVariant[] = ['plain', 'mixed', 'noise'];

export interface MnistFlowOptions {
  seed: number;
  /** Digit pairs the RBMs are trained on (de Gier: 4 and 8; 4 and 9). */
  pairs: [number, number][];
  variants: MnistFlowVariant[];
  /** de Gier: 49 hidden units, (minibatch) gradient descent, no regularisation; lr, batch, epochs chosen here. */
  rbm: { hidden: number; epochs: number; batch: number; lr: number };
  /**
   * The digit classifier: de Gier 784-196-49-20-10, ReLU, softmax, Adam with an L1 term; our MLP has L2 weight
   * decay only (`l2`, default 0).
   */
  classifier: { hidden: number[]; epochs: number; batch: number; lr: number; l2?: number };
  /** Held-out images per digit (0 … 9): the flows' starts and the classifier's test set; never trained on. */
  testPerDigit: number;
  /** Generations of every flow. */
  generations: number;
  /** Cap on the training images per digit (default: all that are not held out). */
  trainPerDigit?: number;
}

/** The thesis's data sizes, which the added samples are scaled from. */
export const THESIS_MNIST = {
  /** Training images per digit. */
  perDigit: 2700,
  /** Interpolated samples per α (α = 0.1 … 0.9: 4500 in all). */
  mixedPerAlpha: 500,
  /** Noisy samples per α per digit (α = 0 … 0.5: 2700 per digit). */
  noisePerAlpha: 450,
} as const;

/** α of the interpolations (eq. 4.4.1). */
export const MIXED_ALPHAS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** α of the noise bridge (eq. 4.4.2); α = 0 is the clean image. */
export const NOISE_ALPHAS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5];

const base: MnistFlowOptions = {
  seed: 1,
  pairs: [
    [4, 8],
    [4, 9],
  ],
  variants: [...MNIST_FLOW_VARIANTS],
  // 784 → 49 as in the thesis; CD-1 SGD at lr 0.05 on minibatches of 50 learns recognisable digits within a
  // few tens of epochs on ~2000 images (the thesis gives no lr, batch or epochs).
  rbm: { hidden: 49, epochs: 100, batch: 50, lr: 0.05 },
  classifier: { hidden: [196, 49, 20], epochs: 30, batch: 100, lr: 1e-3, l2: 1e-4 },
  testPerDigit: 100,
  generations: 60,
};

/** Presets: `test` (seconds on a CPU adapter), `quick`, `standard`, `paper` (every image, more epochs). */
export const MNIST_FLOW_PRESETS: Record<'test' | 'quick' | 'standard' | 'paper', MnistFlowOptions> = {
  test: {
    ...base,
    pairs: [[4, 8]],
    rbm: { ...base.rbm, epochs: 3, batch: 25 },
    classifier: { hidden: [32], epochs: 6, batch: 50, lr: 3e-3, l2: 0 },
    testPerDigit: 10,
    generations: 4,
    trainPerDigit: 100,
  },
  quick: {
    ...base,
    rbm: { ...base.rbm, epochs: 20 },
    classifier: { ...base.classifier, epochs: 10 },
    testPerDigit: 50,
    generations: 40,
  },
  standard: base,
  paper: {
    ...base,
    rbm: { ...base.rbm, epochs: 300 },
    classifier: { ...base.classifier, epochs: 60 },
    generations: 100,
  },
};

/** The fewest images of one digit in the `mnist` package (digit 5: 863). */
export const MNIST_MIN_PER_DIGIT = 863;

/** Checks every option (before any GPU work), naming the bad value and its limit. */
export function checkMnistFlowOptions(o: MnistFlowOptions): void {
  integerOption('seed', o.seed, 0, 2 ** 32 - 1000);
  if (!Array.isArray(o.pairs) || o.pairs.length === 0)
    throw new RangeError('pairs is empty: name at least one');
  const seen = new Set<string>();
  o.pairs.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2)
      throw new RangeError(`pairs[${i}] ${JSON.stringify(p)} must be two digits`);
    p.forEach((d, j) => integerOption(`pairs[${i}][${j}] digit`, d, 0, 9));
    if (p[0] === p[1]) throw new RangeError(`pairs[${i}] [${p[0]}, ${p[1]}] must be two different digits`);
    const key = `${Math.min(...p)}${Math.max(...p)}`;
    if (seen.has(key)) throw new RangeError(`pairs[${i}] [${p[0]}, ${p[1]}] is listed twice`);
    seen.add(key);
  });
  if (!Array.isArray(o.variants) || o.variants.length === 0)
    throw new RangeError('variants is empty: name at least one of plain, mixed, noise');
  o.variants.forEach((v, i) => {
    if (!MNIST_FLOW_VARIANTS.includes(v))
      throw new RangeError(`variants[${i}] '${String(v)}' is not one of ${MNIST_FLOW_VARIANTS.join(', ')}`);
    if (o.variants.indexOf(v) !== i) throw new RangeError(`variant '${v}' is listed twice`);
  });
  integerOption('rbm.hidden', o.rbm.hidden, 1, 4096);
  integerOption('rbm.epochs', o.rbm.epochs, 1, 100_000);
  integerOption('rbm.batch', o.rbm.batch, 1, 65_536);
  positiveOption('rbm.lr', o.rbm.lr);
  if (!Array.isArray(o.classifier.hidden)) throw new RangeError('classifier.hidden must be a list of widths');
  o.classifier.hidden.forEach((h, i) => integerOption(`classifier.hidden[${i}]`, h, 1, 65_536));
  integerOption('classifier.epochs', o.classifier.epochs, 1, 100_000);
  integerOption('classifier.batch', o.classifier.batch, 1, 65_536);
  positiveOption('classifier.lr', o.classifier.lr);
  const l2 = o.classifier.l2 ?? 0;
  if (!(l2 >= 0 && Number.isFinite(l2)))
    throw new RangeError(`classifier.l2 ${String(l2)} must be a finite number ≥ 0`);
  // Keep at least 100 training images of every digit next to the held-out ones.
  integerOption('testPerDigit', o.testPerDigit, 1, MNIST_MIN_PER_DIGIT - 100);
  integerOption('generations', o.generations, 1, 100_000);
  if (o.trainPerDigit !== undefined) integerOption('trainPerDigit', o.trainPerDigit, 6, 100_000);
}

/** A uniform in [0, 1) from (a, b) under the key, on a stream of this module (tag 0x4d4e53 'MNS'). */
function uniform(key: [number, number], a: number, b: number, tag: number): number {
  return unitFloat(philox4x32([a >>> 0, b >>> 0, tag >>> 0, 0x4d4e53], key)[0]);
}

/** A seeded permutation of 0 … n − 1 (Fisher–Yates), stream `tag`. */
function permutation(n: number, seed: number, tag: number): Int32Array {
  const key = seedKey(seed);
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform(key, i, 0, tag) * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Where one added sample came from: images `first` of digit slot 0 (and `second` of slot 1) of the pair. */
export interface AddedSample {
  /** Its row in the training set. */
  row: number;
  alpha: number;
  /** 'mixed': (1 − α)·first[a] + α·second[b]; 'noise': (1 − α)·(digit slot)[a] + α·η. */
  slot: 0 | 1;
  a: number;
  b: number;
}

export interface MnistTrainingSet {
  /** [n × 784], {0,1} ('plain') or real values in [0, 1]. */
  rows: Float32Array;
  n: number;
  /** Samples that are not a clean image (interpolations; noisy images with α > 0). */
  added: number;
  realValued: boolean;
  /** Added samples per α ('mixed') or per α per digit ('noise'); 0 for 'plain'. */
  perAlpha: number;
  alphas: number[];
  provenance: AddedSample[];
}

/**
 * The training set of one variant from the binary images of the pair's digits ([n₁ × 784], [n₂ × 784], {0,1}):
 * - 'plain': the images;
 * - 'mixed': the images plus, for each α = 0.1 … 0.9, round(500 · n̄ / 2700) samples (1 − α)n₁ + αn₂ with n₁, n₂
 *   drawn uniformly from the two digits (n̄ = (n₁ + n₂)/2: the thesis's 500 per α on 2700 per digit, scaled);
 * - 'noise': each digit's images in a seeded order, split into six groups of ⌊n_d / 6⌋ (the thesis: 450 per α
 *   per digit, 2700 per digit in all) given α = 0, 0.1, …, 0.5: n′ = (1 − α)n + αη, η a fair coin in {0, 1}
 *   per pixel; the remainder (< 6 images) stays clean. The set keeps its size; `added` counts α > 0.
 *
 * @example
 * const set = mnistTrainingSet('mixed', fours, 880, eights, 850, 7); // set.perAlpha = round(500 · 865 / 2700) = 160
 */
export function mnistTrainingSet(
  variant: MnistFlowVariant,
  first: Float32Array,
  n1: number,
  second: Float32Array,
  n2: number,
  seed: number,
): MnistTrainingSet {
  const nv = 784;
  if (first.length !== n1 * nv || second.length !== n2 * nv)
    throw new RangeError(
      `images: ${first.length} and ${second.length} values for ${n1} and ${n2} images of ${nv} pixels`,
    );
  if (n1 < 6 || n2 < 6) throw new RangeError(`need at least 6 images of each digit; have ${n1} and ${n2}`);
  const key = seedKey(seed);
  const clean = new Float32Array((n1 + n2) * nv);
  clean.set(first);
  clean.set(second, n1 * nv);
  if (variant === 'plain')
    return { rows: clean, n: n1 + n2, added: 0, realValued: false, perAlpha: 0, alphas: [], provenance: [] };
  if (variant === 'mixed') {
    const perAlpha = Math.max(
      1,
      Math.round((THESIS_MNIST.mixedPerAlpha * (n1 + n2)) / 2 / THESIS_MNIST.perDigit),
    );
    const added = perAlpha * MIXED_ALPHAS.length;
    const rows = new Float32Array((n1 + n2 + added) * nv);
    rows.set(clean);
    const provenance: AddedSample[] = [];
    let row = n1 + n2;
    MIXED_ALPHAS.forEach((alpha, k) => {
      for (let j = 0; j < perAlpha; j++, row++) {
        const a = Math.floor(uniform(key, k, j, 1) * n1);
        const b = Math.floor(uniform(key, k, j, 2) * n2);
        for (let p = 0; p < nv; p++)
          rows[row * nv + p] = (1 - alpha) * first[a * nv + p]! + alpha * second[b * nv + p]!;
        provenance.push({ row, alpha, slot: 0, a, b });
      }
    });
    return { rows, n: row, added, realValued: true, perAlpha, alphas: [...MIXED_ALPHAS], provenance };
  }
  if (variant !== 'noise')
    throw new RangeError(`variant '${String(variant)}' is not one of plain, mixed, noise`);
  const rows = clean;
  const provenance: AddedSample[] = [];
  const groups = NOISE_ALPHAS.length;
  const perAlpha = Math.floor(Math.min(n1, n2) / groups);
  [n1, n2].forEach((count, slot) => {
    const size = Math.floor(count / groups);
    const order = permutation(count, seed, 10 + slot);
    const offset = slot === 0 ? 0 : n1;
    NOISE_ALPHAS.forEach((alpha, k) => {
      if (alpha === 0) return;
      for (let j = 0; j < size; j++) {
        const a = order[k * size + j]!;
        const row = offset + a;
        for (let p = 0; p < nv; p++) {
          const eta = uniform(key, row, p, 3) < 0.5 ? 0 : 1;
          rows[row * nv + p] = (1 - alpha) * rows[row * nv + p]! + alpha * eta;
        }
        provenance.push({ row, alpha, slot: slot as 0 | 1, a, b: -1 });
      }
    });
  });
  provenance.sort((x, y) => x.row - y.row);
  return {
    rows,
    n: n1 + n2,
    added: provenance.length,
    realValued: true,
    perAlpha,
    alphas: [...NOISE_ALPHAS],
    provenance,
  };
}

/** One flow: an RBM trained on a pair (one variant) flowed from held-out images of every digit. */
export interface MnistFlowResult {
  pair: [number, number];
  variant: string;
  /** Rows of the RBM's training set (clean and added). */
  trainingImages: number;
  /** Hidden units of the RBM. */
  hidden: number;
  added: number;
  /** Per start digit d (0 … 9): the classifier's mean class distribution at the last generation. */
  endByStart: number[][];
  /** Pooled over all starts. */
  end: number[];
  /** One standard error per class over the flow chains (pooled). */
  endErr: number[];
  /** Largest total-variation distance between two start digits' end distributions (≈ 0: one fixed distribution). */
  spread: number;
  /** Jackknife standard error of `spread` (10 blocks of chains). */
  spreadErr: number;
  /** The spread chain noise alone would give if every start ended in the same distribution (expected, largest pair). */
  spreadNoise: number;
  /** Per generation (0 … generations): the pooled class distribution. */
  byGeneration: number[][];
  /** The first chain of every start digit at the last generation (784 values in {0, 1}). */
  examples: number[][];
  /** Mean reconstruction error (fraction of pixels) of the training images after training. */
  reconstruction: number;
  seconds: number;
}

export interface MnistFlowRun {
  classifier: { sizes: number[]; accuracy: number; confusion: number[][] };
  results: MnistFlowResult[];
  notes: string[];
}

const DIGITS = 10;
const NV = 784;

/** Images of every digit, {0,1}, regrouped from loadMnist's interleaved order. */
async function loadDigits(): Promise<{ images: Float32Array[]; counts: number[] }> {
  let data;
  try {
    data = await loadMnist({}, { units: 'bernoulli' });
  } catch (cause) {
    throw new Error(
      `MNIST flows need the 'mnist' package, which failed to load: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const counts = new Array<number>(DIGITS).fill(0);
  for (let s = 0; s < data.n; s++) counts[data.labels![s]!]!++;
  const images = counts.map((c) => new Float32Array(c * NV));
  const filled = new Array<number>(DIGITS).fill(0);
  for (let s = 0; s < data.n; s++) {
    const d = data.labels![s]!;
    images[d]!.set(data.data.subarray(s * NV, (s + 1) * NV), filled[d]! * NV);
    filled[d]!++;
  }
  return { images, counts };
}

/** Per digit: a seeded split into held-out images (first testPerDigit of a permutation) and training images. */
function splitDigits(
  all: { images: Float32Array[]; counts: number[] },
  o: MnistFlowOptions,
): { train: Float32Array[]; trainCounts: number[]; test: Float32Array[] } {
  const train: Float32Array[] = [];
  const trainCounts: number[] = [];
  const test: Float32Array[] = [];
  for (let d = 0; d < DIGITS; d++) {
    const count = all.counts[d]!;
    if (count < o.testPerDigit + 6)
      throw new RangeError(
        `digit ${d} has ${count} images; testPerDigit ${o.testPerDigit} leaves fewer than 6 to train on`,
      );
    const order = permutation(count, o.seed + 1, d);
    const nTrain = Math.min(count - o.testPerDigit, o.trainPerDigit ?? Infinity);
    const src = all.images[d]!;
    const pick = (from: number, n: number) => {
      const out = new Float32Array(n * NV);
      for (let r = 0; r < n; r++) {
        const s = order[from + r]!;
        out.set(src.subarray(s * NV, (s + 1) * NV), r * NV);
      }
      return out;
    };
    test.push(pick(0, o.testPerDigit));
    train.push(pick(o.testPerDigit, nTrain));
    trainCounts.push(nTrain);
  }
  return { train, trainCounts, test };
}

/** Rows and labels of all ten digits. */
function stack(images: Float32Array[]): { x: Float32Array; labels: Uint32Array; n: number } {
  const n = images.reduce((s, im) => s + im.length / NV, 0);
  const x = new Float32Array(n * NV);
  const labels = new Uint32Array(n);
  let r = 0;
  images.forEach((im, d) => {
    x.set(im, r * NV);
    labels.fill(d, r, r + im.length / NV);
    r += im.length / NV;
  });
  return { x, labels, n };
}

function pairName(p: readonly [number, number]): string {
  return `${p[0]}${p[1]}`;
}

/** Total-variation distance ½ Σ|p − q|. */
function tv(p: readonly number[], q: readonly number[]): number {
  let s = 0;
  for (let c = 0; c < p.length; c++) s += Math.abs(p[c]! - q[c]!);
  return s / 2;
}

/** Largest TV distance between the starts' mean distributions over the chains in `keep` (per start). */
function spreadOf(
  probs: Float32Array,
  starts: number,
  chains: number,
  keep: (chain: number) => boolean,
): number {
  const means: number[][] = [];
  for (let s = 0; s < starts; s++) {
    const m = new Array<number>(DIGITS).fill(0);
    let n = 0;
    for (let j = 0; j < chains; j++) {
      if (!keep(j)) continue;
      n++;
      for (let c = 0; c < DIGITS; c++) m[c]! += probs[(s * chains + j) * DIGITS + c]!;
    }
    means.push(m.map((x) => x / n));
  }
  let worst = 0;
  for (let a = 0; a < starts; a++)
    for (let b = a + 1; b < starts; b++) worst = Math.max(worst, tv(means[a]!, means[b]!));
  return worst;
}

/** The summary of the last generation: per-start and pooled distributions, errors, spread with error and noise. */
function summarise(probs: Float32Array, starts: number, chains: number) {
  const rows = starts * chains;
  const endByStart: number[][] = [];
  const varByStart: number[][] = [];
  for (let s = 0; s < starts; s++) {
    const m = new Array<number>(DIGITS).fill(0);
    const v = new Array<number>(DIGITS).fill(0);
    for (let j = 0; j < chains; j++)
      for (let c = 0; c < DIGITS; c++) m[c]! += probs[(s * chains + j) * DIGITS + c]!;
    for (let c = 0; c < DIGITS; c++) m[c]! /= chains;
    for (let j = 0; j < chains; j++)
      for (let c = 0; c < DIGITS; c++) v[c]! += (probs[(s * chains + j) * DIGITS + c]! - m[c]!) ** 2;
    endByStart.push(m);
    varByStart.push(v.map((x) => (chains > 1 ? x / (chains - 1) : 0)));
  }
  const end = new Array<number>(DIGITS).fill(0);
  const endErr = new Array<number>(DIGITS).fill(0);
  for (let c = 0; c < DIGITS; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += probs[r * DIGITS + c]!;
    const mean = s / rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (probs[r * DIGITS + c]! - mean) ** 2;
    end[c] = mean;
    endErr[c] = rows > 1 ? Math.sqrt(v / (rows - 1) / rows) : 0;
  }
  const spread = spreadOf(probs, starts, chains, () => true);
  // Jackknife over 10 blocks of chains (the same block removed from every start).
  const blocks = Math.min(10, chains);
  let spreadErr = 0;
  if (blocks > 1) {
    const values: number[] = [];
    for (let k = 0; k < blocks; k++) values.push(spreadOf(probs, starts, chains, (j) => j % blocks !== k));
    const mean = values.reduce((a, x) => a + x, 0) / blocks;
    spreadErr = Math.sqrt(((blocks - 1) / blocks) * values.reduce((a, x) => a + (x - mean) ** 2, 0));
  }
  // E|N(0, σ²)| = σ√(2/π) per class, for two starts with the same mean distribution.
  let spreadNoise = 0;
  for (let a = 0; a < starts; a++)
    for (let b = a + 1; b < starts; b++) {
      let s = 0;
      for (let c = 0; c < DIGITS; c++)
        s += Math.sqrt((varByStart[a]![c]! + varByStart[b]![c]!) / chains) * Math.sqrt(2 / Math.PI);
      spreadNoise = Math.max(spreadNoise, s / 2);
    }
  return { endByStart, end, endErr, spread, spreadErr, spreadNoise };
}

function pooled(probs: Float32Array, rows: number): number[] {
  const m = new Array<number>(DIGITS).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < DIGITS; c++) m[c]! += probs[r * DIGITS + c]! / rows;
  return m;
}

/** Trains the digit classifier on the training images of all ten digits; held-out accuracy and confusion. */
async function trainClassifier(
  context: StudyContext,
  o: MnistFlowOptions,
  split: ReturnType<typeof splitDigits>,
): Promise<{ mlp: MlpEngine; info: MnistFlowRun['classifier'] }> {
  const sizes = [NV, ...o.classifier.hidden, DIGITS];
  const mlp = new MlpEngine(context.device, { sizes, activation: 'relu', seed: o.seed + 2 });
  try {
    const train = stack(split.train);
    const test = stack(split.test);
    mlp.setData(train.x, train.labels, train.n);
    mlp.configureTraining({
      batch: Math.min(o.classifier.batch, train.n),
      lr: o.classifier.lr,
      optimizer: 'adam',
      l2: o.classifier.l2 ?? 0,
    });
    const epochs = o.classifier.epochs;
    const r = await mlp.trainEpochs(epochs, {
      signal: context.signal,
      onEpoch: (e) => context.progress('mnist classifier', e, epochs),
    });
    if (r.aborted) throw new StudyStopped('interrupted');
    const ev = await mlp.evaluate(test.x, test.labels, test.n);
    const confusion: number[][] = [];
    for (let t = 0; t < DIGITS; t++)
      confusion.push(Array.from(ev.confusion.subarray(t * DIGITS, (t + 1) * DIGITS)));
    context.log(
      `mnist classifier (${sizes.join('-')}, ${train.n} images): held-out accuracy ${(100 * ev.accuracy).toFixed(1)} % on ${test.n}`,
    );
    return { mlp, info: { sizes, accuracy: ev.accuracy, confusion } };
  } catch (err) {
    mlp.destroy();
    throw err;
  }
}

/** Trains one RBM on one pair and variant and flows it from the held-out images of every digit. */
async function runOne(
  context: StudyContext,
  o: MnistFlowOptions,
  split: ReturnType<typeof splitDigits>,
  mlp: MlpEngine,
  pair: [number, number],
  variant: MnistFlowVariant,
  seed: number,
): Promise<MnistFlowResult> {
  const clock = new StageClock();
  const [d1, d2] = pair;
  const set = mnistTrainingSet(
    variant,
    split.train[d1]!,
    split.trainCounts[d1]!,
    split.train[d2]!,
    split.trainCounts[d2]!,
    seed,
  );
  const label = `${pairName(pair)} ${variant}`;
  const rbm = new RbmEngine(context.device, {
    nv: NV,
    nh: o.rbm.hidden,
    units: 'bernoulli',
    visibleBias: true,
    hiddenBias: true,
    seed: seed + 1,
  });
  try {
    rbm.setData(set.rows, set.n, { realValued: set.realValued });
    rbm.configureTraining({ batch: Math.min(o.rbm.batch, set.n), lr: o.rbm.lr, optimizer: 'sgd', k: 1 });
    for (let e = 1; e <= o.rbm.epochs; e++) {
      const r = await rbm.trainEpochs(1, { signal: context.signal });
      if (r.aborted) throw new StudyStopped('interrupted');
      context.progress(`mnist train ${label}`, e, o.rbm.epochs);
    }
    // Reconstruction error of clean training images of both digits (one sampled v → h → v).
    const half = Math.min(250, split.trainCounts[d1]!, split.trainCounts[d2]!);
    const m = 2 * half;
    const probe = new Float32Array(m * NV);
    probe.set(split.train[d1]!.subarray(0, half * NV));
    probe.set(split.train[d2]!.subarray(0, half * NV), half * NV);
    const { samples: h } = await rbm.conditional(probe, m, { hidden: true, step: 0x7000 });
    const { samples: v } = await rbm.conditional(h, m, { hidden: false, step: 0x7000 });
    let wrong = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== probe[i]) wrong++;

    const chains = o.testPerDigit;
    const rows = DIGITS * chains;
    const start = new Float32Array(rows * NV);
    split.test.forEach((im, d) => start.set(im, d * chains * NV));
    const byGeneration: number[][] = [];
    let last: Float32Array | null = null;
    let lastVisible: Float32Array | null = null;
    const flow = await rbmFlow(rbm, start, rows, o.generations, {
      step: 'sampled',
      seed: seed + 2,
      signal: context.signal,
      onGeneration: async (g, visible) => {
        const probs = await mlp.predict(visible, rows);
        byGeneration.push(pooled(probs, rows));
        if (g === o.generations) {
          last = probs;
          lastVisible = visible;
        }
        context.progress(`mnist flow ${label}`, g, o.generations);
      },
    });
    if (flow.aborted || !last || !lastVisible) throw new StudyStopped('interrupted');
    const summary = summarise(last, DIGITS, chains);
    const finalVisible: Float32Array = lastVisible;
    const examples = Array.from({ length: DIGITS }, (_, d) =>
      Array.from(finalVisible.subarray(d * chains * NV, (d * chains + 1) * NV)),
    );
    const result: MnistFlowResult = {
      pair: [d1, d2],
      variant,
      trainingImages: set.n,
      hidden: o.rbm.hidden,
      added: set.added,
      ...summary,
      byGeneration,
      examples,
      reconstruction: wrong / v.length,
      seconds: clock.elapsed(),
    };
    const top = topClasses(result.end, result.endErr, 3);
    context.log(
      `mnist ${label}: ${set.n} training rows (${set.added} added), reconstruction error ${(100 * result.reconstruction).toFixed(1)} %; ` +
        `end ${top}; spread ${result.spread.toFixed(3)} (noise ${result.spreadNoise.toFixed(3)})`,
    );
    return result;
  } finally {
    rbm.destroy();
  }
}

/**
 * Runs §4.4: the classifier, then for every pair and variant an RBM and its flow. Throws an Error saying so when
 * the `mnist` package cannot be loaded (the study then skips MNIST with a note), StudyStopped when aborted.
 */
export async function runMnistFlows(context: StudyContext, o: MnistFlowOptions): Promise<MnistFlowRun> {
  checkMnistFlowOptions(o);
  const all = await loadDigits();
  const split = splitDigits(all, o);
  const notes: string[] = [
    `The 'mnist' package holds ${Math.min(...all.counts)} … ${Math.max(...all.counts)} images per digit (the thesis ~2700); ` +
      `${o.testPerDigit} per digit are held out (flow starts and classifier test), ` +
      `${Math.min(...split.trainCounts)} … ${Math.max(...split.trainCounts)} per digit train. Added samples are scaled ` +
      'in proportion: interpolations round(500 · n̄/2700) per α (n̄ the mean training images per digit of the pair), ' +
      'noise ⌊n_d/6⌋ per α per digit (450 of 2700).',
    "Noise bridge: each digit's training images are split into six equal groups given α = 0, 0.1, …, 0.5 (the " +
      "thesis's 450 per α per digit, 2700 per digit in all), so the noise set keeps the plain set's size and 5/6 of " +
      'it is noisy; the interpolations are added to the clean images.',
    `RBM: CD-1, plain minibatch SGD (lr ${o.rbm.lr}, batch ${o.rbm.batch}, ${o.rbm.epochs} epochs; the thesis gives ` +
      "none of these), no regularisation, visible biases started at the data's log-odds. Flows: sampled steps only, " +
      `${o.generations} generations, ${o.testPerDigit} chains per start digit.`,
    `The classifier has L2 weight decay (${o.classifier.l2 ?? 0}) where the thesis used an L1 term; it reads the ` +
      'sampled {0,1} configurations of every generation.',
  ];
  const { mlp, info } = await trainClassifier(context, o, split);
  const results: MnistFlowResult[] = [];
  try {
    let index = 0;
    for (const pair of o.pairs)
      for (const variant of o.variants) {
        if (context.signal?.aborted) throw new StudyStopped('interrupted');
        results.push(await runOne(context, o, split, mlp, pair, variant, o.seed + 100 + 10 * index++));
      }
  } finally {
    mlp.destroy();
  }
  return { classifier: info, results, notes };
}

/** The digits reported by name: the pair's two and 1 (the thesis's extra fixed point for 4/8). */
function reportedDigits(pair: readonly [number, number]): number[] {
  return [...new Set([pair[0], pair[1], 1])];
}

/** The report's entries: each reported digit's pooled end probability, the spread, the classifier's accuracy. */
export function mnistFlowResults(run: MnistFlowRun): ResultEntry[] {
  const out: ResultEntry[] = [];
  const tests = run.classifier.confusion.reduce((s, row) => s + row.reduce((a, x) => a + x, 0), 0);
  const acc = run.classifier.accuracy;
  out.push({
    name: 'mnist.classifier.accuracy',
    value: acc,
    err: tests > 0 ? Math.sqrt((acc * (1 - acc)) / tests) : 0,
    unit: '',
    method: `held-out accuracy of the ${run.classifier.sizes.join('-')} MLP on ${tests} images (binomial error)`,
  });
  for (const r of run.results) {
    const prefix = `mnist.${pairName(r.pair)}.${r.variant}`;
    const gens = r.byGeneration.length - 1;
    for (const d of reportedDigits(r.pair)) {
      out.push({
        name: `${prefix}.p${d}`,
        value: r.end[d]!,
        err: r.endErr[d]!,
        unit: '',
        method:
          `classifier's mean probability of digit ${d} at generation ${gens} of sampled flows from held-out images ` +
          `of every digit, pooled; standard error over the chains`,
      });
    }
    out.push({
      name: `${prefix}.spread`,
      value: r.spread,
      err: r.spreadErr,
      unit: '',
      method:
        `largest total-variation distance between two start digits' end distributions (generation ${gens}); ` +
        `jackknife error over 10 blocks of chains; chain noise alone gives ≈ ${r.spreadNoise.toFixed(3)}`,
    });
  }
  return out;
}

/** One distribution as its largest classes: '4: 0.62 ± 0.03, 8: 0.30 ± 0.02, …'. */
function topClasses(p: readonly number[], err: readonly number[], k: number): string {
  return p
    .map((v, c) => ({ v, c }))
    .sort((a, b) => b.v - a.v)
    .slice(0, k)
    .map(({ v, c }) => `${c}: ${formatValueErr(v, err[c]!)}`)
    .join(', ');
}

/** True when the starts end in one distribution: spread below 0.15 plus twice the chain-noise spread. */
export function singleDistribution(r: Pick<MnistFlowResult, 'spread' | 'spreadNoise'>): boolean {
  return r.spread < 0.15 + 2 * r.spreadNoise;
}

const THESIS_FINDING: Record<MnistFlowVariant, (pair: readonly [number, number]) => string> = {
  plain: (p) =>
    `several fixed distributions: ${p[0]}s stay ${p[0]}, ${p[1]}s stay ${p[1]}` +
    (p[0] === 4 && p[1] === 8 ? ', and a fixed point at 1' : '') +
    '; other digits smeared or drawn to the pair (Figs. 4.12, 4.14a)',
  mixed: () => 'one distribution, a mixture of the two digits (Figs. 4.13, 4.14b)',
  noise: () => 'one distribution (Fig. 4.15, for 4/9)',
};

/** The section '## MNIST flows (de Gier §4.4)' of the report. */
export function mnistFlowMarkdown(run: MnistFlowRun): string {
  const lines: string[] = ['## MNIST flows (de Gier §4.4)', ''];
  const c = run.classifier;
  const tests = c.confusion.reduce((s, row) => s + row.reduce((a, x) => a + x, 0), 0);
  lines.push(
    `RBMs 784 → ${[...new Set(run.results.map((r) => r.hidden))].join(' / ') || '?'} ({0,1} units with biases; CD-1, plain minibatch gradient descent, no regularisation) ` +
      'trained on two digits, flowed v → h → v with sampled steps from held-out, binarised images of every digit ' +
      '0 … 9. Pixels are {0,1}: the plain data are binarised at 0.5; the interpolations (1 − α)n₁ + αn₂ and noisy ' +
      "images (1 − α)n + αη (η a fair coin in {0, 1}, the thesis's ±1 mapped to the data's range) are real values " +
      'in [0, 1]. Every generation is read by a digit classifier ' +
      `(${c.sizes.join('-')} MLP, ReLU, softmax, Adam): held-out accuracy ${formatValueErr(c.accuracy, tests > 0 ? Math.sqrt((c.accuracy * (1 - c.accuracy)) / tests) : 0)} on ${tests} images.`,
    '',
  );
  for (const note of run.notes) lines.push(`- ${note}`);
  if (run.notes.length > 0) lines.push('');
  const pairs = [...new Map(run.results.map((r) => [pairName(r.pair), r.pair])).values()];
  const verdicts: string[] = [];
  let agree = 0;
  for (const pair of pairs) {
    const rs = run.results.filter((r) => pairName(r.pair) === pairName(pair));
    lines.push(`### Trained on ${pair[0]}s and ${pair[1]}s`, '');
    lines.push(
      '| variant | training rows (added) | end distribution (pooled, top 3) | ' +
        `start ${pair[0]} → P(${pair[0]}) | start ${pair[1]} → P(${pair[1]}) | start 1 → P(1) | spread (noise) | ours | thesis |`,
    );
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rs) {
      const single = singleDistribution(r);
      lines.push(
        `| ${r.variant} | ${r.trainingImages} (${r.added}) | ${topClasses(r.end, r.endErr, 3)} | ` +
          `${r.endByStart[pair[0]]![pair[0]]!.toFixed(2)} | ${r.endByStart[pair[1]]![pair[1]]!.toFixed(2)} | ` +
          `${r.endByStart[1]![1]!.toFixed(2)} | ${formatValueErr(r.spread, r.spreadErr)} (${r.spreadNoise.toFixed(2)}) | ` +
          `${single ? 'one distribution' : 'several distributions'} | ${THESIS_FINDING[r.variant as MnistFlowVariant](r.pair)} |`,
      );
      const expectSingle = r.variant !== 'plain';
      if (single === expectSingle) agree++;
      verdicts.push(
        `${r.pair[0]}/${r.pair[1]} ${r.variant}: ${single === expectSingle ? 'agrees' : 'disagrees'} ` +
          `(${single ? 'one distribution' : 'several distributions'}, spread ${r.spread.toFixed(2)}; the thesis: ` +
          `${expectSingle ? 'one' : 'several'})`,
      );
    }
    lines.push('');
  }
  lines.push(
    '"Spread" is the largest total-variation distance between two start digits\' end distributions (jackknife ' +
      'error over blocks of chains); "noise" is what chain noise alone would give if every start ended in the same ' +
      'distribution. We call the end one distribution when spread < 0.15 + 2 × noise.',
    '',
  );
  lines.push(
    `**Agreement.** ${agree} of ${verdicts.length} flows agree with the thesis's qualitative finding ` +
      `(plain data: several fixed distributions; interpolated or noisy samples added: one). ${verdicts.join('; ')}.`,
    '',
  );
  return lines.join('\n');
}

/** Figures: end distribution by start digit, the pooled distribution by generation, and flowed digits. */
export function mnistFlowFigures(run: MnistFlowRun): FigureSpec[] {
  if (run.results.length === 0) return [];
  const figures: FigureSpec[] = [];
  const tag = (r: MnistFlowResult) => `${r.pair[0]}/${r.pair[1]} ${r.variant}`;
  figures.push(
    heatmap({
      name: 'mnist-end-by-start',
      title:
        'MNIST flows: classifier distribution at the last generation (rows: start digit, columns: class)',
      panels: run.results.map((r) => ({
        label: tag(r),
        rows: DIGITS,
        cols: DIGITS,
        data: r.endByStart.flat(),
      })),
      columns: Math.min(3, run.results.length),
      valueTitle: 'probability',
      cellSize: 14,
      diverging: false,
    }),
  );
  const points: LinePoint[] = [];
  for (const r of run.results)
    r.byGeneration.forEach((p, g) =>
      p.forEach((y, c) => points.push({ x: g, y, series: `digit ${c}`, panel: tag(r) })),
    );
  figures.push(
    linePlot({
      name: 'mnist-by-generation',
      title: 'MNIST flows: pooled class distribution by generation',
      points,
      xTitle: 'generation',
      yTitle: 'mean class probability',
      seriesOrder: Array.from({ length: DIGITS }, (_, c) => `digit ${c}`),
    }),
  );
  for (const r of run.results)
    figures.push(
      imageGrid({
        name: `mnist-flowed-${pairName(r.pair)}-${r.variant}`,
        title: `MNIST flow ${tag(r)}: one chain per start digit at the last generation`,
        panels: r.examples.map((e, d) => ({ label: `from ${d}`, rows: 28, cols: 28, data: e })),
        columns: DIGITS,
        valueTitle: 'pixel',
        cellSize: 3,
        colours: 'greys',
      }),
    );
  return figures;
}
