/**
 * The MCRG operators on the GPU (shaders/rg/operators.wgsl): for every configuration of a batch, exact integer
 * sums of spin products over all anchor sites with periodic wrap. 2D: the 7 even and 4 odd operators of
 * PHYSICS.md in its order; ring: nearest-neighbour, next-nearest-neighbour, Σs.
 */
import { createUniformBuffer } from '../gpu/buffers.ts';
import { Dispatch, Program } from '../gpu/kernel.ts';
import { rgSources } from './shaders.ts';
import { OPERATOR_NAMES } from './statistics.ts';

// The names live with the CPU-side statistics (no shader imports), so messages and tables can use them anywhere.
export { OPERATOR_NAMES };

/** Operators per lattice: 11 in 2D (7 even + 4 odd), 3 on a ring (2 even + 1 odd). */
export function operatorCount(dims: 1 | 2): number {
  return OPERATOR_NAMES[dims].even.length + OPERATOR_NAMES[dims].odd.length;
}

/** Even operators per lattice: 7 in 2D, 2 on a ring (the odd ones follow them). */
export function evenOperatorCount(dims: 1 | 2): number {
  return OPERATOR_NAMES[dims].even.length;
}

/**
 * The largest |operator| is 4 × sites (knight's moves, corners; 1 per site on a ring for Σs, 1 per
 * site for each product): i32 sums are exact while 4 × sites < 2^31.
 */
export const MAX_OPERATOR_SITES = 2 ** 29 - 1;

const WORKGROUP = 64;

/**
 * One dispatch measuring every operator of one lattice level for a batch: the lattice `spins` (f32 ±1,
 * [batch × side^dims]) → operators[outputOffset + r·sampleStride + k], k < operatorCount(dims).
 */
export function operatorDispatch(
  device: GPUDevice,
  options: {
    label: string;
    dims: 1 | 2;
    side: number;
    batch: number;
    spins: GPUBuffer;
    operators: GPUBuffer;
    outputOffset: number;
    sampleStride: number;
  },
): { dispatch: Dispatch; uniforms: GPUBuffer } {
  const o = options;
  const sites = o.dims === 2 ? o.side * o.side : o.side;
  if (sites > MAX_OPERATOR_SITES) {
    throw new RangeError(
      `${o.label}: ${sites} sites exceed ${MAX_OPERATOR_SITES}, the most whose operator sums fit in i32 (4 × sites < 2^31)`,
    );
  }
  const program = Program.get(device, rgSources.operators);
  const view = program
    .structView('OperatorParams')
    .set({ batch: o.batch, side: o.side, outputOffset: o.outputOffset, sampleStride: o.sampleStride });
  const uniforms = createUniformBuffer(device, `${o.label} params`, view.data);
  const dispatch = new Dispatch(device, {
    label: o.label,
    pipeline: program.pipeline(o.dims === 2 ? 'measureOperators2d' : 'measureOperators1d', {
      workgroupSize: WORKGROUP,
    }),
    bindGroups: [program.bindGroup(0, { params: uniforms, spins: o.spins, operators: o.operators }, o.label)],
    // One workgroup per sample.
    workgroups: o.batch,
  });
  return { dispatch, uniforms };
}
