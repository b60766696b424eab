/** `blockspin info [--json]`: the adapter, its limits and features. */
import type { Command } from 'commander';
import { GpuContext, type AdapterSummary } from '../gpu/device.ts';

const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
];

// adapterBrief lives with the adapter summary (src/gpu/device.ts) so the lab reports the same fields.
export { adapterBrief, type AdapterBrief } from '../gpu/device.ts';

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Human-readable lines for `info` without --json. */
export function formatSummary(s: AdapterSummary): string {
  const lines = [
    `adapter       ${[s.vendor, s.architecture].filter(Boolean).join(' / ') || '(unnamed)'}`,
    `description   ${s.description || s.device || '(none)'}`,
    `backend       ${s.backend === 'dawn' ? 'Dawn (Node)' : 'browser'}, ${s.software ? 'software (CPU) — slow' : 'hardware'}`,
    `subgroups     ${s.subgroupMinSize === null ? 'n/a' : `${s.subgroupMinSize}…${s.subgroupMaxSize}`}`,
    `features      ${s.features.join(', ')}`,
    `enabled       ${s.enabledFeatures.join(', ')}`,
    'limits',
  ];
  for (const name of KEY_LIMITS) {
    const v = s.limits[name];
    if (v === undefined) continue;
    const shown =
      /Size$/.test(name) && name !== 'maxComputeInvocationsPerWorkgroup' ? formatBytes(v) : String(v);
    lines.push(`  ${name.padEnd(36)}${shown}`);
  }
  lines.push('  (all limits: blockspin info --json)');
  return lines.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the WebGPU adapter: vendor, architecture, backend, limits and features')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const gpu = await GpuContext.acquire();
      try {
        const summary = gpu.summary;
        process.stdout.write(
          options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`,
        );
      } finally {
        gpu.destroy();
      }
    });
}
