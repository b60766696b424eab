/**
 * WebGPU in Node through Dawn (the `webgpu` npm package), with a software fallback.
 *
 * Dawn uses the system's Vulkan loader. On a machine without a GPU the loader finds no usable driver
 * (Debian's lavapipe lacks a feature Dawn requires), so we retry with Vulkan ICD files we know of:
 * a vendor ICD installed outside the standard search path, then Chromium's SwiftShader.
 */

/** Vulkan ICD files tried in order when the default driver search yields no adapter. */
export const FALLBACK_ICDS = [
  {
    path: '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
    name: 'NVIDIA Vulkan driver',
    software: false,
  },
  { path: '/usr/lib/chromium/vk_swiftshader_icd.json', name: 'SwiftShader (CPU)', software: true },
];

import { WebGPUUnavailableError } from './device.ts';

let cached: Promise<GPU> | undefined;

/** The Dawn `GPU` object (created once per process); installs Dawn's WebGPU globals (`GPUBufferUsage`, …). */
export function nodeGpu(log: (message: string) => void): Promise<GPU> {
  cached ??= createNodeGpu(log);
  return cached;
}

async function createNodeGpu(log: (message: string) => void): Promise<GPU> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const name = 'webgpu';
  let dawn: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import(/* @vite-ignore */ name)) as typeof dawn;
  } catch (err) {
    throw new WebGPUUnavailableError(
      `cannot load the 'webgpu' package (Dawn for Node): ${(err as Error).message}. Run npm install.`,
    );
  }
  Object.assign(globalThis, dawn.globals);
  // The Vulkan loader warns when XDG_RUNTIME_DIR is unset; give it a private temp dir.
  process.env.XDG_RUNTIME_DIR ??= fs.mkdtempSync(`${os.tmpdir()}/blockspin-xdg-`);

  const userChoseDriver = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  let gpu = dawn.create([]);
  if (await gpu.requestAdapter()) return gpu;
  if (userChoseDriver) {
    throw new WebGPUUnavailableError(
      `Dawn found no WebGPU adapter with the Vulkan driver(s) you chose (${userChoseDriver}).`,
    );
  }
  for (const icd of FALLBACK_ICDS) {
    if (!fs.existsSync(icd.path)) continue;
    process.env.VK_ICD_FILENAMES = icd.path;
    gpu = dawn.create([]);
    if (await gpu.requestAdapter()) {
      log(
        `blockspin: no WebGPU adapter with the default Vulkan drivers; using ${icd.name} from ${icd.path}` +
          (icd.software ? ' (correct but slow: for tests, not for speed).' : '.'),
      );
      return gpu;
    }
  }
  delete process.env.VK_ICD_FILENAMES;
  const hasLoader = [
    '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
    '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  ].some((p) => fs.existsSync(p));
  throw new WebGPUUnavailableError(
    'Dawn found no WebGPU adapter. ' +
      (hasLoader ? '' : 'The Vulkan loader (libvulkan.so.1) is missing: apt-get install libvulkan1. ') +
      `Tried the default drivers and ${FALLBACK_ICDS.map((i) => i.path).join(', ')}. ` +
      'Without a GPU on Debian/Ubuntu: apt-get install chromium libvulkan1 (provides SwiftShader).',
  );
}
