/**
 * Exact results for the Ising model (PHYSICS.md, "2D Ising, exact results"), all in f64:
 * Onsager's infinite-lattice energy and magnetisation, Kaufman's finite-torus partition function with analytic
 * first and second derivatives, brute-force enumeration of small lattices, the 1D ring correlation and the
 * decimation map. Conventions: J = 1, k_B = 1, K = β, E = −Σ⟨ij⟩ s_i s_j − h Σ s_i, periodic boundaries.
 */

/** Critical coupling K_c = ½ ln(1 + √2). */
export const K_C = 0.5 * Math.log1p(Math.SQRT2);

/** Critical temperature T_c = 1/K_c. */
export const T_C = 1 / K_C;

/** Largest lattice enumerateIsing accepts (2^20 states). */
export const MAX_ENUMERATION_SPINS = 20;

function checkPositiveCoupling(K: number): void {
  if (!Number.isFinite(K) || K <= 0) throw new RangeError(`coupling K = ${K} must be finite and > 0`);
}

function checkFinite(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} = ${value} is not finite`);
}

/** Arithmetic–geometric mean of a, b ≥ 0 (iterates to a relative 2⁻⁵² agreement). */
function agm(a: number, b: number): number {
  for (let i = 0; i < 64 && Math.abs(a - b) > 2 ** -52 * a; i++) {
    const next = 0.5 * (a + b);
    b = Math.sqrt(a * b);
    a = next;
  }
  return 0.5 * (a + b);
}

/** Complete elliptic integral of the first kind K(k) = ∫₀^{π/2} dθ/√(1 − k² sin²θ) = π/(2·AGM(1, √(1−k²))), |k| ≤ 1. */
export function completeEllipticK(k: number): number {
  if (!(Math.abs(k) <= 1)) throw new RangeError(`elliptic modulus k = ${k} must lie in [−1, 1]`);
  const kp = Math.sqrt((1 - k) * (1 + k));
  return kp === 0 ? Infinity : Math.PI / (2 * agm(1, kp));
}

/**
 * Onsager's energy per spin of the infinite square lattice, u(K) = −coth 2K [1 + (2/π)(2 tanh² 2K − 1) K(k)].
 * The complementary modulus k′ = |sinh² 2K − 1|/cosh² 2K is formed directly (no 1 − k² cancellation), and at
 * K_c, where K(k) diverges and its prefactor vanishes, the product is taken as its limit 0, so u(K_c) = −√2.
 * Relative accuracy ~1e-15, degrading as ~1e-16/K² for K ≪ 1 (u → −2K there).
 */
export function onsagerEnergy(K: number): number {
  checkPositiveCoupling(K);
  const s = Math.sinh(2 * K);
  const t = Math.tanh(2 * K);
  // k′ = |s² − 1|/c² written two ways so neither overflows (large K) nor underflows (small K).
  const kp = s < 1 ? (1 - s * s) * (1 - t * t) : (1 - 1 / (s * s)) * t * t;
  // (2/π)(2 tanh² 2K − 1) K(k) = sign(s − 1)·k′/AGM(1, k′).
  const term = kp === 0 ? 0 : (Math.sign(s - 1) * kp) / agm(1, kp);
  return -(1 + term) / t;
}

/** Onsager–Yang spontaneous magnetisation (1 − sinh⁻⁴ 2K)^{1/8} for K > K_c, 0 for K ≤ K_c. */
export function onsagerMagnetization(K: number): number {
  checkPositiveCoupling(K);
  if (K <= K_C) return 0;
  const s = Math.sinh(2 * K);
  return Math.max(0, 1 - 1 / s ** 4) ** 0.125;
}

/** Exact thermodynamics of a finite periodic lattice. */
export interface KaufmanResult {
  /** ln Z. */
  lnZ: number;
  /** ⟨E⟩/N = −(1/N) ∂lnZ/∂K. */
  energyPerSpin: number;
  /** C/N = (K²/N) ∂²lnZ/∂K². */
  specificHeatPerSpin: number;
}

/** ln Z of a product of factors, with its first and second K-derivatives. */
interface LogProduct {
  log: number;
  d1: number;
  d2: number;
}

/**
 * Kaufman's exact partition function of the m×n periodic Ising torus (h = 0) with analytic derivatives.
 * Z = ½ (2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4), Z1 = Π_{r<n} 2cosh(m γ_{2r+1}/2), Z2 = Π 2sinh(m γ_{2r+1}/2),
 * Z3 = Π 2cosh(m γ_{2r}/2), Z4 = Π 2sinh(m γ_{2r}/2), cosh γ_l = cosh 2K coth 2K − cos(πl/n), and
 * γ_0 = 2K + ln tanh K with its sign (so Z4 < 0 above T_c and Z4 = 0 at K_c). The four terms are combined in
 * log-sum-exp form keeping Z4's sign; the factor 2 sinh(m γ_0/2) is carried separately so its zero at K_c leaves
 * ∂Z4/∂K finite. For m = 2 (or n = 2) the result counts each neighbour pair twice, like enumerateIsing.
 * Cost O(n); m and n may be any integers ≥ 2 (the result is symmetric in them).
 */
export function kaufman(K: number, m: number, n: number): KaufmanResult {
  checkPositiveCoupling(K);
  for (const [name, v] of [
    ['m', m],
    ['n', n],
  ] as const) {
    if (!Number.isInteger(v) || v < 2)
      throw new RangeError(`torus side ${name} = ${v} must be an integer ≥ 2`);
  }
  const N = m * n;
  const S = Math.sinh(2 * K);
  const C = Math.cosh(2 * K);
  // c(K) = cosh 2K coth 2K = S + 1/S; cosh γ_l = c − cos θ_l, so γ_l′ = c′/sinh γ_l, γ_l″ = (c″ − cosh γ_l γ_l′²)/sinh γ_l.
  const c1 = (2 * C * (S * S - 1)) / (S * S);
  const c2 = 4 * S + 4 / S + 8 / (S * S * S);
  const base = (S - 1) ** 2 / S; // c − 2 ≥ 0, exact form (no cancellation near K_c)
  const half = m / 2;

  const z1: LogProduct = { log: 0, d1: 0, d2: 0 }; // 2cosh, odd l
  const z2: LogProduct = { log: 0, d1: 0, d2: 0 }; // 2sinh, odd l
  const z3: LogProduct = { log: 0, d1: 0, d2: 0 }; // 2cosh, even l
  const rest4: LogProduct = { log: 0, d1: 0, d2: 0 }; // 2sinh, even l ≠ 0
  let x0 = 0;
  let x0d1 = 0;
  let x0d2 = 0;

  for (let l = 0; l < 2 * n; l++) {
    let g: number;
    let g1: number;
    let g2: number;
    if (l === 0) {
      // ln tanh K = ln(1 − e^{−2K}) − ln(1 + e^{−2K}), accurate for all K > 0.
      g = 2 * K + Math.log(-Math.expm1(-2 * K)) - Math.log1p(Math.exp(-2 * K));
      g1 = 2 + 2 / S;
      g2 = (-4 * C) / (S * S);
    } else {
      // cosh γ − 1 = (c − 2) + 2 sin²(θ/2) > 0, formed without cancellation.
      const u = base + 2 * Math.sin((Math.PI * l) / (2 * n)) ** 2;
      const sh = u * Math.sqrt(1 + 2 / u); // sinh γ = √(u(u + 2))
      g = Math.log1p(u + sh);
      g1 = c1 / sh;
      g2 = (c2 - (1 + u) * g1 * g1) / sh;
    }
    const x = half * g;
    const xd1 = half * g1;
    const xd2 = half * g2;
    const cosh = coshFactor(x, xd1, xd2);
    addTo(l % 2 === 1 ? z1 : z3, cosh);
    if (l === 0) {
      x0 = x;
      x0d1 = xd1;
      x0d2 = xd2;
    } else {
      addTo(l % 2 === 1 ? z2 : rest4, sinhFactor(x, xd1, xd2));
    }
  }

  // Every term written as Z_i = e^{L_i}·z_i with derivatives e^{L_i}·z_i′, e^{L_i}·z_i″. Derivatives are shifted
  // by a = (ln Z1)′: with D_i = Z_i′ − aZ_i and M_i = Z_i″ − 2aZ_i′ + a²Z_i,
  // (ln ΣZ)′ = a + ΣD/ΣZ and (ln ΣZ)″ = ΣM/ΣZ − (ΣD/ΣZ)², which avoids cancelling O(N²) against O(N²).
  const a = z1.d1;
  const terms = [z1, z2, z3].map((z) => ({
    L: z.log,
    z: 1,
    D: z.d1 - a,
    M: z.d2 + (z.d1 - a) ** 2,
  }));
  // Z4 = e^{ln R}·2sinh(x0), 2sinh(x0) = e^{|x0|}·sign(x0)(1 − e^{−2|x0|}), 2cosh(x0) = e^{|x0|}(1 + e^{−2|x0|}).
  const q0 = Math.exp(-2 * Math.abs(x0));
  const sh0 = Math.sign(x0) * -Math.expm1(-2 * Math.abs(x0));
  const f1 = (1 + q0) * x0d1; // (2sinh x0)′ / e^{|x0|}
  const f2 = sh0 * x0d1 * x0d1 + (1 + q0) * x0d2; // (2sinh x0)″ / e^{|x0|}
  const dr = rest4.d1 - a;
  terms.push({
    L: rest4.log + Math.abs(x0),
    z: sh0,
    D: f1 + sh0 * dr,
    M: f2 + 2 * f1 * dr + sh0 * (rest4.d2 + dr * dr),
  });
  const lmax = Math.max(...terms.map((t) => t.L));
  let zs = 0;
  let ds = 0;
  let ms = 0;
  for (const t of terms) {
    const w = Math.exp(t.L - lmax);
    zs += w * t.z;
    ds += w * t.D;
    ms += w * t.M;
  }
  const lnZsum = lmax + Math.log(zs);
  const dlnZsum = a + ds / zs;
  const d2lnZsum = ms / zs - (ds / zs) ** 2;
  // ln(2 sinh 2K) = 2K + ln(1 − e^{−4K}).
  const lnZ = -Math.LN2 + (N / 2) * (2 * K + Math.log(-Math.expm1(-4 * K))) + lnZsum;
  const dlnZ = N / Math.tanh(2 * K) + dlnZsum;
  const d2lnZ = (-2 * N) / (S * S) + d2lnZsum;
  return { lnZ, energyPerSpin: -dlnZ / N, specificHeatPerSpin: (K * K * d2lnZ) / N };
}

/** ln 2cosh x with first and second K-derivatives, given x(K), x′, x″ (stable for any |x|). */
function coshFactor(x: number, x1: number, x2: number): LogProduct {
  const ax = Math.abs(x);
  const q = Math.exp(-2 * ax);
  const th = (Math.sign(x) * -Math.expm1(-2 * ax)) / (1 + q);
  const sech2 = (4 * q) / (1 + q) ** 2;
  return { log: ax + Math.log1p(q), d1: th * x1, d2: sech2 * x1 * x1 + th * x2 };
}

/** ln 2sinh x (x > 0) with first and second K-derivatives. */
function sinhFactor(x: number, x1: number, x2: number): LogProduct {
  const q = Math.exp(-2 * x);
  const om = -Math.expm1(-2 * x); // 1 − q, accurate for small x
  const coth = (1 + q) / om;
  const csch2 = (4 * q) / (om * om);
  return { log: x + Math.log(om), d1: coth * x1, d2: -csch2 * x1 * x1 + coth * x2 };
}

function addTo(acc: LogProduct, f: LogProduct): void {
  acc.log += f.log;
  acc.d1 += f.d1;
  acc.d2 += f.d2;
}

/** Exact results of a brute-force enumeration. */
export interface EnumerationResult {
  /** Number of spins Lx·Ly. */
  N: number;
  lnZ: number;
  /** ⟨E⟩/N. */
  energyPerSpin: number;
  /** K²(⟨E²⟩ − ⟨E⟩²)/N. */
  specificHeatPerSpin: number;
  /** ⟨m⟩, m = M/N. */
  magnetization: number;
  /** ⟨|m|⟩. */
  absMagnetization: number;
  /** ⟨m²⟩. */
  m2: number;
  /** ⟨m⁴⟩. */
  m4: number;
  /**
   * Total energy E = −Σ bonds − hM → probability, in increasing E. Keys are computed once per (bond sum, M) as
   * −B − h·M in f64: integers for h = 0; for h ≠ 0 match them with a tolerance, not by identity.
   */
  energyHistogram: Map<number, number>;
  /** Total magnetisation M = Σ s → probability, in increasing M. */
  magnetizationHistogram: Map<number, number>;
}

/**
 * Brute-force enumeration of all 2^N states of the Lx×Ly periodic lattice (N ≤ 20) at coupling K and field h:
 * E = −Σ_{x,y} s(x,y)[s(x+1,y) + s(x,y+1)] − h Σ s, indices mod Lx, Ly. That sum has 2N terms; on a side of
 * length 2 the right and left neighbours coincide and the pair is counted twice (the engine's convention, and
 * the one Kaufman's formula follows). K and h may be any finite numbers (K ≤ 0 is antiferromagnetic).
 * Visits states in Gray-code order (one spin flip each), so 4×5 takes a few milliseconds.
 */
export function enumerateIsing(Lx: number, Ly: number, K: number, h = 0): EnumerationResult {
  for (const [name, v] of [
    ['Lx', Lx],
    ['Ly', Ly],
  ] as const) {
    if (!Number.isInteger(v) || v < 2)
      throw new RangeError(`lattice side ${name} = ${v} must be an integer ≥ 2`);
  }
  const N = Lx * Ly;
  if (N > MAX_ENUMERATION_SPINS) {
    throw new RangeError(
      `lattice ${Lx}×${Ly} has N = ${N} spins; enumeration allows at most ${MAX_ENUMERATION_SPINS}`,
    );
  }
  checkFinite(K, 'coupling K');
  checkFinite(h, 'field h');

  const right = new Int32Array(N);
  const left = new Int32Array(N);
  const down = new Int32Array(N);
  const up = new Int32Array(N);
  for (let y = 0; y < Ly; y++) {
    for (let x = 0; x < Lx; x++) {
      const i = y * Lx + x;
      right[i] = y * Lx + ((x + 1) % Lx);
      left[i] = y * Lx + ((x + Lx - 1) % Lx);
      down[i] = ((y + 1) % Ly) * Lx + x;
      up[i] = ((y + Ly - 1) % Ly) * Lx + x;
    }
  }
  // counts[(B + 2N)·(2N + 1) + (M + N)] = number of states with bond sum B and magnetisation M (exact integers).
  const width = 2 * N + 1;
  const counts = new Float64Array((4 * N + 1) * width);
  const s = new Int8Array(N).fill(1);
  let B = 2 * N;
  let M = N;
  counts[(B + 2 * N) * width + (M + N)] = 1;
  const states = 2 ** N;
  for (let g = 1; g < states; g++) {
    const i = 31 - Math.clz32(g & -g); // Gray code: step g flips the lowest set bit of g
    const si = s[i] as number;
    const nb = (s[right[i] as number] as number) + (s[left[i] as number] as number);
    const nbv = (s[down[i] as number] as number) + (s[up[i] as number] as number);
    B -= 2 * si * (nb + nbv);
    M -= 2 * si;
    s[i] = -si;
    const idx = (B + 2 * N) * width + (M + N);
    counts[idx] = (counts[idx] as number) + 1;
  }

  const cells: { E: number; M: number; logw: number }[] = [];
  let lmax = -Infinity;
  for (let b = -2 * N; b <= 2 * N; b++) {
    for (let mm = -N; mm <= N; mm++) {
      const count = counts[(b + 2 * N) * width + (mm + N)] as number;
      if (count === 0) continue;
      const logw = Math.log(count) + K * b + K * h * mm;
      cells.push({ E: -b - h * mm, M: mm, logw });
      if (logw > lmax) lmax = logw;
    }
  }
  let z = 0;
  for (const c of cells) z += Math.exp(c.logw - lmax);
  const lnZ = lmax + Math.log(z);
  const p = cells.map((c) => Math.exp(c.logw - lnZ));
  let eMean = 0;
  let mMean = 0;
  let absMean = 0;
  let m2 = 0;
  let m4 = 0;
  cells.forEach((c, k) => {
    const pk = p[k] as number;
    const mps = c.M / N;
    eMean += pk * c.E;
    mMean += pk * mps;
    absMean += pk * Math.abs(mps);
    m2 += pk * mps * mps;
    m4 += pk * mps ** 4;
  });
  let eVar = 0;
  cells.forEach((c, k) => (eVar += (p[k] as number) * (c.E - eMean) ** 2));

  const byEnergy = new Map<number, number>();
  const byMagnetization = new Map<number, number>();
  cells.forEach((c, k) => {
    byEnergy.set(c.E, (byEnergy.get(c.E) ?? 0) + (p[k] as number));
    byMagnetization.set(c.M, (byMagnetization.get(c.M) ?? 0) + (p[k] as number));
  });
  const sorted = (map: Map<number, number>): Map<number, number> =>
    new Map([...map].sort((x, y) => x[0] - y[0]));
  return {
    N,
    lnZ,
    energyPerSpin: eMean / N,
    specificHeatPerSpin: (K * K * eVar) / N,
    magnetization: mMean,
    absMagnetization: absMean,
    m2,
    m4,
    energyHistogram: sorted(byEnergy),
    magnetizationHistogram: sorted(byMagnetization),
  };
}

/** Spin–spin correlation ⟨s₀ s_x⟩ = (t^x + t^{N−x})/(1 + t^N), t = tanh K, on a periodic ring of N spins (h = 0). */
export function ringCorrelation(K: number, N: number, x: number): number {
  checkFinite(K, 'coupling K');
  if (!Number.isInteger(N) || N < 2) throw new RangeError(`ring length N = ${N} must be an integer ≥ 2`);
  if (!Number.isInteger(x) || x < 0 || x > N)
    throw new RangeError(`distance x = ${x} must be an integer in [0, ${N}]`);
  const t = Math.tanh(K);
  return (t ** x + t ** (N - x)) / (1 + t ** N);
}

/**
 * Coupling after decimating every other spin of a 1D chain, K′ = atanh(tanh² K) = ½ ln cosh 2K
 * (e.g. decimatedCoupling(1) = 0.662501374). Uses the first form for |K| < 1 and the second (overflow-free) above.
 */
export function decimatedCoupling(K: number): number {
  checkFinite(K, 'coupling K');
  const a = Math.abs(K);
  if (a < 1) return Math.atanh(Math.tanh(a) ** 2);
  // ½ ln cosh 2K = K − ½ ln 2 + ½ ln(1 + e^{−4K}).
  return a - 0.5 * Math.LN2 + 0.5 * Math.log1p(Math.exp(-4 * a));
}

/** Largest ring isingRing accepts (its ⟨|m|⟩ table costs O(N²) once per N). */
export const MAX_RING_SPINS = 4096;

/** Exact thermodynamics of a periodic ring of N spins (h = 0). */
export interface RingResult {
  lnZ: number;
  /** ⟨E⟩/N = −(t + t^{N−1})/(1 + t^N), t = tanh K. */
  energyPerSpin: number;
  /** C/N = K² var(E)/N. */
  specificHeatPerSpin: number;
  /** var(E)/N = T² C/N, finite at K = 0 (1 for N ≥ 3). */
  energyVariancePerSpin: number;
  /** ⟨|m|⟩, m = Σs/N. */
  absMagnetization: number;
  /** d⟨|m|⟩/dK = −cov(|m|, E). */
  absMagnetizationSlope: number;
}

/** Per ring length: ln of the number of states with 2k domain walls, and ⟨|m|⟩ among them (k = 0 … ⌊N/2⌋). */
const ringTables = new Map<number, { lnStates: Float64Array; absM: Float64Array }>();

function ringTable(N: number): { lnStates: Float64Array; absM: Float64Array } {
  const cached = ringTables.get(N);
  if (cached) return cached;
  const lnFact = new Float64Array(N + 1);
  for (let j = 1; j <= N; j++) lnFact[j] = (lnFact[j - 1] as number) + Math.log(j);
  const lnChoose = (n: number, j: number): number =>
    (lnFact[n] as number) - (lnFact[j] as number) - (lnFact[n - j] as number);
  const kMax = Math.floor(N / 2);
  const lnStates = new Float64Array(kMax + 1);
  const absM = new Float64Array(kMax + 1);
  absM[0] = 1;
  lnStates[0] = Math.LN2;
  for (let k = 1; k <= kMax; k++) {
    // 2k walls: k runs of up spins (a in all) and k of down spins around the ring, (N/k)·C(a−1,k−1)·C(N−a−1,k−1)
    // ways; summed over a that is 2·C(N, 2k).
    const lnTotal = Math.LN2 + lnChoose(N, 2 * k);
    lnStates[k] = lnTotal;
    let sum = 0;
    for (let a = k; a <= N - k; a++) {
      const ln = Math.log(N / k) + lnChoose(a - 1, k - 1) + lnChoose(N - a - 1, k - 1) - lnTotal;
      sum += Math.exp(ln) * Math.abs(2 * a - N);
    }
    absM[k] = sum / N;
  }
  const table = { lnStates, absM };
  ringTables.set(N, table);
  return table;
}

function checkRing(K: number, N: number): void {
  if (!Number.isFinite(K) || K < 0) throw new RangeError(`coupling K = ${K} must be finite and ≥ 0`);
  if (!Number.isInteger(N) || N < 2 || N > MAX_RING_SPINS)
    throw new RangeError(`ring length N = ${N} must be an integer in 2 … ${MAX_RING_SPINS}`);
}

/**
 * Exact thermodynamics of the periodic Ising ring of N spins at coupling K ≥ 0 (K = 0: T = ∞), h = 0, with
 * E = −Σ_i s_i s_{i+1} (N bonds; for N = 2 the pair counts twice, as on the torus). Summed over the number 2k
 * of domain walls (E = −N + 4k, 2·C(N, 2k) states), which equals Z = (2cosh K)^N + (2sinh K)^N but keeps every
 * moment accurate from K = 0 to the ground state. ⟨|m|⟩ uses the run count (N/k)·C(a−1,k−1)·C(N−a−1,k−1) of
 * states with 2k walls and a up spins. O(N) per call after an O(N²) table per N (N ≤ MAX_RING_SPINS).
 * @example isingRing(1, 8).energyPerSpin // −(t + t⁷)/(1 + t⁸), t = tanh 1
 */
export function isingRing(K: number, N: number): RingResult {
  checkRing(K, N);
  const { lnStates, absM } = ringTable(N);
  let lmax = -Infinity;
  const logw = new Float64Array(lnStates.length);
  for (let k = 0; k < lnStates.length; k++) {
    logw[k] = (lnStates[k] as number) - 4 * K * k;
    lmax = Math.max(lmax, logw[k] as number);
  }
  let z = 0;
  for (let k = 0; k < logw.length; k++) z += Math.exp((logw[k] as number) - lmax);
  const p = Float64Array.from(logw, (l) => Math.exp(l - lmax) / z);
  let walls = 0;
  let m = 0;
  p.forEach((pk, k) => {
    walls += pk * k;
    m += pk * (absM[k] as number);
  });
  let varWalls = 0;
  let covMWalls = 0;
  p.forEach((pk, k) => {
    varWalls += pk * (k - walls) ** 2;
    covMWalls += pk * (k - walls) * ((absM[k] as number) - m);
  });
  const energyVariancePerSpin = (16 * varWalls) / N; // E = −N + 4k
  return {
    lnZ: lmax + Math.log(z) + K * N,
    energyPerSpin: (-N + 4 * walls) / N,
    specificHeatPerSpin: K * K * energyVariancePerSpin,
    energyVariancePerSpin,
    absMagnetization: m,
    absMagnetizationSlope: -4 * covMWalls, // d⟨X⟩/dK = −cov(X, E) = −4 cov(X, k)
  };
}

/** Exact distribution of the ring's total energy E = −N + 4k at coupling K ≥ 0: E → probability, increasing E. */
export function ringEnergyDistribution(K: number, N: number): Map<number, number> {
  checkRing(K, N);
  const { lnStates } = ringTable(N);
  const logw = Array.from(lnStates, (l, k) => l - 4 * K * k);
  const lmax = Math.max(...logw);
  const w = logw.map((l) => Math.exp(l - lmax));
  const z = w.reduce((a, b) => a + b, 0);
  return new Map(w.map((wk, k) => [-N + 4 * k, wk / z]));
}

/**
 * `count` independent equilibrium configurations of the periodic N-spin ring at coupling K > 0 (±1, row-major
 * [count × N]), drawn exactly: the N bond variables b_i = s_i s_{i+1} are independent with P(b = −1) =
 * e^{−K}/(2 cosh K), a draw is kept only when the number of −1 bonds is even (the ring closes; acceptance
 * (1 + tanh^N K)/2 ≥ ½), and s_0 = ±1 with probability ½ each. No Markov chain, so τ_int = 0.
 *
 * @example
 * const s = sampleRing(1, 64, 1200, philoxUniforms(7)); // 1200 independent K = 1 rings of 64 spins
 */
export function sampleRing(K: number, N: number, count: number, uniform: () => number): Int8Array {
  checkPositiveCoupling(K);
  if (!Number.isInteger(N) || N < 2 || N > MAX_RING_SPINS)
    throw new RangeError(`ring length N = ${N} must be an integer in 2 … ${MAX_RING_SPINS}`);
  if (!Number.isInteger(count) || count < 0 || count > 2 ** 26)
    throw new RangeError(`sample count ${count} must be an integer in 0 … ${2 ** 26}`);
  const q = Math.exp(-K) / (2 * Math.cosh(K));
  const out = new Int8Array(count * N);
  const bonds = new Int8Array(N);
  for (let c = 0; c < count; c++) {
    let odd = 1;
    while (odd) {
      odd = 0;
      for (let i = 0; i < N; i++) {
        bonds[i] = uniform() < q ? -1 : 1;
        if (bonds[i] === -1) odd ^= 1;
      }
    }
    let s = uniform() < 0.5 ? -1 : 1;
    for (let i = 0; i < N; i++) {
      out[c * N + i] = s;
      s *= bonds[i]!;
    }
  }
  return out;
}

/** Entropy of the periodic N-spin ring at coupling K: S = ln Z − K⟨Σ s_i s_{i+1}⟩ = ln Z + K·N·⟨E⟩/N (nats). */
export function ringEntropy(K: number, N: number): number {
  const r = isingRing(K, N);
  return r.lnZ + K * N * r.energyPerSpin;
}

/**
 * Fraction of spins wrong when a ring of even length N at coupling K is decimated exactly (keep the even spins)
 * and reconstructed by resampling each removed spin from its two kept neighbours, P(s | a, b) ∝ e^{K s (a + b)}:
 * ½ [P_eq / (2 cosh² 2K) + (1 − P_eq) / 2] with P_eq = (1 + ⟨s_0 s_2⟩)/2 the probability that the neighbours
 * agree (finite-ring correlation). For K = 1, N = 64 it is 0.0665.
 */
export function decimationReconstructionError(K: number, N: number): number {
  checkPositiveCoupling(K);
  if (!Number.isInteger(N) || N < 4 || N % 2 !== 0)
    throw new RangeError(`ring length N = ${N} must be an even integer ≥ 4`);
  const agree = (1 + ringCorrelation(K, N, 2)) / 2;
  return 0.5 * (agree / (2 * Math.cosh(2 * K) ** 2) + (1 - agree) / 2);
}
