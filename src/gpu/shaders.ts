/**
 * The WGSL sources of src/gpu's kernels, composed from shaders/common/*.wgsl (imported with `?raw`, the
 * one loading path for browser, Node, tests and the library build).
 */
import dispatch from '../../shaders/common/dispatch.wgsl?raw';
import philox from '../../shaders/common/philox.wgsl?raw';
import threefry from '../../shaders/common/threefry.wgsl?raw';
import randomEvaluate from '../../shaders/common/random-evaluate.wgsl?raw';
import random from '../../shaders/common/random.wgsl?raw';
import reduceAccF32 from '../../shaders/common/reduce-acc-f32.wgsl?raw';
import reduceAccInt from '../../shaders/common/reduce-acc-int.wgsl?raw';
import reduceSubgroup from '../../shaders/common/reduce-subgroup.wgsl?raw';
import reduceTree from '../../shaders/common/reduce-tree.wgsl?raw';
import reduceWorkgroup from '../../shaders/common/reduce-workgroup.wgsl?raw';
import reduce from '../../shaders/common/reduce.wgsl?raw';
import wideMath from '../../shaders/common/wide-math.wgsl?raw';
import { composeWgsl, type KernelSource } from './kernel.ts';

/** Fragments other kernel families compose with (Philox needs wide-math; most kernels need dispatch). */
export const wgsl = { dispatch, philox, threefry, wideMath, reduceTree } as const;

export const randomSource: KernelSource = {
  label: 'random',
  code: composeWgsl(wideMath, philox, threefry, dispatch, random),
};

export const randomEvaluateSource: KernelSource = {
  label: 'random-evaluate',
  code: composeWgsl(wideMath, philox, threefry, dispatch, randomEvaluate),
};

/** The reduction module for a number family and in-workgroup strategy. */
export function reduceSource(family: 'int' | 'f32', subgroups: boolean): KernelSource {
  const acc = family === 'int' ? composeWgsl(wideMath, reduceAccInt) : reduceAccF32;
  const parts = [acc, dispatch, reduceTree, subgroups ? reduceSubgroup : reduceWorkgroup, reduce];
  return {
    label: `reduce-${family}${subgroups ? '-subgroups' : ''}`,
    code: composeWgsl(...(subgroups ? ['enable subgroups;'] : []), ...parts),
  };
}
