/** Per-block sufficient statistics: sums against direct sums, block boundaries, exactness bound, τ_int helper. */
import { describe, expect, it } from 'vitest';
import { philoxUniforms } from '../../src/gpu/philox.ts';
import {
  McrgAccumulator,
  OperatorSeries,
  checkBlock,
  layout1d,
  layout2d,
  maxExactBlockLength,
  operatorMaxAbs,
  operatorName,
  operatorTauInt,
  proposeBlockLength,
  type McrgBlock,
  type OperatorLayout,
} from '../../src/rg/statistics.ts';
import { randomOperatorValues } from '../helpers/operators.ts';

/** The block of replica r over measurements [start, start + count) computed directly (BigInt, exact). */
function directBlock(
  values: Int32Array,
  layout: OperatorLayout,
  replicas: number,
  r: number,
  start: number,
  count: number,
  firstMeasurement = 0,
): McrgBlock {
  const p = layout.even + layout.odd;
  const stride = (layout.levels + 1) * p;
  const L = layout.levels;
  const sums = new Array<bigint>((L + 1) * p).fill(0n);
  const products = new Array<bigint>((L + 1) * p * p).fill(0n);
  const cross = new Array<bigint>(L * p * p).fill(0n);
  for (let m = start; m < start + count; m++) {
    const base = ((m - firstMeasurement) * replicas + r) * stride;
    const S = (n: number, a: number): bigint => BigInt(values[base + n * p + a] as number);
    for (let n = 0; n <= L; n++)
      for (let a = 0; a < p; a++) {
        sums[n * p + a]! += S(n, a);
        for (let c = 0; c < p; c++) products[(n * p + a) * p + c]! += S(n, a) * S(n, c);
        if (n > 0) for (let b = 0; b < p; b++) cross[((n - 1) * p + a) * p + b]! += S(n, a) * S(n - 1, b);
      }
  }
  const f = (x: bigint[]): Float64Array => Float64Array.from(x, Number);
  return { replica: r, start, count, sums: f(sums), products: f(products), cross: f(cross) };
}

describe('McrgAccumulator', () => {
  const layout = layout2d(2);

  it('sums each block exactly as direct sums do; a run stopped mid-block keeps its partial block', () => {
    const replicas = 3;
    const values = randomOperatorValues(layout, replicas, 7, 1000, 1);
    const acc = new McrgAccumulator({ layout, blockLength: 3, maxAbs: 1000, replicas });
    acc.add(values, 0);
    expect(acc.measurements).toBe(7);
    const blocks = acc.blocks();
    const expected: McrgBlock[] = [];
    for (let r = 0; r < replicas; r++)
      for (const [start, count] of [
        [0, 3],
        [3, 3],
        [6, 1],
      ] as const)
        expected.push(directBlock(values, layout, replicas, r, start, count));
    expect(blocks).toEqual(expected);
    expect(acc.blocks({ includeOpen: false }).map((b) => b.count)).toEqual([3, 3, 3, 3, 3, 3]);
    for (const b of blocks) checkBlock(b, layout, 'block', 3);
  });

  it('gives the same blocks fed one measurement at a time or in a batch, and continues after blocks()', () => {
    const replicas = 2;
    const stride = replicas * 3 * 11;
    const values = randomOperatorValues(layout, replicas, 10, 50, 2);
    const batch = new McrgAccumulator({ layout, blockLength: 4, maxAbs: 50, replicas, firstReplica: 5 });
    batch.add(values, 0);
    const single = new McrgAccumulator({ layout, blockLength: 4, maxAbs: 50, replicas, firstReplica: 5 });
    for (let m = 0; m < 10; m++) {
      single.add(values.subarray(m * stride, (m + 1) * stride), m);
      if (m === 5) expect(single.blocks().map((b) => [b.replica, b.start, b.count])).toHaveLength(4);
    }
    expect(single.blocks()).toEqual(batch.blocks());
    expect(batch.blocks().map((b) => [b.replica, b.start, b.count])).toEqual([
      [5, 0, 4],
      [5, 4, 4],
      [5, 8, 2],
      [6, 0, 4],
      [6, 4, 4],
      [6, 8, 2],
    ]);
  });

  it('aligns blocks to multiples of the block length when a run starts mid-way', () => {
    const l1 = layout1d(1);
    const values = randomOperatorValues(l1, 1, 6, 8, 3);
    const acc = new McrgAccumulator({ layout: l1, blockLength: 4, maxAbs: 8, replicas: 1 });
    acc.add(values, 5);
    expect(acc.nextMeasurement).toBe(11);
    expect(acc.blocks()).toEqual([
      directBlock(values, l1, 1, 0, 5, 3, 5),
      directBlock(values, l1, 1, 0, 8, 3, 5),
    ]);
  });

  it('refuses gaps, wrong lengths and values beyond the bound, leaving the state unchanged', () => {
    const acc = new McrgAccumulator({ layout, blockLength: 4, maxAbs: 10, replicas: 2 });
    const one = new Int32Array(2 * 3 * 11);
    acc.add(one, 0);
    expect(() => acc.add(one, 2)).toThrow(/measurement index 2 given; the next one is 1/);
    expect(() => acc.add(one.subarray(1), 1)).toThrow(
      /65 numbers; a measurement of 2 replicas × 3 levels × 11 operators is 66/,
    );
    const bad = one.slice();
    bad[33 + 11 + 8] = 11; // replica 1, level 1, odd operator 2
    expect(() => acc.add(bad, 1)).toThrow(
      /operator value 11 \(measurement 1, replica 1, level 1, odd operator 2 \(three-spin corners\)\) .*maxAbs = 10/,
    );
    expect(acc.measurements).toBe(1);
    expect(acc.nextMeasurement).toBe(1);
  });

  it('refuses a block length whose sums could exceed 2^53, naming both numbers', () => {
    const maxAbs = operatorMaxAbs(2, 1024); // 4·1024² = 2^22
    expect(maxAbs).toBe(2 ** 22);
    expect(maxExactBlockLength(maxAbs)).toBe(512);
    expect(() => new McrgAccumulator({ layout, blockLength: 513, maxAbs, replicas: 1 })).toThrow(
      /block length 513 × maxAbs² = 513 × 4194304² = .* exceeds 2\^53 = 9007199254740992.*longest exact block is 512/,
    );
    expect(operatorMaxAbs(1, 64)).toBe(64);
  });

  it('is exact at the bound: 512 measurements with |S| up to 2^22 sum like BigInt', () => {
    const l1 = layout1d(1);
    const maxAbs = 2 ** 22;
    const u = philoxUniforms(4);
    const values = new Int32Array(512 * 2 * 3);
    // Values near ±maxAbs so every partial product sum is close to the 2^53 bound.
    for (let i = 0; i < values.length; i++)
      values[i] = (u() < 0.5 ? -1 : 1) * (maxAbs - Math.floor(u() * 16));
    values.fill(maxAbs, 0, 6 * 8); // the first measurements all at +maxAbs
    const acc = new McrgAccumulator({ layout: l1, blockLength: 512, maxAbs, replicas: 1 });
    acc.add(values, 0);
    const [block] = acc.blocks();
    expect(block).toEqual(directBlock(values, l1, 1, 0, 0, 512));
    expect(Math.max(...(block as McrgBlock).products)).toBeGreaterThan(2 ** 52);
  });

  it('checkBlock names corrupt blocks', () => {
    const l1 = layout1d(1);
    const acc = new McrgAccumulator({ layout: l1, blockLength: 4, maxAbs: 8, replicas: 1 });
    acc.add(randomOperatorValues(l1, 1, 4, 8, 5), 0);
    const [b] = acc.blocks() as [McrgBlock];
    const sums = b.sums.slice();
    sums[0] = 0.5;
    expect(() => checkBlock({ ...b, sums }, l1)).toThrow(/sums\[0\] = 0.5 is not an exact integer/);
    const products = b.products.slice();
    products[1] = (products[1] as number) + 1;
    expect(() => checkBlock({ ...b, products }, l1)).toThrow(/not symmetric/);
    const big = b.sums.slice();
    big[0] = 1000;
    expect(() => checkBlock({ ...b, sums: big }, l1)).toThrow(/inconsistent sums/);
    expect(() => checkBlock({ ...b, count: 5 }, l1, 'block', 4)).toThrow(
      /count 5 exceeds the block length 4/,
    );
    expect(() => checkBlock(b, layout2d(1))).toThrow(/sums has 6 values; .* needs 22/);
  });

  it('names operators', () => {
    expect(operatorName(layout2d(1), 0)).toBe('even operator 1 (nearest neighbour)');
    expect(operatorName(layout2d(1), 10)).toBe('odd operator 4 (three on a diagonal)');
    expect(operatorName(layout1d(1), 2)).toBe('odd operator 1 (magnetisation)');
    expect(operatorName({ levels: 1, even: 3, odd: 1 }, 1)).toBe('even operator 2');
  });
});

describe('τ_int of the operators', () => {
  /** AR(1) series x_t = φ x_{t−1} + ε, whose τ_int = (1 + φ)/(2(1 − φ)). */
  function ar1(n: number, phi: number, seed: number): Float64Array {
    const u = philoxUniforms(seed);
    const x = new Float64Array(n);
    let v = 0;
    for (let t = 0; t < n; t++) {
      const g = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
      v = phi * v + g;
      x[t] = v;
    }
    return x;
  }

  it('measures τ_int per operator and level, pooled over replicas, and proposes blocks ≥ 10 τ_int', () => {
    const layout = layout1d(1);
    const replicas = 4;
    const n = 20000;
    // Operator (level 1, nnn) follows AR(1) with φ = 0.8 (τ = 4.5); the others are white noise (τ = ½).
    const series = Array.from({ length: replicas }, (_, r) => ar1(n, 0.8, 10 + r));
    const white = philoxUniforms(99);
    const values = new Float64Array(n * replicas * 6);
    for (let t = 0; t < n; t++)
      for (let r = 0; r < replicas; r++)
        for (let i = 0; i < 6; i++)
          values[(t * replicas + r) * 6 + i] = i === 4 ? (series[r]![t] as number) : white() - 0.5;
    const table = operatorTauInt(values, layout, replicas);
    expect(table.n).toBe(n);
    expect(table.converged).toBe(true);
    expect(table.max.level).toBe(1);
    expect(table.max.operator).toBe(1);
    expect(table.max.name).toBe('even operator 2 (next-nearest neighbour)');
    expect(Math.abs(table.max.tauInt - 4.5)).toBeLessThan(3 * table.max.tauIntError);
    expect(table.max.tauIntError).toBeGreaterThan(0);
    expect(Math.abs((table.tau[0]![0] as { tauInt: number }).tauInt - 0.5)).toBeLessThan(0.1);
    const length = proposeBlockLength(table);
    expect(length).toBe(Math.ceil(10 * table.max.tauInt));
    expect(length).toBeGreaterThanOrEqual(40);

    // Streaming in pieces gives the same table.
    const s = new OperatorSeries(layout, replicas);
    s.add(values.subarray(0, 1000 * replicas * 6));
    s.add(values.subarray(1000 * replicas * 6));
    expect(s.tauInt()).toEqual(table);
  });

  it('refuses a proposed block length beyond the exactness bound', () => {
    expect(proposeBlockLength(3.2)).toBe(32);
    expect(proposeBlockLength(0.1)).toBe(5);
    expect(proposeBlockLength(20, { maxAbs: 2 ** 22 })).toBe(200);
    expect(() => proposeBlockLength(60, { maxAbs: 2 ** 22 })).toThrow(
      /600 measurements exceeds the exact limit of 512/,
    );
    expect(() => new OperatorSeries(layout1d(1), 2).tauInt()).toThrow(/at least 2 measurements; 0/);
  });
});
