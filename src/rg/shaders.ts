/** WGSL sources of the block-spin kernels (shaders/rg/), composed with the common fragments. */
import block from '../../shaders/rg/block.wgsl?raw';
import operators from '../../shaders/rg/operators.wgsl?raw';
import unpack from '../../shaders/rg/unpack.wgsl?raw';
import { composeWgsl, type KernelSource } from '../gpu/kernel.ts';
import { wgsl } from '../gpu/shaders.ts';

export const rgSources = {
  block: { label: 'rg-block', code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, block) },
  unpack: { label: 'rg-unpack', code: composeWgsl(wgsl.dispatch, unpack) },
  operators: { label: 'rg-operators', code: composeWgsl(wgsl.dispatch, operators, wgsl.reduceTree) },
} satisfies Record<string, KernelSource>;
