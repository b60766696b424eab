/**
 * The data of `reproduce rbm-flow` (de Gier 2022 §4; Veiga & Vicente, arXiv:2006.10176): Ising configurations at
 * the temperature grid T = 0, 0.25, …, 6 on an L×L torus (Swendsen–Wang through src/ising/dataset.ts, sampled
 * every ⌈2 τ_int⌉ sweeps or more) or on a ring of N spins (drawn exactly, by enumeration), split into the
 * sets the sources use: one to train the networks, one to test the thermometer, one to start the flows.
 *
 * Conventions of the sources: T = 0 is the ordered states, half all-up and half all-down; below T_c the
 * chains start ordered and every other configuration is flipped globally, so that both signs are present (at
 * every T, which changes nothing above T_c by symmetry).
 */
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { seedKey } from '../gpu/rng.ts';
import { generateDataset, type Dataset } from '../ising/dataset.ts';
import type { Lattice } from './thermometers.ts';

/** The configurations of one temperature in one set: ±1, `count × sites` row-major. */
export interface FlowDataSet {
  /** Per temperature of the grid (index = class label). */
  spins: Int8Array[];
  count: number;
}

/** The grid's data: `sets` disjoint sets, and per temperature how it was sampled. */
export interface FlowData {
  sites: number;
  temperatures: number[];
  sets: FlowDataSet[];
  /** Per temperature: sweeps between samples and τ_int (null for T = 0 and for exact draws). */
  sampling: { T: number; interval: number | null; tauEnergy: number | null; tauAbsM: number | null }[];
}

/** Checks a temperature grid: increasing, the first may be 0 (the ordered states), every other > 0. */
export function checkTemperatureGrid(temperatures: readonly number[], what = 'temperatures'): void {
  if (temperatures.length < 2)
    throw new RangeError(`${what} has ${temperatures.length} value(s); a thermometer needs at least 2`);
  temperatures.forEach((T, i) => {
    if (!Number.isFinite(T) || T < 0 || (T === 0 && i > 0))
      throw new RangeError(
        `${what}[${i}] = ${T}: temperatures must be finite and > 0 (only the first may be 0, the ordered states)`,
      );
    if (i > 0 && !(T > temperatures[i - 1]!))
      throw new RangeError(`${what} must increase: ${what}[${i}] = ${T} follows ${temperatures[i - 1]}`);
  });
}

/**
 * The ordered states, all +1 and all −1 in turn, in runs of `period` (the number of sets, so that after the
 * interleaved split every set alternates between the two).
 */
function orderedStates(count: number, sites: number, period: number): Int8Array {
  const out = new Int8Array(count * sites);
  for (let r = 0; r < count; r++)
    out.fill(Math.floor(r / period) % 2 === 0 ? 1 : -1, r * sites, (r + 1) * sites);
  return out;
}

/** Splits `total` configurations into `sets` by interleaving (configuration i → set i mod sets). */
function split(spins: Int8Array, sites: number, sets: number, count: number): Int8Array[] {
  const out = Array.from({ length: sets }, () => new Int8Array(count * sites));
  for (let i = 0; i < sets * count; i++) {
    out[i % sets]!.set(spins.subarray(i * sites, (i + 1) * sites), Math.floor(i / sets) * sites);
  }
  return out;
}

/**
 * L×L configurations at every temperature of the grid, `sets` sets of `count` each (Swendsen–Wang, ordered
 * start, `chains` chains per temperature, ≥ ⌈2 τ_int⌉ sweeps apart).
 */
export async function squareLatticeData(
  device: GPUDevice,
  o: {
    L: number;
    temperatures: number[];
    sets: number;
    count: number;
    therm: number;
    seed: number;
    signal?: AbortSignal;
    onProgress?: (phase: string, done: number, total: number) => void;
  },
): Promise<FlowData | null> {
  checkTemperatureGrid(o.temperatures);
  const sites = o.L * o.L;
  const positive = o.temperatures.filter((T) => T > 0);
  const total = o.sets * o.count;
  const ds: Dataset = await generateDataset(device, {
    L: o.L,
    temperatures: positive,
    samples: total,
    algorithm: 'sw',
    init: 'up',
    therm: o.therm,
    // τ_int of Swendsen–Wang on these lattices is a few sweeps: 200 measured sweeps (or therm, if longer) pin it.
    tauSweeps: Math.max(200, o.therm),
    chains: Math.min(16, total),
    seed: o.seed,
    signal: o.signal,
    onProgress: (phase, done, n) => o.onProgress?.(phase, done, n),
  });
  if (ds.deviceLost) throw ds.deviceLost;
  if (!ds.complete) return null;
  const sets: FlowDataSet[] = Array.from({ length: o.sets }, () => ({ spins: [], count: o.count }));
  const sampling: FlowData['sampling'] = [];
  for (const T of o.temperatures) {
    let all: Int8Array;
    if (T === 0) {
      all = orderedStates(total, sites, o.sets);
      sampling.push({ T, interval: null, tauEnergy: null, tauAbsM: null });
    } else {
      const t = ds.temperatures.find((x) => x.T === T)!;
      all = Int8Array.from(t.spins);
      // Flip every other configuration of each set (configurations i and i + sets land in one set).
      for (let i = 0; i < total; i++) {
        if (Math.floor(i / o.sets) % 2 === 1) {
          for (let s = i * sites; s < (i + 1) * sites; s++) all[s] = -all[s]! as -1 | 1;
        }
      }
      sampling.push({
        T,
        interval: t.interval,
        tauEnergy: t.tauInt.energy,
        tauAbsM: t.tauInt.absMagnetization,
      });
    }
    split(all, sites, o.sets, o.count).forEach((s, k) => sets[k]!.spins.push(s));
  }
  return { sites, temperatures: [...o.temperatures], sets, sampling };
}

/** A uniform number in [0, 1) from (i, j, purpose) under `key` (deterministic). */
function uniform(key: [number, number], i: number, j: number, purpose: number): number {
  return unitFloat(philox4x32([i >>> 0, j >>> 0, purpose, 0x52464c57], key)[0]);
}

/** The largest ring drawn exactly (2^N states are enumerated). */
export const MAX_EXACT_RING = 20;

/**
 * Configurations of a ring of N spins (nearest-neighbour, J = 1, periodic) drawn exactly from the Boltzmann
 * distribution by enumerating its 2^N states: independent by construction. T = 0: the two ordered states.
 */
export function ringData(o: {
  N: number;
  temperatures: number[];
  sets: number;
  count: number;
  seed: number;
}): FlowData {
  checkTemperatureGrid(o.temperatures);
  if (!Number.isInteger(o.N) || o.N < 3 || o.N > MAX_EXACT_RING)
    throw new RangeError(
      `ring size N ${o.N} must be an integer in 3 … ${MAX_EXACT_RING} (drawn by enumeration)`,
    );
  const { N } = o;
  const states = 2 ** N;
  const energy = new Float64Array(states);
  for (let s = 0; s < states; s++) {
    let e = 0;
    for (let i = 0; i < N; i++) {
      const a = (s >> i) & 1;
      const b = (s >> ((i + 1) % N)) & 1;
      e -= a === b ? 1 : -1;
    }
    energy[s] = e;
  }
  const key = seedKey(o.seed);
  const total = o.sets * o.count;
  const sets: FlowDataSet[] = Array.from({ length: o.sets }, () => ({ spins: [], count: o.count }));
  o.temperatures.forEach((T, t) => {
    let all: Int8Array;
    if (T === 0) all = orderedStates(total, N, o.sets);
    else {
      const cdf = new Float64Array(states);
      const e0 = -N;
      let z = 0;
      for (let s = 0; s < states; s++) {
        z += Math.exp(-(energy[s]! - e0) / T);
        cdf[s] = z;
      }
      all = new Int8Array(total * N);
      for (let r = 0; r < total; r++) {
        const u = uniform(key, r, t, 1) * z;
        let lo = 0;
        let hi = states - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cdf[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        for (let i = 0; i < N; i++) all[r * N + i] = (lo >> i) & 1 ? 1 : -1;
      }
    }
    split(all, N, o.sets, o.count).forEach((s, k) => sets[k]!.spins.push(s));
  });
  return {
    sites: N,
    temperatures: [...o.temperatures],
    sets,
    sampling: o.temperatures.map((T) => ({ T, interval: null, tauEnergy: null, tauAbsM: null })),
  };
}

/** Configurations with exactly half the spins up (a uniformly random half; T = ∞ with m = 0), ±1. */
export function halfUpStates(count: number, sites: number, seed: number): Int8Array {
  const key = seedKey(seed);
  const out = new Int8Array(count * sites);
  const order = new Int32Array(sites);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < sites; i++) order[i] = i;
    for (let i = sites - 1; i > 0; i--) {
      const j = Math.floor(uniform(key, r, i, 2) * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let i = 0; i < sites; i++) out[r * sites + order[i]!] = i < sites / 2 ? 1 : -1;
  }
  return out;
}

/** Random configurations with every spin a fair coin (T = ∞ training states), ±1. */
export function infiniteTemperatureStates(count: number, sites: number, seed: number): Int8Array {
  const key = seedKey(seed);
  const out = new Int8Array(count * sites);
  for (let r = 0; r < count; r++)
    for (let i = 0; i < sites; i++) out[r * sites + i] = uniform(key, r, i, 3) < 0.5 ? 1 : -1;
  return out;
}

/** Standard normal numbers from (index, stream) under the seed (Box–Muller on Philox words). */
export function gaussianWeights(
  n: number,
  seed: number,
  stream: number,
  mean: number,
  sd: number,
): Float32Array {
  const key = seedKey(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const w = philox4x32([i >>> 0, stream >>> 0, 4, 0x52464c57], key);
    const u1 = 1 - unitFloat(w[0]);
    const u2 = unitFloat(w[1]);
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + sd * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** A uniformly random permutation of `values` (Fisher–Yates from the seed). */
export function permuted(values: ArrayLike<number>, seed: number): Float32Array {
  const key = seedKey(seed);
  const out = Float32Array.from(values);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(uniform(key, i, 0, 5) * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Every configuration under a random symmetry of the zero-field Ising model on its periodic lattice: a
 * translation, one of the square's 8 rotations and reflections (the ring's reflection), and a global spin flip,
 * drawn per row from (seed, epoch, row). Energy and |m| are unchanged and the Boltzmann weight is invariant, so
 * each row is a sample of its temperature as good as the original: a thermometer trained on a fresh draw every
 * epoch sees new configurations instead of memorising the few it has. Rows of ±1 as floats.
 */
export function randomSymmetries(
  lattice: Lattice,
  spins: Int8Array,
  n: number,
  seed: number,
  epoch: number,
): Float32Array {
  const sites = lattice.kind === 'square' ? lattice.L * lattice.L : lattice.N;
  if (!Number.isInteger(n) || n < 0 || spins.length !== n * sites) {
    throw new RangeError(`randomSymmetries: ${spins.length} spins are not n ${n} rows of ${sites} sites`);
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
    throw new RangeError(`randomSymmetries: epoch ${epoch} must be an integer in 0 … 2^32 − 1`);
  }
  const key = seedKey(seed);
  const out = new Float32Array(n * sites);
  for (let r = 0; r < n; r++) {
    // Moduli of 32-bit words: each choice's probability is off by at most L / 2^32 (2^-22 at L = 1024).
    const w = philox4x32([r >>> 0, epoch >>> 0, 6, 0x52464c57], key);
    const sign = (w[2]! >>> 3) & 1 ? -1 : 1;
    const from = r * sites;
    if (lattice.kind === 'ring') {
      const N = lattice.N;
      const shift = w[0]! % N;
      const reflect = (w[2]! & 1) === 1;
      for (let i = 0; i < N; i++) {
        out[from + (((reflect ? N - 1 - i : i) + shift) % N)] = sign * spins[from + i]!;
      }
    } else {
      const L = lattice.L;
      const dx = w[0]! % L;
      const dy = w[1]! % L;
      const g = w[2]! & 7;
      for (let y = 0; y < L; y++) {
        for (let x = 0; x < L; x++) {
          let u = g & 1 ? L - 1 - x : x;
          let v = g & 2 ? L - 1 - y : y;
          if (g & 4) [u, v] = [v, u];
          out[from + ((v + dy) % L) * L + ((u + dx) % L)] = sign * spins[from + y * L + x]!;
        }
      }
    }
  }
  return out;
}
