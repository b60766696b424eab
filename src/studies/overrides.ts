/**
 * Overrides of a preset's options by dotted path (`blockspin reproduce NAME --set PATH=VALUE`), e.g.
 * `veigaLarge.epochs=200` or `experiments=L100,L100extremes`. A path must name an existing option, and the value
 * must have that option's JSON type (number, boolean, string, array, object); the study's own option check
 * still decides what is in range. Used by the CLI and the lab with the same rules.
 */
import type { JsonValue } from '../rg/result-files.ts';

/** One `PATH=VALUE` split and checked for its form. */
export function parseOverride(text: string): { path: string[]; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new RangeError(`--set '${text}' must have the form PATH=VALUE (e.g. veigaLarge.epochs=200)`);
  const path = text.slice(0, eq).split('.');
  if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)))
    throw new RangeError(`--set '${text}': the path '${text.slice(0, eq)}' must be dotted option names`);
  return { path, value: text.slice(eq + 1) };
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** `text` as a value of the same JSON type as `current` (`where` names the option in errors). */
function parseLike(current: unknown, text: string, where: string): JsonValue {
  const bad = (want: string): never => {
    throw new RangeError(`--set ${where}=${text}: ${where} is ${want}; '${text}' is not`);
  };
  switch (kind(current)) {
    case 'number': {
      const x = text.trim() === '' ? Number.NaN : Number(text);
      return Number.isFinite(x) ? x : bad('a number');
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : bad('true or false');
    case 'string':
      return text;
    case 'array': {
      const items = current as unknown[];
      if (text.trim().startsWith('[')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return bad('an array (JSON, or a comma-separated list)');
        }
        if (!Array.isArray(parsed)) return bad('an array');
        if (items.length > 0)
          parsed.forEach((x, i) => {
            if (kind(x) !== kind(items[0]))
              throw new RangeError(
                `--set ${where}=${text}: element ${i} is a ${kind(x)}; ${where} holds ${kind(items[0])}s`,
              );
          });
        return parsed as JsonValue;
      }
      const parts = text === '' ? [] : text.split(',');
      const like = items.length > 0 ? items[0] : Number.isFinite(Number(parts[0])) ? 0 : '';
      return parts.map((p, i) => parseLike(like, p.trim(), `${where}[${i}]`));
    }
    case 'object': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return bad('an object (JSON)');
      }
      return kind(parsed) === 'object' ? (parsed as JsonValue) : bad('an object (JSON)');
    }
    default:
      return bad(`a ${kind(current)}, which --set cannot replace`);
  }
}

/**
 * A copy of `options` with each `PATH=VALUE` of `sets` applied in order; `options` itself is not changed.
 * An unknown path is refused, naming the options that exist at that level.
 */
export function applyOverrides<T>(options: T, sets: readonly string[]): T {
  if (sets.length === 0) return options;
  const out = structuredClone(options) as Record<string, unknown>;
  for (const text of sets) {
    const { path, value } = parseOverride(text);
    let node: Record<string, unknown> = out;
    for (const [i, key] of path.entries()) {
      const where = path.slice(0, i + 1).join('.');
      if (kind(node) !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) {
        const level = path.slice(0, i).join('.') || 'the top level';
        throw new RangeError(
          `--set ${text}: '${where}' is not an option; ${level} has ${Object.keys(node).join(', ')}`,
        );
      }
      if (i === path.length - 1) node[key] = parseLike(node[key], value, where);
      else node = node[key] as Record<string, unknown>;
    }
  }
  return out as T;
}
