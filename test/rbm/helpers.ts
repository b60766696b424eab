/** Brute-force RBM references for the tests, written from the definitions (not from the oracle's code paths). */
import { isConvRbm, visibleCount, hiddenCount, type Rbm, type RbmUnits } from '../../src/reference/rbm.ts';

/** All 2^n configurations of n units (unit u on iff bit u of the index is set). */
export function allStates(n: number, units: RbmUnits): Float64Array[] {
  const off = units === 'ising' ? -1 : 0;
  return Array.from({ length: 2 ** n }, (_, c) =>
    Float64Array.from({ length: n }, (_, u) => ((c >> u) & 1 ? 1 : off)),
  );
}

/** E(v, h) = −a·v − b·h − vᵀWh straight from the definition (conv: the written-out convolution). */
export function bruteEnergy(rbm: Rbm, v: ArrayLike<number>, h: ArrayLike<number>): number {
  let e = 0;
  if (isConvRbm(rbm)) {
    const { Lv, filters, k, stride: s, W } = rbm;
    const P = Lv / s;
    for (let i = 0; i < Lv * Lv; i++) e -= (rbm.a ?? 0) * v[i]!;
    for (let f = 0; f < filters; f++) {
      for (let I = 0; I < P; I++) {
        for (let J = 0; J < P; J++) {
          let x = rbm.b ? rbm.b[f]! : 0;
          for (let a = 0; a < k; a++) {
            for (let b = 0; b < k; b++)
              x += W[(f * k + a) * k + b]! * v[((s * I + a) % Lv) * Lv + ((s * J + b) % Lv)]!;
          }
          e -= h[f * P * P + I * P + J]! * x;
        }
      }
    }
    return e;
  }
  const { nv, nh, W, a, b } = rbm;
  for (let i = 0; i < nv; i++) e -= a[i]! * v[i]!;
  for (let j = 0; j < nh; j++) e -= b[j]! * h[j]!;
  for (let i = 0; i < nv; i++) for (let j = 0; j < nh; j++) e -= v[i]! * W[i * nh + j]! * h[j]!;
  return e;
}

/** ln Σ exp(x). */
export function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) m = Math.max(m, x);
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** ln Z over both layers by brute force. */
export function bruteLogZ(rbm: Rbm): number {
  const vs = allStates(visibleCount(rbm), rbm.units);
  const hs = allStates(hiddenCount(rbm), rbm.units);
  const perV: number[] = [];
  for (const v of vs) perV.push(logSumExp(hs.map((h) => -bruteEnergy(rbm, v, h))));
  return logSumExp(perV);
}

/** Random binary batch of `count` configurations from a fixed-seed generator. */
export function randomBatch(count: number, n: number, units: RbmUnits, seed: number): Float64Array {
  let a = seed >>> 0;
  const off = units === 'ising' ? -1 : 0;
  return Float64Array.from({ length: count * n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 < 0.5 ? 1 : off;
  });
}

/** max |x − y| over two arrays of equal length (throws when lengths differ). */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`lengths ${x.length} and ${y.length} differ`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}
