/** Runs the blockspin CLI in a child process for the CLI contract tests: to completion, or until a SIGINT. */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);

/** The launcher (a source checkout: runs src/ through tsx). */
export const bin = resolve(import.meta.dirname, '../../bin/blockspin.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `blockspin ...args` to its end (killed after `timeout` ms); never rejects (the exit status is in `code`). */
export async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeout = 300_000,
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      timeout,
      env,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Starts the CLI with stderr piped, so that it writes plain progress lines (one per update with
 * BLOCKSPIN_PROGRESS_INTERVAL_MS=0), sends `signal` (SIGINT by default) as soon as stderr shows a line
 * matching `trigger` (the command is then working, on a fast GPU as on SwiftShader: no timer) and collects
 * the result.
 */
export async function interrupted(
  args: string[],
  trigger: RegExp,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BLOCKSPIN_PROGRESS_INTERVAL_MS: '0' },
  });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && trigger.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), 110_000); // never outlive the test
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, sig) => res({ code, signal: sig })),
  );
  clearTimeout(kill);
  expect(sent, `exited before a progress line matching ${trigger}: ${stderr}`).toBe(true);
  return { code: exit.code ?? -1, signal: exit.signal, stdout, stderr };
}
