/**
 * Host side of the counter-based RNG (shaders/common/philox.wgsl).
 *
 * Streams: key = the 64-bit seed; counter = (element, replica, step, stream) with
 * stream = (purpose << 16) | sub-stream. Each kernel family owns a purpose code below, so two kernels
 * never draw the same counter; inside a kernel, element/replica/step are distinct for every draw.
 * Philox is a bijection of the counter for a fixed key: distinct counters give independent numbers.
 * Limits: 2^32 elements per lattice/layer, 2^32 replicas, 2^32 steps, 2^16 sub-streams per purpose;
 * each counter yields four u32 (four draws) for one element at one step.
 */

/** Purpose codes (high 16 bits of the stream word). New kernel families take a new code. */
export const RngPurpose = {
  /** Smoke tests, demo, Monte Carlo π. */
  test: 0x0001,
  fill: 0x0002,
  isingInit: 0x0100,
  isingMetropolis: 0x0101,
  isingHeatBath: 0x0102,
  isingPacked: 0x0103,
  /** Swendsen–Wang bond activation (word 0: the bond to the right, word 1: the bond below). */
  isingSwBonds: 0x0104,
  /** Swendsen–Wang cluster flips (word 0's lowest bit, counter element = the cluster's root). */
  isingSwFlip: 0x0105,
  /** Majority-rule ties (sub-stream = the blocked level n; counter element = the block at level n). */
  blockSpinTies: 0x0200,
  /** The RBM projector of the block-spin transform (sub-stream = the blocked level n; src/rg/blocking.ts). */
  rgProjector: 0x0201,
  rbmInit: 0x0300,
  rbmHidden: 0x0301,
  rbmVisible: 0x0302,
  rbmShuffle: 0x0303,
  rbmAis: 0x0304,
  rbmMonitor: 0x0305,
  /** The MLP trainer (src/nn/mlp.ts): sub-stream 0 shuffles the minibatches, 1 draws the initial weights. */
  mlp: 0x0400,
} as const;

/** The counter's stream word for a purpose and sub-stream. */
export function streamWord(purpose: number, subStream = 0): number {
  if (!Number.isInteger(purpose) || purpose < 0 || purpose > 0xffff) {
    throw new RangeError(`RNG purpose ${purpose} is not in 0 … 65535`);
  }
  if (!Number.isInteger(subStream) || subStream < 0 || subStream > 0xffff) {
    throw new RangeError(`RNG sub-stream ${subStream} is not in 0 … 65535`);
  }
  return ((purpose << 16) | subStream) >>> 0;
}

/** Splits a seed (integer 0 … 2^64 − 1, number or bigint) into the Philox key (lo, hi). */
export function seedKey(seed: number | bigint): [number, number] {
  if (typeof seed === 'number' && (!Number.isSafeInteger(seed) || seed < 0)) {
    throw new RangeError(`seed ${seed} must be a non-negative safe integer (or a bigint below 2^64)`);
  }
  const s = BigInt(seed);
  if (s < 0n || s >= 1n << 64n) throw new RangeError(`seed ${seed} is not in 0 … 2^64 − 1`);
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}
