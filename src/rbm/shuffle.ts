/**
 * The minibatch shuffle's host-side parameters. The permutation itself runs on the GPU
 * (shaders/rbm/batch.wgsl: a keyed 4-round Feistel network, cycle-walked below n); its CPU oracle is
 * src/reference/shuffle.ts.
 */

/**
 * Half the bit width of the Feistel domain for `samples` items: the domain D = 2^(2·halfBits) is the
 * smallest power of 4 that is ≥ max(samples, 4), so the cycle walk needs D / samples < 4 steps on average.
 *
 * @example
 * feistelHalfBits(1000); // 5: D = 1024
 */
export function feistelHalfBits(samples: number): number {
  if (!Number.isInteger(samples) || samples < 1 || samples > 0xffffffff)
    throw new RangeError(`sample count ${samples} must be an integer in 1 … 4294967295 (u32)`);
  const bits = samples <= 2 ? 1 : 32 - Math.clz32(samples - 1); // ⌈log2 samples⌉, at least 1
  return Math.ceil(bits / 2);
}
