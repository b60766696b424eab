/** Device acquisition (src/gpu/device.ts): the summary, feature switches, required features, device loss. */
import { describe, expect, it } from 'vitest';
import { GpuContext, isSoftwareAdapter, type DeviceLostDetail } from '../../src/gpu/device.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();
const quiet = { log: (): void => {} };

describe('GpuContext', () => {
  it('summarises the adapter as JSON-friendly data', () => {
    const context = gpu();
    const s = context.summary;
    expect(s.backend).toBe('dawn');
    expect(`${s.vendor}${s.architecture}`.length).toBeGreaterThan(0);
    expect(typeof s.software).toBe('boolean');
    if (/swiftshader/i.test(s.architecture)) expect(s.software).toBe(true);
    expect(s.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(s.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(Array.isArray(s.features)).toBe(true);
    expect(s.features).toEqual([...s.features].sort());
    for (const f of context.device.features) expect(s.features).toContain(f);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('tells CPU implementations of WebGPU from GPUs', () => {
    const info = (fields: Partial<GPUAdapterInfo>): GPUAdapterInfo =>
      ({ vendor: '', architecture: '', device: '', description: '', ...fields }) as GPUAdapterInfo;
    expect(isSoftwareAdapter(info({ vendor: 'google', architecture: 'swiftshader' }))).toBe(true);
    expect(isSoftwareAdapter(info({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(
      true,
    );
    expect(isSoftwareAdapter(info({ vendor: 'unknown', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapter(info({ vendor: 'nvidia', architecture: 'hopper' }))).toBe(false);
    expect(isSoftwareAdapter(info({ vendor: 'apple', architecture: 'metal-3' }))).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
    const { device } = gpu();
    expect(isSoftwareAdapter(device.adapterInfo)).toBe(gpu().summary.software);
  });

  it('requests the adapter’s real limits rather than the WebGPU defaults', () => {
    const { adapter, device } = gpu();
    expect(device.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(device.limits.maxComputeWorkgroupsPerDimension).toBe(
      adapter.limits.maxComputeWorkgroupsPerDimension,
    );
    expect(device.limits.maxComputeInvocationsPerWorkgroup).toBe(
      adapter.limits.maxComputeInvocationsPerWorkgroup,
    );
  });

  it('enables the optional features the adapter has, and leaves out disabled ones', async () => {
    const { adapter, device } = gpu();
    for (const f of ['timestamp-query', 'subgroups'] as const)
      expect(device.features.has(f)).toBe(adapter.features.has(f));
    const without = await GpuContext.acquire({ ...quiet, disableFeatures: ['subgroups'] });
    try {
      expect(without.device.features.has('subgroups')).toBe(false);
      expect(without.device.features.has('timestamp-query')).toBe(adapter.features.has('timestamp-query'));
    } finally {
      without.destroy();
    }
  });

  it('rejects a required feature the adapter lacks, naming it', async ({ skip }) => {
    const { adapter } = gpu();
    // SwiftShader has no shader-f16; on an adapter that has it there is nothing to test here.
    if (adapter.features.has('shader-f16')) skip('this adapter has shader-f16');
    await expect(GpuContext.acquire({ ...quiet, requiredFeatures: ['shader-f16'] })).rejects.toThrow(
      /lacks required feature\(s\) shader-f16/,
    );
  });

  it('enables a required feature the adapter has but blockspin would not enable', async ({ skip }) => {
    const { adapter, device } = gpu();
    const feature = [...adapter.features].find((f) => !device.features.has(f)) as GPUFeatureName | undefined;
    if (!feature) skip('the default device already has every adapter feature');
    const context = await GpuContext.acquire({ ...quiet, requiredFeatures: [feature as GPUFeatureName] });
    try {
      expect(context.device.features.has(feature as GPUFeatureName)).toBe(true);
    } finally {
      context.destroy();
    }
  });

  it("fires 'lost' with reason 'destroyed' and resolves `lost` when destroyed", async () => {
    const context = await GpuContext.acquire(quiet);
    const events: DeviceLostDetail[] = [];
    context.addEventListener('lost', (e) => events.push((e as CustomEvent<DeviceLostDetail>).detail));
    context.destroy();
    const detail = await context.lost;
    expect(detail.reason).toBe('destroyed');
    expect(typeof detail.message).toBe('string');
    expect(events).toEqual([detail]);
  });
});
