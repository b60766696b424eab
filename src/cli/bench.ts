/** `blockspin bench <suite>`: benchmarks against a peer measured in the same run (see bench/README.md). */
import type { Command } from 'commander';
import { benchIsing } from '../../bench/ising.ts';
import { benchRandom } from '../../bench/random.ts';
import { benchReduce } from '../../bench/reduce.ts';
import { GpuContext } from '../gpu/device.ts';
import { integerArg, integerListArg } from './args.ts';

const parseCount = (name: string, max: number): ((value: string) => number) => integerArg(name, 1, max);
const parseSizes = integerListArg('--sizes', 1, 2 ** 28);

async function withGpu<T>(fn: (gpu: GpuContext) => Promise<T>): Promise<T> {
  const gpu = await GpuContext.acquire();
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('run a benchmark suite (figures as ratios against a peer)');

  bench
    .command('reduce')
    .description('segmented reduction (sum, sum of squares, min, max) vs a TypeScript loop')
    .option('--sizes <list>', 'comma-separated element counts', parseSizes, [1 << 20, 1 << 22])
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 10)
    .option('--json', 'print one JSON object')
    .action(async (options: { sizes: number[]; repeats: number; json?: boolean }) => {
      await withGpu(async (gpu) => {
        const report = await benchReduce(gpu.device, { sizes: options.sizes, repeats: options.repeats });
        const out = { adapter: gpu.summary, ...report };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        const a = gpu.summary;
        process.stdout.write(`adapter: ${a.vendor} ${a.architecture} (${a.software ? 'software' : 'hardware'}, ${a.backend})\n`);
        process.stdout.write('| kernel | type | elements | ms | elements/ns | GB/s | vs CPU loop | timing |\n|---|---|---|---|---|---|---|---|\n');
        for (const r of report.results) {
          const peer = report.peer.results.find((p) => p.type === r.type && p.elements === r.elements);
          process.stdout.write(
            `| ${r.kernel} | ${r.type} | ${r.elements} | ${r.ms.toFixed(3)} | ${r.elementsPerNs.toFixed(3)} | ${r.gbPerSec.toFixed(2)} | ${peer ? ratio(r.elementsPerNs, peer.elementsPerNs) : '–'} | ${r.timing} |\n`,
          );
        }
        for (const p of report.peer.results) {
          process.stdout.write(`peer ${report.peer.name}: ${p.type} ${p.elements}: ${p.elementsPerNs.toFixed(3)} elements/ns\n`);
        }
      });
    });

  bench
    .command('random')
    .description('Philox4x32-10 fills vs the TypeScript reference generator')
    .option('--words <n>', 'words per GPU fill', parseCount('--words', 2 ** 28), 1 << 22)
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 10)
    .option('--json', 'print one JSON object')
    .action(async (options: { words: number; repeats: number; json?: boolean }) => {
      await withGpu(async (gpu) => {
        const report = await benchRandom(gpu.device, { words: options.words, repeats: options.repeats });
        const out = { adapter: gpu.summary, ...report };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        const a = gpu.summary;
        process.stdout.write(`adapter: ${a.vendor} ${a.architecture} (${a.software ? 'software' : 'hardware'}, ${a.backend})\n`);
        process.stdout.write('| kernel | words | ms | words/ns | vs CPU reference | timing |\n|---|---|---|---|---|---|\n');
        for (const r of report.results) {
          process.stdout.write(
            `| ${r.kernel} | ${r.words} | ${r.ms.toFixed(3)} | ${r.wordsPerNs.toFixed(3)} | ${ratio(r.wordsPerNs, report.peer.wordsPerNs)} | ${r.timing} |\n`,
          );
        }
        process.stdout.write(`peer ${report.peer.name}: ${report.peer.wordsPerNs.toFixed(4)} words/ns\n`);
      });
    });

  bench
    .command('ising')
    .description('Ising sweeps: spin updates per ns of simple and packed kernels vs a TypeScript Metropolis')
    .option('--L <list>', 'comma-separated lattice sizes (default 256,512,1024; 256…4096 on hardware)', integerListArg('--L', 2, 65536))
    .option('--sweeps <n>', 'timed sweeps per configuration', parseCount('--sweeps', 100000))
    .option('--repeats <n>', 'timed repeats (median reported)', parseCount('--repeats', 1000), 3)
    .option('--json', 'print one JSON object')
    .action(async (options: { L?: number[]; sweeps?: number; repeats: number; json?: boolean }) => {
      await withGpu(async (gpu) => {
        const a = gpu.summary;
        const sizes = options.L ?? (a.software ? [256, 512, 1024] : [256, 512, 1024, 2048, 4096]);
        const sweeps = options.sweeps ?? (a.software ? 10 : 200);
        const report = await benchIsing(gpu.device, { sizes, sweeps, repeats: options.repeats });
        const out = {
          adapter: a,
          results: report.results.map(({ kernel, algo, L, flipsPerNs, ms, sweeps: n, timing }) => ({ kernel, algo, L, flipsPerNs, ms, sweeps: n, timing })),
          peer: report.peer,
        };
        if (options.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        process.stdout.write(`adapter: ${a.vendor} ${a.architecture} (${a.software ? 'software' : 'hardware'}, ${a.backend})\n`);
        process.stdout.write('| kernel | algo | L | sweeps | flips/ns | vs CPU peer | timing |\n|---|---|---|---|---|---|---|\n');
        for (const r of report.results) {
          process.stdout.write(
            `| ${r.kernel} | ${r.algo} | ${r.L} | ${r.sweeps} | ${r.flipsPerNs.toFixed(4)} | ${ratio(r.flipsPerNs, report.peer.flipsPerNs)} | ${r.timing} |\n`,
          );
        }
        process.stdout.write(`peer ${report.peer.name}, L=${report.peer.L}: ${report.peer.flipsPerNs.toFixed(4)} flips/ns\n`);
      });
    });
}
