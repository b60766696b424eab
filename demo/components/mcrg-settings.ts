/**
 * The MCRG panel's settings, its live analysis and its table layout, apart from the Lit component so that
 * they can be tested without a browser (test/demo/mcrg-panel.test.ts). Uses only blockspin's public API.
 */
import {
  analyseMcrg,
  checkBlockingGeometry,
  exact,
  formatValueError,
  jackknifeBins,
  resolveMcrgRun,
  type McrgAlgorithm,
  type McrgAnalysis,
  type McrgBlock,
  type McrgEstimate,
  type McrgOptions,
  type McrgRunRecord,
  type OperatorTauTable,
} from '../../src/index.ts';

/** The block-spin rules the demo offers (the RBM projector needs a model file: use the CLI). */
export type DemoBlocking = 'majority' | 'majority3' | 'decimation';

/** The form's raw text, as typed (validated by `parseMcrgForm`). */
export interface McrgForm {
  L: string;
  K: string;
  blocking: DemoBlocking;
  levels: string;
  algorithm: McrgAlgorithm;
  replicas: string;
  samples: string;
  every: string;
  therm: string;
  seed: string;
}

/** A form field a problem belongs to ('geometry': L, blocking and levels together; 'run': all settings). */
export type McrgField = keyof McrgForm | 'geometry' | 'run';

export interface McrgProblem {
  field: McrgField;
  message: string;
}

/** Lattice sides offered: powers of 2 for b = 2, 54 = 2·3³ for majority3 (b = 3). */
export const L_CHOICES = [16, 32, 54, 64, 128] as const;

export const BLOCKINGS: readonly { value: DemoBlocking; label: string }[] = [
  { value: 'majority', label: 'majority, b = 2 (ties: fair coin)' },
  { value: 'majority3', label: 'majority, b = 3' },
  { value: 'decimation', label: 'decimation, b = 2' },
];

export const MCRG_ALGORITHMS: readonly { value: McrgAlgorithm; label: string }[] = [
  { value: 'sw', label: 'Swendsen–Wang' },
  { value: 'metropolis', label: 'Metropolis' },
  { value: 'heatbath', label: 'heat-bath' },
];

/** Onsager's critical coupling K_c = ½ ln(1 + √2), the default. */
export const K_CRITICAL = exact.K_C;

/** Exact exponents of the 2D Ising fixed point: y_t = 1/ν = 1, y_h = 15/8. */
export const EXACT_YT = 1;
export const EXACT_YH = 15 / 8;

/** Jackknife blocks needed before a table is shown (analyseMcrg's default minimum). */
export const MIN_BLOCKS = 10;

/** Jackknife blocks of the live analysis, at most (consecutive bins grouped: same estimate, less work). */
export const MAX_JACKKNIFE_BLOCKS = 64;

/** Minimum jackknife bin length in units of τ_int (PHYSICS.md, "MCRG practice"). */
export const TAU_FACTOR = 10;

const RANGES = {
  L: [4, 1024],
  levels: [1, 8],
  // Host memory of the statistics: ~1000 doubles per stored block, ≤ 17 blocks per replica.
  replicas: [1, 256],
  samples: [1, 100_000_000],
  every: [1, 1000],
  therm: [0, 1_000_000],
  seed: [0, 0xffffffff],
} as const;

/**
 * Stored blocks of a run, at most (all replicas together): the live analysis re-reads them every few hundred
 * ms, and each holds ~10³ doubles.
 */
export const MAX_STORED_BLOCKS = 4096;

/**
 * Measurements per stored block: as short as MAX_STORED_BLOCKS allows, so that the jackknife bins (joined
 * from consecutive blocks of a replica up to ≥ 10 τ_int) can be that short early in a run.
 *
 * @example demoBlockLength(500, 64) // 8
 */
export function demoBlockLength(measurements: number, replicas: number): number {
  return Math.min(measurements, Math.max(1, Math.ceil((measurements * replicas) / MAX_STORED_BLOCKS)));
}

/** Measurements per replica the demo keeps (the τ_int series grows with them). */
export const MAX_MEASUREMENTS = 100_000;

/**
 * Defaults: 32² at K_c, majority rule, 3 levels (32 → 16 → 8 → 4), 64 Swendsen–Wang chains of 500 measurements
 * each after 200 sweeps (SW equilibrates in tens of sweeps at K_c).
 */
export const MCRG_DEFAULTS: Readonly<McrgForm> = Object.freeze({
  L: '32',
  K: String(K_CRITICAL),
  blocking: 'majority',
  levels: '3',
  algorithm: 'sw',
  replicas: '64',
  samples: '32000',
  every: '1',
  therm: '200',
  seed: '1',
});

function integer(
  problems: McrgProblem[],
  field: keyof typeof RANGES,
  text: string,
  label: string = field,
): number {
  const t = text.trim();
  const n = Number(t);
  const [lo, hi] = RANGES[field];
  if (t === '' || !Number.isInteger(n) || n < lo || n > hi) {
    problems.push({
      field,
      message: `${label} = ${t === '' ? '(empty)' : t} must be an integer in ${lo} … ${hi.toLocaleString('en-US')}`,
    });
    return Number.NaN;
  }
  return n;
}

/**
 * Validates the form: the runner's options, or every problem found (each names the value and the limit).
 * The lattice geometry (L divisible by b^levels, last lattice ≥ 4) is the engine's own check.
 *
 * @example parseMcrgForm({ ...MCRG_DEFAULTS, L: '16', levels: '3' }) // problems: geometry: "3 levels of b = 2 leave 2 from L 16 …"
 */
export function parseMcrgForm(form: McrgForm): { options: McrgOptions } | { problems: McrgProblem[] } {
  const problems: McrgProblem[] = [];
  const L = integer(problems, 'L', form.L);
  const levels = integer(problems, 'levels', form.levels);
  const K = Number(form.K.trim());
  if (form.K.trim() === '' || !Number.isFinite(K) || K <= 0)
    problems.push({
      field: 'K',
      message: `K = ${form.K.trim() || '(empty)'} must be a number > 0 (K = J/T; K_c = ${K_CRITICAL.toFixed(6)})`,
    });
  if (!BLOCKINGS.some((b) => b.value === form.blocking))
    problems.push({ field: 'blocking', message: `blocking '${form.blocking}' is not offered here` });
  if (!MCRG_ALGORITHMS.some((a) => a.value === form.algorithm))
    problems.push({ field: 'algorithm', message: `algorithm '${form.algorithm}' is not offered here` });
  const replicas = integer(problems, 'replicas', form.replicas);
  const samples = integer(problems, 'samples', form.samples);
  const every = integer(problems, 'every', form.every);
  const therm = integer(problems, 'therm', form.therm);
  const seed = integer(problems, 'seed', form.seed);
  if (Number.isInteger(L) && Number.isInteger(levels) && !problems.some((p) => p.field === 'blocking')) {
    try {
      checkBlockingGeometry(2, L, levels, form.blocking);
    } catch (err) {
      problems.push({ field: 'geometry', message: err instanceof Error ? err.message : String(err) });
    }
  }
  if (Number.isInteger(samples) && Number.isInteger(replicas)) {
    const measurements = Math.ceil(samples / replicas);
    if (measurements > MAX_MEASUREMENTS)
      problems.push({
        field: 'samples',
        message:
          `samples = ${samples} over ${replicas} replicas is ${measurements} measurements per replica; the demo ` +
          `keeps at most ${MAX_MEASUREMENTS.toLocaleString('en-US')} (use more replicas, or the CLI: blockspin mcrg)`,
      });
  }
  if (problems.length > 0) return { problems };
  const options: McrgOptions = {
    L,
    K,
    blocking: form.blocking,
    levels,
    algorithm: form.algorithm,
    replicas,
    samples,
    every,
    therm,
    seed,
    blockLength: demoBlockLength(Math.ceil(samples / replicas), replicas),
  };
  try {
    resolveMcrgRun(options); // everything else the runner would refuse, before any GPU work
  } catch (err) {
    return { problems: [{ field: 'run', message: err instanceof Error ? err.message : String(err) }] };
  }
  return { options };
}

/** What the live analysis has to show: the tables, or why there are none yet. */
export type LiveAnalysis =
  | {
      kind: 'tables';
      analysis: McrgAnalysis;
      /** Measurements per jackknife bin, at least (⌈10 τ_int⌉, or a whole replica's series). */
      binLength: number;
      bins: number;
    }
  | { kind: 'needs'; message: string; bins: number }
  | { kind: 'error'; message: string };

/**
 * Analyses the blocks measured so far: each replica's blocks joined into jackknife bins of at least
 * ⌈10 τ_int⌉ measurements (τ_int: the largest over operators and levels; a replica's whole series when τ_int is
 * not known yet: replicas are independent), then analyseMcrg with at most MAX_JACKKNIFE_BLOCKS groups.
 * Fewer than MIN_BLOCKS bins: "needs ≥ 10 blocks". An analysis error (e.g. a singular A early on) is returned,
 * not thrown: the run goes on.
 */
export function analyseLive(
  blocks: readonly McrgBlock[],
  tau: OperatorTauTable | null,
  record: Pick<McrgRunRecord, 'layout' | 'b'>,
  measurements: number,
): LiveAnalysis {
  const known = tau !== null && Number.isFinite(tau.max.tauInt);
  const binLength = known
    ? Math.max(1, Math.ceil(TAU_FACTOR * Math.max(tau.max.tauInt, 0.5)))
    : Math.max(1, measurements);
  const bins = blocks.length === 0 ? [] : jackknifeBins(blocks, binLength);
  if (bins.length < MIN_BLOCKS)
    return {
      kind: 'needs',
      bins: bins.length,
      message:
        `needs ≥ ${MIN_BLOCKS} blocks: ${bins.length} so far ` +
        `(bins of ≥ ${binLength} measurement${binLength === 1 ? '' : 's'}${known ? ` = ${TAU_FACTOR} τ_int` : ''})`,
    };
  try {
    const analysis = analyseMcrg(bins, {
      layout: record.layout,
      b: record.b,
      minBlocks: MIN_BLOCKS,
      maxJackknifeBlocks: Math.max(MIN_BLOCKS, MAX_JACKKNIFE_BLOCKS),
    });
    return { kind: 'tables', analysis, binLength, bins: bins.length };
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

/** How far an estimate is from the exact value, in errors: the colour band of its cell. */
export type Band = 'z1' | 'z2' | 'z3' | 'far' | 'none';

export interface TableCell {
  step: number;
  nc: number;
  /** `value(err)`, with `*` for a complex leading eigenvalue. */
  text: string;
  value: number;
  err: number;
  imag?: number;
  /** |value − exact| / err (null when err is 0 or not finite). */
  z: number | null;
  band: Band;
}

/** The band of a distance in errors: ≤ 1, ≤ 2, ≤ 3, beyond. */
export function bandOf(z: number | null): Band {
  if (z === null) return 'none';
  return z <= 1 ? 'z1' : z <= 2 ? 'z2' : z <= 3 ? 'z3' : 'far';
}

/**
 * A y table laid out like Chung & Kao's Table 1: rows N_c = 1 … ncMax, columns N_r = 1 … levels; a cell is
 * null where the analysis has no entry.
 */
export function exponentTable(
  entries: readonly McrgEstimate[],
  levels: number,
  ncMax: number,
  exactValue: number,
): { steps: number[]; rows: { nc: number; cells: (TableCell | null)[] }[] } {
  const steps = Array.from({ length: levels }, (_, i) => i + 1);
  const rows = Array.from({ length: ncMax }, (_, i) => {
    const nc = i + 1;
    return {
      nc,
      cells: steps.map((step): TableCell | null => {
        const e = entries.find((x) => x.step === step && x.nc === nc);
        if (!e) return null;
        const z = Number.isFinite(e.err) && e.err > 0 ? Math.abs(e.value - exactValue) / e.err : null;
        const cell: TableCell = {
          step,
          nc,
          text: formatValueError(e.value, e.err) + (e.imag !== undefined ? '*' : ''),
          value: e.value,
          err: e.err,
          z,
          band: bandOf(z),
        };
        if (e.imag !== undefined) cell.imag = e.imag;
        return cell;
      }),
    };
  });
  return { steps, rows };
}

/**
 * Measurements per replica in the next chunk, so that a chunk takes about `targetMs` (the UI stays responsive
 * and Stop answers quickly): scaled from the last chunk's time, at most doubling, within 1 … max.
 */
export function nextChunk(current: number, elapsedMs: number, targetMs = 150, max = 256): number {
  if (!(elapsedMs > 0)) return Math.min(max, Math.max(1, current * 2));
  const scaled = Math.floor((current * targetMs) / elapsedMs);
  return Math.min(max, Math.max(1, Math.min(current * 2, scaled)));
}
