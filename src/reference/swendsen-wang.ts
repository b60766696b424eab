/**
 * CPU oracle of the Swendsen–Wang update (issue 9), and with it the counter-based scheme the GPU kernel
 * must reproduce bit for bit. For replica r at sweep t on an Lx×Ly periodic lattice with coupling K = βJ > 0
 * and zero field:
 * - Bonds: site i = y·Lx + x owns the bond to its right neighbour and the bond below it. With
 *   w = philox4x32((i, r, t, stream(isingSwBonds)), seedKey(seed)), the right bond is active iff the two
 *   spins are equal and w[0] < θ, the bond below iff equal and w[1] < θ, where θ = min(⌊(1 − e^{−2K})·2³²⌋,
 *   2³² − 1): an integer comparison, exact on every adapter, P(active) = θ/2³² (within 2⁻³² of 1 − e^{−2K}).
 *   On a lattice 2 wide (or 2 high) the two bonds between a pair of sites are distinct bonds, as in the energy.
 * - Clusters: the connected components of the active bonds; each is named by its root, its smallest site
 *   index, so the result does not depend on the order in which bonds are joined.
 * - Flips: every site of a cluster flips iff philox4x32((root, r, t, stream(isingSwFlip)), key)[0] is odd.
 * The replica is in every counter: replicas never share bonds or flips.
 */
import { philox4x32 } from '../gpu/philox.ts';
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { swBondThreshold } from '../ising/sw.ts';

// The threshold is the engine's own (one definition, shared with shaders/ising/sw.wgsl's host side).
export { swBondThreshold } from '../ising/sw.ts';

/** Active bonds and cluster roots of one replica at one sweep. */
export interface SwClusters {
  /** 1 where the bond from site i to its right neighbour is active [Lx·Ly]. */
  right: Uint8Array;
  /** 1 where the bond from site i to the site below is active [Lx·Ly]. */
  down: Uint8Array;
  /** The smallest site index of each site's cluster [Lx·Ly]. */
  root: Int32Array;
}

function checkLattice(spins: ArrayLike<number>, Lx: number, Ly: number): void {
  if (!Number.isInteger(Lx) || !Number.isInteger(Ly) || Lx < 2 || Ly < 2) {
    throw new RangeError(`lattice ${Lx}×${Ly} must be at least 2×2`);
  }
  if (spins.length !== Lx * Ly) {
    throw new RangeError(`${spins.length} spins for a ${Lx}×${Ly} lattice (${Lx * Ly} expected)`);
  }
}

/** Bonds and clusters of one replica's ±1 spins [Ly × Lx] (row-major) at sweep `sweep`. */
export function swClusters(
  spins: ArrayLike<number>,
  Lx: number,
  Ly: number,
  K: number,
  seed: number | bigint,
  replica: number,
  sweep: number,
): SwClusters {
  checkLattice(spins, Lx, Ly);
  const N = Lx * Ly;
  const theta = swBondThreshold(K);
  const key = seedKey(seed);
  const stream = streamWord(RngPurpose.isingSwBonds, 0);
  const right = new Uint8Array(N);
  const down = new Uint8Array(N);
  const parent = Int32Array.from({ length: N }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!; // path halving
      i = parent[i]!;
    }
    return i;
  };
  // Linking the larger root under the smaller keeps every root the smallest index of its tree.
  const join = (i: number, j: number): void => {
    const a = find(i);
    const b = find(j);
    if (a < b) parent[b] = a;
    else if (b < a) parent[a] = b;
  };
  for (let y = 0; y < Ly; y++) {
    for (let x = 0; x < Lx; x++) {
      const i = y * Lx + x;
      const w = philox4x32([i, replica, sweep, stream], key);
      const r = y * Lx + ((x + 1) % Lx);
      const d = ((y + 1) % Ly) * Lx + x;
      if (spins[i] === spins[r] && w[0] < theta) {
        right[i] = 1;
        join(i, r);
      }
      if (spins[i] === spins[d] && w[1] < theta) {
        down[i] = 1;
        join(i, d);
      }
    }
  }
  const root = new Int32Array(N);
  for (let i = 0; i < N; i++) root[i] = find(i);
  return { right, down, root };
}

/**
 * One Swendsen–Wang sweep of every replica, in place: `spins` holds R replicas of Ly × Lx ±1 values,
 * `K` one coupling per replica (or one for all), `sweep` the sweep index (the RNG step). Local replica r
 * draws as global replica `firstReplica + r` (default 0), as the Ising engine's option of that name.
 */
export function swSweep(
  spins: Int8Array,
  Lx: number,
  Ly: number,
  K: number | ArrayLike<number>,
  seed: number | bigint,
  sweep: number,
  firstReplica = 0,
): void {
  const N = Lx * Ly;
  if (N < 4 || spins.length % N !== 0) {
    throw new RangeError(`${spins.length} spins are not whole ${Lx}×${Ly} replicas`);
  }
  const R = spins.length / N;
  const key = seedKey(seed);
  const flipStream = streamWord(RngPurpose.isingSwFlip, 0);
  for (let r = 0; r < R; r++) {
    const Kr = typeof K === 'number' ? K : K[r];
    if (Kr === undefined)
      throw new RangeError(`no coupling for replica ${r} (${(K as ArrayLike<number>).length} given)`);
    const s = spins.subarray(r * N, (r + 1) * N);
    const replica = firstReplica + r;
    const { root } = swClusters(s, Lx, Ly, Kr, seed, replica, sweep);
    const flip = new Map<number, boolean>();
    for (let i = 0; i < N; i++) {
      const c = root[i]!;
      let f = flip.get(c);
      if (f === undefined) {
        f = (philox4x32([c, replica, sweep, flipStream], key)[0] & 1) === 1;
        flip.set(c, f);
      }
      if (f) s[i] = -s[i]!;
    }
  }
}
