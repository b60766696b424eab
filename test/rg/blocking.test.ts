/**
 * Block-spin transforms on the GPU against the CPU oracle, bit for bit: every rule, several sizes and
 * levels, batch > 1 and firstSample > 0, several measurements in one submission, shards; the two ties
 * between the RBM projector and the fixed rules; level 0 from the Ising engine's packed spins; bad input.
 */
import { describe, expect, it } from 'vitest';
import { submitStep } from '../../src/gpu/kernel.ts';
import { IsingEngine } from '../../src/ising/engine.ts';
import { RbmEngine } from '../../src/rbm/engine.ts';
import type { ConvRbm } from '../../src/rbm/model.ts';
import { blockAndMeasure, blockLevel } from '../../src/reference/rg.ts';
import {
  BlockSpinPipeline,
  blockingFactor,
  checkBlockingGeometry,
  orientProjector,
  type BlockingRule,
  type BlockSpinOptions,
} from '../../src/rg/blocking.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** ±1 spins, +1 with probability `up` (correlated enough to leave majority ties and non-ties). */
function randomSpins(n: number, seed: number, up = 0.5): Int8Array {
  const rand = lcg(seed);
  return Int8Array.from({ length: n }, () => (rand() < up ? 1 : -1));
}

function projector(L: number, k: number, stride: number, W: ArrayLike<number>): { rbm: ConvRbm } {
  return { rbm: { units: 'ising', Lv: L, filters: 1, k, stride, W: Float64Array.from(W) } };
}

function randomProjector(L: number, k: number, stride: number, seed: number): { rbm: ConvRbm } {
  const rand = lcg(seed);
  return projector(
    L,
    k,
    stride,
    Array.from({ length: k * k }, () => (rand() - 0.5) * 0.8),
  );
}

const sites = (o: { dims: 1 | 2; L: number }): number => (o.dims === 2 ? o.L * o.L : o.L);

const cases: [string, Omit<BlockSpinOptions, 'seed' | 'slots'>][] = [
  ['2D majority 16×16, 2 levels', { dims: 2, L: 16, batch: 3, levels: 2, rule: 'majority', firstSample: 5 }],
  ['2D majority 24×24, 1 level', { dims: 2, L: 24, batch: 2, levels: 1, rule: 'majority', firstSample: 0 }],
  [
    '2D majority3 36×36, 2 levels',
    { dims: 2, L: 36, batch: 2, levels: 2, rule: 'majority3', firstSample: 9 },
  ],
  [
    '2D decimation 32×32, 3 levels',
    { dims: 2, L: 32, batch: 2, levels: 3, rule: 'decimation', firstSample: 1 },
  ],
  [
    'ring decimation 64, 4 levels',
    { dims: 1, L: 64, batch: 4, levels: 4, rule: 'decimation', firstSample: 3 },
  ],
  [
    'ring majority3 108, 3 levels',
    { dims: 1, L: 108, batch: 3, levels: 3, rule: 'majority3', firstSample: 2 },
  ],
  [
    '2D RBM projector k=4 s=2 16×16, 2 levels',
    { dims: 2, L: 16, batch: 3, levels: 2, rule: randomProjector(16, 4, 2, 7), firstSample: 4 },
  ],
  [
    '2D RBM projector k=3 s=3 36×36, 2 levels',
    { dims: 2, L: 36, batch: 2, levels: 2, rule: randomProjector(36, 3, 3, 8), firstSample: 0 },
  ],
];

describe('block-spin transforms', () => {
  const gpu = useGpu();

  it.each(cases)('%s: levels and operators equal the oracle bit for bit', async (_name, options) => {
    const device = gpu().device;
    await checked(device, async () => {
      const seed = 0x1234_5678_9an;
      // Two measurements (different steps) in one submission, into two slots.
      const rg = new BlockSpinPipeline(device, { ...options, seed, slots: 2 });
      try {
        const inputs = [
          randomSpins(options.batch * sites(options), 11, 0.55),
          randomSpins(options.batch * sites(options), 12, 0.45),
        ];
        const steps = [3, 40];
        rg.upload(inputs[0]!);
        const first = rg.encode(steps[0]!, 0);
        submitStep(device, 'rg test 1', first);
        rg.upload(inputs[1]!);
        submitStep(device, 'rg test 2', rg.encode(steps[1]!, 1));
        const operators = await rg.readOperators();
        const perSlot = operators.length / 2;
        for (let m = 0; m < 2; m++) {
          const want = blockAndMeasure(inputs[m]!, { ...options, seed, step: steps[m]! });
          expect(want.close).toBe(0);
          expect(operators.subarray(m * perSlot, (m + 1) * perSlot)).toEqual(want.operators);
          if (m === 1) {
            for (let n = 0; n <= options.levels; n++) expect(await rg.readLevel(n)).toEqual(want.levels[n]);
          }
        }
        expect(rg.sizes).toEqual(blockAndMeasure(inputs[0]!, { ...options, seed, step: 0 }).sizes);
      } finally {
        rg.destroy();
      }
    });
  });

  it('several measurements in one submission each draw with their own step', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const o = { dims: 2, L: 8, batch: 2, levels: 1, rule: 'majority', seed: 5 } as const;
      const rg = new BlockSpinPipeline(device, { ...o, slots: 3 });
      try {
        // A lattice of 2×2 blocks with sum 0 only: every block spin is a coin.
        const input = Int8Array.from({ length: 2 * 64 }, (_, i) => ((i % 64) % 2 === 0 ? 1 : -1));
        rg.upload(input);
        submitStep(device, 'three measurements', [
          ...rg.encode(0, 0),
          ...rg.encode(1, 1),
          ...rg.encode(2, 2),
        ]);
        const got = await rg.readOperators();
        const perSlot = got.length / 3;
        const want = [0, 1, 2].map((step) => blockAndMeasure(input, { ...o, step }).operators);
        for (let s = 0; s < 3; s++) expect(got.subarray(s * perSlot, (s + 1) * perSlot)).toEqual(want[s]);
        // Not vacuous: the three steps' coins differ.
        expect(want[0]).not.toEqual(want[1]);
      } finally {
        rg.destroy();
      }
    });
  });

  it.each<[string, BlockingRule]>([
    ['majority', 'majority'],
    ['RBM projector', randomProjector(16, 4, 2, 21)],
  ])('%s: a batch of 4 equals two shards of 2 (firstSample 0 and 2)', async (_name, rule) => {
    const device = gpu().device;
    await checked(device, async () => {
      const o = { dims: 2, L: 16, levels: 2, rule, seed: 99 } as const;
      const input = randomSpins(4 * 256, 31);
      const run = async (batch: number, firstSample: number, part: Int8Array): Promise<Int32Array> => {
        const rg = new BlockSpinPipeline(device, { ...o, batch, firstSample });
        try {
          rg.upload(part);
          submitStep(device, 'shard', rg.encode(17));
          return await rg.readOperators();
        } finally {
          rg.destroy();
        }
      };
      const whole = await run(4, 0, input);
      const a = await run(2, 0, input.subarray(0, 512));
      const b = await run(2, 2, input.subarray(512));
      expect(Int32Array.from([...a, ...b])).toEqual(whole);
      // Not vacuous: a shard that forgets its offset draws other numbers.
      expect(await run(2, 0, input.subarray(512))).not.toEqual(b);
    });
  });

  it("level 0 from the Ising engine's packed spins", async () => {
    const device = gpu().device;
    await checked(device, async () => {
      // 12×12: 144 sites, a replica ends inside its fifth word.
      const ising = new IsingEngine(device, { L: 12, replicas: 3, T: 2.5, seed: 4, init: 'random' });
      const rg = new BlockSpinPipeline(device, {
        dims: 2,
        L: 12,
        batch: 3,
        levels: 1,
        rule: 'majority3',
        seed: 1,
      });
      try {
        submitStep(device, 'unpack', [
          ...rg.fromPackedSpins(ising.spins, ising.config.words),
          ...rg.encode(0),
        ]);
        const spins = await ising.getSpins();
        expect(await rg.readLevel(0)).toEqual(spins);
        const want = blockAndMeasure(spins, {
          dims: 2,
          L: 12,
          batch: 3,
          levels: 1,
          rule: 'majority3',
          seed: 1,
          step: 0,
        });
        expect(await rg.readOperators()).toEqual(want.operators);
        expect(() => rg.fromPackedSpins(ising.spins, 4)).toThrow(
          /wordsPerReplica 4 cannot hold 144 spins \(at least 5/,
        );
      } finally {
        rg.destroy();
        ising.destroy();
      }
    });
  });

  it('an RBM projector with one large weight at (0,0) is decimation', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const o = { dims: 2, L: 32, batch: 4, levels: 3, seed: 3 } as const;
      const input = randomSpins(4 * 1024, 41);
      const levels = async (rule: BlockingRule): Promise<Int8Array[]> => {
        const rg = new BlockSpinPipeline(device, { ...o, rule });
        try {
          rg.upload(input);
          submitStep(device, 'tie', rg.encode(0));
          return await Promise.all([0, 1, 2, 3].map((n) => rg.readLevel(n)));
        } finally {
          rg.destroy();
        }
      };
      const rbm = await levels(projector(32, 2, 2, [20, 0, 0, 0]));
      expect(rbm).toEqual(await levels('decimation'));
      // Not vacuous: the weight's position matters.
      expect((await levels(projector(32, 2, 2, [0, 20, 0, 0])))[1]).not.toEqual(rbm[1]);
    });
  });

  it('an RBM projector with a 2×2 block of equal large weights is majority rule in distribution', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const o = { dims: 2, L: 32, batch: 8, levels: 2, seed: 8 } as const;
      const rg = new BlockSpinPipeline(device, { ...o, rule: projector(32, 2, 2, [20, 20, 20, 20]) });
      try {
        rg.upload(randomSpins(8 * 1024, 51));
        submitStep(device, 'majority tie', rg.encode(0));
        let ties = 0;
        let tiesUp = 0;
        let nonTies = 0;
        for (let n = 1; n <= 2; n++) {
          const fine = await rg.readLevel(n - 1);
          const coarse = await rg.readLevel(n);
          // Majority rule applied to the projector's own level n − 1.
          const m = blockLevel(fine, {
            dims: 2,
            L: rg.sizes[n - 1]!,
            batch: 8,
            rule: 'majority',
            seed: 0,
            step: 0,
            level: n,
          });
          for (let i = 0; i < coarse.length; i++) {
            if (m.ties[i]) {
              ties++;
              if (coarse[i] === 1) tiesUp++;
            } else {
              nonTies++;
              expect(coarse[i]).toBe(m.spins[i]);
            }
          }
        }
        // Ties: P(+1) = sigmoid(0) = ½; 4 standard deviations of a fair binomial.
        expect(ties).toBeGreaterThan(700);
        expect(nonTies).toBeGreaterThan(1000);
        expect(Math.abs(tiesUp - ties / 2)).toBeLessThan(4 * Math.sqrt(ties / 4));
      } finally {
        rg.destroy();
      }
    });
  });

  it('bad input: errors name the value and the limit, before GPU work', async () => {
    const device = gpu().device;
    const make = (o: Partial<BlockSpinOptions>): BlockSpinPipeline =>
      new BlockSpinPipeline(device, { dims: 2, L: 16, batch: 1, levels: 2, rule: 'majority', seed: 1, ...o });
    expect(() => make({ L: 30, levels: 3 })).toThrow(
      'L 30 is not divisible by 2^3 = 8 for 3 levels of b = 2',
    );
    expect(() => make({ L: 16, levels: 3 })).toThrow(
      /3 levels of b = 2 leave 2 from L 16; the last lattice must be at least 4.*at most 2 levels/,
    );
    expect(() => make({ L: 30, levels: 2, rule: 'majority3' })).toThrow(/L 30 is not divisible by 3\^2 = 9/);
    expect(() => make({ dims: 1, L: 64, rule: 'majority' })).toThrow(
      /'majority' \(2×2 blocks\) is 2D only; a ring \(dims 1\) takes 'majority3'/,
    );
    expect(() => make({ levels: 0 })).toThrow(/levels 0 must be an integer in 1 … 30/);
    expect(() => make({ rule: 'blocks' as BlockingRule })).toThrow(/blocking rule 'blocks' is not one of/);
    expect(() => make({ batch: 0 })).toThrow(/batch 0 must be an integer/);
    expect(() => make({ firstSample: 2 ** 32 - 1, batch: 2 })).toThrow(
      /firstSample 4294967295 \+ batch 2 must stay within 2\^32/,
    );
    const good = projector(16, 2, 2, [1, 0, 0, 0]).rbm;
    const rbm = (patch: Partial<ConvRbm>): BlockingRule => ({ rbm: { ...good, ...patch } });
    expect(() => make({ dims: 1, L: 16, rule: rbm({}) })).toThrow(/RBM projector is a 2D convolution/);
    expect(() => make({ rule: rbm({ units: 'bernoulli' }) })).toThrow(/units 'bernoulli' must be 'ising'/);
    expect(() => make({ rule: rbm({ filters: 2, W: new Float64Array(8) }) })).toThrow(
      /has 2 filters; a block spin takes exactly 1/,
    );
    expect(() => make({ rule: rbm({ Lv: 32 }) })).toThrow(/Lv 32 does not match L 16/);
    expect(() => make({ rule: rbm({ stride: 1 }) })).toThrow(/stride 1 must be at least 2/);
    expect(() => checkBlockingGeometry(2, 27, 1, rbm({ Lv: 27, stride: 3 }))).not.toThrow();
    expect(() => make({ rule: rbm({ stride: 4 }) })).toThrow(/2 levels of b = 4 leave 1 from L 16/);
    expect(() => make({ rule: rbm({ a: 0.1 }) })).toThrow(
      /visible bias a = 0.1 must be 0: biases mix the even and odd sectors/,
    );
    expect(() => make({ rule: rbm({ b: Float64Array.of(-0.2) }) })).toThrow(
      /hidden bias b\[0\] = -0.2 must be 0/,
    );
    expect(() => make({ rule: rbm({ W: Float64Array.of(1, NaN, 0, 0) }) })).toThrow(
      /W\[1\] = NaN is not finite/,
    );
    expect(() => checkBlockingGeometry(2, 2 ** 15, 1, 'majority')).toThrow(
      /1073741824 sites, over 536870911/,
    );
    expect(blockingFactor('majority3', 1)).toBe(3);
    expect(blockingFactor(rbm({ stride: 4 }), 2)).toBe(4);
    await checked(device, async () => {
      // The RBM engine's projector hook refuses what its kernel cannot do.
      const dense = new RbmEngine(device, { nv: 4, nh: 2, units: 'ising' });
      const conv = new RbmEngine(device, { conv: { Lv: 8, filters: 2, k: 2, stride: 2 }, units: 'ising' });
      try {
        const b = dense.parameters;
        const base = { label: 'hook', input: b, means: b, samples: b, rows: 1, stream: 0 };
        expect(() => dense.convHiddenKernel({ ...base, Lv: 8 })).toThrow(
          /needs a convolutional RBM; this one is dense/,
        );
        expect(() => conv.convHiddenKernel({ ...base, Lv: 6 })).toThrow(
          /Lv 6 ≠ the model's 8: only a one-filter RBM/,
        );
        expect(() => conv.convHiddenKernel({ ...base, Lv: 7 })).toThrow(
          /Lv 7 is not divisible by the stride 2/,
        );
        expect(() => conv.convHiddenKernel({ ...base, Lv: 8, rowOffset: 2 ** 32 - 1, rows: 2 })).toThrow(
          /rowOffset 4294967295 \+ rows 2 must stay within 2\^32/,
        );
      } finally {
        dense.destroy();
        conv.destroy();
      }
      const rg = make({});
      try {
        expect(() => rg.upload(new Int8Array(255))).toThrow('255 spins; a batch of 1 × 256 sites needs 256');
        expect(() => rg.upload(new Int8Array(256).fill(1).fill(0, 7, 8))).toThrow(
          'spin 7 (sample 0, site 7) is 0; spins must be ±1',
        );
        expect(() => rg.encode(0, 1)).toThrow('slot 1 must be an integer in 0 … 0 (slots 1)');
        expect(() => rg.encode(-1)).toThrow(/step -1 must be an integer in 0 … 4294967295/);
        await expect(rg.readLevel(3)).rejects.toThrow('level 3 must be an integer in 0 … 2');
        await expect(rg.readOperators(2)).rejects.toThrow('slots 2 must be an integer in 1 … 1');
      } finally {
        rg.destroy();
      }
    });
  });
});

describe('orientProjector', () => {
  it('negates a filter whose weights sum below 0 (W and −W project alike up to a global block-spin flip)', () => {
    const negative = projector(16, 2, 2, [-3, 1, 0.5, 0.25]).rbm;
    const o = orientProjector(negative);
    expect(o.negated).toBe(true);
    expect(Array.from(o.rbm.W)).toEqual([3, -1, -0.5, -0.25]);
    expect(Array.from(negative.W)).toEqual([-3, 1, 0.5, 0.25]); // the model itself is not changed
    const positive = projector(16, 2, 2, [3, -1, 0, 0]).rbm;
    expect(orientProjector(positive)).toEqual({ rbm: positive, negated: false });
  });
});
