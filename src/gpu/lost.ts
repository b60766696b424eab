/**
 * Device loss as a typed error. A lost `GPUDevice` does not fail loudly: on Dawn, submissions after
 * `device.destroy()` are silently dropped, `queue.onSubmittedWorkDone()` resolves as if the work had been
 * done, and only `mapAsync` rejects (with a bare `AbortError`). Engines route their waits through
 * `whileAlive` and their submissions through `throwIfLost`, so every pending call rejects with
 * `DeviceLostError` once `device.lost` has resolved, and nothing waits forever on a device that is gone.
 */

/** Thrown (or rejected with) by engine calls once their `GPUDevice` has been lost or destroyed. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    /** `destroyed` when someone called `device.destroy()`, otherwise `unknown` (driver reset, GPU removed). */
    readonly reason: GPUDeviceLostReason,
    /** The implementation's message. */
    readonly detail: string,
  ) {
    super(`the GPU device was lost (${reason}${detail ? `: ${detail}` : ''})`);
  }
}

interface Watch {
  error: DeviceLostError | null;
  /** Rejecters of the calls waiting right now (a set, so a long-lived device accumulates nothing). */
  waiters: Set<(error: DeviceLostError) => void>;
}

const watches = new WeakMap<GPUDevice, Watch>();

function watch(device: GPUDevice): Watch {
  let w = watches.get(device);
  if (!w) {
    const entry: Watch = { error: null, waiters: new Set() };
    void device.lost.then((info) => {
      entry.error = new DeviceLostError(info.reason ?? 'unknown', info.message ?? '');
      for (const reject of entry.waiters) reject(entry.error);
      entry.waiters.clear();
    });
    watches.set(device, (w = entry));
  }
  return w;
}

/** Starts watching `device` for loss (engines call this when they are built; idempotent). */
export function watchDeviceLoss(device: GPUDevice): void {
  watch(device);
}

/** The loss of `device` as an error, or null while it is alive (or not yet known to be lost). */
export function deviceLostError(device: GPUDevice): DeviceLostError | null {
  return watch(device).error;
}

/** Throws DeviceLostError when `device` is known to be lost (called before every submission). */
export function throwIfLost(device: GPUDevice): void {
  const error = watch(device).error;
  if (error) throw error;
}

/**
 * Waits for `pending` (a GPU promise of `device`), but rejects with DeviceLostError as soon as the device
 * is lost — also when `pending` itself resolves on a lost device (onSubmittedWorkDone does) or rejects
 * because of the loss (mapAsync's AbortError).
 */
export async function whileAlive<T>(device: GPUDevice, pending: Promise<T>): Promise<T> {
  const w = watch(device);
  if (w.error) {
    pending.catch(() => {}); // settled or not, it no longer matters
    throw w.error;
  }
  let onLost: ((error: DeviceLostError) => void) | undefined;
  try {
    const value = await new Promise<T>((resolve, reject) => {
      onLost = reject;
      w.waiters.add(reject);
      pending.then(resolve, reject);
    });
    if (w.error) throw w.error;
    return value;
  } catch (err) {
    if (err instanceof DeviceLostError) throw err;
    // A read-back aborted by the loss may reject before `device.lost` settles: give it one turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (w.error) throw w.error;
    throw err;
  } finally {
    if (onLost) w.waiters.delete(onLost);
  }
}

/** `queue.onSubmittedWorkDone()` that rejects with DeviceLostError instead of resolving on a lost device. */
export function workDone(device: GPUDevice): Promise<void> {
  return whileAlive(device, device.queue.onSubmittedWorkDone());
}
