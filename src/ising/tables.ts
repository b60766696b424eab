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
 * The layout comes from the WGSL struct `ReplicaTable` (shaders/ising/lattice.wgsl) by reflection: no
 * offset is written by hand here.
 */
import lattice from '../../shaders/ising/lattice.wgsl?raw';
import { structLayout, StructView, type StructLayout } from '../gpu/reflect.ts';

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

/** One replica's acceptance probabilities, as numbers (the f32 values the GPU sees). */
export interface ReplicaTableValues {
  /** min(1, exp(−β ΔE)) for flipping spin bit s with `up` up neighbours, at [s · 5 + up]. */
  metropolis: number[];
  /** P(s' = +1) with `up` up neighbours, at [up]. */
  heatBath: number[];
}

function tableValues({ beta, J, h }: ReplicaCouplings, z: number): ReplicaTableValues {
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

/** The table of one replica, as the bytes of one WGSL `ReplicaTable` viewed as f32. */
export function replicaTable(couplings: ReplicaCouplings, z: number): Float32Array {
  return replicaTables([couplings], z);
}

/** Tables of all replicas, concatenated (an `array<ReplicaTable>`), viewed as f32. */
export function replicaTables(couplings: ReplicaCouplings[], z: number): Float32Array {
  const size = replicaTableLayout.size;
  const data = new ArrayBuffer(size * couplings.length);
  couplings.forEach((c, r) => {
    const { metropolis, heatBath } = tableValues(c, z);
    new StructView(replicaTableLayout, data, r * size).set({ metropolis, heatBath });
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
  return { metropolis: view.get('metropolis') as number[], heatBath: view.get('heatBath') as number[] };
}
