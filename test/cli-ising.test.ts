/**
 * The `blockspin ising` and `blockspin generate` contracts: the JSON fields, the 1D ring and the packed kernel,
 * bad input refused (naming the value) before any GPU work, data sets on disk, and Ctrl-C (SIGINT) finishing
 * with what was measured — a JSON marked interrupted, or a data set in DIR.partial.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFileName } from '../src/io/dataset-files.ts';
import { decodeNpy } from '../src/io/npy.ts';
import { kaufman, ringCorrelation } from '../src/exact/ising.ts';
import { cli, interrupted } from './helpers/cli.ts';

const estimate = { mean: expect.any(Number), err: expect.any(Number) };

/** The documented `ising --json` contract. */
function expectContract(json: Record<string, unknown>, L: number, Ly: number, dims: 1 | 2): void {
  expect(json).toMatchObject({
    L,
    Ly,
    dims,
    T: expect.any(Number),
    h: expect.any(Number),
    replicas: expect.any(Number),
    sweeps: expect.any(Number),
    algo: expect.stringMatching(/^(metropolis|heatbath|sw)$/),
    kernel: expect.stringMatching(/^(simple|packed)$/),
    energy: estimate,
    absMagnetization: estimate,
    m2: estimate,
    m4: estimate,
    binder: estimate,
    susceptibility: estimate,
    specificHeat: estimate,
    tauInt: { energy: expect.any(Number), absMagnetization: expect.any(Number) },
    adapter: { vendor: expect.any(String), architecture: expect.any(String) },
  });
  for (const key of ['energy', 'absMagnetization', 'm2', 'm4', 'binder', 'susceptibility', 'specificHeat']) {
    const e = json[key] as { mean: number; err: number };
    expect(Number.isFinite(e.mean), key).toBe(true);
    expect(e.err, key).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(e.err), key).toBe(true);
  }
  const correlation = json.correlation as { r: number; mean: number; err: number }[];
  expect(correlation.map((c) => c.r)).toEqual(Array.from({ length: L / 2 + 1 }, (_, r) => r));
  expect(correlation[0]).toEqual({ r: 0, mean: 1, err: 0 });
  for (const c of correlation) {
    expect(c.mean).toBeGreaterThanOrEqual(-1);
    expect(c.mean).toBeLessThanOrEqual(1);
    expect(c.err).toBeGreaterThanOrEqual(0);
  }
  expect(json.flipsPerNs).toBeGreaterThan(0);
  expect(json.interrupted).toBe(false);
  // Healthy runs never report disagreeing replicas (with one replica there is nothing to compare).
  if ((json.replicas as number) > 1)
    expect(json.replicaAgreement).toMatchObject({ agree: true, warning: null });
  else expect(json.replicaAgreement).toBeNull();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blockspin-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('blockspin ising', () => {
  it('--json prints one JSON object with the contract fields', async () => {
    const { code, stdout, stderr } = await cli([
      'ising',
      '--L',
      '8',
      '--T',
      '2.269',
      '--replicas',
      '8',
      '--therm',
      '100',
      '--sweeps',
      '400',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>; // the whole of stdout is one object
    expectContract(json, 8, 8, 2);
    expect(json).toMatchObject({
      T: 2.269,
      h: 0,
      replicas: 8,
      sweeps: 400,
      algo: 'metropolis',
      kernel: 'simple',
    });
    // Loose physics: 8×8 at T_c (exact −1.4915); replicas × sweeps = 3200 samples.
    const e = json.energy as { mean: number };
    expect(Math.abs(e.mean - kaufman(1 / 2.269, 8, 8).energyPerSpin)).toBeLessThan(0.05);
  });

  // Regression: concurrent IsingEngine.collect() calls once appended the same measurements once per replica,
  // so 'measurements' (and the n behind every error bar) was replicas × sweeps.
  it('measurements equals the measured sweeps (the series is not duplicated)', async () => {
    const { code, stdout } = await cli([
      'ising',
      '--L',
      '8',
      '--T',
      '2.269',
      '--replicas',
      '4',
      '--therm',
      '10',
      '--sweeps',
      '50',
      '--json',
    ]);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { measurements: number }).measurements).toBe(50);
  });

  it('--dims 1 --L 10: the ring, with G(r) for r = 0 … 5 near the exact ring values', async () => {
    const { code, stdout, stderr } = await cli([
      'ising',
      '--dims',
      '1',
      '--L',
      '10',
      '--T',
      '1',
      '--replicas',
      '32',
      '--therm',
      '100',
      '--sweeps',
      '400',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expectContract(json, 10, 1, 1);
    for (const c of json.correlation as { r: number; mean: number }[]) {
      expect(Math.abs(c.mean - ringCorrelation(1, 10, c.r)), `G(${c.r})`).toBeLessThan(0.05);
    }
    expect(Math.abs((json.energy as { mean: number }).mean + ringCorrelation(1, 10, 1))).toBeLessThan(0.02);
  });

  it('--kernel packed --L 32', async () => {
    const { code, stdout, stderr } = await cli([
      'ising',
      '--kernel',
      'packed',
      '--L',
      '32',
      '--T',
      '2.0',
      '--replicas',
      '2',
      '--therm',
      '100',
      '--sweeps',
      '100',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expectContract(json, 32, 32, 2);
    expect(json.kernel).toBe('packed');
  });

  it('--algo sw: Swendsen–Wang through the same contract; generate --algo sw records it', async () => {
    const args = ['--algo', 'sw', '--L', '8', '--T', '2.269'];
    const { code, stdout, stderr } = await cli([
      'ising',
      ...args,
      '--replicas',
      '2',
      '--therm',
      '20',
      '--sweeps',
      '50',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expectContract(json, 8, 8, 2);
    expect(json.algo).toBe('sw');
    const out = join(dir, 'sw-set');
    const gen = await cli(['generate', ...args, '--samples', '4', '--therm', '20', '--out', out]);
    expect(gen.code, gen.stderr).toBe(0);
    const meta = JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    expect(meta.algorithm).toBe('sw');
  });

  it('prints a readable summary without --json', async () => {
    const { code, stdout, stderr } = await cli([
      'ising',
      '--L',
      '8',
      '--T',
      '3',
      '--replicas',
      '2',
      '--therm',
      '10',
      '--sweeps',
      '50',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^Ising 8×8, T=3/);
    expect(stdout).toMatch(/^energy\/spin\s+-?\d\.\d+ ± \d\.\d+/m);
  });

  // Below T_c a random start can stay in a stripe state (two domain walls across the torus). With seed 2,
  // replica 1 of 32² at T = 1.5 is in one after 200 sweeps (|m| ≈ 0.3 against 0.986) for much of the next 400.
  const stripe = ['ising', '--L', '32', '--T', '1.5', '--replicas', '4', '--therm', '200', '--sweeps', '400'];
  interface Agreement {
    agree: boolean;
    checked: boolean;
    threshold: number;
    worst: { replica: number; mean: number; z: number };
    median: { mean: number };
    warning: string | null;
  }

  it('warns when a replica is stuck in a stripe state (random start below T_c)', async () => {
    const { code, stdout, stderr } = await cli([...stripe, '--seed', '2', '--json']);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as { replicaAgreement: Agreement };
    const a = json.replicaAgreement;
    expect(a).toMatchObject({ agree: false, checked: true, worst: { replica: 1 } });
    expect(a.worst.mean).toBeLessThan(0.95); // ⟨|m|⟩ over the 400 sweeps: the stripe lives for part of them
    expect(a.median.mean).toBeGreaterThan(0.98);
    expect(a.worst.z).toBeGreaterThan(10 * a.threshold);
    expect(stderr).toMatch(/^blockspin: warning: replicas disagree: replica 1 has ⟨\|m\|⟩ = 0\.\d+/m);
    expect(stderr).toContain('--init up');
  });

  it('--init up: the same run starts ordered and does not warn; --init down is its mirror image', async () => {
    type Run = { replicaAgreement: Agreement; absMagnetization: { mean: number }; energy: unknown };
    const parsed: Run[] = [];
    for (const r of await Promise.all(
      ['up', 'down'].map((init) => cli([...stripe, '--seed', '2', '--init', init, '--json'])),
    )) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/warning/);
      parsed.push(JSON.parse(r.stdout) as Run);
    }
    const [u, d] = parsed as [Run, Run];
    expect(u.replicaAgreement).toMatchObject({ agree: true, checked: true, warning: null });
    expect(u.absMagnetization.mean).toBeGreaterThan(0.98); // M(T = 1.5) = 0.9865 (Onsager)
    // At h = 0 flipping every spin maps the Metropolis decisions onto themselves: same energies, same |m|.
    expect(d.energy).toEqual(u.energy);
    expect(d.absMagnetization).toEqual(u.absMagnetization);
  });

  // Regression: the README's `ising --L 16 --T 2.269 --json` ran 64 replicas × 11,000 sweeps (1.8·10^8 spin
  // updates, 101 s on SwiftShader). A software adapter does about 5·10^6 measured spin updates per second
  // (2 cores), so the README example must stay within 2^25 ≈ 3.4·10^7 (under ~10 s of work there).
  it("the README's ising example, with the defaults from --help, stays within 2^25 spin updates", async () => {
    const readme = await readFile(resolve(import.meta.dirname, '../README.md'), 'utf8');
    const example = /^npx blockspin (ising [^#\n]*)/m.exec(readme)?.[1]?.trim().split(/\s+/) ?? [];
    expect(example).toContain('--L');
    const { code, stdout } = await cli(['ising', '--help']);
    expect(code).toBe(0);
    const value = (name: string): number => {
      const given = example.indexOf(`--${name}`);
      if (given >= 0) return Number(example[given + 1]);
      const m = new RegExp(`--${name} <n>.*?\\(default: (\\d+)\\)`, 's').exec(stdout);
      expect(m, `default of --${name} in --help`).not.toBeNull();
      return Number(m?.[1]);
    };
    const L = value('L');
    const work = value('replicas') * (value('therm') + value('sweeps')) * L * L;
    expect(work).toBeLessThanOrEqual(2 ** 25);
  });

  // VK_ICD_FILENAMES pointing nowhere makes any GPU acquisition fail with a different message ("Dawn found no
  // WebGPU adapter"): these must be refused before that.
  const noGpu = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/blockspin-no-gpu.json' };
  const bad: [string, string[], RegExp][] = [
    ['odd L', ['--L', '7', '--T', '2'], /L = 7 must be even/],
    ['--T 0', ['--L', '8', '--T', '0'], /--T 0 must be a finite number > 0/],
    ['--T -1', ['--L', '8', '--T', '-1'], /--T -1 must be a finite number > 0/],
    ['--T abc', ['--L', '8', '--T', 'abc'], /--T abc must be a finite number/],
    ['--replicas -3', ['--L', '8', '--T', '2', '--replicas', '-3'], /--replicas -3 must be an integer in 1/],
    ['--kernel packed --L 48', ['--kernel', 'packed', '--L', '48', '--T', '2'], /multiple of 32; got L = 48/],
    ['--sweeps -1', ['--L', '8', '--T', '2', '--sweeps', '-1'], /--sweeps -1 must be an integer in 0/],
    ['--sweeps 1', ['--L', '8', '--T', '2', '--sweeps', '1'], /--sweeps 1 must be at least 2/],
    [
      '--dims 1 --kernel packed',
      ['--dims', '1', '--L', '32', '--T', '2', '--kernel', 'packed'],
      /'packed' is 2D only/,
    ],
    [
      '--algo sw --h 0.5',
      ['--algo', 'sw', '--L', '8', '--T', '2', '--h', '0.5'],
      /'sw' needs zero field; h = 0.5/,
    ],
    ['--algo sw --dims 1', ['--algo', 'sw', '--dims', '1', '--L', '8', '--T', '2'], /'sw' .*is 2D only/],
    ['--algo sw --J -1', ['--algo', 'sw', '--L', '8', '--T', '2', '--J', '-1'], /J > 0 .*J = -1/],
    [
      '--init sideways',
      ['--L', '8', '--T', '2', '--init', 'sideways'],
      /--init 'sideways' must be one of random, up, down/,
    ],
    // The series stay in host memory: 4·10^9 sweeps × 16 replicas would need terabytes.
    [
      '--sweeps 4000000000',
      ['--L', '8', '--T', '2', '--sweeps', '4000000000'],
      /--sweeps 4000000000 × --replicas 16 needs \d+\.\d GiB of host memory; this machine has \d+\.\d GiB/,
    ],
  ];
  it.concurrent.for(bad)('refuses %s before any GPU work', async ([, args, message], { expect }) => {
    const { code, stdout, stderr } = await cli(['ising', ...args], noGpu);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/Dawn|adapter/);
    expect(stdout).toBe('');
  });

  it('a GPU-free check: the same environment does reach the GPU for good input (and fails there)', async () => {
    const { code, stderr } = await cli(['ising', '--L', '8', '--T', '2', '--sweeps', '10'], noGpu);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Dawn found no WebGPU adapter/);
  });

  it('SIGINT while measuring: exit 0 with the JSON, interrupted: true, sweeps < 100000', async () => {
    const res = await interrupted(
      ['ising', '--L', '16', '--sweeps', '100000', '--therm', '0', '--T', '2.269', '--json'],
      /^blockspin: measure \d+\//m,
    );
    expect(res.signal, res.stderr).toBeNull();
    expect(res.code, res.stderr).toBe(0);
    const json = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(json.interrupted).toBe(true);
    expect(json.sweeps).toBeGreaterThan(0);
    expect(json.sweeps).toBeLessThan(100000);
    expect(res.stderr).toMatch(/interrupted/);
    expectContract({ ...json, interrupted: false }, 16, 16, 2);
  });
});

describe('blockspin generate', () => {
  let interruptedGenerateCode: number | undefined;

  it('--L 8 --T 2.0,3.0 --samples 20 --therm 50 --out DIR writes the data set', async () => {
    const out = join(dir, 'set');
    const { code, stdout, stderr } = await cli([
      'generate',
      '--L',
      '8',
      '--T',
      '2.0,3.0',
      '--samples',
      '20',
      '--therm',
      '50',
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`wrote ${out}`);
    const names = [datasetFileName(8, 8, 2), datasetFileName(8, 8, 3)];
    expect((await readdir(out)).sort()).toEqual([...names, 'dataset.json'].sort());
    for (const name of names) {
      const npy = decodeNpy(new Uint8Array(await readFile(join(out, name))));
      expect(npy.dtype).toBe('int8');
      expect(npy.shape).toEqual([20, 8, 8]);
      expect((npy.data as Int8Array).every((s) => s === 1 || s === -1)).toBe(true);
    }
    const meta = JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ format: 'blockspin-ising-dataset', complete: true, model: { L: 8, Ly: 8 } });
    expect(meta.command).toMatch(/^blockspin generate --L 8/);
    expect((meta.temperatures as { T: number; samples: number }[]).map((t) => [t.T, t.samples])).toEqual([
      [2, 20],
      [3, 20],
    ]);
  });

  it('refuses a non-empty output directory (before any GPU work), naming it', async () => {
    const out = join(dir, 'occupied');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    const noGpu = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/blockspin-no-gpu.json' };
    const { code, stderr } = await cli(
      ['generate', '--L', '8', '--T', '2', '--samples', '4', '--out', out],
      noGpu,
    );
    expect(code).not.toBe(0);
    expect(stderr).toContain(`output directory ${out} exists and is not empty`);
    expect(await readdir(out)).toEqual(['keep.txt']);
  });

  // The stripe of the `ising` test above: generate runs the chains of a temperature as replicas of one engine
  // with the same streams, so chain 1 of T = 1.5 (seed 2) is stuck too; the τ_int stretch shows it.
  it('warns when chains of one temperature disagree; --init up starts ordered and records it', async () => {
    const base = ['generate', '--L', '32', '--T', '1.5', '--samples', '4', '--therm', '200', '--seed', '2'];
    const [hot, cold] = await Promise.all([
      cli([...base, '--out', join(dir, 'hot'), '--json']),
      cli([...base, '--init', 'up', '--out', join(dir, 'cold'), '--json']),
    ]);
    expect(hot.code, hot.stderr).toBe(0);
    expect(hot.stderr).toMatch(/^blockspin: warning: T=1\.5: chains disagree: chain 1 has ⟨\|m\|⟩ = 0\.\d+/m);
    const summary = JSON.parse(hot.stdout) as { temperatures: { agreement: { agree: boolean } }[] };
    expect(summary.temperatures[0]?.agreement).toMatchObject({ agree: false, checked: true });
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stderr).not.toMatch(/warning/);
    const coldSummary = JSON.parse(cold.stdout) as { temperatures: { agreement: { agree: boolean } }[] };
    expect(coldSummary.temperatures[0]?.agreement).toMatchObject({ agree: true, checked: true });
    const meta = JSON.parse(await readFile(join(dir, 'cold', 'dataset.json'), 'utf8')) as { init: string };
    expect(meta.init).toBe('up');
  });

  // Regression: --samples 100000000 ran for 19 s, then failed with a raw RangeError (Invalid typed array length).
  const noGpu = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/blockspin-no-gpu.json' };
  const tooBig: [string, string[], RegExp][] = [
    [
      "--samples 100000000 (one temperature's spins past the 4 GiB typed-array limit)",
      ['--L', '32', '--T', '2', '--samples', '100000000'],
      /samples 100000000 × 32×32 spins need 102400000000 bytes per temperature; at most 4294901760/,
    ],
    [
      '--samples 3000000 × 41 temperatures (host memory)',
      ['--L', '32', '--T', '1:3:0.05', '--samples', '3000000'],
      /--samples 3000000 × 41 temperature\(s\) × 32×32 spins needs \d+\.\d GiB of host memory; this machine has/,
    ],
    [
      '--therm 4294967295 (the u32 sweep counter)',
      ['--L', '8', '--T', '2', '--samples', '8', '--therm', '4294967295'],
      /= 8589934591 sweeps at least, past 4294967295 \(the u32 sweep counter/,
    ],
  ];
  it.concurrent.for(tooBig)(
    'refuses %s at once, before any GPU work',
    async ([, args, message], { expect }) => {
      const out = join(dir, 'never');
      const { code, stdout, stderr } = await cli(['generate', ...args, '--out', out], noGpu);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/Dawn|adapter|Invalid typed array length/);
      expect(stdout).toBe('');
      await expect(stat(out)).rejects.toThrow(/ENOENT/);
    },
  );

  it('SIGINT while sampling: DIR.partial with complete: false, and no DIR', async () => {
    const out = join(dir, 'interrupted');
    const res = await interrupted(
      ['generate', '--L', '8', '--T', '2.0,3.0', '--samples', '100000', '--therm', '0', '--out', out],
      /^blockspin: sample \d+\//m,
    );
    expect(res.signal, res.stderr).toBeNull();
    interruptedGenerateCode = res.code;
    expect(res.stdout).toContain(`INTERRUPTED — wrote the partial data set to ${out}.partial`);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
    const meta = JSON.parse(await readFile(join(`${out}.partial`, 'dataset.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(meta.complete).toBe(false);
    for (const t of meta.temperatures as { file: string; samples: number }[]) {
      expect(t.samples).toBeLessThan(100000);
      const npy = decodeNpy(new Uint8Array(await readFile(join(`${out}.partial`, t.file))));
      expect(npy.shape).toEqual([t.samples, 8, 8]);
    }
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  // Regression: main.ts's process.exit(0) once overrode runGenerate's exitCode 130 for an incomplete data set.
  it('an interrupted generate exits 130', () => {
    expect(interruptedGenerateCode).toBe(130);
  });
});
