/**
 * The TensorFlow.js peer of `bench rbm`: the same CD-k update as RbmEngine.step() (SGD, CD not PCD,
 * Bernoulli {0,1} units, minibatch gathered from training rows kept on the device), written with
 * TensorFlow.js ops as a user of that library would write it:
 *   dense: h|v = sigmoid(v·W + b) (fused matMul + bias + sigmoid), v|h = sigmoid(h·Wᵀ + a),
 *          dW = (v0ᵀ·h0 − vkᵀ·hk) / B;
 *   conv:  the periodic 32×32 lattice is wrapped by tiling (concatenating the first kf − s rows and
 *          columns) so a 'valid' stride-s conv2d sees the torus; v|h is conv2dTranspose onto the wrapped
 *          lattice folded back onto the torus; dW is Conv2DBackpropFilter over the wrapped lattice.
 * Bernoulli draws: `rng: 'uniform'` uses tf.randomUniform (TF.js generates those numbers in JavaScript
 * on the CPU and uploads them: there is no GPU RandomUniform kernel in the webgl/webgpu backends);
 * `rng: 'hash'` keeps the draw on the device with an elementwise hash u = fract(sin(i·12.9898 + s)·43758.5453)
 * — a throughput stand-in, not a statistically sound generator — so the peer is not held back by the CPU.
 * FLOP count: the same formula as bench/rbm.ts (2·B·C·(2k + 3)).
 */
import * as tf from '@tensorflow/tfjs-core';

export type TfjsRng = 'uniform' | 'hash';

export interface TfjsRbmGeometry {
  nv: number;
  nh: number;
  conv?: { Lv: number; filters: number; k: number; stride: number };
}

type ConvGeometry = NonNullable<TfjsRbmGeometry['conv']>;

/** Side of the wrapped lattice a 'valid' stride-s conv needs: s·(side − 1) + kf. */
function wrappedSide(c: ConvGeometry): number {
  return c.stride * (c.Lv / c.stride - 1) + c.k;
}

/** Periodic boundaries by tiling: appends the first (Lp − Lv) rows, then columns. */
function wrapTorus(v: tf.Tensor4D, c: ConvGeometry): tf.Tensor4D {
  const [B] = v.shape;
  const Lp = wrappedSide(c);
  const extra = Lp - c.Lv;
  if (extra <= 0) return v;
  const rows = tf.concat([v, tf.slice(v, [0, 0, 0, 0], [B, extra, c.Lv, 1])], 1);
  return tf.concat([rows, tf.slice(rows, [0, 0, 0, 0], [B, Lp, extra, 1])], 2);
}

/** A transposed conv lands on the wrapped lattice: folds the overhang back onto the torus. */
function foldTorus(y: tf.Tensor4D, c: ConvGeometry): tf.Tensor4D {
  const [B] = y.shape;
  const Lp = wrappedSide(c);
  const extra = Lp - c.Lv;
  if (extra <= 0) return y;
  const rows = tf.add(
    tf.slice(y, [0, 0, 0, 0], [B, c.Lv, Lp, 1]),
    tf.pad(tf.slice(y, [0, c.Lv, 0, 0], [B, extra, Lp, 1]), [
      [0, 0],
      [0, c.Lv - extra],
      [0, 0],
      [0, 0],
    ]),
  );
  return tf.add(
    tf.slice(rows, [0, 0, 0, 0], [B, c.Lv, c.Lv, 1]),
    tf.pad(tf.slice(rows, [0, 0, c.Lv, 0], [B, c.Lv, extra, 1]), [
      [0, 0],
      [0, 0],
      [0, c.Lv - extra],
      [0, 0],
    ]),
  );
}

/** h pre-activations on the torus (no bias): conv2d of the wrapped lattice. */
function convUp(vWrapped: tf.Tensor4D, filter: tf.Tensor4D, c: ConvGeometry): tf.Tensor4D {
  return tf.conv2d(vWrapped, filter, c.stride, 'valid');
}

/** v pre-activations on the torus (no bias): transposed conv, folded. */
function convDown(h: tf.Tensor4D, filter: tf.Tensor4D, c: ConvGeometry): tf.Tensor4D {
  const Lp = wrappedSide(c);
  return foldTorus(tf.conv2dTranspose(h, filter, [h.shape[0], Lp, Lp, 1], c.stride, 'valid'), c);
}

/** Σ over rows and positions of v_patch · h: the filter gradient (TF.js's Conv2DBackpropFilter kernel). */
function filterGradient(xWrapped: tf.Tensor4D, dy: tf.Tensor4D, c: ConvGeometry): tf.Tensor4D {
  const attrs = {
    strides: c.stride,
    pad: 'valid',
    dataFormat: 'NHWC',
    filterShape: [c.k, c.k, 1, c.filters],
  };
  return tf
    .engine()
    .runKernel(
      tf.Conv2DBackpropFilter,
      { x: xWrapped, dy },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
}

/** A CD-k trainer in TensorFlow.js on the current backend. Call dispose() when done. */
export class TfjsCdTrainer {
  private readonly W: tf.Variable;
  private readonly a: tf.Variable;
  private readonly b: tf.Variable;
  private readonly data: tf.Tensor2D;
  private readonly rows: number;
  private readonly hashIndex = new Map<string, tf.Tensor>();
  private order: Int32Array;
  private cursor = 0;
  private draws = 0;

  constructor(
    private readonly geometry: TfjsRbmGeometry,
    rows: Float32Array,
    private readonly options: { batch: number; k: number; lr: number; rng: TfjsRng },
  ) {
    const { nv, nh, conv } = geometry;
    this.rows = rows.length / nv;
    this.data = tf.tensor2d(rows, [this.rows, nv]);
    // tidy frees the initial values; variables survive it.
    const normal = (shape: number[]): tf.Variable =>
      tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 0.01, 'float32', 1)));
    const zeros = (shape: number[]): tf.Variable => tf.tidy(() => tf.variable(tf.zeros(shape)));
    this.W = normal(conv ? [conv.k, conv.k, 1, conv.filters] : [nv, nh]);
    this.a = zeros(conv ? [1] : [nv]);
    this.b = zeros(conv ? [conv.filters] : [nh]);
    this.order = this.shuffled();
  }

  private shuffled(): Int32Array {
    const order = Int32Array.from({ length: this.rows }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    return order;
  }

  /** The next minibatch's row indices (reshuffled every epoch, as RbmEngine does on the GPU). */
  private nextIndices(): Int32Array {
    const B = this.options.batch;
    if (this.cursor + B > this.rows) {
      this.order = this.shuffled();
      this.cursor = 0;
    }
    const out = this.order.slice(this.cursor, this.cursor + B);
    this.cursor += B;
    return out;
  }

  /** Bernoulli draws with probabilities p (values 0/1, float32). */
  private bernoulli(p: tf.Tensor): tf.Tensor {
    this.draws++;
    if (this.options.rng === 'uniform') return tf.cast(tf.less(tf.randomUniform(p.shape), p), 'float32');
    const key = p.shape.join('×');
    let index = this.hashIndex.get(key);
    if (!index) {
      index = tf.keep(tf.mul(tf.reshape(tf.range(0, p.size, 1, 'float32'), p.shape), 12.9898));
      this.hashIndex.set(key, index);
    }
    const x = tf.mul(tf.sin(tf.add(index, tf.scalar((this.draws * 0.618034) % 1000))), 43758.5453);
    const u = tf.sub(x, tf.floor(x));
    return tf.cast(tf.less(u, p), 'float32');
  }

  /**
   * Checks the conv layers (wrap, conv2d, conv2dTranspose + fold, filter gradient) against plain loops
   * over the torus on two random rows: returns the largest absolute difference of the pre-activations
   * and of the weight gradient (≈ 1e-6 when the TF.js graph computes the same model as the engine).
   */
  static checkConv(c: ConvGeometry): number {
    const B = 2;
    const side = c.Lv / c.stride;
    const nv = c.Lv * c.Lv;
    const nh = c.filters * side * side;
    const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() - 0.5);
    const v = rnd(B * nv);
    const h = rnd(B * nh); // TF.js layout [B, I, J, f]
    const w = rnd(c.k * c.k * c.filters); // TF.js layout [a, b, 0, f]
    const W = (a: number, b: number, f: number): number => w[(a * c.k + b) * c.filters + f] as number;
    const upLoop = new Float32Array(B * nh);
    const downLoop = new Float32Array(B * nv);
    const gradLoop = new Float32Array(w.length);
    for (let r = 0; r < B; r++) {
      for (let I = 0; I < side; I++) {
        for (let J = 0; J < side; J++) {
          for (let f = 0; f < c.filters; f++) {
            const hi = r * nh + (I * side + J) * c.filters + f;
            for (let a = 0; a < c.k; a++) {
              for (let b = 0; b < c.k; b++) {
                const vi = r * nv + ((c.stride * I + a) % c.Lv) * c.Lv + ((c.stride * J + b) % c.Lv);
                upLoop[hi] = (upLoop[hi] as number) + W(a, b, f) * (v[vi] as number);
                downLoop[vi] = (downLoop[vi] as number) + W(a, b, f) * (h[hi] as number);
                const wi = (a * c.k + b) * c.filters + f;
                gradLoop[wi] = (gradLoop[wi] as number) + (v[vi] as number) * (h[hi] as number);
              }
            }
          }
        }
      }
    }
    return tf.tidy(() => {
      const filter = tf.tensor4d(w, [c.k, c.k, 1, c.filters]);
      const wrapped = wrapTorus(tf.tensor4d(v, [B, c.Lv, c.Lv, 1]), c);
      const ht = tf.tensor4d(h, [B, side, side, c.filters]);
      const up = convUp(wrapped, filter, c);
      const down = convDown(ht, filter, c);
      const grad = filterGradient(wrapped, ht, c);
      let worst = 0;
      for (const [t, ref] of [
        [up, upLoop],
        [down, downLoop],
        [grad, gradLoop],
      ] as const) {
        const got = t.dataSync();
        for (let i = 0; i < ref.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (ref[i] as number)));
      }
      return worst;
    });
  }

  /** One CD-k update (no read-back; the backend queues the work). */
  step(): void {
    const { batch: B, k, lr } = this.options;
    const idx = this.nextIndices();
    tf.tidy(() => {
      const v0flat = tf.gather(this.data, tf.tensor1d(idx, 'int32'));
      if (this.geometry.conv) this.convStep(v0flat, B, k, lr);
      else this.denseStep(v0flat, B, k, lr);
    });
  }

  private denseStep(v0: tf.Tensor, B: number, k: number, lr: number): void {
    const W = this.W as tf.Tensor2D;
    const up = (v: tf.Tensor): tf.Tensor2D =>
      tf.fused.matMul({ a: v as tf.Tensor2D, b: W, bias: this.b, activation: 'sigmoid' }) as tf.Tensor2D;
    const down = (h: tf.Tensor): tf.Tensor2D =>
      tf.fused.matMul({
        a: h as tf.Tensor2D,
        b: W,
        transposeB: true,
        bias: this.a,
        activation: 'sigmoid',
      }) as tf.Tensor2D;
    const h0 = up(v0);
    let h: tf.Tensor = this.bernoulli(h0);
    let vk: tf.Tensor = v0;
    let hk: tf.Tensor = h0;
    for (let g = 1; g <= k; g++) {
      vk = this.bernoulli(down(h));
      hk = up(vk);
      if (g < k) h = this.bernoulli(hk);
    }
    const dW = tf.sub(tf.matMul(v0, h0, true, false), tf.matMul(vk, hk, true, false));
    this.W.assign(tf.add(W, tf.mul(dW, lr / B)));
    this.a.assign(tf.add(this.a, tf.mul(tf.mean(tf.sub(v0, vk), 0), lr)));
    this.b.assign(tf.add(this.b, tf.mul(tf.mean(tf.sub(h0, hk), 0), lr)));
  }

  private convStep(v0flat: tf.Tensor, B: number, k: number, lr: number): void {
    const c = this.geometry.conv as ConvGeometry;
    const W = this.W as tf.Tensor4D;
    const up = (vWrapped: tf.Tensor4D): tf.Tensor4D =>
      tf.fused.conv2d({
        x: vWrapped,
        filter: W,
        strides: c.stride,
        pad: 'valid',
        bias: this.b,
        activation: 'sigmoid',
      });
    const down = (h: tf.Tensor4D): tf.Tensor4D =>
      tf.sigmoid(tf.add(convDown(h, W, c), this.a)) as tf.Tensor4D;
    const v0 = wrapTorus(tf.reshape(v0flat, [B, c.Lv, c.Lv, 1]), c);
    const h0 = up(v0);
    let h = this.bernoulli(h0) as tf.Tensor4D;
    let vk = v0;
    let vkTorus: tf.Tensor = v0flat;
    let hk = h0;
    for (let g = 1; g <= k; g++) {
      vkTorus = this.bernoulli(down(h));
      vk = wrapTorus(vkTorus as tf.Tensor4D, c);
      hk = up(vk);
      if (g < k) h = this.bernoulli(hk) as tf.Tensor4D;
    }
    // ⟨v h⟩_data − ⟨v h⟩_model in one filter-gradient call over the stacked batch.
    const dW = filterGradient(tf.concat([v0, vk], 0), tf.concat([h0, tf.neg(hk)], 0), c);
    this.W.assign(tf.add(W, tf.mul(dW, lr / B)));
    this.a.assign(tf.reshape(tf.add(this.a, tf.mul(tf.sub(tf.mean(v0flat), tf.mean(vkTorus)), lr)), [1]));
    this.b.assign(tf.add(this.b, tf.mul(tf.mean(tf.sub(h0, hk), [0, 1, 2]), lr)));
  }

  /** Resolves when all queued work is done (reads back one weight). */
  async sync(): Promise<void> {
    const probe = tf.tidy(() => tf.slice(tf.reshape(this.W, [-1]), 0, 1));
    await probe.data();
    probe.dispose();
  }

  dispose(): void {
    for (const t of [this.W, this.a, this.b, this.data, ...this.hashIndex.values()]) t.dispose();
    this.hashIndex.clear();
  }
}
