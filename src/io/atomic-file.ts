/**
 * Single output files written safely (Node only): `checkOutputFile` refuses, before any work, a target
 * that is a directory, whose parent is missing or not a directory, or that exists (unless `force`);
 * `writeFileAtomically` writes a temporary sibling and moves it into place, so a reader sees the old file
 * or the complete new one, and removes the temporary file on any failure.
 */

/** Options of `checkOutputFile` and `writeFileAtomically`. */
export interface OutputFileOptions {
  /** Replace an existing file (default: refuse). */
  force?: boolean;
  /** What the file is, for messages (default 'output file'). */
  what?: string;
  /** Writes the temporary file (default fs.writeFile); a hook for fault-injection tests. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
}

/** Throws (naming the path) unless `file` can be created, or replaced with `force`. Returns the absolute path. */
export async function checkOutputFile(file: string, options: OutputFileOptions = {}): Promise<string> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const what = options.what ?? 'output file';
  const target = path.resolve(file);
  const parent = path.dirname(target);
  const parentStat = await fs.stat(parent).catch(() => null);
  if (!parentStat?.isDirectory()) throw new Error(`${what} ${file}: its directory ${parent} does not exist`);
  const stat = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (stat?.isDirectory())
    throw new Error(
      `${what} ${file} is a directory; give a file name, e.g. ${path.join(file, 'samples.npy')}`,
    );
  if (stat && !options.force) throw new Error(`${what} ${file} exists; use --force to replace it`);
  if (stat && !stat.isFile()) throw new Error(`${what} ${file} exists and is not a regular file`);
  return target;
}

/**
 * Writes `bytes` to `file` atomically (temporary sibling, then a rename; without `force` a hard link, which
 * fails rather than replace a file that appeared meanwhile). The temporary file never survives a failure.
 * Returns the absolute path.
 */
export async function writeFileAtomically(
  file: string,
  bytes: Uint8Array,
  options: OutputFileOptions = {},
): Promise<string> {
  const fs = await import('node:fs/promises');
  const target = await checkOutputFile(file, options);
  const tag = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = `${target}.tmp-${tag}`;
  const write = options.writeFile ?? ((p: string, b: Uint8Array) => fs.writeFile(p, b, { flag: 'wx' }));
  try {
    await write(tmp, bytes);
    await checkOutputFile(file, options); // the target may have changed while the data were written
    if (options.force) await fs.rename(tmp, target);
    else {
      try {
        await fs.link(tmp, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST')
          throw new Error(`${options.what ?? 'output file'} ${file} exists; use --force to replace it`, {
            cause: err,
          });
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
        await fs.rename(tmp, target); // a file system without hard links: checked just above
      }
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return target;
}
