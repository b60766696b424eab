/**
 * An allocation guard for tests and fuzzing: while a synchronous body runs, the global array constructors
 * refuse lengths above a limit, so that a reader sizing a buffer from a header's claim before checking it
 * against the file is caught even when the allocation would have succeeded.
 */

/** Thrown (and rethrown after the body, even if the body caught it) for an allocation above the limit. */
export class AllocationLimitError extends Error {
  override name = 'AllocationLimitError';
}

const ALLOCATORS = [
  'ArrayBuffer',
  'Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
] as const;

/**
 * Runs `body` with the global array constructors replaced by proxies that refuse a length above `limit`
 * (`new Float32Array(n)`, `Float64Array.from(…)`, `new ArrayBuffer(n)`, `new Array(n)`): a reader that sizes a
 * buffer from a header's claim before checking it against the file is caught even when the allocation would
 * have succeeded. Synchronous bodies only.
 */
export function withAllocationLimit<T>(limit: number, body: () => T): T {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = ALLOCATORS.map((name) => g[name] as new (...args: unknown[]) => unknown);
  let violation: string | null = null;
  const guard = (name: string, n: unknown): void => {
    if (typeof n === 'number' && n > limit) {
      violation ??= `${name}(${n}) allocated; the input justifies at most ${limit} elements`;
      throw new AllocationLimitError(violation);
    }
  };
  ALLOCATORS.forEach((name, i) => {
    const C = saved[i]!;
    g[name] = new Proxy(C, {
      construct(target, args, newTarget) {
        guard(name, args[0]);
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget) as object;
      },
      apply(target, self, args) {
        guard(name, args[0]);
        return Reflect.apply(target, self, args) as unknown;
      },
    });
  });
  let result: T;
  try {
    result = body();
  } catch (err) {
    // The body may have caught the guard's error and thrown its own: the allocation is what went wrong.
    if (violation) throw new AllocationLimitError(violation, { cause: err });
    throw err;
  } finally {
    ALLOCATORS.forEach((name, i) => (g[name] = saved[i]));
  }
  if (violation) throw new AllocationLimitError(violation);
  return result;
}
