/** How CLI commands end when the GPU device is lost mid-run: keep what they have, say so, exit 75. */
import { DeviceLostError } from '../gpu/lost.ts';

/** Exit status of a command stopped by a lost GPU device (sysexits EX_TEMPFAIL: worth running again). */
export const DEVICE_LOST_EXIT = 75;

/**
 * A `.catch` handler that keeps a DeviceLostError (returned by `lost()`) and rethrows anything else, so a
 * command can go on to save or print what it has.
 */
export function deviceLossCatcher(): {
  lost: () => DeviceLostError | null;
  keep: (err: unknown) => undefined;
} {
  let error: DeviceLostError | null = null;
  return {
    lost: () => error,
    keep: (err: unknown): undefined => {
      if (!(err instanceof DeviceLostError)) throw err;
      error = err;
      return undefined;
    },
  };
}

/** Writes `blockspin: <the loss>; <what was kept>` to stderr and sets the exit status to DEVICE_LOST_EXIT. */
export function reportDeviceLoss(error: DeviceLostError, kept: string): void {
  process.stderr.write(`blockspin: ${error.message}; ${kept}\n`);
  process.exitCode = DEVICE_LOST_EXIT;
}
