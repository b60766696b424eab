/**
 * Test helper: exact samples of the periodic 1D Ising ring and its decimated operators, the machinery check of
 * PHYSICS.md ("An exact check of the MCRG machinery: the 1D ring"). Bonds τ_i = s_i s_{i+1} are independent with
 * P(τ = −1) = e^{−K}/(2 cosh K) = (1 − tanh K)/2, conditioned on an even number of broken bonds (a ring closes);
 * the first spin is a fair coin. Uniforms come from Philox (src/gpu/philox.ts), one stream per global replica,
 * so a shard of replicas draws exactly what the unsplit run draws for them.
 */
import { philoxUniforms } from '../../src/gpu/philox.ts';
import { RngPurpose, streamWord } from '../../src/gpu/rng.ts';

/** One exact configuration of a ring of L spins at coupling K (rejection on the bond parity). */
export function sampleRing(K: number, L: number, u: () => number): Int8Array {
  const broken = (1 - Math.tanh(K)) / 2;
  const bonds = new Int8Array(L);
  for (;;) {
    let parity = 0;
    for (let i = 0; i < L; i++) {
      const b = u() < broken ? -1 : 1;
      bonds[i] = b;
      if (b < 0) parity ^= 1;
    }
    if (parity === 0) break;
  }
  const spins = new Int8Array(L);
  spins[0] = u() < 0.5 ? -1 : 1;
  for (let i = 1; i < L; i++) spins[i] = (spins[i - 1] as number) * (bonds[i - 1] as number);
  return spins;
}

/** The 1D operators [Σ s_i s_{i+1}, Σ s_i s_{i+2} | Σ s_i] of a ring, written at `out[offset…offset+2]`. */
function operators(s: Int8Array, out: Int32Array, offset: number): void {
  const L = s.length;
  let nn = 0;
  let nnn = 0;
  let m = 0;
  for (let i = 0; i < L; i++) {
    const x = s[i] as number;
    nn += x * (s[(i + 1) % L] as number);
    nnn += x * (s[(i + 2) % L] as number);
    m += x;
  }
  out[offset] = nn;
  out[offset + 1] = nnn;
  out[offset + 2] = m;
}

/** Operators of a ring and its `levels` decimations (b = 2, keep the even sites): Int32Array [(levels+1) × 3]. */
export function decimatedOperators(spins: Int8Array, levels: number): Int32Array {
  const out = new Int32Array((levels + 1) * 3);
  let s = spins;
  for (let n = 0; n <= levels; n++) {
    if (n > 0) {
      const next = new Int8Array(s.length / 2);
      for (let i = 0; i < next.length; i++) next[i] = s[2 * i] as number;
      s = next;
    }
    operators(s, out, 3 * n);
  }
  return out;
}

/** Settings of a synthetic ring run. */
export interface RingRun {
  K: number;
  L: number;
  levels: number;
  seed: number;
  firstReplica: number;
  replicas: number;
  measurements: number;
}

/**
 * Operator values of a ring run, one Int32Array [replicas × (levels+1) × 3] per measurement; replica r's
 * samples come from its own Philox stream (global index firstReplica + r), independent of the shard.
 */
export function ringRun(run: RingRun): Int32Array[] {
  const stride = (run.levels + 1) * 3;
  const rngs = Array.from({ length: run.replicas }, (_, r) =>
    philoxUniforms(run.seed, streamWord(RngPurpose.test, run.firstReplica + r)),
  );
  const out: Int32Array[] = [];
  for (let m = 0; m < run.measurements; m++) {
    const values = new Int32Array(run.replicas * stride);
    rngs.forEach((u, r) =>
      values.set(decimatedOperators(sampleRing(run.K, run.L, u), run.levels), r * stride),
    );
    out.push(values);
  }
  return out;
}
