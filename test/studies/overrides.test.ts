/** `--set PATH=VALUE` overrides of a preset's options (src/studies/overrides.ts). */
import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../../src/studies/overrides.ts';
import { RBM_FLOW_PRESETS, checkRbmFlowOptions } from '../../src/studies/rbm-flow.ts';

const base = {
  seed: 1,
  L: 10,
  name: 'x',
  fast: false,
  temperatures: [0, 1, 2],
  experiments: ['all', 'lowT'],
  nested: { epochs: 5, scan: { step: 0.5 } },
};

describe('applyOverrides', () => {
  it('sets numbers, booleans, strings, lists and nested values by path, in order, on a copy', () => {
    const out = applyOverrides(base, [
      'L=12',
      'fast=true',
      'name=y',
      'temperatures=0,1.5,2.5,3',
      'experiments=L100,L100extremes',
      'nested.scan.step=0.25',
      'nested.epochs=7',
      'nested.epochs=8',
    ]);
    expect(out).toEqual({
      ...base,
      L: 12,
      fast: true,
      name: 'y',
      temperatures: [0, 1.5, 2.5, 3],
      experiments: ['L100', 'L100extremes'],
      nested: { epochs: 8, scan: { step: 0.25 } },
    });
    expect(base.nested.epochs).toBe(5);
    expect(applyOverrides(base, [])).toBe(base);
    expect(
      applyOverrides(base, ['temperatures=[1, 2]', 'nested={"epochs": 1, "scan": {"step": 1}}']),
    ).toMatchObject({
      temperatures: [1, 2],
      nested: { epochs: 1, scan: { step: 1 } },
    });
  });

  it('refuses unknown paths and values of another type, naming them', () => {
    const cases: [string, RegExp][] = [
      ['Lx=3', /'Lx' is not an option; the top level has seed, L, name/],
      ['nested.scan.stride=1', /'nested.scan.stride' is not an option; nested.scan has step/],
      ['L.x=1', /'L.x' is not an option; L has/],
      ['L=ten', /L is a number; 'ten' is not/],
      ['L=', /L is a number; '' is not/],
      ['fast=yes', /fast is true or false; 'yes' is not/],
      ['temperatures=1,a', /temperatures\[1\] is a number; 'a' is not/],
      ['temperatures=["a"]', /element 0 is a string; temperatures holds numbers/],
      ['nested=3', /nested is an object \(JSON\); '3' is not/],
      ['=3', /must have the form PATH=VALUE/],
      ['a-b=3', /the path 'a-b' must be dotted option names/],
    ];
    for (const [set, message] of cases) expect(() => applyOverrides(base, [set]), set).toThrow(message);
  });

  it("leaves range checks to the study's own check", () => {
    const o = applyOverrides(RBM_FLOW_PRESETS.test, ['veigaLarge.epochs=0']);
    expect(() => checkRbmFlowOptions(o)).toThrow(/veigaLarge.epochs 0 must be an integer in 1/);
    const ok = applyOverrides(RBM_FLOW_PRESETS.paper, ['experiments=L100', 'veigaLarge.epochs=200']);
    expect(() => checkRbmFlowOptions(ok)).not.toThrow();
    expect(ok.veigaLarge.epochs).toBe(200);
    expect(RBM_FLOW_PRESETS.paper.veigaLarge.epochs).toBe(2000);
  });
});
