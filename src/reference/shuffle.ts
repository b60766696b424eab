/**
 * CPU oracle of the RBM minibatch shuffle (shaders/rbm/batch.wgsl, permuteBatch): per epoch e a keyed
 * permutation π_e of 0 … n−1 — a 4-round Feistel network F over [0, D), D = 2^(2·halfBits), with
 * Philox(right half, round, epoch, stream) as round function, cycle-walked until the value is below n.
 * Bit-exact with the GPU kernel. For tests and benchmarks only.
 */
import { philox4x32 } from '../gpu/philox.ts';
import { RngPurpose, streamWord } from '../gpu/rng.ts';
import { feistelHalfBits } from '../rbm/shuffle.ts';

/** What the kernel's uniforms hold: the key, the epoch, the stream word and halfBits. */
export interface ShuffleKey {
  key: readonly [number, number];
  epoch: number;
  /** Default streamWord(rbmShuffle, 0), as the engine uses. */
  stream?: number;
}

/** The Feistel bijection of [0, 2^(2·halfBits)) (batch.wgsl's `feistel`). */
export function feistel(x: number, halfBits: number, k: ShuffleKey): number {
  const mask = (1 << halfBits) - 1;
  const stream = k.stream ?? streamWord(RngPurpose.rbmShuffle, 0);
  let left = x >>> halfBits;
  let right = (x & mask) >>> 0;
  for (let round = 0; round < 4; round++) {
    const f = philox4x32([right, round, k.epoch, stream], [k.key[0], k.key[1]])[0] & mask;
    const next = (left ^ f) >>> 0;
    left = right;
    right = next;
  }
  return ((left * 2 ** halfBits + right) >>> 0) as number;
}

/**
 * Cycle-walks the bijection `f` of [0, domain) from i < n until it lands below n. Because `f` is a
 * bijection the walk ends within domain − n + 1 applications; one that does not (`f` not a bijection)
 * throws instead of returning an index ≥ n.
 */
export function cycleWalk(i: number, n: number, domain: number, f: (x: number) => number): number {
  const bound = domain - n + 1;
  let x = f(i);
  for (let walked = 1; x >= n; walked++) {
    if (walked >= bound)
      throw new Error(
        `cycle walk from ${i} found no value below ${n} in ${bound} steps over a domain of ${domain}: not a bijection`,
      );
    x = f(x);
  }
  return x;
}

/** π_e(0 … n−1): the order in which epoch `k.epoch` visits the n samples. */
export function shufflePermutation(n: number, k: ShuffleKey): Uint32Array {
  const halfBits = feistelHalfBits(n);
  const domain = 2 ** (2 * halfBits);
  const f = (x: number): number => feistel(x, halfBits, k);
  return Uint32Array.from({ length: n }, (_, i) => cycleWalk(i, n, domain, f));
}
