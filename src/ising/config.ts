/**
 * Ising engine configuration: defaults and validation. Every bad value is rejected here, with the value
 * and the limit, before any GPU work starts.
 */

/** Checkerboard Metropolis, checkerboard heat-bath, or Swendsen–Wang cluster updates (2D, h = 0, J > 0). */
export type IsingAlgorithm = 'metropolis' | 'heatbath' | 'sw';
export type IsingKernel = 'simple' | 'packed';
export type IsingInit = 'random' | 'up' | 'down';

/** See IsingOptions.tieList. */
export type IsingTieList = 'auto' | 'workgroup' | 'invocation';
/** See IsingOptions.tuning. */
export type IsingTuning = 'auto' | 'gpu' | 'cpu';

export interface IsingOptions {
  /** Lattice width (2D) or ring length (1D). */
  L: number;
  /** Lattice height (2D; default L). */
  Ly?: number;
  dims?: 1 | 2;
  /** Replicas advanced together (default 1). */
  replicas?: number;
  /**
   * Global index of local replica 0 (default 0): every random-number counter uses firstReplica + r, so an
   * engine with firstReplica f and R replicas reproduces replicas f … f + R − 1 of a larger run exactly
   * (shards of one study). Integer, firstReplica + replicas ≤ 2^32.
   */
  firstReplica?: number;
  /** Temperature: one for all replicas or one per replica. */
  T: number | number[];
  /** Coupling J (default 1): one or one per replica. */
  J?: number | number[];
  /** Field h (default 0): one or one per replica. */
  h?: number | number[];
  algorithm?: IsingAlgorithm;
  kernel?: IsingKernel;
  /**
   * How the `packed` kernel reserves its tie-list entries (the rare words whose spins tie with their threshold's
   * top byte): 'workgroup' (one atomic per workgroup, behind two barriers: for GPUs, where atomics on one address
   * serialise), 'invocation' (one atomic per tied word, no barriers: for CPU implementations of WebGPU, where a
   * barrier costs more), or 'auto' (default: 'invocation' where `tuning` resolves to 'cpu', else 'workgroup').
   * The results are the same either way.
   */
  tieList?: IsingTieList;
  /**
   * What the `packed` kernel's code is shaped for: 'gpu' (shifts for Threefry's rotations; classes whose lanes
   * need no random bits skipped by branches that are uniform on hardware), 'cpu' (for CPU implementations of
   * WebGPU such as SwiftShader, which emulate every vector shift lane by lane below AVX2 and run both sides of a
   * branch: rotations in multiplies and float arithmetic, every class added without branches), or 'auto'
   * (default: 'cpu' on a software adapter, else 'gpu'). Spins and observables are bit for bit the same.
   */
  tuning?: IsingTuning;
  /** Seed of every random number (integer 0 … 2^64 − 1; default 1). */
  seed?: number | bigint;
  init?: IsingInit;
  /** Measurements kept on the GPU before the host must collect them (default: sized to ~16 MiB). */
  seriesCapacity?: number;
  /** Largest correlation distance measured (default min(Lx, Ly)/2; 1D: N/2). */
  maxDistance?: number;
}

/** A validated configuration with every default filled in. */
export interface IsingConfig {
  Lx: number;
  Ly: number;
  dims: 1 | 2;
  replicas: number;
  firstReplica: number;
  sites: number;
  words: number;
  T: number[];
  J: number[];
  h: number[];
  algorithm: IsingAlgorithm;
  kernel: IsingKernel;
  tieList: IsingTieList;
  tuning: IsingTuning;
  seed: number | bigint;
  init: IsingInit;
  seriesCapacity: number;
  distances: number;
  correlationCapacity: number;
}

const MAX_U32 = 0xffffffff;

function integer(name: string, value: unknown, min: number, max = MAX_U32): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} ${String(value)} must be an integer in ${min} … ${max}`);
  }
  return value;
}

function perReplica(
  name: string,
  value: number | number[],
  replicas: number,
  check: (x: number) => string | null,
): number[] {
  const list = Array.isArray(value) ? value : new Array<number>(replicas).fill(value);
  if (list.length !== replicas) {
    throw new RangeError(
      `${name} has ${list.length} values for ${replicas} replicas (give one, or one per replica)`,
    );
  }
  list.forEach((x, i) => {
    const problem = typeof x === 'number' ? check(x) : 'is not a number';
    if (problem) throw new RangeError(`${name}${list.length > 1 ? `[${i}]` : ''} = ${String(x)} ${problem}`);
  });
  return [...list];
}

/** Storage limits the configuration must fit (from `device.limits`). */
export interface StorageLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

function bytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Words of one replica in the `packed` kernel's colour-separated layout (shaders/ising/sweep-packed.wgsl): per
 * colour and row ⌈Lx / 64⌉ words of 32 sites (16 in a row's last word when Lx ≡ 32 mod 64).
 */
export function colourWords(c: { Lx: number; Ly: number }): number {
  return 2 * c.Ly * Math.ceil(c.Lx / 64);
}

/** Bytes of the Swendsen–Wang label buffer: one u32 per site of every replica. */
export function swLabelBytes(replicas: number, sites: number): number {
  return replicas * sites * 4;
}

/**
 * Swendsen–Wang's rules: zero field and K = J/T > 0 finite for every replica (bonds are active with
 * p = 1 − e^{−2K}), and every site of every replica addressable by one u32 invocation index.
 */
function checkSwendsenWang(replicas: number, sites: number, T: number[], J: number[], h: number[]): void {
  // A replica index only where the replicas differ (one value given for all is reported as given).
  const at = (i: number): string =>
    new Set(h).size > 1 || new Set(J).size > 1 || new Set(T).size > 1 ? `[${i}]` : '';
  h.forEach((x, i) => {
    if (x !== 0) {
      throw new RangeError(
        `algorithm 'sw' needs zero field; h${at(i)} = ${x} (clusters flip against a field)`,
      );
    }
  });
  J.forEach((x, i) => {
    const K = x / (T[i] as number);
    if (!(x > 0) || !Number.isFinite(K)) {
      throw new RangeError(
        `algorithm 'sw' needs a ferromagnetic coupling J > 0 with K = J/T finite; J${at(i)} = ${x}, T${at(i)} = ${T[i]}`,
      );
    }
  });
  if (replicas * sites > 2 ** 32 - 256) {
    throw new RangeError(
      `algorithm 'sw' indexes ${replicas} × ${sites} = ${replicas * sites} sites with one u32; at most ${2 ** 32 - 256}`,
    );
  }
}

/** Validates options against the Ising model's rules and the adapter's limits; fills defaults. */
export function resolveIsingConfig(options: IsingOptions, limits?: StorageLimits): IsingConfig {
  const dims = options.dims ?? 2;
  if (dims !== 1 && dims !== 2) throw new RangeError(`dims ${String(dims)} must be 1 or 2`);
  const kernel = options.kernel ?? 'simple';
  const tieList = options.tieList ?? 'auto';
  if (tieList !== 'auto' && tieList !== 'workgroup' && tieList !== 'invocation') {
    throw new RangeError(`tieList '${String(tieList)}' must be 'auto', 'workgroup' or 'invocation'`);
  }
  const tuning = options.tuning ?? 'auto';
  if (tuning !== 'auto' && tuning !== 'gpu' && tuning !== 'cpu') {
    throw new RangeError(`tuning '${String(tuning)}' must be 'auto', 'gpu' or 'cpu'`);
  }
  if (kernel !== 'simple' && kernel !== 'packed') {
    throw new RangeError(`kernel '${String(kernel)}' must be 'simple' or 'packed'`);
  }
  const algorithm = options.algorithm ?? 'metropolis';
  if (algorithm !== 'metropolis' && algorithm !== 'heatbath' && algorithm !== 'sw') {
    throw new RangeError(`algorithm '${String(algorithm)}' must be 'metropolis', 'heatbath' or 'sw'`);
  }
  if (algorithm === 'sw' && dims !== 2) {
    throw new RangeError(
      `algorithm 'sw' (Swendsen–Wang) is 2D only; dims = ${dims}: use 'metropolis' or 'heatbath' on the ring`,
    );
  }
  const init = options.init ?? 'random';
  if (init !== 'random' && init !== 'up' && init !== 'down') {
    throw new RangeError(`init '${String(init)}' must be 'random', 'up' or 'down'`);
  }
  const Lx = integer(dims === 1 ? 'ring length N' : 'L', options.L, 2);
  const Ly = dims === 1 ? 1 : integer('Ly', options.Ly ?? Lx, 2);
  for (const [name, v] of dims === 1
    ? [['N', Lx]]
    : [
        ['L', Lx],
        ['Ly', Ly],
      ]) {
    if ((v as number) % 2 !== 0) {
      throw new RangeError(`${name} = ${v} must be even (the checkerboard update needs two sublattices)`);
    }
  }
  if (kernel === 'packed') {
    if (dims !== 2) throw new RangeError("kernel 'packed' is 2D only; use kernel 'simple' for the 1D ring");
    if (Lx % 32 !== 0) throw new RangeError(`kernel 'packed' needs L a multiple of 32; got L = ${Lx}`);
    // Its tie-breaking draws count 8 Threefry blocks per colour word in one 32-bit counter word.
    if (Ly * Math.ceil(Lx / 64) > 2 ** 29) {
      throw new RangeError(
        `kernel 'packed' takes at most 2^29 words per colour and replica (the random-number counter); got ${Lx} × ${Ly}`,
      );
    }
  }
  const replicas = integer('replicas', options.replicas ?? 1, 1);
  const firstReplica = integer('firstReplica', options.firstReplica ?? 0, 0);
  if (firstReplica + replicas > 2 ** 32) {
    throw new RangeError(
      `firstReplica ${firstReplica} + replicas ${replicas} = ${firstReplica + replicas} exceeds 2^32 (the replica word of the random-number counters)`,
    );
  }
  const sites = Lx * Ly;
  if (sites > 2 ** 31) throw new RangeError(`${Lx}×${Ly} = ${sites} spins exceeds 2^31 per replica`);
  const words = Math.ceil(sites / 32);
  const T = perReplica('T', options.T, replicas, (x) =>
    Number.isFinite(x) && x > 0 ? null : 'must be finite and > 0',
  );
  const J = perReplica('J', options.J ?? 1, replicas, (x) => (Number.isFinite(x) ? null : 'must be finite'));
  const h = perReplica('h', options.h ?? 0, replicas, (x) => (Number.isFinite(x) ? null : 'must be finite'));
  if (algorithm === 'sw') checkSwendsenWang(replicas, sites, T, J, h);
  const seed = options.seed ?? 1;
  if (typeof seed === 'number' && (!Number.isSafeInteger(seed) || seed < 0)) {
    throw new RangeError(`seed ${seed} must be a non-negative integer`);
  }
  if (typeof seed === 'bigint' && (seed < 0n || seed >= 1n << 64n)) {
    throw new RangeError(`seed ${seed} must be in 0 … 2^64 − 1`);
  }
  const maxDistance = integer(
    'maxDistance',
    options.maxDistance ?? Math.floor(Math.min(Lx, dims === 1 ? Lx : Ly) / 2),
    0,
  );
  const distances = maxDistance + 1;

  const spinBytes = replicas * words * 4;
  const partialBytes = 2 * replicas * words * 4;
  const recordBytes = 2 * replicas * 4;
  const seriesCapacity = integer(
    'seriesCapacity',
    options.seriesCapacity ?? Math.max(16, Math.min(65536, Math.floor((16 * 2 ** 20) / recordBytes))),
    1,
  );
  const correlationRecord = replicas * distances * 4;
  const correlationCapacity = Math.max(
    1,
    Math.min(seriesCapacity, Math.floor((16 * 2 ** 20) / correlationRecord)),
  );
  if (limits) {
    const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const check = (what: string, n: number): void => {
      if (n > limit) {
        throw new RangeError(
          `${what} needs ${bytes(n)}; this adapter allows ${bytes(limit)} per storage buffer`,
        );
      }
    };
    check(`${replicas} × ${Lx}×${Ly} spins (1 bit each)`, spinBytes);
    if (kernel === 'packed')
      check(
        `${replicas} × ${Lx}×${Ly} colour-separated spins (and the packed kernel's tie list, the same size)`,
        replicas * colourWords({ Lx, Ly }) * 4,
      );
    check(`${replicas} × ${Lx}×${Ly} observable partials (2 × i32 per 32 spins)`, partialBytes);
    check(`${replicas} × ${distances} × ${Ly} correlation partials`, replicas * distances * Ly * 4);
    check(`series of ${seriesCapacity} measurements × ${replicas} replicas`, seriesCapacity * recordBytes);
    if (algorithm === 'sw')
      check(
        `Swendsen–Wang labels of ${replicas} × ${Lx}×${Ly} sites (u32 each)`,
        swLabelBytes(replicas, sites),
      );
  }
  return {
    Lx,
    Ly,
    dims,
    replicas,
    firstReplica,
    sites,
    words,
    T,
    J,
    h,
    algorithm,
    kernel,
    tieList,
    tuning,
    seed,
    init,
    seriesCapacity,
    distances,
    correlationCapacity,
  };
}
