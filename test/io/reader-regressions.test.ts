/**
 * One example per escape the fuzzer (bench/fuzz-targets.ts) found in the file readers: each failed with an
 * untyped exception (or a bad value) before its fix, and must now give the reader's typed error.
 */
import { describe, expect, it } from 'vitest';
import { modelFiles, ModelFormatError, parseModelFiles } from '../../src/rbm/model-files.ts';

const DEEP = 100_000;
const deep = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;

/** Replaces field `key` of a JSON document by raw JSON text. */
function patchJson(bytes: Uint8Array, key: string, raw: string): Uint8Array {
  const meta = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  meta[key] = '\u0001';
  return new TextEncoder().encode(JSON.stringify(meta).replace('"\\u0001"', () => raw));
}

describe('model files', () => {
  const files = Object.fromEntries(
    modelFiles({
      rbm: {
        units: 'bernoulli',
        nv: 2,
        nh: 1,
        W: Float64Array.of(0.5, -0.5),
        a: Float64Array.of(0, 1),
        b: Float64Array.of(2),
      },
    }).map((f) => [f.name, f.bytes]),
  );
  const withField = (key: string, raw: string): Record<string, Uint8Array> => ({
    ...files,
    'model.json': patchJson(files['model.json']!, key, raw),
  });

  it.each(['units', 'nv', 'biases', 'weights', 'dtype', 'format', 'version'])(
    'refuses a deeply nested %s by name (JSON.stringify in the message threw a RangeError)',
    (key) => {
      expect(() => parseModelFiles(withField(key, deep), 'm')).toThrow(ModelFormatError);
      expect(() => parseModelFiles(withField(key, deep), 'm')).toThrow(/^m: .*\[…\]/);
    },
  );

  it.each(['training', 'history'])('refuses a %s that cannot be written back', (key) => {
    const raw = key === 'training' ? `{"x": ${deep}}` : deep;
    expect(() => parseModelFiles(withField(key, raw), 'm')).toThrow(/nest too deeply to be written back/);
  });

  it('states a non-finite size as such (JSON.stringify wrote Infinity as null)', () => {
    expect(() => parseModelFiles(withField('nv', '1e999'), 'm')).toThrow(
      'm: nv Infinity is not a positive integer',
    );
  });
});
