/** Synthetic MCRG operator values for the statistics tests (no GPU). */
import { philoxUniforms } from '../../src/gpu/philox.ts';
import type { OperatorLayout } from '../../src/rg/statistics.ts';

/** Random integer operator values in −maxAbs … maxAbs: [measurements × replicas × (levels+1) × P]. */
export function randomOperatorValues(
  layout: OperatorLayout,
  replicas: number,
  measurements: number,
  maxAbs: number,
  seed: number,
): Int32Array {
  const u = philoxUniforms(seed);
  const out = new Int32Array(measurements * replicas * (layout.levels + 1) * (layout.even + layout.odd));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(u() * (2 * maxAbs + 1)) - maxAbs;
  return out;
}
