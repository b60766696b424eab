/**
 * Host-side Philox4x32-10 and the 24-bit float conversion, bit-exact with shaders/common/philox.wgsl: the
 * engines use it for host-side draws (initial weights, shuffles, monitoring subsets), the tests as the oracle.
 */
import { RngPurpose, seedKey, streamWord } from './rng.ts';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 (exact: splits b into 16-bit halves). */
function mulHi(a: number, b: number): number {
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  // a*bLo < 2^48 and a*bHi < 2^48: exact in f64.
  const lo = a * bLo;
  const mid = a * bHi + Math.floor(lo / 0x10000);
  return Math.floor(mid / 0x10000) >>> 0;
}

export type Counter = readonly [number, number, number, number];
export type Key = readonly [number, number];

/** Philox4x32-10 of `counter` under `key`: four u32. */
export function philox4x32(counter: Counter, key: Key): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0) as [number, number, number, number];
  let [k0, k1] = key.map((x) => x >>> 0) as [number, number];
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** u32 → f32 in [0, 1) from the top 24 bits (exact in f32 and f64; never 1). */
export function unitFloat(x: number): number {
  return (x >>> 8) * 2 ** -24;
}

/** Consecutive uniforms from philox4x32((n, 0, 0, stream), seedKey(seed)), all four words (unitFloat) per counter. */
export function philoxUniforms(seed: number | bigint, stream = streamWord(RngPurpose.test, 0)): () => number {
  const key = seedKey(seed);
  let block: number[] = [];
  let n = 0;
  let i = 4;
  return () => {
    if (i === 4) {
      block = philox4x32([n++, 0, 0, stream], key);
      i = 0;
    }
    return unitFloat(block[i++]!);
  };
}
