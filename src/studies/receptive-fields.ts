/**
 * Receptive fields of a deep belief network on an L×L torus and their size, on the CPU (Mehta & Schwab,
 * `reproduce mehta-schwab`): the field of a unit of layer l is its column of the product W1·W2·…·Wl of the
 * layers' weights (each [n_{l−1} × n_l], row-major), a map over the lattice's sites; its size is the
 * half-mass radius: the radius of the torus disc around the field's centre that holds half of Σ|w|.
 *
 * Definitions (fixed before any run):
 * - centre: the |w|-weighted circular mean on each axis, c = (L/2π) · atan2(Σ|w| sin(2πx/L), Σ|w| cos(2πx/L)),
 *   which handles the wrap-around; when the resultant on an axis vanishes (a field spread evenly along it)
 *   the coordinate of the site of largest |w| is used instead.
 * - distance: the torus distance d = √(dx² + dy²), dx = min(|x − cx| mod L, L − |x − cx| mod L).
 * - radius: the inverse of the cumulative |w| mass M(d) at ½ Σ|w|, with M taken piecewise linear between
 *   consecutive distinct site distances (and M = 0 at d = 0): a continuous number that a single site gives as
 *   0, a 2×2 block as √2/4 ≈ 0.354 and a uniform field on 40×40 as ≈ √(800/π) ≈ 16.
 */
import { meanError } from '../stats/index.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';
import { seedKey } from '../gpu/rng.ts';

/**
 * The products P_l = W1·…·Wl for l = 1 … layers, each [n_0 × n_l] row-major (column j = the field of unit j
 * of layer l), in double precision.
 *
 * @example
 * const [P1, P2] = receptiveFields([W1, W2], [1600, 400, 100]); // P2 is 1600 × 100
 */
export function receptiveFields(
  weights: readonly ArrayLike<number>[],
  widths: readonly number[],
): Float64Array[] {
  if (widths.length !== weights.length + 1)
    throw new RangeError(
      `${weights.length} weight matrices need ${weights.length + 1} widths, got ${widths.length}`,
    );
  const n0 = widths[0]!;
  const out: Float64Array[] = [];
  let prev: Float64Array | null = null;
  weights.forEach((W, l) => {
    const a = widths[l]!;
    const b = widths[l + 1]!;
    if (W.length !== a * b)
      throw new RangeError(`weights[${l}] has ${W.length} entries; ${a} × ${b} needs ${a * b}`);
    const P = new Float64Array(n0 * b);
    if (!prev) {
      for (let i = 0; i < a * b; i++) P[i] = W[i]!;
    } else {
      // P[i, j] = Σ_k prev[i, k] W[k, j]
      for (let i = 0; i < n0; i++) {
        const row = i * b;
        for (let k = 0; k < a; k++) {
          const p = prev[i * a + k]!;
          if (p === 0) continue;
          const wk = k * b;
          for (let j = 0; j < b; j++) P[row + j]! += p * W[wk + j]!;
        }
      }
    }
    out.push(P);
    prev = P;
  });
  return out;
}

/** Column `j` of a [rows × cols] row-major matrix. */
export function column(P: ArrayLike<number>, rows: number, cols: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = P[i * cols + j]!;
  return out;
}

/** The |w|-weighted circular centre (row, col) of a field on an L×L torus (see the module comment). */
export function torusCentre(field: ArrayLike<number>, L: number): { row: number; col: number } {
  let sr = 0;
  let cr = 0;
  let sc = 0;
  let cc = 0;
  let mass = 0;
  let peak = 0;
  let peakAbs = -1;
  const w = (2 * Math.PI) / L;
  for (let i = 0; i < L * L; i++) {
    const m = Math.abs(field[i]!);
    if (m > peakAbs) {
      peakAbs = m;
      peak = i;
    }
    if (m === 0) continue;
    const r = Math.floor(i / L);
    const c = i % L;
    sr += m * Math.sin(w * r);
    cr += m * Math.cos(w * r);
    sc += m * Math.sin(w * c);
    cc += m * Math.cos(w * c);
    mass += m;
  }
  const axis = (s: number, co: number, fallback: number) => {
    if (!(Math.hypot(s, co) > 1e-9 * mass)) return fallback;
    const a = Math.atan2(s, co) / w;
    return a < 0 ? a + L : a;
  };
  return { row: axis(sr, cr, Math.floor(peak / L)), col: axis(sc, cc, peak % L) };
}

/** Torus distance on one axis of length L. */
function axisDistance(a: number, b: number, L: number): number {
  const d = Math.abs(a - b) % L;
  return Math.min(d, L - d);
}

/**
 * The half-mass radius of `field` (L×L, row-major) on the torus around `centre` (default {@link torusCentre}):
 * see the module comment. A field of all zeros has radius NaN.
 *
 * @example
 * halfMassRadius(blockField(40, 2, 10, 10), 40); // √2/4 ≈ 0.354
 */
export function halfMassRadius(
  field: ArrayLike<number>,
  L: number,
  centre: { row: number; col: number } = torusCentre(field, L),
): number {
  const n = L * L;
  if (field.length !== n) throw new RangeError(`field has ${field.length} values; ${L}×${L} needs ${n}`);
  const d = new Float64Array(n);
  const m = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / L);
    const c = i % L;
    d[i] = Math.hypot(axisDistance(r, centre.row, L), axisDistance(c, centre.col, L));
    m[i] = Math.abs(field[i]!);
    total += m[i]!;
  }
  if (!(total > 0)) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  const half = total / 2;
  let prevD = 0;
  let prevM = 0;
  for (let k = 0; k < n;) {
    // One group: every site at (numerically) the same distance.
    const dist = d[order[k]!]!;
    let mass = prevM;
    while (k < n && d[order[k]!]! - dist < 1e-9) mass += m[order[k++]!]!;
    if (mass >= half * (1 - 1e-12)) {
      const share = mass > prevM ? (half - prevM) / (mass - prevM) : 1;
      return prevD + Math.min(1, Math.max(0, share)) * (dist - prevD);
    }
    prevD = dist;
    prevM = mass;
  }
  return prevD;
}

/** The half-mass radius of every column of P [L² × units]. */
export function fieldRadii(P: ArrayLike<number>, L: number, units: number): Float64Array {
  const out = new Float64Array(units);
  for (let j = 0; j < units; j++) out[j] = halfMassRadius(column(P, L * L, units, j), L);
  return out;
}

/** An ideal b×b block spin's field on the L×L torus: 1 on the block whose top-left site is (row, col). */
export function blockField(L: number, b: number, row = 0, col = 0): Float64Array {
  const f = new Float64Array(L * L);
  for (let r = 0; r < b; r++) for (let c = 0; c < b; c++) f[((row + r) % L) * L + ((col + c) % L)] = 1;
  return f;
}

/** The half-mass radius of an ideal b×b block spin on the L×L torus. */
export function blockSpinRadius(L: number, b: number): number {
  return halfMassRadius(blockField(L, b), L);
}

/** The half-mass radius of a completely delocalised (uniform) field on the L×L torus. */
export function uniformRadius(L: number): number {
  return halfMassRadius(new Float64Array(L * L).fill(1), L);
}

/** A uniformly random permutation of 0 … n−1 (Fisher–Yates on Philox numbers from `seed` and `stream`). */
export function randomPermutation(n: number, seed: number, stream = 0): Uint32Array {
  const key = seedKey(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(
      unitFloat(philox4x32([i >>> 0, stream >>> 0, 0x4d53, 0x52464c57], key)[0]) * (i + 1),
    );
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** The entries of `values` in a random order (the multiset is kept): the permuted-weights null. */
export function permuteEntries(values: ArrayLike<number>, seed: number, stream = 0): Float32Array {
  const p = randomPermutation(values.length, seed, stream);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[p[i]!]!;
  return out;
}

/**
 * Reorders the rows (sites) of a [sites × units] matrix: row i of the result is row perm[i] of P. With perm the
 * data's site shuffle (network input i = lattice site perm[i]), this maps fields from the network's coordinates
 * back to the lattice's (`unscramble`) — out[perm[i]] = P[i] — or the other way.
 */
export function unscrambleRows(P: ArrayLike<number>, perm: ArrayLike<number>, units: number): Float64Array {
  const sites = perm.length;
  const out = new Float64Array(sites * units);
  for (let i = 0; i < sites; i++) {
    const to = perm[i]! * units;
    for (let j = 0; j < units; j++) out[to + j] = P[i * units + j]!;
  }
  return out;
}

/**
 * The mean |cosine similarity| over all pairs of columns of P [sites × units]: 0 for disjoint block spins,
 * ≈ 1/√sites for independent random fields, 1 when every unit has the same field (up to sign and scale).
 * NaN with fewer than two units.
 */
export function meanAbsCosine(P: ArrayLike<number>, sites: number, units: number): number {
  if (units < 2) return NaN;
  const cols = Array.from({ length: units }, (_, j) => column(P, sites, units, j));
  const norms = cols.map((c) => Math.hypot(...c));
  let sum = 0;
  for (let a = 0; a < units; a++)
    for (let b = a + 1; b < units; b++) {
      const x = cols[a]!;
      const y = cols[b]!;
      let dot = 0;
      for (let i = 0; i < sites; i++) dot += x[i]! * y[i]!;
      sum += norms[a]! > 0 && norms[b]! > 0 ? Math.abs(dot) / (norms[a]! * norms[b]!) : 0;
    }
  return sum / ((units * (units - 1)) / 2);
}

/** Median of a list (NaNs dropped; NaN when empty). */
export function median(values: ArrayLike<number>): number {
  const v = Array.from(values)
    .filter((x) => !Number.isNaN(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

/** Mean and standard error of the mean (0 for one value). */
export function meanErr(values: readonly number[]): { value: number; err: number } {
  const e = meanError(values);
  return { value: e.mean, err: e.err };
}
