/** Fixed-seed xorshift32 word sources for test inputs (not the engines' generators). */

/** xorshift32 words from a fixed seed, one per call. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/** n xorshift32 words from a fixed seed. */
export function randomWords(n: number, seed: number): Uint32Array {
  const next = xorshift32(seed);
  return Uint32Array.from({ length: n }, next);
}
