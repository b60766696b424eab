import { GpuContext, type DeviceLostDetail } from '../gpu/device.ts';

/**
 * How blockspin's custom elements get a GPU device: a host page hands one in (`element.device = myDevice`), or
 * the element acquires one. Every element of a page that acquires shares one device (one adapter request, one
 * set of compiled pipelines); after that device is lost the next request acquires a fresh one.
 */
let shared: Promise<GpuContext> | undefined;

/** The page's shared blockspin device, acquired on first use (rejects with WebGPUUnavailableError without WebGPU). */
export function sharedGpu(): Promise<GpuContext> {
  if (!shared) {
    const pending = GpuContext.acquire({ label: 'blockspin elements' });
    shared = pending;
    pending.then(
      (gpu) =>
        void gpu.lost.then(() => {
          if (shared === pending) shared = undefined;
        }),
      () => {
        if (shared === pending) shared = undefined;
      },
    );
  }
  return shared;
}

/** The device an element should use: the one its host gave it, else the page's shared one. */
export async function elementDevice(given: GPUDevice | undefined): Promise<GPUDevice> {
  return given ?? (await sharedGpu()).device;
}

/** Resolves with the loss detail when `device` is lost (whoever owns it). */
export function deviceLost(device: GPUDevice): Promise<DeviceLostDetail> {
  return device.lost.then((info) => ({ reason: info.reason, message: info.message }));
}
