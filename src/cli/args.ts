/** Argument parsers shared by the commands: each rejects bad input naming the value and the limit. */
import { InvalidArgumentError } from 'commander';

/** An integer option in [min, max]. */
export function integerArg(name: string, min: number, max = 0xffffffff) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} ${value} must be an integer in ${min} … ${max}`);
    }
    return n;
  };
}

/** A finite number, optionally > 0. */
export function numberArg(name: string, { positive = false } = {}) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || (positive && x <= 0)) {
      throw new InvalidArgumentError(`${name} ${value} must be a finite number${positive ? ' > 0' : ''}`);
    }
    return x;
  };
}

/** One of a fixed set of words. */
export function choiceArg<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} '${value}' must be one of ${choices.join(', ')}`);
    }
    return value as T;
  };
}

/** Comma-separated integers. */
export function integerListArg(name: string, min: number, max: number) {
  const one = integerArg(`${name} entry`, min, max);
  return (value: string): number[] => value.split(',').map((s) => one(s.trim()));
}

/**
 * A temperature grid: `a:b:step` (inclusive of b within rounding), a comma list, or one value; every T > 0.
 * @example temperatureGridArg('1.0:3.5:0.25') // [1, 1.25, …, 3.5]
 */
export function temperatureGrid(value: string): number[] {
  const positive = numberArg('temperature', { positive: true });
  if (value.includes(':')) {
    const parts = value.split(':');
    if (parts.length !== 3)
      throw new InvalidArgumentError(`temperature grid '${value}' must be start:stop:step`);
    const [a, b, step] = parts.map((p) => numberArg('temperature grid entry')(p)) as [number, number, number];
    if (a <= 0 || b < a || step <= 0) {
      throw new InvalidArgumentError(`temperature grid '${value}' needs 0 < start ≤ stop and step > 0`);
    }
    const n = Math.floor((b - a) / step + 1e-9) + 1;
    if (n > 10000)
      throw new InvalidArgumentError(`temperature grid '${value}' has ${n} points; at most 10000`);
    return Array.from({ length: n }, (_, i) => Number((a + i * step).toPrecision(12)));
  }
  return value.split(',').map((s) => positive(s.trim()));
}
