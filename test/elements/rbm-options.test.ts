/**
 * <blockspin-rbm-trainer>'s settings without the DOM (src/elements/rbm-options.ts): presets, URL overrides,
 * validation messages that name the value and the limit, the conv geometry rules, the buffer checks against an
 * adapter's limits, and the estimate against the cap.
 */
import { describe, expect, it } from 'vitest';
import {
  bufferProblems,
  capProblem,
  convGeometry,
  DEFAULT_FORM,
  describeEstimate,
  epochEstimate,
  formOverrides,
  freeEnergyMonitored,
  largestBuffer,
  parseTrainerForm,
  presetForm,
  TRAINER_PRESETS,
  trainingCount,
  type TrainerForm,
} from '../../src/elements/rbm-options.ts';

const problems = (form: Partial<TrainerForm>): string[] => {
  const parsed = parseTrainerForm({ ...presetForm('ising-32-quick'), ...form });
  return 'problems' in parsed ? parsed.problems.map((p) => `${p.field}: ${p.message}`) : [];
};

describe('trainer presets and URL overrides', () => {
  it('has the four presets, each parsing without problems', () => {
    expect(TRAINER_PRESETS.map((p) => p.label)).toEqual([
      'Ising 32² quick',
      'Ising 128² conv',
      'Ising 128² dense 16384×1024',
      'MNIST',
    ]);
    for (const p of TRAINER_PRESETS) {
      const parsed = parseTrainerForm(presetForm(p.id));
      expect('request' in parsed, `${p.id}: ${JSON.stringify(parsed)}`).toBe(true);
    }
  });

  it('the 128² presets are a 1:8:2 conv RBM and a dense 16384 × 1024 one', () => {
    const conv = parseTrainerForm(presetForm('ising-128-conv'));
    const dense = parseTrainerForm(presetForm('ising-128-dense'));
    if (!('request' in conv) || !('request' in dense)) throw new Error('presets must parse');
    expect(conv.request.conv).toEqual({ filters: 1, k: 8, stride: 2 });
    expect(conv.request.data).toMatchObject({ kind: 'ising', L: 128 });
    expect(dense.request.hidden).toBe(1024);
    expect(dense.request.data).toMatchObject({ kind: 'ising', L: 128 });
  });

  it('applies known overrides only, and lists what differs from the preset', () => {
    const form = presetForm('ising-32-quick', { L: '8', hidden: '16', bogus: 'x' });
    expect([form.L, form.hidden]).toEqual(['8', '16']);
    expect(formOverrides('ising-32-quick', form)).toEqual({ L: '8', hidden: '16' });
    expect(presetForm('no-such-preset')).toEqual(DEFAULT_FORM);
  });
});

describe('parseTrainerForm', () => {
  it('turns the form into the CLI-equivalent training options', () => {
    const parsed = parseTrainerForm({
      ...presetForm('ising-32-quick'),
      method: 'pcd',
      chains: '50',
      k: '3',
      optimizer: 'adam',
      lr: '0.001',
      schedule: 'sqrt',
      scheduleFinal: '0.0001',
      scheduleEpochs: '20',
      l2: '0.0002',
    });
    if (!('request' in parsed)) throw new Error(JSON.stringify(parsed));
    expect(parsed.request.training).toEqual({
      batch: 10,
      k: 3,
      pcd: 50,
      meanFieldFinal: false,
      optimizer: 'adam',
      lr: 0.001,
      momentum: 0.9,
      l1: 0,
      l2: 0.0002,
      schedule: { kind: 'sqrt', final: 0.0001, decayEpochs: 20 },
    });
  });

  it('names the field, the value and the limit', () => {
    expect(problems({ L: '7' })).toEqual([
      'L: L = 7 must be even (the checkerboard update needs two sublattices)',
    ]);
    expect(problems({ lr: '0' })).toEqual(['lr: Learning rate 0 must be a finite number > 0']);
    expect(problems({ k: '1001' })).toEqual(['k: Gibbs steps k 1001 must be an integer in 1 … 1000']);
    expect(problems({ temperatures: '2, -1' })[0]).toMatch(
      /temperatures: temperature '-1' must be a finite number > 0/,
    );
    expect(problems({ momentum: '1' })).toEqual(['momentum: Momentum 1 must be a finite number in [0, 1)']);
    expect(problems({ batch: '400' })).toEqual([
      'batch: Batch 400 exceeds the 320 training samples (400 less 20 % held out)',
    ]);
    expect(problems({ holdout: '0.001', perT: '100' })[0]).toMatch(
      /holdout: Held-out fraction 0.001 of 200 samples gives 0/,
    );
  });

  it('checks the conv geometry with the CLI rules', () => {
    expect(problems({ model: 'conv', kernel: '8', stride: '3' })[0]).toMatch(
      /stride: conv 1:8:3: stride s = 3 does not divide the data's 32×32 lattice \(Lv = 32\); strides that do and are ≤ k: 1, 2, 4, 8/,
    );
    expect(problems({ model: 'conv', L: '8', kernel: '10' })[0]).toMatch(
      /kernel: conv 1:10:2: filter size k = 10 exceeds/,
    );
    expect(() => convGeometry({ filters: 1, k: 4, stride: 2 }, { nv: 784, shape: [28, 28] })).not.toThrow();
    expect(() => convGeometry({ filters: 1, k: 4, stride: 2 }, { nv: 30, shape: [30] })).toThrow(
      /square samples/,
    );
  });

  it('counts training samples as splitHoldout does', () => {
    expect(trainingCount(200, 0.2)).toBe(160);
    expect(trainingCount(256, 0.1)).toBe(230);
    expect(trainingCount(50, 0)).toBe(50);
  });
});

describe('buffer limits and the estimate cap', () => {
  const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };

  it('a dense 16384 × 1024 RBM fits in 128 MiB bindings; 16384 × 4096 does not, and the message says why', () => {
    const shape = { nv: 16384, nh: 1024, batch: 16, chains: 16, monitorRows: 230 };
    expect(bufferProblems(limits, shape)).toEqual([]);
    const big = bufferProblems(limits, { ...shape, nh: 4096 });
    expect(big[0]?.field).toBe('hidden');
    expect(big[0]?.message).toBe(
      'the weights 16384 × 4096 + biases needs 256.1 MiB (268517376 bytes); this adapter allows 128.0 MiB per storage buffer (maxStorageBufferBindingSize 134217728, maxBufferSize 268435456)',
    );
  });

  it('names the largest buffer and the limit', () => {
    expect(largestBuffer(limits, { nv: 16384, nh: 1024, batch: 16, chains: 16, monitorRows: 230 })).toBe(
      'largest GPU buffer: the weights 16384 × 1024 + biases, 64.1 MiB of the 128.0 MiB this adapter allows',
    );
  });

  it('skips the free-energy monitor of a 128² conv RBM (its dense copy is 256 MiB)', () => {
    expect(freeEnergyMonitored(16384, 1024)).toBe(true);
    expect(freeEnergyMonitored(16384, 4096)).toBe(false);
    const conv = { Lv: 128, filters: 1, k: 8, stride: 2 };
    expect(
      bufferProblems(limits, { nv: 16384, nh: 4096, conv, batch: 16, chains: 16, monitorRows: 230 }),
    ).toEqual([]);
  });

  it('refuses an estimate above the cap, naming both', () => {
    const e = epochEstimate(1.5, 3, 128, 5);
    expect(e.secondsPerEpoch).toBe(192);
    expect(describeEstimate(e)).toBe(
      '≈ 3.2 min per epoch (128 updates × 1.5 s, timed over 3 updates on this adapter), 16.0 min for 5 epochs',
    );
    expect(capProblem(e, 5)).toBeNull();
    expect(capProblem(e, 2)).toEqual({
      field: 'capMinutes',
      message:
        'Refused: the estimate is 3.2 min per epoch (128 updates × 1.5 s), above the cap of 2 min per epoch. Raise the cap, or use fewer samples, a smaller model or a GPU.',
    });
  });
});
