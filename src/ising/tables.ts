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
 */

/** f32 words per replica table (matches the WGSL struct ReplicaTable: 10 + 5 + 1 padding). */
export const TABLE_WORDS = 16;

export interface ReplicaCouplings {
  beta: number;
  J: number;
  h: number;
}

/** The table of one replica as 16 f32: metropolis[s·5 + up] (10), heatBath[up] (5), padding. */
export function replicaTable({ beta, J, h }: ReplicaCouplings, z: number): Float32Array {
  const t = new Float32Array(TABLE_WORDS);
  for (let up = 0; up <= z; up++) {
    const hLoc = J * (2 * up - z) + h;
    for (const s of [0, 1]) {
      const spin = s === 1 ? 1 : -1;
      t[s * 5 + up] = hLoc === 0 && z === 2 ? 0.5 : Math.min(1, Math.exp(-beta * 2 * spin * hLoc));
    }
    t[10 + up] = 1 / (1 + Math.exp(-2 * beta * hLoc));
  }
  return t;
}

/** Tables of all replicas, concatenated. */
export function replicaTables(couplings: ReplicaCouplings[], z: number): Float32Array {
  const out = new Float32Array(TABLE_WORDS * couplings.length);
  couplings.forEach((c, r) => out.set(replicaTable(c, z), r * TABLE_WORDS));
  return out;
}
