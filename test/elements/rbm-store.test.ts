/**
 * The trainer's checkpoint store (src/elements/rbm-store.ts) on the in-memory store and on a fake OPFS directory:
 * a checkpoint becomes visible only once head.json names it, slots alternate, a new run forgets the old one,
 * a missing file means no checkpoint, and discard removes everything.
 */
import { describe, expect, it } from 'vitest';
import {
  MemoryFileStore,
  OpfsFileStore,
  RbmCheckpointStore,
  type DirectoryLike,
  type FileStore,
} from '../../src/elements/rbm-store.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : '(none)');

/** An OPFS directory in memory, with the NotFoundError DOMExceptions the real one throws. */
class FakeDirectory implements DirectoryLike {
  readonly dirs = new Map<string, FakeDirectory>();
  readonly files = new Map<string, Uint8Array>();
  private notFound(name: string): Error {
    return Object.assign(new Error(`${name} not found`), { name: 'NotFoundError' });
  }
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirectoryLike> {
    let d = this.dirs.get(name);
    if (!d) {
      if (!options?.create) return Promise.reject(this.notFound(name));
      d = new FakeDirectory();
      this.dirs.set(name, d);
    }
    return Promise.resolve(d);
  }
  getFileHandle(name: string, options?: { create?: boolean }) {
    if (!this.files.has(name) && !options?.create) return Promise.reject(this.notFound(name));
    return Promise.resolve({
      getFile: () => {
        const b = this.files.get(name) ?? new Uint8Array(0);
        return Promise.resolve({ arrayBuffer: () => Promise.resolve(b.slice().buffer) });
      },
      createWritable: () => {
        const parts: Uint8Array[] = [];
        return Promise.resolve({
          write: (data: Uint8Array) => {
            parts.push(data.slice());
            return Promise.resolve();
          },
          close: () => {
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts) {
              all.set(p, at);
              at += p.length;
            }
            this.files.set(name, all);
            return Promise.resolve();
          },
        });
      },
    });
  }
  removeEntry(name: string): Promise<void> {
    if (!this.files.delete(name) && !this.dirs.delete(name)) return Promise.reject(this.notFound(name));
    return Promise.resolve();
  }
}

const backends: [string, () => FileStore][] = [
  ['memory', () => new MemoryFileStore()],
  ['OPFS (fake directory)', () => new OpfsFileStore(new FakeDirectory())],
];

describe.each(backends)('RbmCheckpointStore on %s', (_, make) => {
  it('shows a checkpoint only once head.json names it, alternating slots', async () => {
    const files = make();
    const store = new RbmCheckpointStore(files);
    expect(await store.peek()).toBeNull();
    await store.beginRun({ id: 'r1', epochs: 3, form: { L: '8' } }, bytes('DATA'));
    expect(await store.peek()).toBeNull(); // no epoch yet
    const h1 = await store.saveCheckpoint('r1', [{ name: 'model.json', bytes: bytes('epoch 1') }], {
      epoch: 1,
      epochs: 3,
    });
    const h2 = await store.saveCheckpoint(
      'r1',
      [
        { name: 'model.json', bytes: bytes('epoch 2') },
        { name: 'chains.npy', bytes: bytes('chains') },
      ],
      { epoch: 2, epochs: 3 },
    );
    expect([h1.slot, h2.slot]).toEqual(['a', 'b']);
    const saved = await store.load();
    expect(saved?.run).toMatchObject({ id: 'r1', epochs: 3, form: { L: '8' } });
    expect(saved?.head).toMatchObject({ run: 'r1', slot: 'b', epoch: 2, epochs: 3 });
    expect(text(saved?.data)).toBe('DATA');
    expect(Object.keys(saved?.checkpoint ?? {})).toEqual(['model.json', 'chains.npy']);
    expect(text(saved?.checkpoint['model.json'])).toBe('epoch 2');
    // The third goes back to slot a, dropping a file the slot's older checkpoint had and this one lacks.
    const h3 = await store.saveCheckpoint('r1', [{ name: 'model.json', bytes: bytes('epoch 3') }], {
      epoch: 3,
      epochs: 3,
    });
    expect(h3.slot).toBe('a');
    expect(text((await store.load())?.checkpoint['model.json'])).toBe('epoch 3');
  });

  it('a half-written checkpoint (no head.json yet) leaves the previous one; a missing file means none', async () => {
    const files = make();
    const store = new RbmCheckpointStore(files);
    await store.beginRun({ id: 'r1', epochs: 2 }, bytes('DATA'));
    await store.saveCheckpoint('r1', [{ name: 'model.json', bytes: bytes('epoch 1') }], {
      epoch: 1,
      epochs: 2,
    });
    // Interrupted while writing epoch 2 into slot b: head.json still names slot a.
    await files.write('b/model.json', bytes('epoch 2, half'));
    expect((await store.load())?.head.epoch).toBe(1);
    expect(text((await store.load())?.checkpoint['model.json'])).toBe('epoch 1');
    await files.remove('a/model.json');
    expect(await store.load()).toBeNull();
  });

  it('a new run forgets the old checkpoint at once; discard removes everything', async () => {
    const files = make();
    const store = new RbmCheckpointStore(files);
    await store.beginRun({ id: 'r1', epochs: 2 }, bytes('OLD'));
    await store.saveCheckpoint('r1', [{ name: 'model.json', bytes: bytes('x') }], { epoch: 1, epochs: 2 });
    await store.beginRun({ id: 'r2', epochs: 5 }, bytes('NEW'));
    expect(await store.peek()).toBeNull();
    await store.saveCheckpoint('r2', [{ name: 'model.json', bytes: bytes('y') }], { epoch: 1, epochs: 5 });
    expect((await store.peek())?.head).toMatchObject({ run: 'r2', slot: 'a', epoch: 1 });
    await store.discard();
    expect(await store.peek()).toBeNull();
    for (const name of ['run.json', 'data.npy', 'head.json', 'a/model.json', 'a/index.json'])
      expect(await files.read(name), name).toBeUndefined();
  });
});
