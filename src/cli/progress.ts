/** A progress bar on stderr (cli-progress; silent when stderr is not a terminal) and Ctrl-C handling. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

/** A progress bar showing `label`, done/total and an ETA. */
export function progressBar(unit = 'sweeps'): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `{label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let currentLabel = '';
  return {
    update(label, done, total) {
      if (!started || label !== currentLabel) {
        if (started) bar.stop();
        bar.start(total, done, { label });
        started = true;
        currentLabel = label;
      } else {
        bar.setTotal(total);
        bar.update(done, { label });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * An AbortSignal that fires on the first Ctrl-C (the command then finishes with what it has);
 * a second Ctrl-C exits at once. Call the returned `dispose` when done.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      '\nblockspin: interrupted — finishing with what was measured (Ctrl-C again to quit now)\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
