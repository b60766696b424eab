/**
 * Fuzzes blockspin's file readers (see bench/fuzz-targets.ts): `npx tsx bench/fuzz.ts [--runs N] [--seed S]
 * [--json]`. N cases per reader (default 20,000, so 10⁵ in all), fixed seed; reports per reader the cases, how
 * many loaded, the slowest read (no hang), and every error branch hit (message with its values blanked) with
 * its count. The time per reader includes generating its cases. Exits 1 on the first broken property (an
 * untyped exception, a bad result, an over-sized allocation, a message not naming its file), printing what
 * went wrong, a short description of the input, and the fast-check seed and path that replay it.
 */
import { parseArgs } from 'node:util';
import { FUZZ_TARGETS, fuzz, fuzzPartialDataset } from './fuzz-targets.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '20261130' },
    'partial-runs': { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1)
  throw new RangeError(`--runs ${values.runs} is not a positive integer`);
if (!Number.isSafeInteger(seed)) throw new RangeError(`--seed ${values.seed} is not an integer`);

const report = [];
for (const target of FUZZ_TARGETS) {
  const start = performance.now();
  const timing = { slowestMs: 0, slowest: '' };
  const counts = fuzz(target, runs, seed, timing);
  const seconds = (performance.now() - start) / 1000;
  const loaded = counts.get('ok') ?? 0;
  counts.delete('ok');
  const branches = [...counts].sort((a, b) => b[1] - a[1]);
  report.push({
    reader: target.name,
    cases: runs,
    loaded,
    seconds,
    slowestRead: timing,
    branches: Object.fromEntries(branches),
  });
  if (!values.json) {
    process.stdout.write(
      `\n${target.name}: ${runs} cases in ${seconds.toFixed(1)} s (slowest read ${timing.slowestMs.toFixed(1)} ms: ${timing.slowest}), ` +
        `${loaded} loaded, ${runs - loaded} refused through ${branches.length} error branches\n`,
    );
    for (const [branch, n] of branches) process.stdout.write(`  ${String(n).padStart(6)}  ${branch}\n`);
  }
}
// Partial data sets (generate --resume) are read from disk: fewer cases, each through a temporary directory.
{
  const runs = Number(values['partial-runs']);
  if (!Number.isSafeInteger(runs) || runs < 0)
    throw new RangeError(`--partial-runs ${values['partial-runs']} is not a non-negative integer`);
  const start = performance.now();
  const counts = runs > 0 ? await fuzzPartialDataset(runs, seed) : new Map<string, number>();
  const seconds = (performance.now() - start) / 1000;
  const loaded = counts.get('ok') ?? 0;
  counts.delete('ok');
  const branches = [...counts].sort((a, b) => b[1] - a[1]);
  report.push({
    reader: 'partial data set (disk)',
    cases: runs,
    loaded,
    seconds,
    slowestRead: null,
    branches: Object.fromEntries(branches),
  });
  if (!values.json) {
    process.stdout.write(
      `\npartial data set (disk): ${runs} cases in ${seconds.toFixed(1)} s, ${loaded} loaded, ` +
        `${runs - loaded} refused through ${branches.length} error branches\n`,
    );
    for (const [branch, n] of branches) process.stdout.write(`  ${String(n).padStart(6)}  ${branch}\n`);
  }
}
const total = report.reduce((s, r) => s + r.cases, 0);
if (values.json) process.stdout.write(`${JSON.stringify({ seed, total, report }, null, 2)}\n`);
else
  process.stdout.write(
    `\n${total} cases, seed ${seed}: no untyped exception, bad result or over-sized allocation\n`,
  );
