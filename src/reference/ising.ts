/**
 * CPU oracle of the Ising kernels (shaders/ising/): the same bit-packed state, the same counters of the same
 * generators (Philox4x32-10; Threefry-4×32-20 in the `packed` sweep) and the same acceptance tables, so a run reproduces the GPU's `simple` and `packed` kernels bit for
 * bit. Also the plain TypeScript Metropolis used as the CPU peer in benchmarks.
 */
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { resolveIsingConfig, type IsingConfig, type IsingOptions } from '../ising/config.ts';
import {
  packedStreams,
  readReplicaTable,
  replicaTables,
  thresholdDecision,
  type ReplicaTableValues,
} from '../ising/tables.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { threefry4x32 } from '../gpu/threefry.ts';
import { swCouplings } from '../ising/sw.ts';
import { swSweep } from './swendsen-wang.ts';

export class IsingReference {
  readonly config: IsingConfig;
  /** Same layout as the GPU spin buffer. */
  readonly words: Uint32Array;
  sweep = 0;
  private readonly key: [number, number];
  /** Per replica, the f32 acceptance tables the GPU gets (decoded through the reflected struct view). */
  private readonly tables: ReplicaTableValues[];

  constructor(options: IsingOptions) {
    this.config = resolveIsingConfig(options);
    const c = this.config;
    this.key = seedKey(c.seed);
    this.words = new Uint32Array(c.replicas * c.words);
    const z = c.dims === 2 ? 4 : 2;
    const tables = replicaTables(
      c.T.map((T, r) => ({ beta: 1 / T, J: c.J[r] as number, h: c.h[r] as number })),
      z,
    );
    this.tables = c.T.map((_, r) => readReplicaTable(tables, r));
    this.init();
  }

  private init(): void {
    const c = this.config;
    const stream = streamWord(RngPurpose.isingInit, 0);
    for (let r = 0; r < c.replicas; r++) {
      for (let w = 0; w < c.words; w++) {
        let bits = 0;
        if (c.init === 'random') {
          for (let q = 0; q < 8; q++) {
            const block = philox4x32([8 * w + q, c.firstReplica + r, 0, stream], this.key);
            for (let j = 0; j < 4; j++) bits |= ((block[j] as number) >>> 31) << (4 * q + j);
          }
        } else if (c.init === 'up') {
          bits = -1;
        }
        const valid = Math.min(32, c.sites - 32 * w);
        if (valid < 32) bits &= (1 << valid) - 1;
        this.words[r * c.words + w] = bits >>> 0;
      }
    }
  }

  /** Spin bit (1 = up) of site i of replica r. */
  bit(r: number, i: number): number {
    return ((this.words[r * this.config.words + (i >>> 5)] as number) >>> (i & 31)) & 1;
  }

  private flip(r: number, i: number): void {
    const w = r * this.config.words + (i >>> 5);
    this.words[w] = ((this.words[w] as number) ^ (1 << (i & 31))) >>> 0;
  }

  private upNeighbours(r: number, x: number, y: number): number {
    const { Lx, Ly, dims } = this.config;
    let up = this.bit(r, y * Lx + ((x + Lx - 1) % Lx)) + this.bit(r, y * Lx + ((x + 1) % Lx));
    if (dims === 2) up += this.bit(r, ((y + Ly - 1) % Ly) * Lx + x) + this.bit(r, ((y + 1) % Ly) * Lx + x);
    return up;
  }

  private decide(r: number, s: number, up: number, u: number, heatBath: boolean): boolean {
    const t = this.tables[r] as ReplicaTableValues;
    if (heatBath) return (u < (t.heatBath[up] as number) ? 1 : 0) !== s;
    return u < (t.metropolis[s * 5 + up] as number);
  }

  /**
   * One sweep exactly as the GPU does it: checkerboard (colour 0 then 1) with kernel `kernel`, or a
   * Swendsen–Wang sweep (swSweep, the same for both kernels) when the algorithm is 'sw'.
   */
  step(heatBath = this.config.algorithm === 'heatbath'): void {
    const c = this.config;
    if (c.algorithm === 'sw') {
      this.swStep();
      this.sweep++;
      return;
    }
    for (const colour of [0, 1]) {
      if (c.kernel === 'simple') this.halfSweepSimple(colour, heatBath);
      else this.halfSweepPacked(colour, heatBath);
    }
    this.sweep++;
  }

  private swStep(): void {
    const c = this.config;
    const spins = new Int8Array(c.replicas * c.sites);
    for (let r = 0; r < c.replicas; r++) {
      for (let i = 0; i < c.sites; i++) spins[r * c.sites + i] = this.bit(r, i) ? 1 : -1;
    }
    const K = swCouplings(c.J, c.T);
    swSweep(spins, c.Lx, c.Ly, K, c.seed, this.sweep, c.firstReplica);
    this.words.fill(0);
    for (let r = 0; r < c.replicas; r++) {
      for (let i = 0; i < c.sites; i++) if (spins[r * c.sites + i] === 1) this.flip(r, i);
    }
  }

  private halfSweepSimple(colour: number, heatBath: boolean): void {
    const c = this.config;
    const purpose = heatBath ? RngPurpose.isingHeatBath : RngPurpose.isingMetropolis;
    const stream = streamWord(purpose, colour);
    const half = c.sites / 2;
    for (let r = 0; r < c.replicas; r++) {
      for (let j = 0; j < half; j++) {
        let x: number;
        let y = 0;
        if (c.dims === 2) {
          y = Math.floor(j / (c.Lx / 2));
          x = 2 * (j % (c.Lx / 2)) + ((y + colour) & 1);
        } else {
          x = 2 * j + colour;
        }
        const site = y * c.Lx + x;
        const up = this.upNeighbours(r, x, y);
        const s = this.bit(r, site);
        const u = unitFloat(philox4x32([site, c.firstReplica + r, this.sweep, stream], this.key)[0]);
        if (this.decide(r, s, up, u, heatBath)) this.flip(r, site);
      }
    }
  }

  /** Spins of `packed` half-sweeps that drew bits beyond the top byte (a tie with the threshold's top byte). */
  refinements = 0;

  /**
   * A `packed` half-sweep (shaders/ising/sweep-packed.wgsl), on the row-major state: colour word (y, m) holds
   * the colour's sites j = 32m + b of row y (x = 2j + (colour + y) % 2, j < Lx/2); lane b's uniform U has
   * bit 31 − k equal to bit b of plane k: planes 0 … 7 are the words of Threefry-4×32-20 blocks (2·wc, 2·wc + 1)
   * of the main stream, planes 8 + 4q … 11 + 4q those of block 8·wc + q of the refine stream (wc =
   * y·rowWords + m). The kernel defers those tie-breaking draws to a second dispatch (resolveTies); the
   * numbers and the decisions are the same.
   */
  private halfSweepPacked(colour: number, heatBath: boolean): void {
    const c = this.config;
    const streams = packedStreams(colour, heatBath);
    const rowWords = Math.ceil(c.Lx / 64);
    const perRow = c.Lx / 2;
    const threefryKey = [this.key[0], this.key[1], 0, 0] as const;
    for (let r = 0; r < c.replicas; r++) {
      const table = this.tables[r] as ReplicaTableValues;
      const replica = c.firstReplica + r;
      for (let y = 0; y < c.Ly; y++) {
        const parity = (colour + y) & 1;
        for (let m = 0; m < rowWords; m++) {
          const wc = y * rowWords + m;
          const planes = [
            ...threefry4x32([2 * wc, replica, this.sweep, streams.main], threefryKey),
            ...threefry4x32([2 * wc + 1, replica, this.sweep, streams.main], threefryKey),
          ];
          let refine: number[] | null = null;
          for (let b = 0; b < 32 && 32 * m + b < perRow; b++) {
            const x = 2 * (32 * m + b) + parity;
            const site = y * c.Lx + x;
            const up = this.upNeighbours(r, x, y);
            const s = this.bit(r, site);
            const t = heatBath ? table.heatBathThreshold[up]! : table.metropolisThreshold[s * 5 + up]!;
            let top = 0;
            for (let k = 0; k < 8; k++) top |= (((planes[k] as number) >>> b) & 1) << (7 - k);
            const below = thresholdDecision(t, top, () => {
              this.refinements++;
              refine ??= Array.from({ length: 6 }, (_, q) =>
                threefry4x32([8 * wc + q, replica, this.sweep, streams.refine], threefryKey),
              ).flat();
              let low = 0;
              for (let k = 0; k < 24; k++) low |= (((refine[k] as number) >>> b) & 1) << (23 - k);
              return low;
            });
            if (heatBath ? (below ? 1 : 0) !== s : below) this.flip(r, site);
          }
        }
      }
    }
  }

  /** Bond sum Σ s·s(right) + s·s(down) (1D: right only) and magnetisation of replica r. */
  observables(r: number): { bonds: number; magnetization: number } {
    const { Lx, Ly, dims } = this.config;
    let bonds = 0;
    let m = 0;
    for (let y = 0; y < Ly; y++) {
      for (let x = 0; x < Lx; x++) {
        const s = this.bit(r, y * Lx + x) ? 1 : -1;
        m += s;
        bonds += s * (this.bit(r, y * Lx + ((x + 1) % Lx)) ? 1 : -1);
        if (dims === 2) bonds += s * (this.bit(r, ((y + 1) % Ly) * Lx + x) ? 1 : -1);
      }
    }
    return { bonds, magnetization: m };
  }

  /** Σ_sites s·[s(x+d, y) + s(x, y+d)] (1D: first term) of replica r, for d = 0 … distances − 1. */
  correlationSums(r: number): number[] {
    const { Lx, Ly, dims, distances } = this.config;
    const out: number[] = [];
    for (let d = 0; d < distances; d++) {
      let sum = 0;
      for (let y = 0; y < Ly; y++) {
        for (let x = 0; x < Lx; x++) {
          const s = this.bit(r, y * Lx + x) ? 1 : -1;
          sum += s * (this.bit(r, y * Lx + ((x + d) % Lx)) ? 1 : -1);
          if (dims === 2) sum += s * (this.bit(r, ((y + d) % Ly) * Lx + x) ? 1 : -1);
        }
      }
      out.push(sum);
    }
    return out;
  }
}

/**
 * A plain single-replica checkerboard Metropolis on an Int8Array of ±1 (h = 0), with Math.random-free
 * xorshift numbers: the "what you would write in TypeScript" CPU peer of the benchmarks.
 */
export function cpuMetropolisSweeps(
  spins: Int8Array,
  L: number,
  beta: number,
  sweeps: number,
  seed = 1,
): void {
  // Indexed by k = s·Σnb/2 + 2 (0 … 4): ΔE = 4(k − 2), so k ≤ 2 always flips.
  const accept = [1, 1, 1, Math.exp(-4 * beta), Math.exp(-8 * beta)];
  let state = seed >>> 0 || 1;
  for (let t = 0; t < sweeps; t++) {
    for (let colour = 0; colour < 2; colour++) {
      for (let y = 0; y < L; y++) {
        const up = ((y + L - 1) % L) * L;
        const down = ((y + 1) % L) * L;
        const row = y * L;
        for (let x = (y + colour) & 1; x < L; x += 2) {
          const s = spins[row + x] as number;
          const nb =
            (spins[row + ((x + L - 1) % L)] as number) +
            (spins[row + ((x + 1) % L)] as number) +
            (spins[up + x] as number) +
            (spins[down + x] as number);
          const k = (s * nb) / 2 + 2;
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          if (k <= 2 || (state >>> 0) / 4294967296 < (accept[k] as number)) spins[row + x] = -s as -1 | 1;
        }
      }
    }
  }
}
