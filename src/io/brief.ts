/**
 * A short, safe description of a value read from a file, for error messages. `JSON.stringify` alone is not
 * enough there: it throws a RangeError on a deeply nested array (`[[[[…]]]]` parses fine but overflows the
 * stack when written back), writes Infinity as `null`, and copies a megabyte string into the message.
 */

/** JSON-like text of `value`, at most `max` characters (numbers as JavaScript writes them). */
export function brief(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(typeof value);
    } catch {
      text = Array.isArray(value) ? '[…]' : typeof value === 'object' ? '{…}' : typeof value;
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
