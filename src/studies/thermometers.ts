/**
 * Training-free physical thermometers for RBM flows (PHYSICS.md, "RBM flows: what the replications found").
 *
 * A generation of an RBM flow is a batch of ±1 configurations. Its temperature is read two ways without a
 * trained classifier: T_E by inverting the exact finite-lattice mean energy e(T) (Kaufman on the L×L torus, the
 * ring sum in 1D), and T_m by inverting ⟨|m|⟩(T) (a sampled reference scan in 2D, exact on the ring). A mean
 * energy reads any mixture as some temperature, so `readGeneration` also checks that the batch is thermal:
 * its energy variance against T_E²·c(T_E) (var(E) = T²C), its energy histogram against equilibrium at T_E, and
 * T_E against T_m. Pure CPU code, f64 throughout; conventions J = 1, k_B = 1, E = −Σ⟨ij⟩ s_i s_j (2N bonds on
 * the torus, N on the ring), e = E/N, m = Σs/N, T = 1/K.
 */
import { isingRing, kaufman, ringEnergyDistribution } from '../exact/ising.ts';
import { chiSquareSurvival, jackknife } from '../stats/index.ts';

/** The lattice a generation lives on: an L×L torus or a periodic ring of N spins. */
export type Lattice = { kind: 'square'; L: number } | { kind: 'ring'; N: number };

/** ±1 configurations, `count × N` row-major. */
export type Spins = Int8Array | Float32Array;

/** A mean with its one-standard-deviation error. */
export interface Estimate {
  mean: number;
  err: number;
}

/** Number of spins of a lattice (checks it: L ≥ 2 or N ≥ 2, integers). */
export function latticeSites(lattice: Lattice): number {
  if (lattice.kind === 'square') {
    if (!Number.isInteger(lattice.L) || lattice.L < 2)
      throw new RangeError(`square lattice side L = ${lattice.L} must be an integer ≥ 2`);
    return lattice.L * lattice.L;
  }
  if (lattice.kind === 'ring') {
    if (!Number.isInteger(lattice.N) || lattice.N < 2)
      throw new RangeError(`ring length N = ${lattice.N} must be an integer ≥ 2`);
    return lattice.N;
  }
  throw new RangeError(
    `lattice kind ${String((lattice as { kind: unknown }).kind)} is not 'square' or 'ring'`,
  );
}

/** Per-configuration observables of a generation. */
export interface Observables {
  /** Energy per spin e = E/N of each configuration. */
  energy: Float64Array;
  /** |m| = |Σs|/N of each configuration. */
  absM: Float64Array;
}

/**
 * Energy per spin and |m| of each of `count` configurations (`count × N` ±1 values, row-major). On the torus
 * E = −Σ_i s_i (s_right + s_down) (for L = 2 each pair counts twice, like Kaufman and enumerateIsing); on the
 * ring E = −Σ_i s_i s_{i+1}.
 * @example configurationObservables({ kind: 'ring', N: 4 }, Int8Array.of(1, 1, -1, -1), 1) // e = 0, |m| = 0
 */
export function configurationObservables(lattice: Lattice, spins: Spins, count: number): Observables {
  const N = latticeSites(lattice);
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`configuration count ${count} must be an integer ≥ 1`);
  if (spins.length !== count * N) {
    throw new RangeError(
      `${spins.length} spin values for ${count} configurations of ${N} spins; expected count × N = ${count * N}`,
    );
  }
  const energy = new Float64Array(count);
  const absM = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    const o = c * N;
    let bonds = 0;
    let M = 0;
    if (lattice.kind === 'square') {
      const L = lattice.L;
      for (let y = 0; y < L; y++) {
        const row = o + y * L;
        const down = o + ((y + 1) % L) * L;
        for (let x = 0; x < L; x++) {
          const s = spin(spins, row + x);
          M += s;
          bonds += s * (spin(spins, row + ((x + 1) % L)) + spin(spins, down + x));
        }
      }
    } else {
      for (let i = 0; i < N; i++) {
        const s = spin(spins, o + i);
        M += s;
        bonds += s * spin(spins, o + ((i + 1) % N));
      }
    }
    energy[c] = -bonds / N;
    absM[c] = Math.abs(M) / N;
  }
  return { energy, absM };
}

function spin(spins: Spins, i: number): number {
  const s = spins[i] as number;
  if (s !== 1 && s !== -1) throw new RangeError(`spin value ${s} at index ${i} is not ±1`);
  return s;
}

/** The exact equilibrium curve at one coupling. */
export interface CurvePoint {
  /** ⟨e⟩ = ⟨E⟩/N. */
  energy: number;
  /** c = C/N = ∂⟨e⟩/∂T. */
  specificHeat: number;
  /** N·var(e) = var(E)/N = T²·c, finite at T = ∞. */
  energyVariance: number;
}

/** Exact finite-lattice thermodynamics of a lattice (see exactCurve). */
export interface ExactCurve {
  readonly lattice: Lattice;
  readonly sites: number;
  /** Ground-state energy per spin: −2 on the torus, −1 on the ring. */
  readonly groundEnergy: number;
  /** The curve at coupling K ≥ 0 (K = 0 is T = ∞; any large K gives the ground state without NaN). */
  atCoupling(K: number): CurvePoint;
  /** The curve at temperature T ≥ 0 (T = 0: ground state, T = Infinity: K = 0). */
  at(T: number): CurvePoint;
  /** Ring only: the exact distribution of the total energy E (→ probability) at T ≥ 0. */
  energyDistribution?: (T: number) => Map<number, number>;
  /** Ring only: exact ⟨|m|⟩ and d⟨|m|⟩/dT at T ≥ 0. */
  absMagnetization?: (T: number) => { value: number; slope: number };
}

/** Kaufman is used on [KAUFMAN_K_LOW, KAUFMAN_K_HIGH]: it loses digits at tiny K and c loses them past K ≈ 3. */
const KAUFMAN_K_LOW = 1e-3;
const KAUFMAN_K_HIGH = 3;
/** Smallest excitation of the torus: one flipped spin, ΔE = 8 (the low-T tail goes as e^{−8K}). */
const TORUS_GAP = 8;

function checkCoupling(K: number): void {
  if (!(K >= 0) || Number.isNaN(K)) throw new RangeError(`coupling K = ${K} must be ≥ 0`);
}

function checkTemperature(T: number): void {
  if (!(T >= 0)) throw new RangeError(`temperature T = ${T} must be ≥ 0`);
}

/**
 * The exact equilibrium curve e(T), c(T) of a lattice. Torus (any L ≥ 2): Kaufman's exact partition function for
 * 10⁻³ ≤ K ≤ 3; above K = 3 (T < 0.33) the one-flip tail e + 2 ∝ e^{−8K}, c ∝ K² e^{−8K} continued from K = 3
 * (relative error ~1e-5, where Kaufman's own c has lost its digits); below K = 10⁻³ the linear high-T form
 * e ∝ K with var(E)/N held at its K = 10⁻³ value (relative error ~1e-6). Ring (N ≤ 4096): isingRing, exact for
 * every K, with the energy distribution and ⟨|m|⟩(T).
 * @example exactCurve({ kind: 'square', L: 16 }).at(2.269185314213022).energy // −1.45306…
 */
export function exactCurve(lattice: Lattice): ExactCurve {
  const sites = latticeSites(lattice);
  const at = (curve: (K: number) => CurvePoint) => (T: number) => {
    checkTemperature(T);
    return curve(T === 0 ? Infinity : 1 / T);
  };
  if (lattice.kind === 'ring') {
    const N = lattice.N;
    const atCoupling = (K: number): CurvePoint => {
      checkCoupling(K);
      if (K === Infinity) return { energy: -1, specificHeat: 0, energyVariance: 0 };
      const r = isingRing(K, N);
      return {
        energy: r.energyPerSpin,
        specificHeat: r.specificHeatPerSpin,
        energyVariance: r.energyVariancePerSpin,
      };
    };
    return {
      lattice,
      sites,
      groundEnergy: -1,
      atCoupling,
      at: at(atCoupling),
      energyDistribution: (T) => {
        checkTemperature(T);
        if (T === 0) return new Map([[-N, 1]]);
        return ringEnergyDistribution(1 / T, N);
      },
      absMagnetization: (T) => {
        checkTemperature(T);
        if (T === 0) return { value: 1, slope: 0 };
        const K = 1 / T;
        const r = isingRing(K, N);
        return { value: r.absMagnetization, slope: -K * K * r.absMagnetizationSlope };
      },
    };
  }
  const L = lattice.L;
  const exact = (K: number): CurvePoint => {
    const r = kaufman(K, L, L);
    return {
      energy: r.energyPerSpin,
      specificHeat: r.specificHeatPerSpin,
      energyVariance: r.specificHeatPerSpin / (K * K),
    };
  };
  const low = exact(KAUFMAN_K_LOW);
  const high = exact(KAUFMAN_K_HIGH);
  const atCoupling = (K: number): CurvePoint => {
    checkCoupling(K);
    if (K === Infinity) return { energy: -2, specificHeat: 0, energyVariance: 0 };
    if (K < KAUFMAN_K_LOW) {
      return {
        energy: (low.energy * K) / KAUFMAN_K_LOW,
        specificHeat: K * K * low.energyVariance,
        energyVariance: low.energyVariance,
      };
    }
    if (K <= KAUFMAN_K_HIGH) return exact(K);
    const tail = Math.exp(-TORUS_GAP * (K - KAUFMAN_K_HIGH));
    const energyVariance = high.energyVariance * tail;
    return { energy: -2 + (high.energy + 2) * tail, specificHeat: K * K * energyVariance, energyVariance };
  };
  return { lattice, sites, groundEnergy: -2, atCoupling, at: at(atCoupling) };
}

/**
 * A temperature reading. With `bound` unset, T ± err. With `bound` set the value lies outside what the
 * thermometer resolves and T is an edge, err is 0 and `limit` the one-sided 1σ limit:
 * 'ground' (T = 0; limit: the T whose exact value lies one error above the ground state),
 * 'infinite' (T = ∞; limit: the lower limit, the T of the mean minus one error, ∞ if that is still beyond),
 * 'below' / 'above' (a reference scan's lowest / highest temperature; limit = that temperature).
 */
export interface TemperatureReading {
  T: number;
  err: number;
  bound?: 'ground' | 'infinite' | 'below' | 'above';
  limit?: number;
}

function checkReadingInput(mean: number, err: number, what: string): void {
  if (!Number.isFinite(mean)) throw new RangeError(`${what} ${mean} must be finite`);
  if (!Number.isFinite(err) || err < 0)
    throw new RangeError(`error ${err} of ${what} must be finite and ≥ 0`);
}

/**
 * K at which the increasing function g(K) (g(0⁺) → gLow, g(∞) → gHigh) equals target, gLow < target < gHigh,
 * by bracketing in ln K and bisection to a relative 1e-15. Null when target is beyond what f64 resolves.
 */
function invertIncreasing(g: (K: number) => number, target: number): number | null {
  let lo = 1e-3;
  let hi = 1;
  for (let i = 0; i < 1100 && g(lo) >= target; i++) lo /= 2;
  for (let i = 0; i < 12 && g(hi) <= target; i++) hi *= 2;
  if (!(g(lo) < target) || !(g(hi) > target)) return null;
  if (lo > hi) return null;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = Math.sqrt(lo * hi);
    if (g(mid) < target) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

/**
 * Reads T from a mean energy per spin ± err by inverting the exact e(T) (monotonic: c = ∂e/∂T > 0), with
 * err_T = err / c(T) since c = C/N = ∂⟨e⟩/∂T. A mean at or below the ground-state energy reads as bound
 * 'ground' and a mean ≥ 0 (e(∞) = 0) as bound 'infinite' (see TemperatureReading).
 * @example energyTemperature(exactCurve({ kind: 'square', L: 10 }), -1.5, 0.01) // { T: ≈2.2, err: ≈0.008 }
 */
export function energyTemperature(curve: ExactCurve, mean: number, err: number): TemperatureReading {
  checkReadingInput(mean, err, 'mean energy per spin');
  const negE = (K: number): number => -curve.atCoupling(K).energy; // increasing from 0 to −ground
  const invert = (e: number): number | null => invertIncreasing(negE, -e);
  const ground = curve.groundEnergy;
  if (mean <= ground + 4 * Number.EPSILON * Math.abs(ground)) {
    const K = err > 0 ? invert(ground + err) : null;
    return { T: 0, err: 0, bound: 'ground', limit: K === null ? (err > 0 ? Infinity : 0) : 1 / K };
  }
  if (mean >= 0) {
    const K = mean - err < 0 ? invert(mean - err) : null;
    return { T: Infinity, err: 0, bound: 'infinite', limit: K === null ? Infinity : 1 / K };
  }
  const K = invert(mean);
  if (K === null) {
    // Closer to an end than f64 resolves: the nearer end.
    return mean < ground / 2
      ? { T: 0, err: 0, bound: 'ground', limit: 0 }
      : { T: Infinity, err: 0, bound: 'infinite', limit: Infinity };
  }
  const c = curve.atCoupling(K).specificHeat;
  return { T: 1 / K, err: c > 0 ? err / c : Infinity };
}

/**
 * A sampled reference for ⟨|m|⟩(T) and the energy histograms: per temperature (increasing), the per-configuration
 * energy per spin and |m| of independent equilibrium samples. Treat it as immutable (its calibration is cached).
 */
export interface ReferenceScan {
  lattice: Lattice;
  temperatures: number[];
  energy: Float64Array[];
  absM: Float64Array[];
}

/**
 * A reference scan from equilibrium configurations per temperature (generateDataset's `temperatures` entries
 * fit: { T, spins, samples }); the temperatures must increase (they are not sorted here).
 */
export function referenceScan(
  lattice: Lattice,
  entries: readonly { T: number; spins: Spins; samples: number }[],
): ReferenceScan {
  const scan: ReferenceScan = { lattice, temperatures: [], energy: [], absM: [] };
  for (const entry of entries) {
    const o = configurationObservables(lattice, entry.spins, entry.samples);
    scan.temperatures.push(entry.T);
    scan.energy.push(o.energy);
    scan.absM.push(o.absM);
  }
  checkScan(scan);
  return scan;
}

/** Checks a scan: ≥ 2 temperatures, finite, > 0 and increasing, each with ≥ 2 samples of energy and |m|. */
export function checkScan(scan: ReferenceScan): void {
  latticeSites(scan.lattice);
  const T = scan.temperatures;
  if (T.length < 2) throw new RangeError(`a reference scan needs ≥ 2 temperatures; got ${T.length}`);
  if (scan.energy.length !== T.length || scan.absM.length !== T.length) {
    throw new RangeError(
      `scan has ${T.length} temperatures but ${scan.energy.length} energy and ${scan.absM.length} |m| samples`,
    );
  }
  T.forEach((t, i) => {
    if (!Number.isFinite(t) || t <= 0) throw new RangeError(`scan temperature ${t} must be finite and > 0`);
    if (i > 0 && !(t > (T[i - 1] as number)))
      throw new RangeError(`scan temperature ${t} at index ${i} must exceed the previous ${T[i - 1]}`);
    const n = (scan.energy[i] as Float64Array).length;
    if (n < 2 || (scan.absM[i] as Float64Array).length !== n) {
      throw new RangeError(
        `scan at T = ${t}: ${n} energies and ${(scan.absM[i] as Float64Array).length} |m| values; need equal counts ≥ 2`,
      );
    }
  });
}

/** Mean and standard error of independent values. */
function meanAndError(x: ArrayLike<number>): Estimate & { sd: number } {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i] as number;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((x[i] as number) - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, err: sd / Math.sqrt(n), sd };
}

/** A monotone (strictly decreasing) interpolant of ⟨|m|⟩(T) through pooled scan means. */
interface Calibration {
  x: number[];
  y: number[];
  err: number[];
  d: number[];
}

const calibrations = new WeakMap<ReferenceScan, Calibration>();

/**
 * Weighted isotonic regression (pool adjacent violators) of the scan means to a strictly decreasing sequence —
 * noise makes neighbouring means at high T cross — then Fritsch–Carlson (PCHIP) slopes through the pooled nodes,
 * each at its weighted mean temperature. Per-T errors are floored at (2/N)/n (one configuration's |m| step).
 */
function calibrate(scan: ReferenceScan): Calibration {
  const cached = calibrations.get(scan);
  if (cached) return cached;
  checkScan(scan);
  const N = latticeSites(scan.lattice);
  const blocks: { x: number; y: number; w: number }[] = [];
  scan.temperatures.forEach((T, i) => {
    const values = scan.absM[i] as Float64Array;
    const { mean, err } = meanAndError(values);
    const e = Math.max(err, 2 / N / values.length);
    blocks.push({ x: T, y: mean, w: 1 / (e * e) });
    for (;;) {
      const last = blocks[blocks.length - 1] as { x: number; y: number; w: number };
      const prev = blocks[blocks.length - 2];
      if (!prev || prev.y > last.y) break;
      const w = prev.w + last.w;
      blocks.splice(blocks.length - 2, 2, {
        x: (prev.w * prev.x + last.w * last.x) / w,
        y: (prev.w * prev.y + last.w * last.y) / w,
        w,
      });
    }
  });
  if (blocks.length < 2) {
    throw new RangeError(
      `the scan's ⟨|m|⟩ does not decrease with T anywhere (T = ${scan.temperatures[0]} … ${scan.temperatures.at(-1)})`,
    );
  }
  const x = blocks.map((b) => b.x);
  const y = blocks.map((b) => b.y);
  const err = blocks.map((b) => 1 / Math.sqrt(b.w));
  const n = x.length;
  const h = x.slice(1).map((xi, k) => xi - (x[k] as number));
  const delta = h.map((hk, k) => ((y[k + 1] as number) - (y[k] as number)) / hk);
  const d = new Array<number>(n);
  d[0] = delta[0] as number;
  d[n - 1] = delta[n - 2] as number;
  for (let k = 1; k < n - 1; k++) {
    const h0 = h[k - 1] as number;
    const h1 = h[k] as number;
    const d0 = delta[k - 1] as number;
    const d1 = delta[k] as number;
    const w1 = 2 * h1 + h0;
    const w2 = h1 + 2 * h0;
    d[k] = (w1 + w2) / (w1 / d0 + w2 / d1); // both secants < 0 after pooling
  }
  const result = { x, y, err, d };
  calibrations.set(scan, result);
  return result;
}

/** Value and slope of the calibration's cubic Hermite interpolant at t (x₀ ≤ t ≤ x_last). */
function hermite(c: Calibration, t: number): { value: number; slope: number; k: number; s: number } {
  let k = 0;
  while (k < c.x.length - 2 && t > (c.x[k + 1] as number)) k++;
  const x0 = c.x[k] as number;
  const h = (c.x[k + 1] as number) - x0;
  const s = (t - x0) / h;
  const y0 = c.y[k] as number;
  const y1 = c.y[k + 1] as number;
  const m0 = (c.d[k] as number) * h;
  const m1 = (c.d[k + 1] as number) * h;
  const s2 = s * s;
  const s3 = s2 * s;
  const value =
    (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * m1;
  const slope =
    ((6 * s2 - 6 * s) * y0 + (3 * s2 - 4 * s + 1) * m0 + (-6 * s2 + 6 * s) * y1 + (3 * s2 - 2 * s) * m1) / h;
  return { value, slope, k, s };
}

/**
 * Reads T from a mean ⟨|m|⟩ ± err. With a ReferenceScan: inverts the monotone interpolant of the scan's means
 * (isotonic pooling + PCHIP), err_T = √(err² + err_ref²)/|d⟨|m|⟩/dT| with err_ref the pooled reference error
 * interpolated linearly; a mean above the lowest-T value reads as bound 'below', under the highest-T value as
 * 'above'. With a ring's ExactCurve: inverts the exact ⟨|m|⟩(T) (bounds 'ground' at |m| ≥ 1 and 'infinite' at or
 * under the T = ∞ value).
 */
export function magnetizationTemperature(
  source: ReferenceScan | ExactCurve,
  mean: number,
  err: number,
): TemperatureReading {
  checkReadingInput(mean, err, 'mean |m|');
  if (!('temperatures' in source)) {
    const absM = source.absMagnetization;
    if (!absM) throw new RangeError(`the exact ⟨|m|⟩(T) is known only on the ring; give a ReferenceScan`);
    const g = (K: number): number => absM(1 / K).value; // increasing in K
    const atInfinity = absM(Infinity).value;
    const invert = (m: number): number | null => invertIncreasing(g, m);
    if (mean >= 1) {
      const K = err > 0 ? invert(1 - err) : null;
      return { T: 0, err: 0, bound: 'ground', limit: K === null ? (err > 0 ? Infinity : 0) : 1 / K };
    }
    if (mean <= atInfinity) {
      const K = mean + err > atInfinity ? invert(mean + err) : null;
      return { T: Infinity, err: 0, bound: 'infinite', limit: K === null ? Infinity : 1 / K };
    }
    const K = invert(mean);
    if (K === null) {
      return mean > (1 + atInfinity) / 2
        ? { T: 0, err: 0, bound: 'ground', limit: 0 }
        : { T: Infinity, err: 0, bound: 'infinite', limit: Infinity };
    }
    const slope = Math.abs(absM(1 / K).slope);
    return { T: 1 / K, err: slope > 0 ? err / slope : Infinity };
  }
  const c = calibrate(source);
  const first = c.x[0] as number;
  const last = c.x[c.x.length - 1] as number;
  if (mean >= (c.y[0] as number)) return { T: first, err: 0, bound: 'below', limit: first };
  if (mean <= (c.y[c.y.length - 1] as number)) return { T: last, err: 0, bound: 'above', limit: last };
  let lo = first;
  let hi = last;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (hermite(c, mid).value > mean) lo = mid;
    else hi = mid;
  }
  const T = 0.5 * (lo + hi);
  const at = hermite(c, T);
  const refErr = (1 - at.s) * (c.err[at.k] as number) + at.s * (c.err[at.k + 1] as number);
  const slope = Math.abs(at.slope);
  return { T, err: slope > 0 ? Math.hypot(err, refErr) / slope : Infinity };
}

/** Thresholds of the `thermal` verdict (see readGeneration). */
export const THERMAL_LIMITS = {
  /** Largest |z| of the variance check and of the T_E–T_m agreement. */
  z: 5,
  /** Smallest p-value of the energy-histogram χ². */
  p: 1e-5,
} as const;

/** Energy variance against fluctuation–dissipation: N·var(e) observed vs T_E²·c(T_E). */
export interface VarianceCheck {
  /** N·var(e) of the generation (sample variance, n − 1). */
  observed: number;
  /** Its error (jackknife over the chains). */
  err: number;
  /** T_E²·c(T_E) = var(E)/N at equilibrium. */
  expected: number;
  /** Error of the expected value from err(T_E). */
  expectedErr: number;
  z: number;
}

/** Energy histogram against equilibrium at T_E. */
export interface HistogramCheck {
  chi2: number;
  dof: number;
  p: number;
  /** 'exact' (ring) or 'reweighted' (the scan's sample at Tref reweighted to T_E). */
  reference: 'exact' | 'reweighted';
  /** Scan temperature reweighted from. */
  Tref?: number;
  /** Effective size (Σw)²/Σw² of the reweighted reference sample. */
  effectiveSamples?: number;
}

/** Everything read from one generation. */
export interface GenerationReading {
  count: number;
  /** Mean energy per spin and its error. */
  energy: Estimate;
  /** Mean |m| and its error. */
  absM: Estimate;
  /** T from the mean energy. */
  TE: TemperatureReading;
  /** T from ⟨|m|⟩; null without a scan on the torus. */
  Tm: TemperatureReading | null;
  variance: VarianceCheck;
  /** Null when T_E is the ground state (nothing to compare) or on the torus without a scan. */
  histogram: HistogramCheck | null;
  /** z of T_E − T_m (one-sided against a bound); null without T_m. */
  agreement: { z: number } | null;
  /**
   * |variance.z| < THERMAL_LIMITS.z, histogram.p > THERMAL_LIMITS.p and |agreement.z| < THERMAL_LIMITS.z, each
   * where available.
   */
  thermal: boolean;
}

/** Options of readGeneration. */
export interface ReadOptions {
  /** Exact curve of the lattice (default exactCurve(lattice); pass it to reuse it across generations). */
  curve?: ExactCurve;
  /** Reference scan for T_m and the torus histogram (on the ring both are exact without one). */
  scan?: ReferenceScan;
  /**
   * Number of independent chains the configurations come from, interleaved (configuration i belongs to chain
   * i mod chains, as generateDataset and a batched flow store them); errors then come from the spread of the
   * per-chain values (a jackknife over chains). Default `count`: every configuration independent.
   */
  chains?: number;
}

/**
 * Reads a generation's temperature and checks that it is thermal. T_E from the mean energy (exact e(T)), T_m
 * from the mean |m| (scan, or exact on the ring); the checks:
 * - variance: z of N·var(e) against T_E²·c(T_E) (var(E) = T²C), error of the sample variance by jackknife,
 *   plus the expected value's spread from err(T_E);
 * - histogram: χ² of the total-energy histogram against equilibrium at T_E — the exact distribution on the ring,
 *   on the torus the scan's sample at the nearest temperature (in 1/T) reweighted by exp(−(1/T_E − 1/T_ref)E);
 *   bins merged in E order until each expects ≥ 5; χ² = Σ (o − np)²/(np + n²var(p)), var(p) the reweighted
 *   reference's own (delta-method) variance; dof = bins − 1 (T_E is fitted to the same data, which makes this
 *   slightly lenient); the histogram check assumes independent configurations;
 * - agreement: z = (T_E − T_m)/√(err_E² + err_m²).
 * `thermal` requires |z| < 5 for variance and agreement and p > 1e-5 (THERMAL_LIMITS): 4–5σ margins, so that
 * equilibrium batches of ~10³ configurations pass for any seed while a mixture of two temperatures (variance and
 * histogram off by tens of σ) fails. A ground-state generation (T_E bound 'ground') has variance 0 as expected.
 */
export function readGeneration(
  lattice: Lattice,
  spins: Spins,
  count: number,
  options: ReadOptions = {},
): GenerationReading {
  const N = latticeSites(lattice);
  const obs = configurationObservables(lattice, spins, count);
  const curve = options.curve ?? exactCurve(lattice);
  if (curve.sites !== N || curve.lattice.kind !== lattice.kind)
    throw new RangeError(
      `curve is for ${curve.lattice.kind} of ${curve.sites} spins, not ${lattice.kind} of ${N}`,
    );
  const scan = options.scan;
  if (scan) {
    checkScan(scan);
    if (latticeSites(scan.lattice) !== N || scan.lattice.kind !== lattice.kind)
      throw new RangeError(
        `scan is for a ${scan.lattice.kind} of ${latticeSites(scan.lattice)} spins, not ${N}`,
      );
  }
  const chains = options.chains ?? count;
  if (!Number.isInteger(chains) || chains < 2 || chains > count)
    throw new RangeError(`chains ${chains} must be an integer in 2 … count ${count}`);

  // Per-chain means of e − ē, (e − ē)², |m| (centred so the variance does not cancel digits).
  const eMean = obs.energy.reduce((a, b) => a + b, 0) / count;
  const groups = [new Float64Array(chains), new Float64Array(chains), new Float64Array(chains)];
  const sizes = new Float64Array(chains);
  for (let i = 0; i < count; i++) {
    const g = i % chains;
    const de = (obs.energy[i] as number) - eMean;
    add(groups[0] as Float64Array, g, de);
    add(groups[1] as Float64Array, g, de * de);
    add(groups[2] as Float64Array, g, obs.absM[i] as number);
    sizes[g] = (sizes[g] as number) + 1;
  }
  // Chains of unequal length (count not a multiple of chains) are weighted equally: a small bias, O(1/count).
  const perChain = Array.from({ length: chains }, (_, g) =>
    Float64Array.of(
      ((groups[0] as Float64Array)[g] as number) / (sizes[g] as number),
      ((groups[1] as Float64Array)[g] as number) / (sizes[g] as number),
      ((groups[2] as Float64Array)[g] as number) / (sizes[g] as number),
    ),
  );
  const eJack = jackknife(perChain, (x) => (x[0] as number) + eMean);
  const mJack = jackknife(perChain, (x) => x[2] as number);
  const nCorr = count / (count - 1);
  const vJack = jackknife(perChain, (x) => N * nCorr * ((x[1] as number) - (x[0] as number) ** 2));
  const energy = { mean: eMean, err: eJack.err };
  const absM = { mean: mJack.value, err: mJack.err };

  const TE = energyTemperature(curve, energy.mean, energy.err);
  const KE = TE.bound === 'ground' ? Infinity : TE.bound === 'infinite' ? 0 : 1 / TE.T;

  // Variance check.
  const expected = curve.atCoupling(KE).energyVariance;
  let expectedErr = 0;
  if (!TE.bound && Number.isFinite(TE.err)) {
    const h = 1e-4 * KE;
    const dVdK =
      (curve.atCoupling(KE + h).energyVariance - curve.atCoupling(KE - h).energyVariance) / (2 * h);
    expectedErr = Math.abs(dVdK) * KE * KE * TE.err; // dK = K² dT
  }
  const observed = vJack.value;
  const scale = Math.hypot(vJack.err, expectedErr);
  const diff = observed - expected;
  const variance: VarianceCheck = {
    observed,
    err: vJack.err,
    expected,
    expectedErr,
    z:
      scale > 0
        ? diff / scale
        : Math.abs(diff) <= 1e-12 * Math.max(1, expected)
          ? 0
          : Math.sign(diff) * Infinity,
  };

  // Histogram check.
  let histogram: HistogramCheck | null = null;
  if (TE.bound !== 'ground') {
    const levels = obs.energy.map((e) => Math.round(e * N));
    if (lattice.kind === 'ring' && curve.energyDistribution) {
      const dist = curve.energyDistribution(TE.bound === 'infinite' ? Infinity : TE.T);
      histogram = {
        ...chiSquareAgainst(
          levels,
          [...dist].map(([E, p]) => ({ E, w: p })),
          false,
        ),
        reference: 'exact',
      };
    } else if (scan) {
      const betas = scan.temperatures.map((t) => 1 / t);
      let r = 0;
      betas.forEach((b, i) => {
        if (Math.abs(b - KE) < Math.abs((betas[r] as number) - KE)) r = i;
      });
      const refE = Array.from(scan.energy[r] as Float64Array, (e) => Math.round(e * N));
      const dBeta = KE - (betas[r] as number);
      const eMin = Math.min(...refE);
      const w = refE.map((E) => Math.exp(-dBeta * (E - eMin)));
      const wMax = Math.max(...w);
      const ref = refE.map((E, j) => ({ E, w: (w[j] as number) / wMax }));
      const sw = ref.reduce((a, b) => a + b.w, 0);
      const sw2 = ref.reduce((a, b) => a + b.w * b.w, 0);
      histogram = {
        ...chiSquareAgainst(levels, ref, true),
        reference: 'reweighted',
        Tref: scan.temperatures[r] as number,
        effectiveSamples: (sw * sw) / sw2,
      };
    }
  }

  // Magnetisation thermometer and agreement.
  let Tm: TemperatureReading | null = null;
  if (scan) Tm = magnetizationTemperature(scan, absM.mean, absM.err);
  else if (curve.absMagnetization) Tm = magnetizationTemperature(curve, absM.mean, absM.err);
  const agreement = Tm ? { z: agreementZ(TE, Tm) } : null;

  const thermal =
    Math.abs(variance.z) < THERMAL_LIMITS.z &&
    (histogram === null || histogram.p > THERMAL_LIMITS.p) &&
    (agreement === null || Math.abs(agreement.z) < THERMAL_LIMITS.z);
  return { count, energy, absM, TE, Tm, variance, histogram, agreement, thermal };
}

function add(a: Float64Array, i: number, x: number): void {
  a[i] = (a[i] as number) + x;
}

/** z of two readings; against a bound it is one-sided (0 when the other reading lies on the bound's side). */
function agreementZ(a: TemperatureReading, b: TemperatureReading): number {
  const lowSide = (r: TemperatureReading): boolean => r.bound === 'ground' || r.bound === 'below';
  if (a.bound && b.bound) return lowSide(a) === lowSide(b) ? 0 : lowSide(a) ? -Infinity : Infinity;
  const [bounded, free, sign] = a.bound ? [a, b, 1] : b.bound ? [b, a, -1] : [null, a, 1];
  if (!bounded) {
    const s = Math.hypot(a.err, b.err);
    return s > 0 ? (a.T - b.T) / s : a.T === b.T ? 0 : Math.sign(a.T - b.T) * Infinity;
  }
  // The bounded reading says "T ≤ edge" (low side) or "T ≥ edge"; z of the free reading past that edge.
  const past = lowSide(bounded) ? free.T - bounded.T : bounded.T - free.T;
  if (past <= 0) return 0;
  const z = free.err > 0 ? past / free.err : Infinity;
  return sign * (lowSide(bounded) ? -z : z);
}

/**
 * χ² of observed total-energy levels against a reference given as weighted energy levels (an exact distribution,
 * or a reweighted sample when `sampled`: then each bin's own variance Σ w²(1_bin − p)²/(Σw)² adds n² var(p)).
 */
function chiSquareAgainst(
  levels: ArrayLike<number>,
  reference: readonly { E: number; w: number }[],
  sampled: boolean,
): { chi2: number; dof: number; p: number } {
  const n = levels.length;
  const W = reference.reduce((a, b) => a + b.w, 0);
  const expectedAt = new Map<number, number>();
  for (const { E, w } of reference) expectedAt.set(E, (expectedAt.get(E) ?? 0) + (n * w) / W);
  const observedAt = new Map<number, number>();
  for (let i = 0; i < n; i++)
    observedAt.set(levels[i] as number, (observedAt.get(levels[i] as number) ?? 0) + 1);
  const all = [...new Set([...expectedAt.keys(), ...observedAt.keys()])].sort((a, b) => a - b);
  // Bins: contiguous ranges of levels, each expecting ≥ 5; a short remainder joins the last bin.
  const upper: number[] = []; // highest level of each bin
  let acc = 0;
  for (const E of all) {
    acc += expectedAt.get(E) ?? 0;
    if (acc >= 5) {
      upper.push(E);
      acc = 0;
    }
  }
  if (upper.length === 0) return { chi2: 0, dof: 0, p: 1 };
  upper[upper.length - 1] = all[all.length - 1] as number;
  const bins = upper.length;
  const binOf = (E: number): number => {
    let lo = 0;
    let hi = bins - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (E <= (upper[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const obs = new Float64Array(bins);
  const prob = new Float64Array(bins);
  for (const [E, o] of observedAt) add(obs, binOf(E), o);
  for (const { E, w } of reference) add(prob, binOf(E), w / W);
  const varP = new Float64Array(bins);
  if (sampled) {
    for (const { E, w } of reference) {
      const b = binOf(E);
      for (let k = 0; k < bins; k++) add(varP, k, (w * ((k === b ? 1 : 0) - (prob[k] as number))) ** 2);
    }
    for (let k = 0; k < bins; k++) varP[k] = (varP[k] as number) / (W * W);
  }
  let chi2 = 0;
  for (let k = 0; k < bins; k++) {
    const e = n * (prob[k] as number);
    const v = e + n * n * (varP[k] as number);
    if (v > 0) chi2 += ((obs[k] as number) - e) ** 2 / v;
    else if ((obs[k] as number) > 0) chi2 = Infinity;
  }
  const dof = bins - 1;
  return { chi2, dof, p: dof > 0 ? chiSquareSurvival(chi2, dof) : 1 };
}

/**
 * Mean over independent groups of chains, each group's values (e.g. its T readings of the last G generations)
 * averaged first; err is the standard error over groups (generations within a group are correlated, so their
 * spread is not used). Needs ≥ 2 groups with finite values.
 * @example meanOverGroups([[2.4, 2.5], [2.3, 2.4]]) // { mean: 2.4, err: 0.05 }
 */
export function meanOverGroups(groups: readonly (readonly number[])[]): Estimate {
  if (groups.length < 2) throw new RangeError(`meanOverGroups needs ≥ 2 groups; got ${groups.length}`);
  const means = groups.map((values, g) => {
    if (values.length === 0) throw new RangeError(`group ${g} has no values; needs ≥ 1`);
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new RangeError(`group ${g} value ${i} = ${v} is not finite`);
    });
    return values.reduce((a, b) => a + b, 0) / values.length;
  });
  const { mean, err } = meanAndError(means);
  return { mean, err };
}

/**
 * Exact ln Z of a lattice at coupling K > 0: isingRing on the ring; Kaufman on the torus, and above K = 3 (where
 * its terms lose digits) the low-temperature form ln 2 + 2NK + ln(1 + N e^{−8K}) (one flipped spin; the next
 * terms are below 10⁻⁸ relative there).
 */
export function exactLogPartition(lattice: Lattice, K: number): number {
  const N = latticeSites(lattice);
  if (!(K > 0) || !Number.isFinite(K)) throw new RangeError(`coupling K = ${K} must be finite and > 0`);
  if (lattice.kind === 'ring') return isingRing(K, N).lnZ;
  if (K <= KAUFMAN_K_HIGH) return kaufman(K, lattice.L, lattice.L).lnZ;
  return Math.LN2 + 2 * N * K + Math.log1p(N * Math.exp(-TORUS_GAP * K));
}

/**
 * The best accuracy any classifier of temperature can reach on configurations drawn equally from the classes
 * `classT` (0 = the two ground states): the energy is a sufficient statistic, p(s | T) = e^{−E/T}/Z(T), so the
 * posterior over the classes is exact, and the Bayes accuracy is the mean over configurations of the largest
 * posterior (an unbiased estimate from held-out equilibrium data; err = its standard error). `spins` holds
 * `count` configurations of each class in class order (`count × N` per class).
 */
export function bayesClassifierAccuracy(
  lattice: Lattice,
  spins: readonly Spins[],
  count: number,
  classT: readonly number[],
): Estimate {
  const N = latticeSites(lattice);
  if (spins.length !== classT.length)
    throw new RangeError(`${spins.length} sets of configurations for ${classT.length} classes`);
  const ground = lattice.kind === 'ring' ? -N : -2 * N;
  const logZ = classT.map((T) => {
    if (!(T >= 0) || !Number.isFinite(T))
      throw new RangeError(`class temperature ${T} must be finite and ≥ 0`);
    return T === 0 ? 0 : exactLogPartition(lattice, 1 / T);
  });
  const best: number[] = [];
  const logp = new Float64Array(classT.length);
  for (const set of spins) {
    const { energy } = configurationObservables(lattice, set, count);
    for (const e of energy) {
      const E = Math.round(e * N);
      // Log-likelihood of the configuration under each class (T = 0: ½ on each ground state, else 0).
      let top = -Infinity;
      classT.forEach((T, c) => {
        logp[c] = T === 0 ? (E === ground ? -Math.LN2 : -Infinity) : -E / T - logZ[c]!;
        top = Math.max(top, logp[c]!);
      });
      let sum = 0;
      for (let c = 0; c < classT.length; c++) sum += Math.exp(logp[c]! - top);
      best.push(1 / sum);
    }
  }
  const { mean, err } = meanAndError(best);
  return { mean, err };
}
