/**
 * The MLP engine on the GPU against the float64 oracle (src/reference/mlp.ts): gradients of both matmul
 * kernels at sizes that are not multiples of the blocks, optimiser steps, a shuffled epoch, learning a
 * toy problem, chunked prediction, input checks and buffer release.
 */
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../../src/gpu/device.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { MLP_CHUNK_ROWS, MlpDivergedError, MlpEngine, type MlpTrainingOptions } from '../../src/nn/mlp.ts';
import { mulberry32 } from '../../src/reference/prng.ts';
import {
  cloneModel,
  mlpForward,
  mlpGradient,
  mlpOptimizerState,
  mlpOptimizerStep,
  mlpTrainEpoch,
} from '../../src/reference/mlp.ts';
import { shufflePermutation } from '../../src/reference/shuffle.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

/** Random f32 parameters ~ U(±1/√fanIn), biases U(±0.3). */
function randomParameters(sizes: number[], seed: number): { W: Float32Array[]; b: Float32Array[] } {
  const rand = mulberry32(seed);
  return {
    W: sizes
      .slice(0, -1)
      .map((s, l) => Float32Array.from({ length: s * sizes[l + 1]! }, () => (2 * rand() - 1) / Math.sqrt(s))),
    b: sizes.slice(1).map((s) => Float32Array.from({ length: s }, () => 0.3 * (2 * rand() - 1))),
  };
}

function randomRows(
  n: number,
  inputs: number,
  classes: number,
  seed: number,
): { x: Float32Array; y: Uint32Array } {
  const rand = mulberry32(seed);
  return {
    x: Float32Array.from({ length: n * inputs }, () => 2 * rand() - 1),
    y: Uint32Array.from({ length: n }, () => Math.floor(rand() * classes)),
  };
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) ** 2;
  return Math.sqrt(s);
}

/** ‖got − want‖ / ‖want‖. */
function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < want.length; i++) d += ((got[i] as number) - (want[i] as number)) ** 2;
  return Math.sqrt(d) / norm(want);
}

/**
 * GPU parameters after training vs the oracle's, per layer: θ to 1e-5 relative (the f32 rounding of θ is
 * ~1e-7), and the change θ − θ0 to 5e-5 relative (it is a difference of f32 values, measured ≤ 7e-6
 * here). The oracle's change must be ≥ 1% of θ, so the comparison is not vacuous.
 */
function expectParametersMatch(
  got: { W: Float32Array[]; b: Float32Array[] },
  want: { W: Float64Array[]; b: Float64Array[] },
  start: { W: Float32Array[]; b: Float32Array[] },
  layers: number,
): void {
  for (let l = 0; l < layers; l++) {
    for (const [g, w, p0] of [
      [got.W[l]!, want.W[l]!, start.W[l]!],
      [got.b[l]!, want.b[l]!, start.b[l]!],
    ] as const) {
      const moved = w.map((v, i) => v - p0[i]!);
      expect(norm(moved) / norm(w)).toBeGreaterThan(1e-2);
      expect(relativeError(g, w)).toBeLessThan(1e-5);
      expect(
        relativeError(
          g.map((v, i) => v - p0[i]!),
          moved,
        ),
      ).toBeLessThan(5e-5);
    }
  }
}

/** Three unit-variance Gaussian blobs in 10 dimensions, centres 3 apart per axis. */
function blobs(n: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const rand = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = [0, 1, 2].map((c) => Array.from({ length: 10 }, (_, i) => ((i + c) % 3 === 0 ? 3 : 0)));
  const x = new Float32Array(n * 10);
  const y = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = r % 3;
    for (let i = 0; i < 10; i++) x[r * 10 + i] = centres[r % 3]![i]! + gauss();
  }
  return { x, y };
}

describe('MLP engine on the GPU vs the float64 oracle', () => {
  const gpu = useGpu();

  it.each([
    [[7, 5, 4, 3], 'relu', 6, 'direct'],
    [[7, 5, 4, 3], 'relu', 6, 'tiled'],
    [[7, 5, 4, 3], 'tanh', 6, 'direct'],
    [[7, 5, 4, 3], 'tanh', 6, 'tiled'],
    [[9, 2], 'relu', 5, 'direct'],
    // Several 64-wide blocks in every product (rows, columns and the inner dimension), none of them full.
    [[70, 67, 13], 'relu', 71, 'direct'],
    [[70, 67, 13], 'tanh', 71, 'tiled'],
  ] as const)('gradient of %j (%s), %i rows, %s kernel', async (sizes, activation, rows, matmul) => {
    const device = gpu().device;
    const p = randomParameters([...sizes], 3);
    const { x, y } = randomRows(rows, sizes[0], sizes[sizes.length - 1]!, 4);
    const want = mlpGradient({ sizes, activation, ...p }, x, y, rows);
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes: [...sizes], activation, parameters: p, matmul });
      try {
        expect(mlp.matmul).toBe(matmul);
        const got = await mlp.gradient(x, y, rows);
        for (let l = 0; l < sizes.length - 1; l++) {
          expect(norm(want.dW[l]!)).toBeGreaterThan(1e-3); // not vacuous
          expect(relativeError(got.dW[l]!, want.dW[l]!)).toBeLessThan(1e-5);
          expect(relativeError(got.db[l]!, want.db[l]!)).toBeLessThan(1e-5);
        }
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-6);
        // gradient() leaves the parameters alone.
        expect((await mlp.getParameters()).W[0]).toEqual(p.W[0]);
      } finally {
        mlp.destroy();
      }
    });
  });

  const base = { momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, l2: 0 };
  it.each([
    ['sgd', 1.0, 0],
    ['sgd', 1.0, 0.05],
    ['momentum', 0.5, 0.05],
    ['adam', 0.05, 0],
    ['adam', 0.05, 0.05],
  ] as const)('3 %s steps (lr %f, l2 %f) on the full batch match the oracle', async (optimizer, lr, l2) => {
    const device = gpu().device;
    const sizes = [7, 5, 4, 3];
    const p = randomParameters(sizes, 8);
    const n = 10;
    const { x, y } = randomRows(n, 7, 3, 9);
    const model = cloneModel({ sizes, activation: 'relu', ...p });
    const state = mlpOptimizerState(sizes);
    const o = { ...base, optimizer, lr, l2 };
    for (let s = 0; s < 3; s++) mlpOptimizerStep(model, mlpGradient(model, x, y, n), state, o);
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes, parameters: p });
      try {
        mlp.setData(x, y, n);
        mlp.configureTraining({ batch: n, shuffle: false, ...o });
        for (let s = 0; s < 3; s++) mlp.step();
        expect(mlp.updateCount).toBe(3);
        expect(mlp.epochCount).toBe(3);
        const got = await mlp.getParameters();
        expectParametersMatch(got, model, p, 3);
      } finally {
        mlp.destroy();
      }
    });
  });

  it('two shuffled epochs (batch 8 of 30 samples, Adam, tanh) follow the oracle in the Feistel order', async () => {
    const device = gpu().device;
    const sizes = [6, 9, 4];
    const p = randomParameters(sizes, 12);
    const n = 30;
    const { x, y } = randomRows(n, 6, 4, 13);
    const model = cloneModel({ sizes, activation: 'tanh', ...p });
    const state = mlpOptimizerState(sizes);
    const o = { ...base, optimizer: 'adam', lr: 0.02, l2: 0.01 } as const;
    const key = seedKey(77);
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = shufflePermutation(n, { key, epoch, stream: streamWord(RngPurpose.mlp, 0) });
      mlpTrainEpoch(model, x, y, order, 8, state, o);
    }
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes, activation: 'tanh', parameters: p, seed: 77 });
      try {
        mlp.setData(x, y, n);
        mlp.configureTraining({ batch: 8, ...o });
        expect(mlp.batchesPerEpoch).toBe(3); // the last 6 samples of each order are left out
        const epochs: number[] = [];
        expect(await mlp.trainEpochs(2, { onEpoch: (e) => void epochs.push(e) })).toEqual({
          epochsDone: 2,
          aborted: false,
        });
        expect(epochs).toEqual([1, 2]);
        expect(mlp.updateCount).toBe(6);
        const got = await mlp.getParameters();
        expectParametersMatch(got, model, p, 2);
        // The in-order walk would have given different parameters: the shuffle was used.
        const unshuffled = cloneModel({ sizes, activation: 'tanh', ...p });
        const s2 = mlpOptimizerState(sizes);
        for (let e = 0; e < 2; e++) mlpTrainEpoch(unshuffled, x, y, [...Array(n).keys()], 8, s2, o);
        expect(relativeError(got.W[0]!, unshuffled.W[0]!)).toBeGreaterThan(1e-3);
      } finally {
        mlp.destroy();
      }
    });
  });

  it('replaceData between epochs keeps the optimiser state: epoch 1 on x, epoch 2 on x′ follow the oracle', async () => {
    const device = gpu().device;
    const sizes = [6, 9, 4];
    const p = randomParameters(sizes, 14);
    const n = 24;
    const { x, y } = randomRows(n, 6, 4, 15);
    const x2 = randomRows(n, 6, 4, 16).x;
    const model = cloneModel({ sizes, activation: 'tanh', ...p });
    const state = mlpOptimizerState(sizes);
    const o = { ...base, optimizer: 'adam', lr: 0.02, l2: 0 } as const;
    const key = seedKey(78);
    [x, x2].forEach((rows, epoch) => {
      const order = shufflePermutation(n, { key, epoch, stream: streamWord(RngPurpose.mlp, 0) });
      mlpTrainEpoch(model, rows, y, order, 8, state, o);
    });
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes, activation: 'tanh', parameters: p, seed: 78 });
      try {
        expect(() => mlp.replaceData(x)).toThrow(/call setData first/);
        mlp.setData(x, y, n);
        mlp.configureTraining({ batch: 8, ...o });
        await mlp.trainEpochs(1);
        expect(() => mlp.replaceData(x.subarray(6))).toThrow(/x has 138 values; n 24 × inputs 6 = 144/);
        const bad = Float32Array.from(x2);
        bad[7] = NaN;
        expect(() => mlp.replaceData(bad)).toThrow(/x\[7\] \(row 1, input 1\) = NaN is not finite/);
        mlp.replaceData(x2);
        await mlp.trainEpochs(1);
        expect(mlp.updateCount).toBe(6);
        const got = await mlp.getParameters();
        expectParametersMatch(got, model, p, 2);
        // setData would have restarted Adam's moments and the epoch: a different result.
        const restarted = new MlpEngine(device, { sizes, activation: 'tanh', parameters: p, seed: 78 });
        try {
          restarted.setData(x, y, n);
          restarted.configureTraining({ batch: 8, ...o });
          await restarted.trainEpochs(1);
          restarted.setData(x2, y, n);
          await restarted.trainEpochs(1);
          expect(relativeError((await restarted.getParameters()).W[0]!, got.W[0]!)).toBeGreaterThan(1e-3);
        } finally {
          restarted.destroy();
        }
      } finally {
        mlp.destroy();
      }
    });
  });

  it('learns three Gaussian blobs to ≥ 0.95 held-out accuracy, deterministically in the seed', async () => {
    const device = gpu().device;
    const train = blobs(600, 21);
    const test = blobs(600, 22);
    const options: MlpTrainingOptions = { batch: 32, lr: 0.01, optimizer: 'adam' };
    await checked(device, async () => {
      const run = async (): Promise<{ mlp: MlpEngine; before: number }> => {
        const mlp = new MlpEngine(device, { sizes: [10, 16, 3], seed: 5 });
        mlp.setData(train.x, train.y, 600);
        mlp.configureTraining(options);
        const before = (await mlp.evaluate(test.x, test.y, 600)).loss;
        await mlp.trainEpochs(4);
        return { mlp, before };
      };
      const a = await run();
      const b = await run();
      try {
        expect(a.mlp.epochCount).toBe(4);
        expect(a.mlp.updateCount).toBe(4 * 18);
        const r = await a.mlp.evaluate(test.x, test.y, 600);
        expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
        expect(r.loss).toBeLessThan(a.before / 3);
        let sum = 0;
        let trace = 0;
        r.confusion.forEach((v, i) => {
          sum += v;
          if (i % 4 === 0) trace += v;
        });
        expect(sum).toBe(600);
        expect(r.accuracy).toBe(trace / 600);
        // Same seed, same data: bit-identical parameters.
        const pa = await a.mlp.getParameters();
        const pb = await b.mlp.getParameters();
        pa.W.forEach((w, l) => expect(pb.W[l]).toEqual(w));
        pa.b.forEach((w, l) => expect(pb.b[l]).toEqual(w));
      } finally {
        a.mlp.destroy();
        b.mlp.destroy();
      }
    });
  });

  it(`predicts ${2 * MLP_CHUNK_ROWS + 1234} rows in chunks: probabilities sum to 1 and match the oracle`, async () => {
    const device = gpu().device;
    const sizes = [10, 16, 3];
    const p = randomParameters(sizes, 31);
    const n = 2 * MLP_CHUNK_ROWS + 1234;
    const { x } = randomRows(n, 10, 3, 32);
    const want = mlpForward({ sizes, activation: 'relu', ...p }, x, n).activations[2]!;
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes, parameters: p });
      try {
        const got = await mlp.predict(x, n);
        expect(got.length).toBe(n * 3);
        let worstSum = 0;
        let worst = 0;
        for (let r = 0; r < n; r++) {
          worstSum = Math.max(worstSum, Math.abs(got[3 * r]! + got[3 * r + 1]! + got[3 * r + 2]! - 1));
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(got[3 * r + c]! - want[3 * r + c]!));
        }
        expect(worstSum).toBeLessThan(1e-6);
        expect(worst).toBeLessThan(1e-6);
      } finally {
        mlp.destroy();
      }
    });
  });

  it('refuses bad input with RangeErrors that name the value and the limit', async () => {
    const device = gpu().device;
    expect(() => new MlpEngine(device, { sizes: [5] })).toThrow(/sizes \[5\] must have 2 … \d+ entries/);
    expect(() => new MlpEngine(device, { sizes: [5, 0, 3] })).toThrow(
      /sizes\[1\] 0 must be an integer in 1 … \d+/,
    );
    expect(() => new MlpEngine(device, { sizes: [5, 2.5, 3] })).toThrow(
      /sizes\[1\] 2.5 must be an integer in 1/,
    );
    expect(() => new MlpEngine(device, { sizes: [5, 1] })).toThrow(/1 classes must be ≥ 2/);
    expect(() => new MlpEngine(device, { sizes: [3, 2], activation: 'sigmoid' as 'relu' })).toThrow(
      RangeError,
    );
    expect(() => new MlpEngine(device, { sizes: [3, 2], parameters: { W: [[1, 2]], b: [[0, 0]] } })).toThrow(
      /W\[0\] has 2 values; expected 6/,
    );
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes: [3, 4, 3] });
      try {
        const x = new Float32Array(6);
        expect(() => mlp.setData(x, [0, 3], 2)).toThrow(/label 3 of row 1 must be an integer in 0 … 2/);
        expect(() => mlp.setData(x, [0.5, 1], 2)).toThrow(/label 0.5 of row 0 must be an integer in 0 … 2/);
        expect(() => mlp.setData(x, [-1, 1], 2)).toThrow(RangeError);
        expect(() => mlp.setData(x, [0, 1, 2], 3)).toThrow(/x has 6 values; n 3 × inputs 3 = 9/);
        expect(() => mlp.setData(x, [0, 1], 0)).toThrow(/row count n 0 must be an integer in 1/);
        expect(() => mlp.setData(Float32Array.of(1, 2, NaN, 0, 0, 0), [0, 1], 2)).toThrow(
          /x\[2\].*NaN is not finite/,
        );
        expect(() => mlp.configureTraining({ batch: 1, lr: 0.1 })).toThrow(/call setData first/);
        mlp.setData(x, [0, 1], 2);
        expect(() => mlp.configureTraining({ batch: 0, lr: 0.1 })).toThrow(
          /batch 0 must be an integer in 1 … 2/,
        );
        expect(() => mlp.configureTraining({ batch: 3, lr: 0.1 })).toThrow(
          /batch 3 must be an integer in 1 … 2/,
        );
        expect(() => mlp.configureTraining({ batch: 2, lr: 0 })).toThrow(/lr 0 must be a finite number > 0/);
        expect(() => mlp.configureTraining({ batch: 2, lr: NaN })).toThrow(
          /lr NaN must be a finite number > 0/,
        );
        expect(() => mlp.configureTraining({ batch: 2, lr: 0.1, beta2: 1 })).toThrow(/beta2 1 .* < 1/);
        expect(() => mlp.configureTraining({ batch: 2, lr: 0.1, optimizer: 'rmsprop' as 'sgd' })).toThrow(
          /optimizer 'rmsprop'/,
        );
        expect(() => mlp.step()).toThrow(/configureTraining first/);
        await expect(mlp.predict(new Float32Array(5), 2)).rejects.toThrow(
          /x has 5 values; n 2 × inputs 3 = 6/,
        );
        await expect(mlp.evaluate(x, [0, 7], 2)).rejects.toThrow(/label 7 of row 1/);
      } finally {
        mlp.destroy();
      }
    });
  });

  it("stops at an abort between updates; 'auto' picks the direct kernels on a CPU adapter", async () => {
    const device = gpu().device;
    const { x, y } = randomRows(16, 4, 3, 61);
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes: [4, 5, 3] });
      try {
        expect(mlp.matmul).toBe(isSoftwareAdapter(device.adapterInfo) ? 'direct' : 'tiled');
        mlp.setData(x, y, 16);
        mlp.configureTraining({ batch: 4, lr: 0.1 });
        const controller = new AbortController();
        controller.abort();
        expect(await mlp.trainEpochs(2, { signal: controller.signal })).toEqual({
          epochsDone: 0,
          aborted: true,
        });
        expect(mlp.updateCount).toBe(0);
        mlp.step(); // an unfinished epoch is completed first by trainEpochs
        expect(await mlp.trainEpochs(1)).toEqual({ epochsDone: 1, aborted: false });
        expect([mlp.updateCount, mlp.epochCount]).toEqual([4, 1]);
      } finally {
        mlp.destroy();
      }
    });
    expect(() => new MlpEngine(device, { sizes: [3, 2], matmul: 'fast' as 'tiled' })).toThrow(
      /matmul 'fast' must be 'auto', 'tiled' or 'direct'/,
    );
  });

  it('names the epoch in which training diverged', async () => {
    const device = gpu().device;
    const { x, y } = randomRows(16, 4, 3, 41);
    await checked(device, async () => {
      const mlp = new MlpEngine(device, { sizes: [4, 8, 3], seed: 2 });
      try {
        mlp.setData(x, y, 16);
        mlp.configureTraining({ batch: 4, lr: 1e38, shuffle: false });
        const error = await mlp.trainEpochs(3).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MlpDivergedError);
        expect((error as MlpDivergedError).epoch).toBe(1);
        expect((error as Error).message).toMatch(/non-finite parameters after epoch 1/);
      } finally {
        mlp.destroy();
      }
    });
  });

  it('destroy() frees every buffer, and a destroyed engine refuses work', async () => {
    const device = gpu().device;
    const live = new Set<GPUBuffer>();
    const create = device.createBuffer;
    device.createBuffer = function (descriptor: GPUBufferDescriptor): GPUBuffer {
      const buffer = create.call(device, descriptor);
      live.add(buffer);
      const destroy = buffer.destroy;
      buffer.destroy = (): undefined => {
        live.delete(buffer);
        destroy.call(buffer);
        return undefined;
      };
      return buffer;
    };
    try {
      await checked(device, async () => {
        const { x, y } = randomRows(20, 5, 3, 51);
        const mlp = new MlpEngine(device, { sizes: [5, 6, 3] });
        mlp.setData(x, y, 20);
        mlp.configureTraining({ batch: 7, lr: 0.1, optimizer: 'momentum' });
        await mlp.trainEpochs(1);
        mlp.setData(x, y, 20); // rebuilds the training buffers
        mlp.step();
        await mlp.predict(x, 20);
        await mlp.evaluate(x, y, 20);
        await mlp.gradient(x, y, 20);
        expect(live.size).toBeGreaterThan(4);
        mlp.destroy();
        expect([...live].map((b) => b.label)).toEqual([]);
        expect(() => mlp.step()).toThrow(/MlpEngine was destroyed/);
        await expect(mlp.predict(x, 20)).rejects.toThrow(/MlpEngine was destroyed/);
        expect(() => mlp.setData(x, y, 20)).toThrow(/destroyed/);
        mlp.destroy(); // idempotent
      });
    } finally {
      device.createBuffer = create;
    }
  });
});
