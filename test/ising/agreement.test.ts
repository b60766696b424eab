/**
 * replicaAgreement, on series built here: healthy replicas agree, one stuck far from the others does not,
 * series too short for their τ_int are not judged, and frozen (constant) replicas still compare.
 */
import { describe, expect, it } from 'vitest';
import { REPLICA_AGREEMENT_TAUS, REPLICA_AGREEMENT_Z, replicaAgreement } from '../../src/ising/estimates.ts';

/** A small fixed-seed generator (mulberry32) and Box–Muller normals. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** An AR(1) series m_t = mean + ρ(m_{t−1} − mean) + σ·ε (τ_int = ½(1+ρ)/(1−ρ)), signs flipped at random. */
function ar1(n: number, mean: number, rho: number, sigma: number, seed: number): Float64Array {
  const next = normals(seed);
  const out = new Float64Array(n);
  let x = mean;
  for (let t = 0; t < n; t++) {
    x = mean + rho * (x - mean) + sigma * next();
    out[t] = (t * 7919 + seed) % 3 === 0 ? -x : x; // the sign of m does not matter: |m| is compared
  }
  return out;
}

describe('replicaAgreement', () => {
  const N = 1024;

  it('healthy replicas agree (many seeds, 16 replicas, τ_int ≈ 4.5)', () => {
    let largest = 0;
    for (let seed = 0; seed < 50; seed++) {
      const series = Array.from({ length: 16 }, (_, r) => ar1(2000, 0.9, 0.8, 0.01, 1000 * seed + r));
      const a = replicaAgreement(series, N);
      expect(a?.checked).toBe(true);
      expect(a?.agree, `seed ${seed}: z = ${a?.worst.z}`).toBe(true);
      expect(a?.warning).toBeNull();
      largest = Math.max(largest, a?.worst.z ?? Infinity);
    }
    expect(largest).toBeLessThan(REPLICA_AGREEMENT_Z / 3);
  });

  it('a replica stuck far from the others is named, with a warning; also when several are stuck', () => {
    const series = Array.from({ length: 8 }, (_, r) => ar1(1000, r === 5 ? 0.3 : 0.98, 0.5, 0.01, r));
    const a = replicaAgreement(series, N);
    expect(a).toMatchObject({ agree: false, checked: true, worst: { replica: 5 } });
    expect(a?.worst.mean).toBeCloseTo(0.3, 2);
    expect(a?.median.mean).toBeCloseTo(0.98, 2);
    expect(a?.warning).toMatch(
      /^replicas disagree: replica 5 has ⟨\|m\|⟩ = 0\.\d+ ± 0\.\d+; the median of the 8 replicas is 0\.98/,
    );
    // Three of eight stuck: the median still belongs to the healthy ones.
    const three = Array.from({ length: 8 }, (_, r) => ar1(1000, r < 3 ? 0.2 + 0.1 * r : 0.98, 0.5, 0.01, r));
    const b = replicaAgreement(three, N, { noun: 'chain' });
    expect(b?.agree).toBe(false);
    expect(b?.median.mean).toBeCloseTo(0.98, 2);
    expect(b?.warning).toMatch(/^chains disagree: chain 0 has/);
  });

  it('series shorter than REPLICA_AGREEMENT_TAUS τ_int are reported but not judged', () => {
    // τ_int ≈ ½(1 + 0.95)/0.05 ≈ 19.5: 1000 samples are ~50 τ_int.
    const series = Array.from({ length: 8 }, (_, r) => ar1(1000, r === 2 ? 0.5 : 0.9, 0.95, 0.01, r));
    const a = replicaAgreement(series, N);
    expect(a?.median.tauInt).toBeGreaterThan(1000 / REPLICA_AGREEMENT_TAUS);
    expect(a).toMatchObject({ checked: false, agree: true, warning: null, worst: { replica: 2 } });
    expect(a?.worst.z).toBeGreaterThan(REPLICA_AGREEMENT_Z);
  });

  it('frozen replicas: equal ones agree (z = 0), different ones disagree with a finite z', () => {
    const frozen = (m: number): Float64Array => new Float64Array(500).fill(m);
    const same = replicaAgreement([frozen(1), frozen(-1), frozen(1)], N);
    expect(same).toMatchObject({ agree: true, checked: true, worst: { z: 0 } });
    const stripe = replicaAgreement([frozen(1), frozen(0.5), frozen(1), frozen(-1)], N);
    expect(stripe).toMatchObject({ agree: false, worst: { replica: 1 } });
    expect(Number.isFinite(stripe?.worst.z)).toBe(true);
  });

  it('one replica: nothing to compare; a series of fewer than 2 measurements is refused', () => {
    expect(replicaAgreement([ar1(100, 0.9, 0, 0.01, 1)], N)).toBeNull();
    expect(() => replicaAgreement([new Float64Array(5), new Float64Array(1)], N)).toThrow(
      /replica 1 has 1 measurement\(s\); at least 2 are needed/,
    );
  });
});
