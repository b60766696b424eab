/** Checks of a study's options, shared by the studies: each names the option, its value and the limit. */

/** `value` as an integer in min … max, or a RangeError naming both. */
export function integerOption(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} ${String(value)} must be an integer in ${min} … ${max}`);
  return value;
}

/** `value` as a finite number > 0, or a RangeError naming it. */
export function positiveOption(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} ${String(value)} must be a finite number > 0`);
  return value;
}
