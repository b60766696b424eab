/**
 * Study checkpoints kept on disk (Node): `<report dir>/checkpoints/<name>/…`, each checkpoint replaced
 * atomically, plus `run.json`, which says which study, preset and seed they belong to, so `reproduce --resume DIR`
 * continues the same run and refuses another. In memory for the browser and tests: `memoryCheckpoints`.
 */
import { writeDirectoryAtomically, type DirectoryFile } from '../io/atomic-dir.ts';
import { StudyStopped, type StageTime, type StudyCheckpoints } from './study.ts';

/** The checkpoints' folder inside a report directory. */
export const CHECKPOINT_DIR = 'checkpoints';
/** The file in that folder naming the run the checkpoints belong to. */
export const RUN_FILE = 'run.json';
const RUN_FORMAT = 'blockspin-study-run';

/** What a set of checkpoints belongs to. */
export interface CheckpointRun {
  study: string;
  preset: string;
  seed: number;
  /** `--set PATH=VALUE` overrides of the preset's options, in order (none when absent). */
  overrides?: string[];
}

/** A checkpoint name: letters, digits, '-', '_' and '.', not starting with '.' (one folder, no paths). */
function checkName(name: string): void {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name))
    throw new RangeError(`checkpoint name ${JSON.stringify(name)} must be letters, digits, '-', '_' or '.'`);
}

/** Every file under `dir` (relative path with '/' → bytes); null when `dir` does not exist. */
async function readTree(dir: string): Promise<Map<string, Uint8Array> | null> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const files = new Map<string, Uint8Array>();
  const walk = async (sub: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(dir, sub), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    for (const e of entries) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else if (e.isFile()) files.set(rel, new Uint8Array(await fs.readFile(path.join(dir, rel))));
    }
    return true;
  };
  return (await walk('')) ? files : null;
}

async function writeTree(dir: string, files: readonly DirectoryFile[], what: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await writeDirectoryAtomically(dir, [...files], {
    force: true,
    what,
    writeFile: async (p, bytes) => {
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, bytes);
    },
  });
}

/** Checkpoints in `<reportDir>/checkpoints/` (Node). */
export function directoryCheckpoints(reportDir: string): StudyCheckpoints {
  const base = async (name: string) => {
    checkName(name);
    const path = await import('node:path');
    return path.join(reportDir, CHECKPOINT_DIR, name);
  };
  return {
    async read(name) {
      return readTree(await base(name));
    },
    async write(name, files) {
      await writeTree(await base(name), files, `checkpoint ${name}`);
    },
  };
}

/** Checkpoints held in memory (the browser; tests). */
export function memoryCheckpoints(): StudyCheckpoints & { names(): string[] } {
  const store = new Map<string, Map<string, Uint8Array>>();
  return {
    read(name) {
      checkName(name);
      const files = store.get(name);
      return Promise.resolve(files ? new Map(files) : null);
    },
    write(name, files) {
      checkName(name);
      store.set(name, new Map(files.map((f) => [f.name, f.bytes.slice()])));
      return Promise.resolve();
    },
    names: () => [...store.keys()],
  };
}

/** Records which run the checkpoints of `reportDir` belong to (before the study starts). */
export async function writeCheckpointRun(reportDir: string, run: CheckpointRun): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const dir = path.join(reportDir, CHECKPOINT_DIR);
  await fs.mkdir(dir, { recursive: true });
  const bytes = new TextEncoder().encode(
    `${JSON.stringify({ format: RUN_FORMAT, version: 1, ...run }, null, 2)}\n`,
  );
  const tmp = path.join(dir, `${RUN_FILE}.tmp-${process.pid}`);
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, path.join(dir, RUN_FILE));
}

/**
 * The run the checkpoints of `reportDir` belong to; an error naming the directory when there are none (nothing
 * to resume) or the file is not one of ours.
 */
export async function readCheckpointRun(reportDir: string): Promise<CheckpointRun> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const file = path.join(reportDir, CHECKPOINT_DIR, RUN_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        `--resume ${reportDir}: no ${CHECKPOINT_DIR}/${RUN_FILE} there (not a report directory of a run with checkpoints)`,
        { cause: err },
      );
    throw err;
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${file} is not valid JSON (${(cause as Error).message})`, { cause });
  }
  const r = run as Partial<CheckpointRun> & { format?: unknown; version?: unknown };
  if (
    r?.format !== RUN_FORMAT ||
    r.version !== 1 ||
    typeof r.study !== 'string' ||
    typeof r.preset !== 'string' ||
    typeof r.seed !== 'number' ||
    (r.overrides !== undefined &&
      !(Array.isArray(r.overrides) && r.overrides.every((x) => typeof x === 'string')))
  )
    throw new Error(
      `${file} is not a ${RUN_FORMAT} version 1 file with study, preset, seed (and overrides: strings)`,
    );
  return { study: r.study, preset: r.preset, seed: r.seed, overrides: r.overrides ?? [] };
}

/** All files of `<reportDir>/checkpoints/` with paths relative to the report directory (to carry them over). */
export async function checkpointFiles(reportDir: string): Promise<DirectoryFile[]> {
  const path = await import('node:path');
  const tree = await readTree(path.join(reportDir, CHECKPOINT_DIR));
  if (!tree) return [];
  return [...tree]
    .filter(([name]) => !name.includes('.tmp-') && !name.includes('.old-'))
    .map(([name, bytes]) => ({ name: `${CHECKPOINT_DIR}/${name}`, bytes }));
}

/** Wall time of one stage, including what earlier runs of it spent (restored from its checkpoint). */
export class StageClock {
  /** Seconds earlier runs spent (from the checkpoint). */
  prior = 0;
  private readonly start = performance.now();
  /** prior + this run's seconds so far. */
  elapsed(): number {
    return this.prior + (performance.now() - this.start) / 1000;
  }
}

/**
 * Runs a study's stages in order: each body gets its StageClock (a stage resumed from a checkpoint sets `prior`),
 * its wall time is appended to `stages` even when it throws, and once `signal` is aborted the next stage does not
 * start and the current one ends with StudyStopped.
 *
 * @example
 * const stage = stageRunner(state.stages, context.signal);
 * await stage('data', async (clock) => { … });
 */
export function stageRunner(
  stages: StageTime[],
  signal: AbortSignal | undefined,
): (name: string, body: (clock: StageClock) => Promise<void>) => Promise<void> {
  return async (name, body) => {
    if (signal?.aborted) throw new StudyStopped('interrupted');
    const clock = new StageClock();
    try {
      await body(clock);
    } finally {
      stages.push({ stage: name, seconds: Number(clock.elapsed().toFixed(2)) });
    }
    if (signal?.aborted) throw new StudyStopped('interrupted');
  };
}
