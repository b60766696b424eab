/** The GPU minibatch shuffle (batch.wgsl permuteBatch) against its CPU oracle, bit for bit. */
import { describe, expect, it } from 'vitest';
import { createStorageBuffer, createUniformBuffer, readBuffer, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Dispatch, Program, submitStep } from '../../src/gpu/kernel.ts';
import { RngPurpose, seedKey, streamWord } from '../../src/gpu/rng.ts';
import { shufflePermutation } from '../../src/reference/shuffle.ts';
import { rbmSources } from '../../src/rbm/shaders.ts';
import { feistelHalfBits } from '../../src/rbm/shuffle.ts';
import { checked, useGpu } from '../helpers/gpu.ts';

describe('GPU minibatch shuffle', () => {
  const gpu = useGpu();

  it('equals the oracle bit for bit and is a bijection per epoch (n = 1, 2, 3, 97, 1000, 1024, 4099)', async () => {
    const device = gpu().device;
    await checked(device, async () => {
      const program = Program.get(device, rbmSources.batch);
      const key = seedKey(11);
      const stream = streamWord(RngPurpose.rbmShuffle, 0);
      const pipeline = program.pipeline('permuteBatch', { isingUnits: false, workgroupSize: 64 });
      for (const n of [1, 2, 3, 97, 1000, 1024, 4099]) {
        const view = program.structView('BatchParams');
        const uniforms = createUniformBuffer(device, 'shuffle test params', view.data);
        const data = createStorageBuffer(device, 'shuffle test data', 4);
        const batch = createStorageBuffer(device, 'shuffle test batch', 4);
        const rowSample = createStorageBuffer(device, 'shuffle test rows', n * 4);
        try {
          const group = program.bindGroup(0, { params: uniforms, data, batch, rowSample });
          const dispatch = new Dispatch(device, {
            label: 'shuffle test permuteBatch',
            pipeline,
            bindGroups: [group],
            workgroups: Math.ceil(n / 64),
          });
          for (const epoch of [0, 1, 7, 0xfffffffe]) {
            view.set({
              key,
              samples: n,
              nv: 1,
              wordsPerSample: 1,
              rows: n,
              batchIndex: 0,
              epoch,
              rngStream: stream,
              shuffle: 1,
              halfBits: feistelHalfBits(n),
            });
            uploadBuffer(device, uniforms, view.data);
            submitStep(device, 'shuffle test', [dispatch]);
            const got = new Uint32Array(await readBuffer(device, rowSample));
            const want = shufflePermutation(n, { key, epoch, stream });
            expect([...got], `n = ${n}, epoch ${epoch}`).toEqual([...want]);
            expect(new Set(got).size).toBe(n);
            expect(Math.max(...got)).toBe(n - 1);
          }
        } finally {
          for (const b of [uniforms, data, batch, rowSample]) b.destroy();
        }
      }
    });
  });
});
