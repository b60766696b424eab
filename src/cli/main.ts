/**
 * `blockspin` command line. Each command lives in its own module and registers itself here;
 * `--help` works on every command (commander).
 */
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench.ts';
import { DEVICE_LOST_EXIT } from './device-loss.ts';
import { registerInfo } from './info.ts';
import { registerIsing } from './ising.ts';
import { registerMcrg } from './mcrg.ts';
import { registerRbm } from './rbm.ts';
import { registerReproduce } from './reproduce.ts';

export function createProgram(): Command {
  const program = new Command('blockspin')
    .description('WebGPU engine for 2D Ising Monte Carlo, RBM training and real-space RG')
    .version('0.1.0')
    .configureOutput({ outputError: (text, write) => write(text) })
    // Each command parses the options after its name, so `mcrg merge … --json` is merge's --json, not mcrg's.
    .enablePositionalOptions();
  registerInfo(program);
  registerIsing(program);
  registerRbm(program);
  registerMcrg(program);
  registerReproduce(program);
  registerBench(program);
  program.addHelpText(
    'after',
    `\nExit status: 0 done (after a first Ctrl-C, ising and rbm train report or checkpoint what they have);\n` +
      `1 error; 130 generate interrupted (DIR.partial kept for --resume) or a second Ctrl-C; ${DEVICE_LOST_EXIT} the GPU\n` +
      `device was lost (kept: the results measured so far, DIR.partial, the last checkpoint for --resume).`,
  );
  pointToHelpAfterErrors(program);
  return program;
}

/**
 * After a usage error, one line naming the command's `--help` instead of the whole help text, which
 * would bury the error: `run 'blockspin ising --help' for usage`.
 */
function pointToHelpAfterErrors(command: Command, path: string[] = []): void {
  const names = [...path, command.name()];
  command.showHelpAfterError(`run '${names.join(' ')} --help' for usage`);
  for (const sub of command.commands) pointToHelpAfterErrors(sub, names);
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram().exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`blockspin: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// Dawn keeps the process alive while a device exists; commands destroy theirs, and we exit explicitly
// so a forgotten handle can never hang a script.
const code = await main(process.argv.slice(2));
// A command may set process.exitCode (e.g. 130 for an interrupted data set) while returning normally.
process.exit(code !== 0 ? code : typeof process.exitCode === 'number' ? process.exitCode : 0);
