/**
 * GPU test harness: one device per test file (Dawn in Node; SwiftShader without a GPU), every body
 * inside a `validation` and an `out-of-memory` error scope that fail the test, resources destroyed.
 */
import { afterAll, beforeAll } from 'vitest';
import { GpuContext, type AcquireOptions } from '../../src/gpu/device.ts';

/** Acquires a device for the file; `gpu()` returns it inside tests. */
export function useGpu(options: AcquireOptions = {}): () => GpuContext {
  let context: GpuContext | undefined;
  beforeAll(async () => {
    context = await GpuContext.acquire({ log: () => {}, ...options });
  });
  afterAll(() => context?.destroy());
  return () => {
    if (!context) throw new Error('GPU context not acquired (beforeAll failed?)');
    return context;
  };
}

/** Runs `body` inside validation and out-of-memory error scopes; throws on any captured error. */
export async function checked<T>(device: GPUDevice, body: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let result: T;
  try {
    result = await body();
  } finally {
    const oom = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (validation) throw new Error(`WebGPU validation error: ${validation.message}`);
    if (oom) throw new Error(`WebGPU out-of-memory error: ${oom.message}`);
  }
  return result;
}
