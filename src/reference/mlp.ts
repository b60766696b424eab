/**
 * CPU oracle of the MLP engine (src/nn/mlp.ts) in float64: forward pass, mean softmax cross-entropy,
 * backpropagated gradients, the optimiser update (SGD, momentum, Adam with bias correction, L2 on the
 * weights) and a training epoch in a given minibatch order. For tests only.
 *
 * Conventions as on the GPU: W[l] is [sizes[l] × sizes[l+1]] row-major, hidden layers relu or tanh, the
 * output layer linear + softmax, loss = mean over rows of −log p_label.
 */

/** Hidden-layer nonlinearity. */
export type MlpActivation = 'relu' | 'tanh';

/** Parameters of a dense network (float64 or float32 arrays). */
export interface MlpReferenceModel {
  sizes: readonly number[];
  activation: MlpActivation;
  W: ArrayLike<number>[];
  b: ArrayLike<number>[];
}

/** Optimiser settings, as MlpTrainingOptions resolves them. */
export interface MlpReferenceOptimizer {
  optimizer: 'sgd' | 'momentum' | 'adam';
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  l2: number;
}

/** Optimiser state: first and second moments per layer (W then b), and Adam's step count t. */
export interface MlpReferenceState {
  mW: Float64Array[];
  mb: Float64Array[];
  sW: Float64Array[];
  sb: Float64Array[];
  t: number;
}

function activate(kind: MlpActivation, x: number): number {
  return kind === 'relu' ? Math.max(x, 0) : Math.tanh(x);
}

/** f'(z) from the activation's output y = f(z). */
function derivative(kind: MlpActivation, y: number): number {
  return kind === 'relu' ? (y > 0 ? 1 : 0) : 1 - y * y;
}

/**
 * Forward pass of n rows x [n × sizes[0]]: activations[0] = x, activations[l] the layer outputs, the last
 * one the softmax probabilities; logits are the output layer's inputs to the softmax.
 */
export function mlpForward(
  model: MlpReferenceModel,
  x: ArrayLike<number>,
  n: number,
): { activations: Float64Array[]; logits: Float64Array } {
  const { sizes } = model;
  const L = sizes.length - 1;
  const activations = [Float64Array.from({ length: n * sizes[0]! }, (_, i) => x[i] as number)];
  let logits = new Float64Array(0);
  for (let l = 0; l < L; l++) {
    const fanIn = sizes[l]!;
    const units = sizes[l + 1]!;
    const input = activations[l]!;
    const W = model.W[l]!;
    const bias = model.b[l]!;
    const out = new Float64Array(n * units);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < units; j++) {
        let s = bias[j] as number;
        for (let k = 0; k < fanIn; k++) s += input[r * fanIn + k]! * (W[k * units + j] as number);
        out[r * units + j] = l < L - 1 ? activate(model.activation, s) : s;
      }
    }
    if (l === L - 1) {
      logits = out.slice();
      for (let r = 0; r < n; r++) {
        const row = out.subarray(r * units, (r + 1) * units);
        const top = Math.max(...row);
        let sum = 0;
        for (let c = 0; c < units; c++) sum += Math.exp(row[c]! - top);
        for (let c = 0; c < units; c++) row[c] = Math.exp(row[c]! - top) / sum;
      }
    }
    activations.push(out);
  }
  return { activations, logits };
}

/** Per-row loss −log p_label, computed as logsumexp(z) − z_label. */
export function mlpRowLosses(
  model: MlpReferenceModel,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
): Float64Array {
  const { logits } = mlpForward(model, x, n);
  const classes = model.sizes[model.sizes.length - 1]!;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const top = Math.max(...row);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(row[c]! - top);
    out[r] = Math.log(sum) + top - row[labels[r] as number]!;
  }
  return out;
}

/** Mean softmax cross-entropy over the n rows. */
export function mlpLoss(
  model: MlpReferenceModel,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
): number {
  return mlpRowLosses(model, x, labels, n).reduce((s, v) => s + v, 0) / n;
}

/** Gradient of the mean loss over the n rows with respect to every W[l] and b[l], and the loss. */
export function mlpGradient(
  model: MlpReferenceModel,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
): { dW: Float64Array[]; db: Float64Array[]; loss: number } {
  const { sizes } = model;
  const L = sizes.length - 1;
  const { activations } = mlpForward(model, x, n);
  const classes = sizes[L]!;
  // delta = ∂L/∂z of the output layer: (p − onehot) / n.
  let delta = new Float64Array(n * classes);
  const probabilities = activations[L]!;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < classes; c++) {
      delta[r * classes + c] = (probabilities[r * classes + c]! - (c === labels[r] ? 1 : 0)) / n;
    }
  }
  const dW: Float64Array[] = [];
  const db: Float64Array[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const fanIn = sizes[l]!;
    const units = sizes[l + 1]!;
    const input = activations[l]!;
    const gW = new Float64Array(fanIn * units);
    const gb = new Float64Array(units);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < units; j++) {
        const d = delta[r * units + j]!;
        gb[j]! += d;
        for (let k = 0; k < fanIn; k++) gW[k * units + j]! += input[r * fanIn + k]! * d;
      }
    }
    dW[l] = gW;
    db[l] = gb;
    if (l > 0) {
      const W = model.W[l]!;
      const below = new Float64Array(n * fanIn);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < fanIn; k++) {
          let s = 0;
          for (let j = 0; j < units; j++) s += delta[r * units + j]! * (W[k * units + j] as number);
          below[r * fanIn + k] = s * derivative(model.activation, input[r * fanIn + k]!);
        }
      }
      delta = below;
    }
  }
  return { dW, db, loss: mlpLoss(model, x, labels, n) };
}

/** Zero optimiser state for a network of these sizes. */
export function mlpOptimizerState(sizes: readonly number[]): MlpReferenceState {
  const w = sizes.slice(0, -1).map((s, l) => new Float64Array(s * sizes[l + 1]!));
  const b = sizes.slice(1).map((s) => new Float64Array(s));
  const copy = (a: Float64Array[]): Float64Array[] => a.map((v) => v.slice());
  return { mW: w, mb: b, sW: copy(w), sb: copy(b), t: 0 };
}

/** A float64 copy of a model's parameters. */
export function cloneModel(model: MlpReferenceModel): {
  sizes: readonly number[];
  activation: MlpActivation;
  W: Float64Array[];
  b: Float64Array[];
} {
  return {
    sizes: model.sizes,
    activation: model.activation,
    W: model.W.map((w) => Float64Array.from(w)),
    b: model.b.map((b) => Float64Array.from(b)),
  };
}

/**
 * One optimiser update in place, with g = −∇L (minus l2·W for weights):
 * SGD θ += lr·g; momentum u = μu + lr·g, θ += u; Adam m = β1m + (1−β1)g, s = β2s + (1−β2)g²,
 * θ += lr·(m / (1−β1^t)) / (√(s / (1−β2^t)) + ε), with t the update's 1-based index.
 */
export function mlpOptimizerStep(
  model: { W: Float64Array[]; b: Float64Array[] },
  gradient: { dW: ArrayLike<number>[]; db: ArrayLike<number>[] },
  state: MlpReferenceState,
  o: MlpReferenceOptimizer,
): void {
  state.t++;
  const c1 = 1 - o.beta1 ** state.t;
  const c2 = 1 - o.beta2 ** state.t;
  const update = (
    theta: Float64Array,
    grad: ArrayLike<number>,
    m: Float64Array,
    s: Float64Array,
    decay: boolean,
  ): void => {
    for (let i = 0; i < theta.length; i++) {
      let g = -(grad[i] as number);
      if (decay) g -= o.l2 * theta[i]!;
      if (o.optimizer === 'sgd') theta[i]! += o.lr * g;
      else if (o.optimizer === 'momentum') {
        m[i] = o.momentum * m[i]! + o.lr * g;
        theta[i]! += m[i]!;
      } else {
        m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g;
        s[i] = o.beta2 * s[i]! + (1 - o.beta2) * g * g;
        theta[i]! += (o.lr * (m[i]! / c1)) / (Math.sqrt(s[i]! / c2) + o.epsilon);
      }
    }
  };
  model.W.forEach((w, l) => update(w, gradient.dW[l]!, state.mW[l]!, state.sW[l]!, true));
  model.b.forEach((b, l) => update(b, gradient.db[l]!, state.mb[l]!, state.sb[l]!, false));
}

/**
 * One epoch in place: minibatch q uses samples order[q·batch … q·batch + batch − 1]; the last
 * n mod batch positions of `order` are left out, as on the GPU.
 */
export function mlpTrainEpoch(
  model: {
    sizes: readonly number[];
    activation: MlpActivation;
    W: Float64Array[];
    b: Float64Array[];
  },
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  order: ArrayLike<number>,
  batch: number,
  state: MlpReferenceState,
  o: MlpReferenceOptimizer,
): void {
  const inputs = model.sizes[0]!;
  for (let q = 0; q + batch <= order.length; q += batch) {
    const xb = new Float64Array(batch * inputs);
    const yb = new Float64Array(batch);
    for (let r = 0; r < batch; r++) {
      const s = order[q + r] as number;
      for (let i = 0; i < inputs; i++) xb[r * inputs + i] = x[s * inputs + i] as number;
      yb[r] = labels[s] as number;
    }
    mlpOptimizerStep(model, mlpGradient(model, xb, yb, batch), state, o);
  }
}
