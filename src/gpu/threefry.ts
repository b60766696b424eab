/**
 * Host-side Threefry-4×32-20 (Salmon, Moraes, Dror & Shaw, SC'11; the Random123 library), bit-exact with
 * shaders/common/threefry.wgsl and with Random123's known-answer vectors. Additions, rotations and xors
 * only: on a GPU without a 32×32 → 64-bit multiply (WGSL has none) it costs about half of Philox4x32-10
 * per 128 bits. Salmon et al. report Threefry-4×32 passing TestU01's BigCrush from 12 rounds (their
 * "Crush-resistant" count; Table 2); 20 is Random123's default, kept here for its safety margin.
 *
 * blockspin uses it where random bits dominate a kernel's cost (the packed Ising sweep). Counters follow
 * the Philox layout of src/gpu/rng.ts, (element, replica, step, stream); the key is the 64-bit seed
 * (seedKey) in words 0 and 1, words 2 and 3 zero.
 */

export type ThreefryCounter = readonly [number, number, number, number];
export type ThreefryKey = readonly [number, number, number, number];

/** Rounds of Threefry-4×32 used by blockspin (Random123's default). */
export const THREEFRY_ROUNDS = 20;

/** Rotation constants of Threefry-4×32 (Random123's R_32x4_i_j), by round mod 8. */
const ROTATIONS: readonly (readonly [number, number])[] = [
  [10, 26],
  [11, 21],
  [13, 27],
  [23, 5],
  [6, 20],
  [17, 11],
  [25, 10],
  [18, 20],
];

/** Skein's key-schedule parity constant for 32-bit words. */
const PARITY = 0x1bd11bda;

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** Threefry-4×32 of `counter` under `key` with `rounds` rounds (default 20): four u32. */
export function threefry4x32(
  counter: ThreefryCounter,
  key: ThreefryKey,
  rounds = THREEFRY_ROUNDS,
): [number, number, number, number] {
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > 72) {
    throw new RangeError(`Threefry rounds ${rounds} is not an integer in 0 … 72`);
  }
  const ks = key.map((x) => x >>> 0);
  ks.push((PARITY ^ ks[0]! ^ ks[1]! ^ ks[2]! ^ ks[3]!) >>> 0);
  let x0 = (counter[0] + ks[0]!) >>> 0;
  let x1 = (counter[1] + ks[1]!) >>> 0;
  let x2 = (counter[2] + ks[2]!) >>> 0;
  let x3 = (counter[3] + ks[3]!) >>> 0;
  for (let round = 0; round < rounds; round++) {
    const [r0, r1] = ROTATIONS[round % 8]!;
    if (round % 2 === 0) {
      x0 = (x0 + x1) >>> 0;
      x1 = rotl(x1, r0) ^ x0;
      x2 = (x2 + x3) >>> 0;
      x3 = rotl(x3, r1) ^ x2;
    } else {
      x0 = (x0 + x3) >>> 0;
      x3 = rotl(x3, r0) ^ x0;
      x2 = (x2 + x1) >>> 0;
      x1 = rotl(x1, r1) ^ x2;
    }
    if (round % 4 === 3) {
      // Key injection s = (round + 1) / 4.
      const s = (round + 1) / 4;
      x0 = (x0 + ks[s % 5]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 5]!) >>> 0;
      x2 = (x2 + ks[(s + 2) % 5]!) >>> 0;
      x3 = (x3 + ks[(s + 3) % 5]! + s) >>> 0;
    }
  }
  return [x0 >>> 0, x1 >>> 0, x2 >>> 0, x3 >>> 0];
}
