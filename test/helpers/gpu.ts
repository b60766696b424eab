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
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await body() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const oom = await device.popErrorScope();
  const validation = await device.popErrorScope();
  // A WebGPU error usually explains a failed assertion: report it first.
  if (validation) throw new Error(`WebGPU validation error: ${validation.message}`);
  if (oom) throw new Error(`WebGPU out-of-memory error: ${oom.message}`);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
