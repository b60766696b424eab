/**
 * The float64 MLP oracle against itself: central finite differences of its loss match its
 * backpropagated gradient (relu and tanh), and one SGD step moves the parameters by −lr·∇L.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/reference/prng.ts';
import {
  cloneModel,
  mlpGradient,
  mlpLoss,
  mlpOptimizerState,
  mlpOptimizerStep,
  type MlpActivation,
} from '../../src/reference/mlp.ts';

function randomModel(sizes: number[], activation: MlpActivation, seed: number) {
  const rand = mulberry32(seed);
  const W = sizes
    .slice(0, -1)
    .map((s, l) => Float64Array.from({ length: s * sizes[l + 1]! }, () => (2 * rand() - 1) / Math.sqrt(s)));
  const b = sizes.slice(1).map((s) => Float64Array.from({ length: s }, () => 0.3 * (2 * rand() - 1)));
  return { sizes, activation, W, b };
}

describe('MLP float64 oracle', () => {
  it.each(['relu', 'tanh'] as const)(
    '%s: finite differences of the loss match the gradient',
    (activation) => {
      const sizes = [7, 5, 4, 3];
      const model = randomModel(sizes, activation, 11);
      const rand = mulberry32(5);
      const n = 6;
      const x = Float64Array.from({ length: n * 7 }, () => 2 * rand() - 1);
      const labels = [0, 1, 2, 2, 1, 0];
      const g = mlpGradient(model, x, labels, n);
      const h = 1e-6;
      let worst = 0;
      for (const [params, grads] of [
        [model.W, g.dW],
        [model.b, g.db],
      ] as const) {
        params.forEach((p, l) => {
          for (let i = 0; i < p.length; i++) {
            const keep = p[i]!;
            p[i] = keep + h;
            const up = mlpLoss(model, x, labels, n);
            p[i] = keep - h;
            const down = mlpLoss(model, x, labels, n);
            p[i] = keep;
            worst = Math.max(worst, Math.abs((up - down) / (2 * h) - grads[l]![i]!));
          }
        });
      }
      expect(worst).toBeLessThan(1e-7);
      expect(Math.max(...g.dW[0]!.map(Math.abs))).toBeGreaterThan(1e-3); // not vacuous
      expect(g.loss).toBeCloseTo(mlpLoss(model, x, labels, n), 12);
    },
  );

  it('an SGD step is θ − lr·(∇L + l2·W) for weights and θ − lr·∇L for biases', () => {
    const model = randomModel([4, 3, 2], 'relu', 3);
    const x = [0.5, -0.2, 0.1, 0.9, -0.7, 0.3, 0.2, -0.4];
    const g = mlpGradient(model, x, [1, 0], 2);
    const after = cloneModel(model);
    const o = {
      optimizer: 'sgd',
      lr: 0.3,
      momentum: 0,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      l2: 0.1,
    } as const;
    mlpOptimizerStep(after, g, mlpOptimizerState(model.sizes), o);
    after.W.forEach((w, l) =>
      w.forEach((v, i) =>
        expect(v).toBeCloseTo(model.W[l]![i]! - 0.3 * (g.dW[l]![i]! + 0.1 * model.W[l]![i]!), 14),
      ),
    );
    after.b.forEach((b, l) =>
      b.forEach((v, i) => expect(v).toBeCloseTo(model.b[l]![i]! - 0.3 * g.db[l]![i]!, 14)),
    );
  });
});
