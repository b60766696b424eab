/**
 * Acceptance tables of the Ising updates, per replica, in f32 exactly as uploaded to the GPU (the CPU
 * oracle uses the same values, so accept/reject decisions agree bit for bit).
 *
 * With z neighbours of which `up` are +1, the local field is hLoc = J·(2·up − z) + h and the energy of
 * spin s is −s·hLoc. Metropolis flips s with probability min(1, exp(−β·2·s·hLoc)), except ½ for ΔE = 0 on
 * the 1D ring (z = 2): with 1 there, the checkerboard sweep moves every domain wall one site per sweep in a
 * fixed direction, which is not ergodic (N = 16, K = 1 gave G(8) ≈ 0.08; exact 0.22). In 2D ΔE = 0 keeps
 * probability 1 (½ would double τ_int at T_c); only states with zero field at every site (e.g. the 2×2 torus
 * with a ≠ b, c ≠ d) flip back and forth forever, so use heat-bath on 2×2. Heat-bath sets s' = +1 with
 * probability 1 / (1 + exp(−2β·hLoc)).
 *
 * The `packed` kernel decides with integer thresholds instead (see {@link probabilityThreshold}): p = t / 2^32
 * from the float64 probability, so its decisions are exact to 2^−32 and need only 8 random bits per spin in
 * all but 1 case in 256.
 *
 * The layout comes from the WGSL struct `ReplicaTable` (shaders/ising/lattice.wgsl) by reflection: no
 * offset is written by hand here.
 */
import lattice from '../../shaders/ising/lattice.wgsl?raw';
import { structLayout, StructView, type StructLayout } from '../gpu/reflect.ts';
import { RngPurpose, streamWord } from '../gpu/rng.ts';

/** The reflected layout of one replica's table (WGSL `ReplicaTable`). */
export const replicaTableLayout: StructLayout = structLayout(
  lattice,
  'ReplicaTable',
  'shaders/ising/lattice.wgsl',
);

export interface ReplicaCouplings {
  beta: number;
  J: number;
  h: number;
}

/** One replica's acceptance probabilities, as numbers (the f32 values and u32 thresholds the GPU sees). */
export interface ReplicaTableValues {
  /** min(1, exp(−β ΔE)) for flipping spin bit s with `up` up neighbours, at [s · 5 + up]. */
  metropolis: number[];
  /** P(s' = +1) with `up` up neighbours, at [up]. */
  heatBath: number[];
  /** The Metropolis probabilities as thresholds (probabilityThreshold), for `packed`. */
  metropolisThreshold: number[];
  /** The heat-bath probabilities as thresholds, for `packed`. */
  heatBathThreshold: number[];
}

/** The threshold that stands for p = 1: the decision is "yes" whatever the random bits. */
export const ALWAYS_THRESHOLD = 0xffffffff;

/**
 * The integer threshold t of a probability p in [0, 1]: a uniform 32-bit U says "yes" when U < t, so
 * P(yes) = t / 2^32 = floor(p · 2^32) / 2^32 (at most 2^−32 below p; from p ≥ 1 − 2^−31 it is at most 2^−31
 * below), except p = 1 → {@link ALWAYS_THRESHOLD}, which says "yes" always.
 */
export function probabilityThreshold(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is not in [0, 1]`);
  if (p === 1) return ALWAYS_THRESHOLD;
  return Math.min(ALWAYS_THRESHOLD - 1, Math.floor(p * 2 ** 32));
}

/** The acceptance probabilities in float64 (before the f32 rounding of the tables). */
function probabilities(
  { beta, J, h }: ReplicaCouplings,
  z: number,
): { metropolis: number[]; heatBath: number[] } {
  const metropolis = new Array<number>(10).fill(0);
  const heatBath = new Array<number>(5).fill(0);
  for (let up = 0; up <= z; up++) {
    const hLoc = J * (2 * up - z) + h;
    for (const s of [0, 1]) {
      const spin = s === 1 ? 1 : -1;
      metropolis[s * 5 + up] = hLoc === 0 && z === 2 ? 0.5 : Math.min(1, Math.exp(-beta * 2 * spin * hLoc));
    }
    heatBath[up] = 1 / (1 + Math.exp(-2 * beta * hLoc));
  }
  return { metropolis, heatBath };
}

function tableValues(couplings: ReplicaCouplings, z: number): ReplicaTableValues {
  const { metropolis, heatBath } = probabilities(couplings, z);
  return {
    metropolis,
    heatBath,
    metropolisThreshold: metropolis.map(probabilityThreshold),
    heatBathThreshold: heatBath.map(probabilityThreshold),
  };
}

/** The table of one replica, as the bytes of one WGSL `ReplicaTable` viewed as f32. */
export function replicaTable(couplings: ReplicaCouplings, z: number): Float32Array {
  return replicaTables([couplings], z);
}

/** Tables of all replicas, concatenated (an `array<ReplicaTable>`), viewed as f32. */
export function replicaTables(couplings: ReplicaCouplings[], z: number): Float32Array {
  const size = replicaTableLayout.size;
  const data = new ArrayBuffer(size * couplings.length);
  couplings.forEach((c, r) => {
    new StructView(replicaTableLayout, data, r * size).set({ ...tableValues(c, z) });
  });
  return new Float32Array(data);
}

/** Reads replica r's table back from `replicaTables` output (for the CPU oracle). */
export function readReplicaTable(tables: Float32Array, r: number): ReplicaTableValues {
  const view = new StructView(
    replicaTableLayout,
    tables.buffer as ArrayBuffer,
    tables.byteOffset + r * replicaTableLayout.size,
  );
  return {
    metropolis: view.get('metropolis') as number[],
    heatBath: view.get('heatBath') as number[],
    metropolisThreshold: view.get('metropolisThreshold') as number[],
    heatBathThreshold: view.get('heatBathThreshold') as number[],
  };
}

/**
 * The stream words (Threefry counters) of a `packed` half-sweep (shaders/ising/sweep-packed.wgsl): `main` for the two blocks
 * per colour word whose 8 words are the bit planes of the top bytes of its 32 spins' uniform U, `refine` for the
 * further planes (U's low 24 bits, 4 per block) drawn while a spin's byte ties with its threshold's top byte.
 * Sub-streams: colour + 2·heatBath, and 4 more for `refine`.
 */
export function packedStreams(colour: number, heatBath: boolean): { main: number; refine: number } {
  const sub = colour + (heatBath ? 2 : 0);
  return {
    main: streamWord(RngPurpose.isingPacked, sub),
    refine: streamWord(RngPurpose.isingPacked, 4 + sub),
  };
}

/**
 * The `packed` kernel's decision for one spin: "yes" when U < t for a uniform 32-bit U whose top byte is `top`
 * and whose low 24 bits `low24()` supplies (called only on a tie with t's top byte, as the kernel draws them).
 */
export function thresholdDecision(t: number, top: number, low24: () => number): boolean {
  if (t === ALWAYS_THRESHOLD) return true;
  const hi = t >>> 24;
  if (top !== hi) return top < hi;
  return low24() < (t & 0xffffff);
}
