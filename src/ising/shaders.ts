/** WGSL sources of the Ising kernels (shaders/ising/), composed with the common fragments. */
import counters from '../../shaders/ising/counters.wgsl?raw';
import init from '../../shaders/ising/init.wgsl?raw';
import lattice from '../../shaders/ising/lattice.wgsl?raw';
import measure from '../../shaders/ising/measure.wgsl?raw';
import record from '../../shaders/ising/record.wgsl?raw';
import sweepPacked from '../../shaders/ising/sweep-packed.wgsl?raw';
import sweepSimple from '../../shaders/ising/sweep-simple.wgsl?raw';
import sw from '../../shaders/ising/sw.wgsl?raw';
import { composeWgsl, type KernelSource } from '../gpu/kernel.ts';
import { wgsl } from '../gpu/shaders.ts';

const withRng = (label: string, body: string): KernelSource => ({
  label,
  code: composeWgsl(wgsl.wideMath, wgsl.philox, wgsl.dispatch, lattice, body),
});

export const isingSources = {
  sweepSimple: withRng('ising-sweep-simple', sweepSimple),
  sweepPacked: {
    label: 'ising-sweep-packed',
    code: composeWgsl(wgsl.threefry, wgsl.dispatch, lattice, sweepPacked),
  },
  sw: withRng('ising-sw', sw),
  init: withRng('ising-init', init),
  counters: { label: 'ising-counters', code: composeWgsl(lattice, counters) },
  measure: { label: 'ising-measure', code: composeWgsl(wgsl.dispatch, lattice, measure) },
  record: { label: 'ising-record', code: composeWgsl(wgsl.dispatch, lattice, record) },
} satisfies Record<string, KernelSource>;
