import { CONV_LIMITS, type ConvGeometry } from './engine.ts';

/**
 * The conv geometry of F:k:s on data of `shape`, checked by the rules every front end applies (the CLI's
 * `rbm train --conv`, the lab's trainer): square samples, k ≤ Lv, s dividing Lv, s ≤ k, and the engine's limits.
 * Errors name the value and the limit, prefixed by `flag` (how the caller's user wrote it: `--conv`, `conv`).
 *
 * @example convGeometry({ filters: 2, k: 8, stride: 2 }, { nv: 1024, shape: [32, 32] }) // { Lv: 32, … }
 */
export function convGeometry(
  conv: Omit<ConvGeometry, 'Lv'>,
  data: { nv: number; shape: readonly number[] },
  flag = '--conv',
): ConvGeometry {
  const { filters: F, k, stride: s } = conv;
  const spec = `${flag} ${F}:${k}:${s}`;
  const dims = data.shape.filter((d) => d !== 1);
  const Lv = dims.length === 2 ? (dims[0] as number) : Math.round(Math.sqrt(data.nv));
  if (dims.length > 2 || Lv * Lv !== data.nv || (dims.length === 2 && dims[0] !== dims[1]))
    throw new RangeError(
      `${flag} needs square samples; the data has nv = ${data.nv} (shape [${data.shape}])`,
    );
  const lattice = `the data's ${Lv}×${Lv} lattice`;
  if (Lv > CONV_LIMITS.Lv)
    throw new RangeError(`${spec}: ${lattice} exceeds the conv engine's limit Lv ≤ ${CONV_LIMITS.Lv}`);
  if (F > CONV_LIMITS.filters)
    throw new RangeError(
      `${spec}: F = ${F} filters exceeds the conv engine's limit of ${CONV_LIMITS.filters}`,
    );
  if (k > Lv)
    throw new RangeError(
      `${spec}: filter size k = ${k} exceeds ${lattice} (k ≤ Lv = ${Lv}; a larger filter wraps around and sees sites twice)`,
    );
  if (Lv % s !== 0) {
    const divisors = Array.from({ length: Lv }, (_, i) => i + 1).filter((d) => Lv % d === 0 && d <= k);
    throw new RangeError(
      `${spec}: stride s = ${s} does not divide ${lattice} (Lv = ${Lv}); strides that do and are ≤ k: ${divisors.join(', ')}`,
    );
  }
  if (s > k)
    throw new RangeError(
      `${spec}: stride s = ${s} exceeds the filter size k = ${k}, so some sites would be seen by no hidden unit (s ≤ k)`,
    );
  return { Lv, filters: F, k, stride: s };
}
