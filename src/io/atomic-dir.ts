/**
 * Writes a set of files as one directory, atomically: everything goes into a temporary sibling
 * directory which is then renamed into place, so readers see either the old directory or the complete
 * new one, never a half-written one. Used by data sets, model files and checkpoints (Node only).
 */

export interface DirectoryFile {
  name: string;
  bytes: Uint8Array;
}

export interface AtomicWriteOptions {
  /** Replace an existing non-empty directory (default: refuse). */
  force?: boolean;
  /** Writes one file (default fs.writeFile); a hook for fault-injection tests. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
  /** What the directory is, for messages (default 'directory'). */
  what?: string;
}

/** Writes `files` into `dir` atomically (see above); returns the absolute path. */
export async function writeDirectoryAtomically(
  dir: string,
  files: DirectoryFile[],
  options: AtomicWriteOptions = {},
): Promise<string> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const what = options.what ?? 'directory';
  const finalDir = path.resolve(dir);
  const existing = async (): Promise<string[] | null> =>
    fs.readdir(finalDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      if (err.code === 'ENOTDIR')
        throw new Error(`${what} path ${finalDir} is a file, not a directory`, { cause: err });
      throw err;
    });
  const refuse = (entries: string[] | null): void => {
    if (entries && entries.length > 0 && !options.force) {
      throw new Error(
        `${what} ${finalDir} exists and is not empty (${entries.length} entries); use force to replace it`,
      );
    }
  };
  refuse(await existing());
  const tag = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${finalDir}.tmp-${tag}`;
  const write = options.writeFile ?? ((p: string, bytes: Uint8Array) => fs.writeFile(p, bytes));
  await fs.mkdir(tmp, { recursive: true });
  try {
    for (const f of files) await write(path.join(tmp, f.name), f.bytes);
    const now = await existing();
    refuse(now);
    if (now) {
      // Swap: old → aside, new → in place, then drop the old one (restored if the second rename fails).
      const old = `${finalDir}.old-${tag}`;
      await fs.rename(finalDir, old);
      try {
        await fs.rename(tmp, finalDir);
      } catch (err) {
        await fs.rename(old, finalDir);
        throw err;
      }
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.rename(tmp, finalDir);
    }
    return finalDir;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
