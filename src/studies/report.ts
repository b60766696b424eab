/**
 * Report directories (../shared/REPORTS.md): a study's output plus where and how it ran, as
 * - `report.json`: study, preset, seed, every setting, adapter, blockspin version and commit, command, start and
 *   finish, wall time per stage, `complete`, and `results` (a flat list of { name, value, err, unit, method,
 *   source?, z? } with stable dotted names, checked here);
 * - `report.md`: the same for people (a partial report says so at the top);
 * - `figures/<name>.svg` rendered from `figures/<name>.json` (the Vega-Lite spec, data inline);
 * - `arrays/<name>.npy`, and the study's extra files under their own names.
 * {@link reportFiles} builds the files anywhere (the lab offers them as downloads); {@link writeReport} writes
 * them atomically in Node (src/io/atomic-dir.ts), so a directory that looks whole is whole.
 */
import { writeDirectoryAtomically, type DirectoryFile } from '../io/atomic-dir.ts';
import { encodeNpy } from '../io/npy.ts';
import type { JsonValue } from '../rg/result-files.ts';
import { checkFigureName, renderFigure } from './figures.ts';
import { combinedZ, type Preset, type ResultEntry, type StageTime, type StudyOutput } from './study.ts';

/** The `format` field of report.json. */
export const REPORT_FORMAT = 'blockspin-report';
/** The report.json version this code writes. */
export const REPORT_VERSION = 1;

/** A result name: dotted identifiers, e.g. `yt.learned.n1.c7` (other tools compare runs by these names). */
export const RESULT_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/** Where and how a study ran: everything report.json records besides the study's own output. */
export interface ReportMeta {
  /** The study's name (`blockspin reproduce NAME`). */
  study: string;
  title: string;
  /** The source the study reproduces. */
  source: string;
  preset: Preset;
  /** `PATH=VALUE` overrides of the preset's options (`--set`), in order; absent or empty for the plain preset. */
  overrides?: string[];
  /** The seed the run was given (the settings list every derived seed). */
  seed: number;
  /** The adapter, e.g. the CLI's AdapterBrief; null when unknown. */
  adapter: JsonValue;
  /** blockspin's version. */
  blockspin: string;
  /** The git commit of the code that ran (null in the browser or an installed package). */
  commit: string | null;
  /** The command line (null in the browser: the lab names its panel instead, if it likes, in `command`). */
  command: string | null;
  /** ISO 8601 timestamps. */
  startedAt: string;
  finishedAt: string;
  /** Why a partial run stopped (e.g. 'interrupted', 'the GPU device was lost (…)'); null when complete. */
  stopped?: string | null;
}

/** The report.json object. */
export interface ReportJson {
  format: typeof REPORT_FORMAT;
  version: number;
  study: string;
  title: string;
  source: string;
  preset: Preset;
  /** The preset's options overridden by `--set` (only when there were any; `settings` has the values used). */
  overrides?: string[];
  seed: number;
  complete: boolean;
  stopped: string | null;
  settings: { [key: string]: JsonValue };
  adapter: JsonValue;
  blockspin: string;
  commit: string | null;
  command: string | null;
  startedAt: string;
  finishedAt: string;
  /** finishedAt − startedAt. */
  wallSeconds: number;
  stages: StageTime[];
  results: ResultEntry[];
  figures: string[];
  arrays: string[];
  files: string[];
}

/** Relative z tolerance between a result's z and the one its value, err and source give. */
const Z_TOLERANCE = 1e-6;

function fail(message: string): never {
  throw new Error(message);
}

function checkFinite(what: string, x: unknown, nonNegative = false): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || (nonNegative && x < 0)) {
    fail(`${what} is ${String(x)}; it must be a finite number${nonNegative ? ' ≥ 0' : ''}`);
  }
}

/**
 * Checks the results and returns them with `z` filled in where a source is given: names are unique dotted
 * identifiers ({@link RESULT_NAME}), values and errors finite (errors ≥ 0), a method is named, a source has a
 * finite value, error ≥ 0 and a place, and a given z agrees with (value − source) / √(err² + source.err²).
 * A z without a source, or with an exact source and no error (z infinite), is refused.
 */
export function checkResults(results: readonly ResultEntry[]): ResultEntry[] {
  const seen = new Set<string>();
  return results.map((r, i) => {
    const at = `result ${i} '${String(r.name)}'`;
    if (typeof r.name !== 'string' || !RESULT_NAME.test(r.name) || r.name.length > 200) {
      fail(
        `${at}: a result name must be dotted identifiers (letters, digits, '_'; starting with a letter), e.g. yt.learned.n1.c7`,
      );
    }
    if (seen.has(r.name)) fail(`${at}: the name appears twice; result names must be unique`);
    seen.add(r.name);
    checkFinite(`${at} value`, r.value);
    checkFinite(`${at} err`, r.err, true);
    if (typeof r.unit !== 'string') fail(`${at}: unit must be a string ('' for a pure number)`);
    if (typeof r.method !== 'string' || r.method.trim() === '') {
      fail(`${at}: method must say how the value and its error were obtained`);
    }
    const out: ResultEntry = { name: r.name, value: r.value, err: r.err, unit: r.unit, method: r.method };
    if (r.source !== undefined) {
      checkFinite(`${at} source.value`, r.source.value);
      checkFinite(`${at} source.err`, r.source.err, true);
      if (typeof r.source.where !== 'string' || r.source.where.trim() === '') {
        fail(`${at}: source.where must say where in the source the value is`);
      }
      const z = combinedZ(r.value, r.err, r.source);
      if (!Number.isFinite(z)) {
        fail(`${at}: z is ${z} (err and source.err are both 0); a compared result needs an error`);
      }
      if (r.z !== undefined) {
        checkFinite(`${at} z`, r.z);
        if (Math.abs(r.z - z) > Z_TOLERANCE * Math.max(1, Math.abs(z))) {
          fail(`${at}: z ${r.z} disagrees with (value − source) / √(err² + source.err²) = ${z}`);
        }
      }
      out.source = { value: r.source.value, err: r.source.err, where: r.source.where };
      out.z = r.z ?? z;
    } else if (r.z !== undefined) {
      fail(`${at}: z ${r.z} is given without a source to be compared with`);
    }
    return out;
  });
}

/** Throws unless `value` is JSON that survives a round trip (no NaN/Infinity, which JSON.stringify turns into null). */
function checkJson(what: string, value: unknown): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') return checkFinite(what, value);
  if (Array.isArray(value)) return value.forEach((v, i) => checkJson(`${what}[${i}]`, v));
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkJson(`${what}.${k}`, v);
    return;
  }
  fail(`${what} is a ${typeof value}; report settings must be JSON`);
}

/** A path inside the report: segments of letters, digits, '.', '_', '-' (no '..', no absolute path). */
function checkRelativePath(what: string, name: string): void {
  const segments = name.split('/');
  if (
    name.length === 0 ||
    name.length > 300 ||
    segments.some((s) => !/^[A-Za-z0-9_.-]+$/.test(s) || s === '.' || s === '..')
  ) {
    fail(`${what} '${name}' must be a relative path of letters, digits, '.', '_', '-' and '/' (no '..')`);
  }
}

function seconds(iso: string, what: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) fail(`${what} '${iso}' is not an ISO 8601 time`);
  return t;
}

/** The report.json object of a study's output (throws, naming the field, on anything a report must not hold). */
export function reportJson(output: StudyOutput, meta: ReportMeta): ReportJson {
  const results = checkResults(output.results);
  checkJson('settings', output.settings);
  checkJson('adapter', meta.adapter);
  output.stages.forEach((s, i) => {
    if (typeof s.stage !== 'string' || s.stage === '') fail(`stage ${i} has no name`);
    checkFinite(`stage '${s.stage}' seconds`, s.seconds, true);
  });
  if (!Number.isSafeInteger(meta.seed) || meta.seed < 0) {
    fail(`seed ${meta.seed} must be a non-negative safe integer`);
  }
  const wall = (seconds(meta.finishedAt, 'finishedAt') - seconds(meta.startedAt, 'startedAt')) / 1000;
  if (wall < 0) fail(`finishedAt ${meta.finishedAt} is before startedAt ${meta.startedAt}`);
  const figures = output.figures.map((f) => {
    checkFigureName(f.name);
    return f.name;
  });
  const arrays = output.arrays.map((a) => arrayPath(a.name));
  const files = (output.files ?? []).map((f) => {
    checkRelativePath('extra file', f.name);
    return f.name;
  });
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    study: meta.study,
    title: meta.title,
    source: meta.source,
    preset: meta.preset,
    ...(meta.overrides && meta.overrides.length > 0 ? { overrides: [...meta.overrides] } : {}),
    seed: meta.seed,
    complete: output.complete,
    stopped: output.complete ? null : (meta.stopped ?? 'stopped before the end'),
    settings: output.settings,
    adapter: meta.adapter,
    blockspin: meta.blockspin,
    commit: meta.commit,
    command: meta.command,
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    wallSeconds: Number(wall.toFixed(3)),
    stages: output.stages.map((s) => ({ stage: s.stage, seconds: s.seconds })),
    results,
    figures,
    arrays,
    files,
  };
}

/** `arrays/<name>.npy` (a trailing `.npy` in the name is not doubled). */
function arrayPath(name: string): string {
  const stem = name.endsWith('.npy') ? name.slice(0, -4) : name;
  checkRelativePath('array name', stem);
  return `arrays/${stem}.npy`;
}

/**
 * `value ± err` with the error to two significant figures and the value to the same decimal place:
 * `formatValueErr(1.000123, 0.00114)` → `1.0001 ± 0.0011`.
 */
export function formatValueErr(value: number, err: number): string {
  if (!(err > 0) || !Number.isFinite(err)) return `${Number(value.toPrecision(6))} ± ${err}`;
  const decimals = Math.min(15, Math.max(0, 1 - Math.floor(Math.log10(err))));
  return `${value.toFixed(decimals)} ± ${err.toFixed(decimals)}`;
}

/** z to one decimal, without a '-0.0'. */
export function formatZ(z: number): string {
  return (Math.round(z * 10) / 10 || 0).toFixed(1);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** An adapter as report.json records it, in one line: `vendor / architecture (description), software (CPU)`. */
export function describeAdapter(adapter: JsonValue): string {
  if (adapter === null || typeof adapter !== 'object' || Array.isArray(adapter)) {
    return adapter === null ? 'unknown' : JSON.stringify(adapter);
  }
  const a = adapter as { [key: string]: JsonValue };
  const name = [a.vendor, a.architecture].filter((x) => typeof x === 'string' && x !== '').join(' / ');
  const description = typeof a.description === 'string' && a.description !== '' ? ` (${a.description})` : '';
  const software = a.software === true ? ', software (CPU)' : a.software === false ? ', hardware' : '';
  return `${name || 'unnamed adapter'}${description}${software}`;
}

/** Thrown when a file is not a blockspin report.json this version can read: the message names the field. */
export class ReportFormatError extends Error {
  override name = 'ReportFormatError';
}

/**
 * Parses and checks a report.json (as the CLI and the lab write it), for reading a report back: the format tag,
 * a version this code knows, the fields every report has with their types, and the results through
 * {@link checkResults}. Errors name the field and what was found.
 *
 * @example
 * const report = parseReportJson(await file.text());
 */
export function parseReportJson(text: string): ReportJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReportFormatError(
      `report.json is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ReportFormatError('report.json must hold an object');
  }
  const r = raw as Record<string, unknown>;
  if (r.format !== REPORT_FORMAT) {
    throw new ReportFormatError(
      `report.json format is ${JSON.stringify(r.format)}; expected '${REPORT_FORMAT}'`,
    );
  }
  if (
    typeof r.version !== 'number' ||
    !Number.isInteger(r.version) ||
    r.version < 1 ||
    r.version > REPORT_VERSION
  ) {
    throw new ReportFormatError(
      `report.json version ${JSON.stringify(r.version)} is not one this blockspin reads (1 … ${REPORT_VERSION})`,
    );
  }
  const want = (field: string, type: 'string' | 'number' | 'boolean', nullable = false): void => {
    const v = r[field];
    if (nullable && (v === null || v === undefined)) return;
    if (typeof v !== type) {
      throw new ReportFormatError(
        `report.json field '${field}' is ${v === undefined ? 'missing' : JSON.stringify(v)}; it must be a ${type}${nullable ? ' or null' : ''}`,
      );
    }
  };
  for (const f of ['study', 'title', 'source', 'preset', 'blockspin', 'startedAt', 'finishedAt'] as const)
    want(f, 'string');
  want('seed', 'number');
  want('complete', 'boolean');
  want('wallSeconds', 'number');
  for (const f of ['stopped', 'commit', 'command'] as const) want(f, 'string', true);
  if (
    r.overrides !== undefined &&
    !(Array.isArray(r.overrides) && r.overrides.every((x) => typeof x === 'string'))
  )
    throw new ReportFormatError("report.json field 'overrides' must be an array of strings");
  if (r.settings === null || typeof r.settings !== 'object' || Array.isArray(r.settings)) {
    throw new ReportFormatError("report.json field 'settings' must be an object");
  }
  for (const f of ['stages', 'results', 'figures', 'arrays', 'files'] as const) {
    if (!Array.isArray(r[f])) throw new ReportFormatError(`report.json field '${f}' must be an array`);
  }
  (r.stages as unknown[]).forEach((s, i) => {
    const st = s as Partial<StageTime> | null;
    if (!st || typeof st.stage !== 'string' || typeof st.seconds !== 'number') {
      throw new ReportFormatError(`report.json stages[${i}] must be { stage: string, seconds: number }`);
    }
  });
  for (const f of ['figures', 'arrays', 'files'] as const) {
    (r[f] as unknown[]).forEach((x, i) => {
      if (typeof x !== 'string') throw new ReportFormatError(`report.json ${f}[${i}] must be a string`);
    });
  }
  let results: ResultEntry[];
  try {
    results = checkResults(r.results as ResultEntry[]);
  } catch (err) {
    throw new ReportFormatError(`report.json results: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    ...(r as unknown as ReportJson),
    stopped: (r.stopped as string | null | undefined) ?? null,
    results,
  };
}

/** report.md: a header (study, preset, adapter, status), the study's body, the results table, the figures. */
export function reportMarkdown(
  output: StudyOutput,
  meta: ReportMeta,
  json = reportJson(output, meta),
): string {
  const lines: string[] = [`# ${json.title}`, ''];
  if (!json.complete) {
    lines.push(
      `**Partial report: the run stopped before the end (${json.stopped}). Every number below comes from the ` +
        `part that was done; \`report.json\` has \`"complete": false\`.**`,
      '',
    );
  }
  const stages = json.stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)} s`).join(', ');
  lines.push(
    '| | |',
    '| --- | --- |',
    `| study | \`${cell(json.study)}\` |`,
    `| source | ${cell(json.source)} |`,
    `| preset | \`${json.preset}\`${json.overrides ? `, overridden: ${json.overrides.map((x) => `\`${cell(x)}\``).join(', ')}` : ''} |`,
    `| seed | ${json.seed} |`,
    `| status | ${json.complete ? 'complete' : `**partial** (${cell(json.stopped ?? '')})`} |`,
    `| adapter | ${cell(describeAdapter(json.adapter))} |`,
    `| blockspin | ${cell(json.blockspin)}${json.commit ? `, commit \`${json.commit}\`` : ''} |`,
    ...(json.command ? [`| command | \`${cell(json.command)}\` |`] : []),
    `| started | ${json.startedAt} |`,
    `| finished | ${json.finishedAt} (${json.wallSeconds.toFixed(1)} s) |`,
    `| stages | ${stages === '' ? 'none' : cell(stages)} |`,
    '',
  );
  const body = output.markdown.trim();
  if (body !== '') lines.push(body, '');
  lines.push('## Results', '');
  if (json.results.length === 0) lines.push('No results.', '');
  else {
    lines.push(
      '| name | value | unit | source | z | method |',
      '| --- | --- | --- | --- | --- | --- |',
      ...json.results.map((r) => {
        const source = r.source ? `${formatValueErr(r.source.value, r.source.err)} (${r.source.where})` : '—';
        const z = r.z === undefined ? '—' : formatZ(r.z);
        return `| \`${r.name}\` | ${formatValueErr(r.value, r.err)} | ${cell(r.unit)} | ${cell(source)} | ${z} | ${cell(r.method)} |`;
      }),
      '',
      'Errors are one standard error; z = (value − source) / √(err² + source err²).',
      '',
    );
  }
  if (output.figures.length > 0) {
    lines.push('## Figures', '');
    for (const f of output.figures) {
      lines.push(
        `![${f.title}](figures/${f.name}.svg)`,
        '',
        `${f.title} ([spec and data](figures/${f.name}.json))`,
        '',
      );
    }
  }
  if (json.arrays.length + json.files.length > 0) {
    lines.push('## Files', '');
    for (const [i, a] of output.arrays.entries()) {
      lines.push(`- \`${json.arrays[i]}\`: ${a.npy.dtype} [${a.npy.shape.join(' × ')}]`);
    }
    for (const f of json.files) lines.push(`- \`${f}\``);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const text = new TextEncoder();

/**
 * JSON indented by two spaces, except that an object or array holding no object or array is written on one
 * line: a figure's data rows are then one line each instead of six (a fan of flows: 386 KB → 235 KB).
 */
export function formatJson(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries: [string | null, unknown][] = Array.isArray(value)
    ? value.map((v) => [null, v])
    : Object.entries(value).filter(([, v]) => v !== undefined);
  const open = Array.isArray(value) ? '[' : '{';
  const close = Array.isArray(value) ? ']' : '}';
  if (entries.length === 0) return `${open}${close}`;
  if (entries.every(([, v]) => v === null || typeof v !== 'object')) return JSON.stringify(value);
  const inner = `${indent}  `;
  const lines = entries.map(
    ([k, v]) => `${inner}${k === null ? '' : `${JSON.stringify(k)}: `}${formatJson(v, inner)}`,
  );
  return `${open}\n${lines.join(',\n')}\n${indent}${close}`;
}

/**
 * Every file of the report directory (works in the browser: the lab zips or downloads them). Figures are
 * rendered to SVG here; names are checked for collisions.
 */
export async function reportFiles(output: StudyOutput, meta: ReportMeta): Promise<DirectoryFile[]> {
  const json = reportJson(output, meta);
  const files: DirectoryFile[] = [
    { name: 'report.json', bytes: text.encode(`${JSON.stringify(json, null, 2)}\n`) },
    { name: 'report.md', bytes: text.encode(reportMarkdown(output, meta, json)) },
  ];
  for (const f of output.figures) {
    checkJson(`figure '${f.name}' spec`, f.spec);
    files.push(
      { name: `figures/${f.name}.svg`, bytes: text.encode(await renderFigure(f)) },
      { name: `figures/${f.name}.json`, bytes: text.encode(`${formatJson(f.spec)}\n`) },
    );
  }
  output.arrays.forEach((a, i) => files.push({ name: json.arrays[i]!, bytes: encodeNpy(a.npy) }));
  for (const f of output.files ?? []) files.push({ name: f.name, bytes: f.bytes });
  // A name may not repeat, nor be both a file and a folder ('model' and 'model/W.npy').
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.name)) fail(`report file '${f.name}' would be written twice`);
    names.add(f.name);
  }
  for (const name of names) {
    const parts = name.split('/');
    for (let k = 1; k < parts.length; k++) {
      const folder = parts.slice(0, k).join('/');
      if (names.has(folder)) fail(`report file '${folder}' is also the folder of '${name}'`);
    }
  }
  return files;
}

export interface WriteReportOptions {
  /** Replace an existing non-empty directory (default: refuse, naming it). */
  force?: boolean;
  /** More files to write into the directory with the report (e.g. the study's checkpoints). */
  extraFiles?: readonly DirectoryFile[];
}

/** Writes the report directory atomically (Node): nothing half-written, an existing one kept unless `force`. */
export async function writeReport(
  dir: string,
  output: StudyOutput,
  meta: ReportMeta,
  options: WriteReportOptions = {},
): Promise<string> {
  const files = [...(await reportFiles(output, meta)), ...(options.extraFiles ?? [])];
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  return writeDirectoryAtomically(dir, files, {
    force: options.force,
    what: 'report directory',
    writeFile: async (p, bytes) => {
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, bytes);
    },
  });
}

/**
 * The commit checked out at `root` (default: this package's root), read from `.git` without running git;
 * null when there is none (an installed package, the browser) or it cannot be read. Uncommitted changes are not
 * detected.
 */
export async function gitCommit(root?: string): Promise<string | null> {
  if (typeof process === 'undefined' || !process.versions?.node) return null;
  try {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    // src/studies/report.ts or dist/lib/<chunk>.js: the package root is two folders up either way.
    const base = root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    let gitDir = path.join(base, '.git');
    const stat = await fs.stat(gitDir);
    if (stat.isFile()) {
      // A worktree or submodule: `.git` is a file `gitdir: PATH`.
      const m = /^gitdir:\s*(.+)$/m.exec(await fs.readFile(gitDir, 'utf8'));
      if (!m) return null;
      gitDir = path.resolve(base, m[1]!.trim());
    }
    const head = (await fs.readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) return head;
    const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
    if (!ref) return null;
    // Refs live in the common directory of a worktree.
    const common = await fs
      .readFile(path.join(gitDir, 'commondir'), 'utf8')
      .then((c) => path.resolve(gitDir, c.trim()))
      .catch(() => gitDir);
    for (const dir of [gitDir, common]) {
      const loose = await fs.readFile(path.join(dir, ref), 'utf8').catch(() => null);
      if (loose && /^[0-9a-f]{40,64}\s*$/.test(loose)) return loose.trim();
    }
    const packed = await fs.readFile(path.join(common, 'packed-refs'), 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const [hash, name] = line.trim().split(/\s+/);
      if (name === ref && hash && /^[0-9a-f]{40,64}$/.test(hash)) return hash;
    }
    return null;
  } catch {
    return null;
  }
}
