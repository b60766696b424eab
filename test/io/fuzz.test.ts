/**
 * Property-based fuzzing of the file readers (generators and property in bench/fuzz-targets.ts; the 10⁵-case
 * run is `npx tsx bench/fuzz.ts`): NPY, IDX, Ising data-set directories, model directories and checkpoints,
 * mutated from valid files, must load (and round-trip or validate) or throw their typed error with a message;
 * no other exception, no allocation beyond what the input's size justifies. Fixed seed: the same cases every run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllocationLimitError, withAllocationLimit } from '../../bench/allocation-limit.ts';
import {
  errorBranch,
  FUZZ_TARGETS,
  fuzz,
  fuzzPartialDataset,
  FuzzViolation,
  outcome,
  type FuzzTarget,
} from '../../bench/fuzz-targets.ts';
import { decodeNpy, NpyFormatError } from '../../src/io/npy.ts';

/** Cases per reader: 5 × 300 = 1500 in all, and 150 partial data sets through temporary directories. */
const RUNS = 300;
const SEED = 20261130;

describe.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s reader', (_name, target) => {
  it('reads every unmutated file the generators start from', () => {
    for (const input of target.valid) expect(outcome(target, input)).toBe('ok');
  });

  it(`loads or refuses by its typed error each of ${RUNS} mutated files`, () => {
    const counts = fuzz(target, RUNS, SEED);
    const loaded = counts.get('ok') ?? 0;
    // The generators stay near valid files: some mutants still load, and the rest reach many distinct checks
    // (not one magic-number test).
    expect(loaded).toBeGreaterThan(RUNS / 20);
    expect(loaded).toBeLessThan(RUNS * 0.6);
    expect(counts.size - 1).toBeGreaterThanOrEqual(10);
  });
});

describe('partial data-set reader (through temporary directories)', () => {
  it('loads or refuses by its typed error, naming the directory, each of 150 mutated directories', async () => {
    const counts = await fuzzPartialDataset(150, SEED);
    expect(counts.get('ok') ?? 0).toBeGreaterThan(150 / 20);
    expect(counts.size - 1).toBeGreaterThanOrEqual(10);
  });
});

describe('the fuzz property', () => {
  const bytes: FuzzTarget<Uint8Array> = {
    name: 'test',
    valid: [],
    arbitrary: fc.uint8Array({ maxLength: 4 }),
    errors: [NpyFormatError],
    size: (b) => b.length,
    read: (b) => void decodeNpy(b, 'test'),
  };

  it('passes typed errors and names their branch', () => {
    expect(outcome(bytes, Uint8Array.of(1, 2))).toBe(
      'NpyFormatError: test: only … bytes; an NPY file has at least …',
    );
    expect(errorBranch(new RangeError('x \'a\' [1,2] (3) 0x1f 2.5e3 null {"k": 1} "ab…'))).toBe(
      'RangeError: x … … (…) … … … … …',
    );
  });

  it('fails on a message that does not name the file', () => {
    const target = { ...bytes, read: (b: Uint8Array) => void decodeNpy(b, 'other') };
    expect(() => outcome(target, new Uint8Array(0))).toThrow(/does not name the file/);
  });

  it('fails on an untyped exception', () => {
    const target = { ...bytes, read: () => JSON.parse('{') as unknown };
    expect(() => outcome(target, new Uint8Array(0))).toThrow(/untyped SyntaxError/);
    expect(() => fuzz(target, 10, SEED)).toThrow(FuzzViolation);
  });

  it('fails on an allocation the input does not justify, even one the reader catches', () => {
    const claim = { ...bytes, read: () => void new Float32Array(1e6) };
    expect(() => outcome(claim, new Uint8Array(10))).toThrow(/Float32Array\(1000000\) allocated/);
    const caught = {
      ...bytes,
      read: () => {
        try {
          Float64Array.from({ length: 1e6 });
        } catch {
          throw new NpyFormatError('claimed size');
        }
      },
    };
    expect(() => outcome(caught, new Uint8Array(10))).toThrow(FuzzViolation);
    expect(outcome({ ...bytes, read: () => void new Float32Array(100) }, new Uint8Array(10))).toBe('ok');
  });

  it('restores the array constructors afterwards', () => {
    const before = Float32Array;
    expect(() => withAllocationLimit(10, () => new ArrayBuffer(11))).toThrow(AllocationLimitError);
    expect(Float32Array).toBe(before);
    expect(new Float32Array(1000).length).toBe(1000);
  });
});
