/**
 * Monte Carlo π, the visible smoke kernel: Philox points in the unit square, counted inside the quarter
 * circle on the GPU (shaders/common/monte-carlo-pi.wgsl), summed exactly by a SegmentedReduction, all
 * in one submission. Bit-exact with the CPU oracle src/reference/pi.ts.
 */
import monteCarloPi from '../../shaders/common/monte-carlo-pi.wgsl?raw';
import { createStorageBuffer, createUniformBuffer } from './buffers.ts';
import { Dispatch, Program, composeWgsl, submitStep, type KernelSource } from './kernel.ts';
import { SegmentedReduction } from './reduce.ts';
import { RngPurpose, seedKey, streamWord } from './rng.ts';
import { wgsl } from './shaders.ts';

export interface EstimatePiOptions {
  /** Points to draw: an integer in 1 … MAX_PI_SAMPLES. */
  samples: number;
  /** Philox key: an integer in 0 … 2^64 − 1 (number or bigint). Same seed, same count, on every adapter. */
  seed: number | bigint;
}

export interface PiEstimate {
  samples: number;
  /** Points with x² + y² < 1 (exact). */
  inside: number;
  /** 4 · inside / samples. */
  estimate: number;
  /** One standard error of the estimate: 4 · sqrt(p (1 − p) / samples), p = inside / samples. */
  standardError: number;
}

/** Two points per Philox block and 2^32 − 1 blocks: the block index is the counter's 32-bit element word. */
export const MAX_PI_SAMPLES = 2 * 0xffffffff;

const WORKGROUP = 64;
/** Fewest blocks per invocation: enough work per invocation to hide the write, many invocations in flight. */
const MIN_BLOCKS_PER_INVOCATION = 16;
/** Most invocations (one u32 count each, 16 MiB): huge runs draw more blocks per invocation instead. */
const MAX_INVOCATIONS = 1 << 22;

const piSource: KernelSource = {
  label: 'monte-carlo-pi',
  code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, monteCarloPi),
};

/**
 * Estimates π from `samples` pseudo-random points in the unit square (one submission, one read-back).
 *
 * @example
 * const { estimate, standardError } = await estimatePi(gpu.device, { samples: 2 ** 22, seed: 1 });
 * console.log(`π ≈ ${estimate} ± ${standardError}`);
 */
export async function estimatePi(device: GPUDevice, options: EstimatePiOptions): Promise<PiEstimate> {
  const { samples, seed } = options;
  if (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > MAX_PI_SAMPLES) {
    throw new RangeError(
      `samples ${String(samples)} must be an integer in 1 … ${MAX_PI_SAMPLES} (2 points per Philox block, 2^32 − 1 blocks)`,
    );
  }
  if (typeof seed !== 'number' && typeof seed !== 'bigint') {
    throw new RangeError(`seed ${String(seed)} must be a number or a bigint in 0 … 2^64 − 1`);
  }
  const key = seedKey(seed);
  const blocks = Math.ceil(samples / 2);
  const blocksPerInvocation = Math.max(MIN_BLOCKS_PER_INVOCATION, Math.ceil(blocks / MAX_INVOCATIONS));
  const invocations = Math.ceil(blocks / blocksPerInvocation);

  const program = Program.get(device, piSource);
  const params = program.structView('PiParams').set({
    key,
    stream: streamWord(RngPurpose.test, 0),
    blocks,
    lastBlockPoints: samples % 2 === 0 ? 2 : 1,
    blocksPerInvocation,
    invocations,
  });
  const label = `monte-carlo-pi ${samples}`;
  const uniforms = createUniformBuffer(device, `${label} params`, params.data);
  const counts = createStorageBuffer(device, `${label} inside counts`, invocations * 4);
  let reduction: SegmentedReduction | undefined;
  try {
    const count = new Dispatch(device, {
      label: `${label} countInsideQuarterCircle`,
      pipeline: program.pipeline('countInsideQuarterCircle', { workgroupSize: WORKGROUP }),
      bindGroups: [program.bindGroup(0, { params: uniforms, insideCounts: counts }, `${label} group 0`)],
      workgroups: Math.ceil(invocations / WORKGROUP),
    });
    reduction = new SegmentedReduction(device, counts, {
      type: 'u32',
      length: invocations,
      label: `${label} sum`,
    });
    submitStep(device, label, [count, reduction]);
    const [total] = await reduction.read();
    if (total?.exactSum === undefined) throw new Error(`${label}: the reduction returned no sum`);
    const inside = Number(total.exactSum);
    const p = inside / samples;
    return { samples, inside, estimate: 4 * p, standardError: 4 * Math.sqrt((p * (1 - p)) / samples) };
  } finally {
    reduction?.destroy();
    counts.destroy();
    uniforms.destroy();
  }
}
