/**
 * GPU random fills over Philox4x32-10 or Threefry-4×32-20 (shaders/common/random.wgsl), bit-exact with
 * src/gpu/philox.ts and src/gpu/threefry.ts.
 */
import { isSoftwareAdapter } from './device.ts';
import { checkStorageSize, createBuffer, createUniformBuffer, readBuffer } from './buffers.ts';
import { Dispatch, Program, submitStep, type Encodable } from './kernel.ts';
import { seedKey, streamWord } from './rng.ts';
import { randomEvaluateSource, randomSource } from './shaders.ts';
import type { GpuTimer } from './timing.ts';

export interface RandomFillOptions {
  /** Words to write (4 per Philox block). */
  count: number;
  seed: number | bigint;
  /** Counter words (y, z) and the stream word: e.g. replica, step, streamWord(purpose, sub). */
  replica?: number;
  step?: number;
  purpose?: number;
  subStream?: number;
  /** 'words': raw u32; 'uniform': f32 in [0, 1) from the top 24 bits (stored as f32). */
  kind?: 'words' | 'uniform';
  /** Philox4x32-10 (the default) or Threefry-4×32-20 (key = the seed's two words, then 0, 0). */
  generator?: 'philox' | 'threefry';
  offsetBytes?: number;
}

const WORKGROUP = 64;

/**
 * Writes Philox (or Threefry) output into a storage buffer: word 4b + j is word j of philox4x32((b, replica,
 * step, stream), seed). Encodable, so a fill can share a step's submission.
 */
export class RandomFill implements Encodable {
  private readonly dispatch: Dispatch;
  private readonly uniforms: GPUBuffer;

  constructor(device: GPUDevice, output: GPUBuffer, options: RandomFillOptions) {
    const { count, kind = 'words', offsetBytes = 0, generator = 'philox' } = options;
    if (generator !== 'philox' && generator !== 'threefry') {
      throw new RangeError(`generator '${String(generator)}' must be 'philox' or 'threefry'`);
    }
    if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
      throw new RangeError(`random word count ${count} must be an integer in 1 … 4294967295`);
    }
    if (!Number.isInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % 256 !== 0) {
      throw new RangeError(`offsetBytes ${offsetBytes} must be a non-negative multiple of 256`);
    }
    checkStorageSize(device, 'random fill', count * 4);
    if (offsetBytes + count * 4 > output.size) {
      throw new RangeError(
        `${output.label}: ${count} words from byte ${offsetBytes} exceed its ${output.size} bytes`,
      );
    }
    const program = Program.get(device, randomSource);
    const params = program.structView('RandomParams').set({
      key: seedKey(options.seed),
      counterHigh: [
        options.replica ?? 0,
        options.step ?? 0,
        streamWord(options.purpose ?? 0x0002, options.subStream ?? 0),
      ],
      count,
    });
    this.uniforms = createUniformBuffer(device, 'random params', params.data);
    const entry = kind === 'uniform' ? 'fillUniform' : 'fillRandomWords';
    this.dispatch = new Dispatch(device, {
      label: `random ${entry}`,
      pipeline: program.pipeline(entry, {
        workgroupSize: WORKGROUP,
        useThreefry: generator === 'threefry',
        // Threefry's rotations without shifts on CPU implementations (see shaders/common/threefry.wgsl).
        floatRotations: generator === 'threefry' && isSoftwareAdapter(device.adapterInfo),
      }),
      bindGroups: [
        program.bindGroup(0, {
          params: this.uniforms,
          output: { buffer: output, offset: offsetBytes, size: count * 4 },
        }),
      ],
      workgroups: Math.ceil(Math.ceil(count / 4) / WORKGROUP),
    });
  }

  encode(encoder: GPUCommandEncoder, timer?: GpuTimer): void {
    this.dispatch.encode(encoder, timer);
  }

  destroy(): void {
    this.uniforms.destroy();
  }
}

/** Runs Philox4x32-10 on the GPU for explicit (counter, key) pairs (known-answer tests). */
export function evaluatePhiloxOnGpu(
  device: GPUDevice,
  cases: { counter: readonly number[]; key: readonly number[] }[],
): Promise<Uint32Array> {
  return evaluateOnGpu(device, 'philox', cases, false);
}

/**
 * Runs Threefry-4×32-20 on the GPU for explicit (counter, key) pairs, 4-word keys (known-answer tests), with its
 * rotations as shifts or (`floatRotations`, the shape for CPU implementations) in float arithmetic.
 */
export function evaluateThreefryOnGpu(
  device: GPUDevice,
  cases: { counter: readonly number[]; key: readonly number[] }[],
  options: { floatRotations?: boolean } = {},
): Promise<Uint32Array> {
  return evaluateOnGpu(device, 'threefry', cases, options.floatRotations ?? false);
}

async function evaluateOnGpu(
  device: GPUDevice,
  generator: 'philox' | 'threefry',
  cases: { counter: readonly number[]; key: readonly number[] }[],
  floatRotations: boolean,
): Promise<Uint32Array> {
  const program = Program.get(device, randomEvaluateSource);
  const stride = program.structView('RandomCase').layout.size;
  const data = new ArrayBuffer(stride * cases.length);
  cases.forEach((c, i) =>
    program
      .structView('RandomCase', data, i * stride)
      .set({ counter: c.counter, key: [...c.key, 0, 0, 0, 0].slice(0, 4) }),
  );
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const input = createBuffer(device, {
    label: `${generator} cases`,
    size: data.byteLength,
    usage,
    contents: data,
  });
  const output = createBuffer(device, { label: `${generator} output`, size: 16 * cases.length, usage });
  try {
    const dispatch = new Dispatch(device, {
      label: `${generator} evaluate`,
      pipeline: program.pipeline('evaluateGenerator', {
        workgroupSize: WORKGROUP,
        useThreefry: generator === 'threefry',
        floatRotations,
      }),
      bindGroups: [program.bindGroup(0, { cases: input, output })],
      workgroups: Math.ceil(cases.length / WORKGROUP),
    });
    submitStep(device, `${generator} evaluate`, [dispatch]);
    return new Uint32Array(await readBuffer(device, output));
  } finally {
    input.destroy();
    output.destroy();
  }
}
