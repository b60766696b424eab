/**
 * Host side of the Swendsen–Wang update (shaders/ising/sw.wgsl): the integer bond threshold the kernel
 * compares its Philox words with. The CPU oracle (src/reference/swendsen-wang.ts) uses the same function.
 */

/**
 * The u32 threshold θ = min(⌊(1 − e^{−2K})·2³²⌋, 2³² − 1) below which a bond between equal spins is
 * active: P(active) = θ/2³², within 2⁻³² of 1 − e^{−2K}, decided by an exact integer comparison.
 * @example swBondThreshold(0.4406868) // 2515933615: P ≈ 0.5858 = 1 − e^{−2K}
 */
export function swBondThreshold(K: number): number {
  if (!Number.isFinite(K) || K <= 0) throw new RangeError(`Swendsen–Wang needs a coupling K = ${K} > 0`);
  return Math.min(Math.floor(-Math.expm1(-2 * K) * 2 ** 32), 0xffffffff);
}

/** The coupling K = J/T of each replica, as the engine and the oracle both compute it. */
export function swCouplings(J: readonly number[], T: readonly number[]): number[] {
  return T.map((t, r) => (J[r] as number) / t);
}
