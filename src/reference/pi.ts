/** CPU oracle of shaders/common/monte-carlo-pi.wgsl: the same points, counted in plain f64. */
import { RngPurpose, seedKey, streamWord } from '../gpu/rng.ts';
import { philox4x32, unitFloat } from '../gpu/philox.ts';

/**
 * How many of the first `samples` Monte Carlo π points fall inside the quarter circle x² + y² < 1.
 * Point 2b and 2b + 1 come from words (0, 1) and (2, 3) of philox4x32((b, 0, 0, stream), seedKey(seed)).
 * The test is done in f64, where it is exact: x and y are multiples of 2^-24 below 1, so x² + y² needs at
 * most 49 significant bits. The GPU decides it with exact integers instead; the counts must be equal.
 *
 * @example
 * countInsideReference(10_000, 1); // the count estimatePi(device, { samples: 10_000, seed: 1 }) reports
 */
export function countInsideReference(samples: number, seed: number | bigint): number {
  if (!Number.isSafeInteger(samples) || samples < 0)
    throw new RangeError(`samples ${samples} is not a count`);
  const key = seedKey(seed);
  const stream = streamWord(RngPurpose.test, 0);
  let inside = 0;
  for (let p = 0; p < samples; p += 2) {
    const [w0, w1, w2, w3] = philox4x32([p / 2, 0, 0, stream], key);
    const x0 = unitFloat(w0);
    const y0 = unitFloat(w1);
    if (x0 * x0 + y0 * y0 < 1) inside++;
    if (p + 1 < samples) {
      const x1 = unitFloat(w2);
      const y1 = unitFloat(w3);
      if (x1 * x1 + y1 * y1 < 1) inside++;
    }
  }
  return inside;
}
