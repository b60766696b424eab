/** Single output files: refused targets (directory, missing parent, existing file), atomic replacement, no temporary file left. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutputFile, writeFileAtomically } from '../../src/io/atomic-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-atomic-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = new Uint8Array([1, 2, 3, 4]);
const leftovers = async (): Promise<string[]> => (await readdir(dir)).filter((e) => e.includes('.tmp-'));

describe('checkOutputFile', () => {
  it('accepts a new file and returns its absolute path', async () => {
    expect(await checkOutputFile(join(dir, 'new.npy'))).toBe(join(dir, 'new.npy'));
  });

  it('refuses a directory, a missing parent, a file as parent and an existing file (unless force)', async () => {
    await mkdir(join(dir, 'adir'));
    await expect(checkOutputFile(join(dir, 'adir'))).rejects.toThrow(/adir is a directory; give a file name/);
    await expect(checkOutputFile(join(dir, 'adir'), { force: true })).rejects.toThrow(/is a directory/);
    await expect(checkOutputFile(join(dir, 'missing', 'x.npy'))).rejects.toThrow(
      /x\.npy: its directory .*missing does not exist/,
    );
    await writeFile(join(dir, 'old.npy'), bytes);
    await expect(checkOutputFile(join(dir, 'old.npy'), { what: '--out' })).rejects.toThrow(
      /--out .*old\.npy exists; use --force to replace it/,
    );
    await expect(checkOutputFile(join(dir, 'old.npy', 'x.npy'))).rejects.toThrow(/does not exist/);
    expect(await checkOutputFile(join(dir, 'old.npy'), { force: true })).toBe(join(dir, 'old.npy'));
  });
});

describe('writeFileAtomically', () => {
  it('writes a new file, keeps an existing one without force and replaces it with force', async () => {
    const file = join(dir, 'w.bin');
    await writeFileAtomically(file, bytes);
    expect(new Uint8Array(await readFile(file))).toEqual(bytes);
    await expect(writeFileAtomically(file, new Uint8Array([9]))).rejects.toThrow(/exists; use --force/);
    expect(new Uint8Array(await readFile(file))).toEqual(bytes);
    await writeFileAtomically(file, new Uint8Array([9]), { force: true });
    expect(new Uint8Array(await readFile(file))).toEqual(new Uint8Array([9]));
    expect(await leftovers()).toEqual([]);
  });

  it('removes the temporary file when writing fails or the target turns into a directory meanwhile', async () => {
    const failing = async (path: string, b: Uint8Array): Promise<void> => {
      await writeFile(path, b.subarray(0, 2));
      throw new Error('disk full (simulated)');
    };
    await expect(writeFileAtomically(join(dir, 'f.bin'), bytes, { writeFile: failing })).rejects.toThrow(
      /disk full/,
    );
    const target = join(dir, 'race');
    const racing = async (path: string, b: Uint8Array): Promise<void> => {
      await writeFile(path, b);
      await mkdir(target); // another process creates a directory at the target
    };
    await expect(writeFileAtomically(target, bytes, { writeFile: racing })).rejects.toThrow(/is a directory/);
    const appearing = join(dir, 'appearing');
    const creating = async (path: string, b: Uint8Array): Promise<void> => {
      await writeFile(path, b);
      await writeFile(appearing, new Uint8Array([7])); // another process creates the file meanwhile
    };
    await expect(writeFileAtomically(appearing, bytes, { writeFile: creating })).rejects.toThrow(/exists/);
    expect(new Uint8Array(await readFile(appearing))).toEqual(new Uint8Array([7]));
    expect(await leftovers()).toEqual([]);
  });
});
