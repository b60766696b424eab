/**
 * The MCRG operators on the GPU: hand-computed values on simple lattices (all up, all down, checkerboard,
 * stripes, one flipped spin, and their blocked levels), and the CPU oracle on random lattices of odd and
 * large sides (many sites per invocation, a partial last round of the workgroup loop).
 */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer, readBuffer } from '../../src/gpu/buffers.ts';
import { submitStep } from '../../src/gpu/kernel.ts';
import { measureOperators } from '../../src/reference/rg.ts';
import { BlockSpinPipeline, type BlockingRule } from '../../src/rg/blocking.ts';
import { OPERATOR_NAMES, operatorCount, operatorDispatch } from '../../src/rg/operators.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

/** 2D operators of a lattice of N sites, all spins up (PHYSICS.md order: 7 even, 4 odd). */
const allUp = (N: number): number[] => [2 * N, 2 * N, N, 2 * N, 4 * N, N, 2 * N, N, 4 * N, 2 * N, 2 * N];

function lattice(L: number, spin: (y: number, x: number) => number): Int8Array {
  return Int8Array.from({ length: L * L }, (_, i) => spin(Math.floor(i / L), i % L));
}

/** Operators of levels 0 and 1 of one configuration, through the pipeline. */
async function measure(
  device: GPUDevice,
  dims: 1 | 2,
  spins: Int8Array,
  rule: BlockingRule = 'decimation',
): Promise<number[][]> {
  const L = dims === 2 ? Math.sqrt(spins.length) : spins.length;
  const rg = new BlockSpinPipeline(device, { dims, L, batch: 1, levels: 1, rule, seed: 1 });
  try {
    rg.upload(spins);
    submitStep(device, 'operators', rg.encode(0));
    const ops = [...(await rg.readOperators())];
    const k = rg.operatorCount;
    return [ops.slice(0, k), ops.slice(k, 2 * k)];
  } finally {
    rg.destroy();
  }
}

describe('MCRG operators', () => {
  const gpu = useGpu();

  it('names: 7 even + 4 odd in 2D, 2 + 1 on a ring', () => {
    expect([OPERATOR_NAMES[2].even.length, OPERATOR_NAMES[2].odd.length, operatorCount(2)]).toEqual([
      7, 4, 11,
    ]);
    expect([OPERATOR_NAMES[1].even.length, OPERATOR_NAMES[1].odd.length, operatorCount(1)]).toEqual([
      2, 1, 3,
    ]);
  });

  it('2D hand-computed values', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const N = 64;
      // All up; decimated: all up on 4×4.
      expect(
        await measure(
          device,
          2,
          lattice(8, () => 1),
        ),
      ).toEqual([allUp(N), allUp(16)]);
      // All down: the odd operators change sign.
      const down = allUp(N).map((v, k) => (k >= 7 ? -v : v));
      expect(
        (
          await measure(
            device,
            2,
            lattice(8, () => -1),
          )
        )[0],
      ).toEqual(down);
      // Checkerboard: odd-distance products −1, even-distance +1, odd operators 0; decimation keeps the
      // even sublattice: all up.
      const checkerboard = await measure(
        device,
        2,
        lattice(8, (y, x) => ((x + y) % 2 ? -1 : 1)),
      );
      expect(checkerboard).toEqual([[-2 * N, 2 * N, N, 2 * N, -4 * N, N, 2 * N, 0, 0, 0, 0], allUp(16)]);
      // Stripes s = (−1)^x: bonds cancel, diagonals −1, knight's moves cancel.
      const stripes = await measure(
        device,
        2,
        lattice(8, (_y, x) => (x % 2 ? -1 : 1)),
      );
      expect(stripes[0]).toEqual([0, -2 * N, N, 2 * N, 0, N, 2 * N, 0, 0, 0, 0]);
      // One flipped spin at (2, 5): each product containing it changes sign; an operator of T terms of m
      // spins per anchor contains the site T·m times.
      const flipped = await measure(
        device,
        2,
        lattice(8, (y, x) => (y === 2 && x === 5 ? -1 : 1)),
      );
      const change = [8, 8, 8, 8, 16, 8, 8, 2, 24, 12, 12];
      expect(flipped[0]).toEqual(allUp(N).map((v, k) => v - change[k]!));
      // Majority on 2×2: the flip does not change its block's sign.
      expect(
        (
          await measure(
            device,
            2,
            lattice(8, (y, x) => (y === 2 && x === 5 ? -1 : 1)),
            'majority',
          )
        )[1],
      ).toEqual(allUp(16));
    });
  });

  it('ring hand-computed values', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      expect(await measure(device, 1, new Int8Array(32).fill(1))).toEqual([
        [32, 32, 32],
        [16, 16, 16],
      ]);
      const alternating = Int8Array.from({ length: 32 }, (_, i) => (i % 2 ? -1 : 1));
      expect(await measure(device, 1, alternating)).toEqual([
        [-32, 32, 0],
        [16, 16, 16],
      ]);
      // Majority of 3 on ++−|++−|…: all up; the original has nn = 12·(1 − 1 − 1) and Σs = 12.
      const pattern = Int8Array.from({ length: 36 }, (_, i) => (i % 3 === 2 ? -1 : 1));
      expect(await measure(device, 1, pattern, 'majority3')).toEqual([
        [-12, -12, 12],
        [12, 12, 12],
      ]);
    });
  });

  it.each<[string, 1 | 2, number, number]>([
    ['5×5', 2, 5, 3],
    ['7×7', 2, 7, 2],
    ['33×33 (1089 sites over 64 invocations)', 2, 33, 3],
    ['ring 5', 1, 5, 4],
    ['ring 1000', 1, 1000, 2],
  ])('%s: random lattices equal the oracle', async (_name, dims, side, batch) => {
    const device = gpu().device;
    await checked(device, async () => {
      const sites = dims === 2 ? side * side : side;
      let s = side * 7919;
      const spins = Float32Array.from({ length: batch * sites }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s >>> 31 ? 1 : -1;
      });
      const k = operatorCount(dims);
      // Interleaved with another level's place in the output: offset 1 operator set, stride 2 sets.
      const spinBuffer = createStorageBuffer(device, 'spins', spins.byteLength, spins);
      const output = createStorageBuffer(
        device,
        'operators',
        batch * 2 * k * 4,
        new Int32Array(batch * 2 * k).fill(7),
      );
      const m = operatorDispatch(device, {
        label: 'operators test',
        dims,
        side,
        batch,
        spins: spinBuffer,
        operators: output,
        outputOffset: k,
        sampleStride: 2 * k,
      });
      try {
        submitStep(device, 'operators test', [m.dispatch]);
        const got = new Int32Array(await readBuffer(device, output));
        const want = measureOperators(spins, dims, side, batch);
        for (let r = 0; r < batch; r++) {
          expect(got.subarray((2 * r + 1) * k, (2 * r + 2) * k)).toEqual(want.subarray(r * k, (r + 1) * k));
          expect([...got.subarray(2 * r * k, (2 * r + 1) * k)]).toEqual(new Array(k).fill(7)); // untouched
        }
      } finally {
        for (const b of [spinBuffer, output, m.uniforms]) b.destroy();
      }
    });
  });
});
