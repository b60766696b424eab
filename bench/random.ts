/**
 * Random fill benchmark: GPU RandomFill with Philox4x32-10 (words, uniforms) and Threefry-4×32-20 (words), against
 * the TypeScript Philox reference in the same run. The two generators' rows compare their costs on the adapter
 * (the packed Ising sweep draws Threefry).
 */
import { createStorageBuffer, philox4x32, RandomFill } from '../src/index.ts';
import { timeCpu, timeGpuStep, type TimingSource } from './harness.ts';

export interface RandomBenchReport {
  results: { kernel: string; words: number; ms: number; wordsPerNs: number; timing: TimingSource }[];
  peer: { name: string; words: number; ms: number; wordsPerNs: number };
}

/** GPU fill of `words` Philox words vs the CPU reference on `cpuWords` words. */
export async function benchRandom(
  device: GPUDevice,
  options: { words: number; cpuWords?: number; repeats?: number },
): Promise<RandomBenchReport> {
  const repeats = options.repeats ?? 10;
  const { words } = options;
  const output = createStorageBuffer(device, 'bench random', words * 4);
  const results: RandomBenchReport['results'] = [];
  try {
    const variants = [
      ['philox', 'words'],
      ['philox', 'uniform'],
      ['threefry', 'words'],
    ] as const;
    for (const [generator, kind] of variants) {
      const fill = new RandomFill(device, output, { count: words, seed: 1, kind, generator });
      const t = await timeGpuStep(device, 'bench random', [fill], repeats);
      fill.destroy();
      results.push({
        kernel: `${generator} ${kind}`,
        words,
        ms: t.ms,
        wordsPerNs: words / (t.ms * 1e6),
        timing: t.source,
      });
    }
  } finally {
    output.destroy();
  }
  const cpuWords = options.cpuWords ?? Math.min(words, 1 << 20);
  let sink = 0;
  const t = timeCpu(
    () => {
      for (let b = 0; b < cpuWords / 4; b++) sink ^= philox4x32([b, 0, 0, 0], [1, 0])[0];
    },
    Math.max(3, Math.floor(repeats / 2)),
  );
  if (sink === 0.5) console.error('unreachable');
  return {
    results,
    peer: {
      name: 'TypeScript Philox reference (CPU)',
      words: cpuWords,
      ms: t.ms,
      wordsPerNs: cpuWords / (t.ms * 1e6),
    },
  };
}
