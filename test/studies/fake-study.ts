/**
 * A small fake study for the report and `reproduce` tests (registered in the CLI through BLOCKSPIN_TEST_STUDY):
 * `steps` tiny GPU submissions in a stage 'work', cancellable and device-loss tolerant like a real study, then a
 * seeded result compared with a source, a figure of each kind, an array and an extra file.
 */
import { DeviceLostError, workDone } from '../../src/gpu/lost.ts';
import { errorBarPlot, heatmap } from '../../src/studies/figures.ts';
import { combinedZ, type Study, type StudyOutput } from '../../src/studies/study.ts';

/** Steps between the fake's checkpoints. */
const CHECKPOINT_EVERY = 100;

export interface FakeOptions {
  seed: number;
  steps: number;
}

/** The fake's output for `seed` after `done` of `steps` steps (no device needed: the report tests use it). */
export function fakeOutput(seed: number, done: number, steps: number): StudyOutput {
  // A deterministic "measurement" of the seed: 1 + (seed mod 7) / 1000 with error 0.002.
  const value = 1 + (seed % 7) / 1000;
  const source = { value: 1.0001, err: 0.0011, where: 'Table 1, N_r = 1, N_c = 7' };
  const filter = new Float32Array(16).map((_, i) => (i % 5) / 4 - 0.5);
  return {
    settings: { seed, steps, nested: { levels: [32, 16, 8] } },
    results: [
      {
        name: 'yt.fake.n1.c7',
        value,
        err: 0.002,
        unit: '',
        method: `${done} steps, fake`,
        source,
        z: combinedZ(value, 0.002, source),
      },
      { name: 'steps.done', value: done, err: 0, unit: 'steps', method: 'counted' },
    ],
    markdown: '## Fake\n\nA fake study body | with a pipe.',
    figures: [
      errorBarPlot({
        name: 'yt-vs-nc',
        title: 'y_t against N_c',
        points: [1, 2, 3].map((nc) => ({ x: nc, y: value + nc / 1000, err: 0.002, series: 'fake' })),
        xTitle: 'N_c',
        yTitle: 'y_t',
        exact: { value: 1, label: 'exact' },
        integerX: true,
      }),
      heatmap({
        name: 'filters',
        title: 'Filters',
        panels: [0, 1].map((e) => ({ label: `epoch ${e}`, rows: 4, cols: 4, data: filter })),
      }),
    ],
    arrays: [{ name: 'filter', npy: { dtype: 'float32', shape: [4, 4], data: filter } }],
    files: [{ name: 'model/notes.txt', bytes: new TextEncoder().encode('fake model\n') }],
    stages: [{ stage: 'work', seconds: 0.25 }],
    complete: done === steps,
  };
}

export const study: Study<FakeOptions> = {
  name: 'fake',
  title: 'A fake study',
  source: 'nobody, test/studies/fake-study.ts',
  presets: {
    test: { seed: 3, steps: 2 },
    quick: { seed: 3, steps: 3 },
    standard: { seed: 3, steps: 200_000 },
    paper: { seed: 3, steps: 200_000 },
  },
  check(o) {
    if (!Number.isInteger(o.steps) || o.steps < 1)
      throw new RangeError(`steps ${o.steps} must be an integer ≥ 1`);
  },
  async run(options, context) {
    // A checkpoint 'work' holds the steps done (done.txt), written every CHECKPOINT_EVERY steps and at the end.
    const saved = await context.checkpoints?.read('work');
    const from = saved ? Number(new TextDecoder().decode(saved.get('done.txt'))) : 0;
    let done = from;
    const save = async () =>
      context.checkpoints?.write('work', [
        { name: 'done.txt', bytes: new TextEncoder().encode(String(done)) },
      ]);
    try {
      while (done < options.steps && !context.signal?.aborted) {
        context.device.queue.submit([context.device.createCommandEncoder().finish()]);
        await workDone(context.device);
        done++;
        context.progress('work', done, options.steps);
        if (done % CHECKPOINT_EVERY === 0) await save();
      }
    } catch (err) {
      if (!(err instanceof DeviceLostError)) throw err;
      context.log(`device lost after ${done} steps`);
    }
    await save();
    const output = fakeOutput(options.seed, done, options.steps);
    output.settings.resumedFrom = from;
    return output;
  },
};
