/**
 * Where `<blockspin-rbm-trainer>` keeps its work so that nothing is lost to a reload or a lost device: the
 * origin-private file system (OPFS, `navigator.storage.getDirectory()`), else IndexedDB, else memory (not
 * persistent; the trainer says so). A run is stored as
 * - `run.json`: the run's id, its settings and what the data are;
 * - `data.npy`: the whole data set (int8 unit values), so a resumed run trains on the very same samples;
 * - `a/…` and `b/…`: two checkpoint slots in the CLI's checkpoint format (src/rbm/checkpoint.ts), written
 *   alternately;
 * - `head.json`, written last: which slot holds the newest complete checkpoint (run id, epoch, epochs).
 * A checkpoint is only visible once head.json names it, so an interrupted write leaves the previous one.
 * Everything here but the two browser back ends runs in Node (test/elements/rbm-store.test.ts).
 */

/** A flat store of named files (names may contain `/`). */
export interface FileStore {
  /** `opfs`, `indexeddb` or `memory`. */
  readonly kind: string;
  read(name: string): Promise<Uint8Array | undefined>;
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** Removes a file, or a folder and everything under it (IndexedDB removes only files: a folder's files are named one by one). */
  remove(name: string): Promise<void>;
}

/** A store in memory (tests, and pages with neither OPFS nor IndexedDB). */
export class MemoryFileStore implements FileStore {
  readonly kind = 'memory';
  readonly files = new Map<string, Uint8Array>();
  read(name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.files.get(name));
  }
  write(name: string, bytes: Uint8Array): Promise<void> {
    this.files.set(name, bytes.slice());
    return Promise.resolve();
  }
  /** Removes the file `name`, or everything under the folder `name`. */
  remove(name: string): Promise<void> {
    for (const key of [...this.files.keys()])
      if (key === name || key.startsWith(`${name}/`)) this.files.delete(key);
    return Promise.resolve();
  }
}

/** The OPFS directory calls the store uses (a subset of FileSystemDirectoryHandle, so tests can fake it). */
export interface DirectoryLike {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirectoryLike>;
  getFileHandle(
    name: string,
    options?: { create?: boolean },
  ): Promise<{
    getFile(): Promise<{ arrayBuffer(): Promise<ArrayBuffer> }>;
    createWritable(): Promise<{
      write(data: Uint8Array<ArrayBuffer>): Promise<void>;
      close(): Promise<void>;
    }>;
  }>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'NotFoundError';
}

/** Files in an OPFS directory (`root`), sub-directories for the `/`s of a name. */
export class OpfsFileStore implements FileStore {
  readonly kind = 'opfs';
  constructor(private readonly root: DirectoryLike) {}

  private async parent(
    name: string,
    create: boolean,
  ): Promise<{ dir: DirectoryLike; base: string } | undefined> {
    const parts = name.split('/');
    const base = parts.pop()!;
    let dir = this.root;
    for (const part of parts) {
      try {
        dir = await dir.getDirectoryHandle(part, { create });
      } catch (err) {
        if (!create && isNotFound(err)) return undefined;
        throw err;
      }
    }
    return { dir, base };
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const at = await this.parent(name, false);
    if (!at) return undefined;
    try {
      const file = await (await at.dir.getFileHandle(at.base)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    const at = (await this.parent(name, true))!;
    // A writable stream writes to a swap file that replaces the file on close: a reader never sees half a file.
    const writable = await (await at.dir.getFileHandle(at.base, { create: true })).createWritable();
    await writable.write(bytes as Uint8Array<ArrayBuffer>);
    await writable.close();
  }

  async remove(name: string): Promise<void> {
    const at = await this.parent(name, false);
    if (!at) return;
    try {
      await at.dir.removeEntry(at.base, { recursive: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

/** Files as values of one IndexedDB object store, keyed `prefix/name` (the fallback without OPFS). */
export class IndexedDbFileStore implements FileStore {
  readonly kind = 'indexeddb';
  private constructor(
    private readonly db: IDBDatabase,
    private readonly prefix: string,
  ) {}

  static async open(prefix: string, dbName = 'blockspin-files'): Promise<IndexedDbFileStore> {
    const open = indexedDB.open(dbName, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files');
    return new IndexedDbFileStore(await request(open), prefix);
  }

  private store(mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction('files', mode).objectStore('files');
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const value = (await request(this.store('readonly').get(`${this.prefix}/${name}`))) as
      ArrayBuffer | undefined;
    return value ? new Uint8Array(value) : undefined;
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    await request(this.store('readwrite').put(bytes.slice().buffer, `${this.prefix}/${name}`));
  }

  async remove(name: string): Promise<void> {
    await request(this.store('readwrite').delete(`${this.prefix}/${name}`));
  }
}

/**
 * The page's persistent store for `namespace`: an OPFS directory `namespace`, else IndexedDB, else memory.
 * `why` says why a fallback was taken.
 */
export async function openFileStore(namespace: string): Promise<{ store: FileStore; why?: string }> {
  let why: string;
  try {
    if (typeof navigator !== 'undefined' && navigator.storage?.getDirectory) {
      // Ask that the site's storage be kept under pressure (granted or not, OPFS works; the answer is not needed).
      void navigator.storage.persist?.().catch(() => false);
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle(namespace, { create: true });
      return { store: new OpfsFileStore(dir as unknown as DirectoryLike) };
    }
    why = 'this browser has no origin-private file system';
  } catch (err) {
    why = `the origin-private file system failed (${(err as Error).message})`;
  }
  try {
    if (typeof indexedDB !== 'undefined')
      return {
        store: await IndexedDbFileStore.open(namespace),
        why: `${why}: they go to IndexedDB (with the data set)`,
      };
    why += '; no IndexedDB either';
  } catch (err) {
    why += `; IndexedDB failed (${(err as Error).message})`;
  }
  return {
    store: new MemoryFileStore(),
    why: `${why}: checkpoints are kept in memory only (lost on reload)`,
  };
}

/** What run.json records (the trainer's settings are opaque here). */
export interface StoredRun {
  /** A new id per run: a head.json of another run is ignored. */
  id: string;
  /** Epochs requested. */
  epochs: number;
  /** The trainer's own record (form, data description, …). */
  [key: string]: unknown;
}

/** head.json: the newest complete checkpoint. */
export interface CheckpointHead {
  run: string;
  slot: 'a' | 'b';
  epoch: number;
  epochs: number;
  /** The checkpoint's file names (in the slot). */
  files: string[];
  saved: string;
}

/** A run as stored: its record, data bytes and newest checkpoint's files (name → bytes). */
export interface SavedRun {
  run: StoredRun;
  head: CheckpointHead;
  data: Uint8Array;
  checkpoint: Record<string, Uint8Array>;
}

const RUN = 'run.json';
const HEAD = 'head.json';
const DATA = 'data.npy';

const encode = (x: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(x, null, 2)}\n`);

async function readJson<T>(store: FileStore, name: string): Promise<T | undefined> {
  const bytes = await store.read(name);
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    return undefined;
  }
}

/** The trainer's run and its checkpoints in a FileStore (layout in this module's comment). */
export class RbmCheckpointStore {
  constructor(readonly files: FileStore) {}

  /** Starts a new run: forgets the old checkpoint first, then writes the data and run.json. */
  async beginRun(run: StoredRun, data: Uint8Array): Promise<void> {
    await this.files.remove(HEAD);
    await this.files.write(DATA, data);
    await this.files.write(RUN, encode(run));
  }

  /** Rewrites run.json (e.g. more epochs requested); the checkpoints stay. */
  async updateRun(run: StoredRun): Promise<void> {
    await this.files.write(RUN, encode(run));
  }

  /** Writes a checkpoint into the slot head.json does not name, then points head.json at it. */
  async saveCheckpoint(
    runId: string,
    files: readonly { name: string; bytes: Uint8Array }[],
    progress: { epoch: number; epochs: number },
  ): Promise<CheckpointHead> {
    const previous = await readJson<CheckpointHead>(this.files, HEAD);
    const slot = previous?.run === runId && previous.slot === 'a' ? 'b' : 'a';
    const stale = await readJson<CheckpointHead>(this.files, `${slot}/index.json`);
    for (const name of stale?.files ?? [])
      if (!files.some((f) => f.name === name)) await this.files.remove(`${slot}/${name}`);
    for (const f of files) await this.files.write(`${slot}/${f.name}`, f.bytes);
    const head: CheckpointHead = {
      run: runId,
      slot,
      epoch: progress.epoch,
      epochs: progress.epochs,
      files: files.map((f) => f.name),
      saved: new Date().toISOString(),
    };
    await this.files.write(`${slot}/index.json`, encode(head));
    await this.files.write(HEAD, encode(head));
    return head;
  }

  /** The run and its newest checkpoint's head, without the large files; null when there is none. */
  async peek(): Promise<{ run: StoredRun; head: CheckpointHead } | null> {
    const head = await readJson<CheckpointHead>(this.files, HEAD);
    const run = await readJson<StoredRun>(this.files, RUN);
    if (!head || !run || head.run !== run.id) return null;
    return { run, head };
  }

  /** The run, its data and newest checkpoint; null when there is none or a file is missing. */
  async load(): Promise<SavedRun | null> {
    const found = await this.peek();
    if (!found) return null;
    const data = await this.files.read(DATA);
    if (!data) return null;
    const checkpoint: Record<string, Uint8Array> = {};
    for (const name of found.head.files) {
      const bytes = await this.files.read(`${found.head.slot}/${name}`);
      if (!bytes) return null;
      checkpoint[name] = bytes;
    }
    return { ...found, data, checkpoint };
  }

  /** Forgets everything stored. */
  async discard(): Promise<void> {
    await this.files.remove(HEAD);
    for (const slot of ['a', 'b']) {
      const index = await readJson<CheckpointHead>(this.files, `${slot}/index.json`);
      for (const name of index?.files ?? []) await this.files.remove(`${slot}/${name}`);
      await this.files.remove(`${slot}/index.json`);
      await this.files.remove(slot);
    }
    for (const name of [RUN, DATA]) await this.files.remove(name);
  }
}
