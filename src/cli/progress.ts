/**
 * Progress on stderr, never stdout (stdout may carry `--json`): a cli-progress bar when stderr is a terminal,
 * otherwise plain lines (a log file or a pipe gets a sign of life at most every few seconds and at each
 * phase change); and Ctrl-C handling.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(label: string, done: number, total: number): void;
  stop(): void;
}

/** Default spacing of plain progress lines when stderr is not a terminal. */
export const PROGRESS_INTERVAL_MS = 3000;

/** Environment variable overriding the spacing of plain progress lines (milliseconds; tests use a few). */
export const PROGRESS_INTERVAL_ENV = 'BLOCKSPIN_PROGRESS_INTERVAL_MS';

/** The plain-line interval: `BLOCKSPIN_PROGRESS_INTERVAL_MS` when set, else {@link PROGRESS_INTERVAL_MS}. */
export function progressInterval(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[PROGRESS_INTERVAL_ENV];
  if (raw === undefined || raw === '') return PROGRESS_INTERVAL_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 86_400_000) {
    throw new Error(
      `${PROGRESS_INTERVAL_ENV}=${raw} must be an integer number of milliseconds in 0 … 86400000`,
    );
  }
  return ms;
}

/** `95 s`, `4m 05s`, `2h 03m`: an ETA short enough for a log line. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 100) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(perSecond: number): string {
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 1) return perSecond.toFixed(1);
  return perSecond.toPrecision(2);
}

/**
 * Plain progress lines, e.g. `blockspin: measure 2560/11000 sweeps (23%), 410 sweeps/s, ETA 21 s`: one when a
 * phase starts, then at most one per `intervalMs`. The rate and ETA count from the phase's first update.
 * `now` is injectable for tests.
 */
export function progressLines(
  unit: string,
  write: (line: string) => void,
  intervalMs: number,
  now: () => number = () => performance.now(),
): Progress {
  let label: string | undefined;
  let phaseStart = { t: 0, done: 0 };
  let last = -Infinity;
  return {
    update(newLabel, done, total) {
      const t = now();
      const phaseChange = newLabel !== label;
      if (phaseChange) {
        label = newLabel;
        phaseStart = { t, done };
      } else if (t - last < intervalMs) return;
      last = t;
      const pct = total > 0 ? ` (${((100 * done) / total).toFixed(done < total ? 1 : 0)}%)` : '';
      let line = `blockspin: ${newLabel} ${done}/${total} ${unit}${pct}`;
      const elapsed = (t - phaseStart.t) / 1000;
      if (!phaseChange && elapsed > 0 && done > phaseStart.done) {
        const rate = (done - phaseStart.done) / elapsed;
        line += `, ${formatRate(rate)} ${unit}/s, ETA ${formatDuration((total - done) / rate)}`;
      }
      write(`${line}\n`);
    },
    stop() {},
  };
}

/**
 * Progress for a command: a bar showing `label`, done/total and an ETA on a terminal, plain lines otherwise
 * (see {@link progressLines}). Both go to stderr.
 */
export function progressBar(unit = 'sweeps'): Progress {
  if (!process.stderr.isTTY) {
    return progressLines(unit, (line) => void process.stderr.write(line), progressInterval());
  }
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
 * An AbortSignal that fires on the first Ctrl-C or SIGTERM (what a batch scheduler sends before it kills a
 * job): the command then finishes with what it has; a second one exits at once. Call `dispose` when done.
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
  process.on('SIGTERM', onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}
