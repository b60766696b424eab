/**
 * The report of `reproduce rbm-flow` (src/studies/rbm-flow.ts): results by stable name, the table of experiments
 * beside the sources' figures, the flows as fans (temperature against generation, one panel per thermometer),
 * histograms of the fixed points, and the plain answer: does the flow go to T_c by the physical thermometers?
 */
import { T_C } from '../exact/ising.ts';
import type { JsonValue } from '../rg/result-files.ts';
import {
  errorBarPlot,
  heatmap,
  histogramPlot,
  linePlot,
  type ErrorBarPoint,
  type LinePoint,
} from './figures.ts';
import { formatValueErr } from './report.ts';
import { mnistFlowFigures, mnistFlowMarkdown, mnistFlowResults } from './rbm-flow-mnist.ts';
import type { Estimate, ExperimentResult, FlowRun, FlowState, RbmFlowOptions } from './rbm-flow.ts';
import { exactCurve, type GenerationReading, type Lattice } from './thermometers.ts';
import { combinedZ, type FigureSpec, type ResultEntry, type SourceValue, type StudyOutput } from './study.ts';

/**
 * The sources' figures. de Gier reads T* off plots of the MLP's class distribution on the 0.25 grid: we take the
 * grid step as its error. Veiga & Vicente print ⟨|m|⟩* to four digits with no error (err 0).
 */
export const FLOW_SOURCES: Record<string, SourceValue> = {
  'tstar.all': {
    value: 2.5,
    err: 0.25,
    where: 'de Gier §4.2, Fig. 4.6 ("roughly T = 2.5"), MLP thermometer',
  },
  'tstar.lowT': { value: T_C, err: 0.25, where: 'de Gier §4.2, Fig. 4.7a ("near T_c"), MLP thermometer' },
  'tstar.highT': { value: T_C, err: 0.25, where: 'de Gier §4.2, Fig. 4.7b ("near T_c"), MLP thermometer' },
  'tstar.window': { value: 2, err: 0.25, where: 'de Gier §4.2, Fig. 4.8 ("near T = 2"), MLP thermometer' },
  'tstar.ring1d': {
    value: 1.5,
    err: 0.25,
    where: 'de Gier §4.1, Fig. 4.2 ("roughly T = 1.5"), MLP thermometer',
  },
  'mstar.veigaAll': { value: 0.6507, err: 0, where: 'Veiga & Vicente, L = 10 trained on all T' },
  'mstar.L100': {
    value: 0.3447,
    err: 0,
    where: 'Veiga & Vicente, L = 100 trained on all 29 temperatures 1.0 … 3.5',
  },
  'mstar.L100extremes': {
    value: 0.3332,
    err: 0,
    where: 'Veiga & Vicente, L = 100 trained only on T = 0 and T = ∞ states',
  },
};

function fixedEntries(e: ExperimentResult, flow: FlowRun, suffix: string): ResultEntry[] {
  const fp = flow.fixedPoint;
  if (!fp) return [];
  const out: ResultEntry[] = [];
  const n = fp.reading.count;
  const chains = `${flow.starts.length} starts × ${n / flow.starts.length} independent chains`;
  const method = (what: string) =>
    `${what} of generation ${fp.generation} of the ${flow.step} flow, pooled over ${chains} (${n} configurations); ` +
    `error from the spread over the chains`;
  const entries: [string, Estimate, string][] = [
    ['mlp', fp.mlp, method('mean over configurations of Σ_c p_c T_c (the MLP’s expected temperature)')],
    ['energy', fp.energy, method('exact finite-lattice e(T) inverted at the mean energy')],
    ['magnetization', fp.magnetization, method('⟨|m|⟩ against the reference curve, inverted')],
  ];
  for (const [t, est, m] of entries) {
    if (!Number.isFinite(est.value) || !Number.isFinite(est.err)) continue;
    const name = `tstar.${e.name}.${t}${suffix}`;
    const source = suffix === '' && t === 'mlp' ? FLOW_SOURCES[`tstar.${e.name}`] : undefined;
    out.push(entry(name, est, '', m, source));
  }
  out.push(
    entry(
      `mstar.${e.name}${suffix}`,
      fp.absM,
      '',
      method('mean |m|'),
      suffix === '' ? FLOW_SOURCES[`mstar.${e.name}`] : undefined,
    ),
  );
  const drift = fp.energy.value - fp.earlier.energy.value;
  if (Number.isFinite(drift) && Number.isFinite(fp.earlier.energy.err))
    out.push(
      entry(
        `drift.${e.name}.energy${suffix}`,
        {
          value: fp.energy.value - fp.earlier.energy.value,
          err: Math.hypot(fp.energy.err, fp.earlier.energy.err),
        },
        '',
        `T*(energy) at generation ${fp.generation} minus at ${fp.earlier.generation}: ≈ 0 at a fixed point`,
      ),
    );
  out.push({
    name: `thermal.${e.name}${suffix}`,
    value: fp.reading.thermal ? 1 : 0,
    err: 0,
    unit: '',
    method:
      '1 when the pooled last generation passes every thermality check (energy variance against the exact C(T_E), ' +
      'energy histogram against equilibrium at T_E, T_E and T_m agreeing), else 0',
  });
  return out;
}

/** A thermometer's name in results and figures: the lattice (L10, ring8), then its kind when not the first. */
function thermometerTag(t: FlowState['thermometers'][number], separator: string): string {
  const lattice = t.lattice.kind === 'ring' ? `ring${t.lattice.N}` : `L${t.lattice.L}`;
  return t.kind ? `${lattice}${separator}${t.kind}` : lattice;
}

function entry(name: string, est: Estimate, unit: string, method: string, source?: SourceValue): ResultEntry {
  const r: ResultEntry = { name, value: est.value, err: est.err, unit, method };
  if (source) {
    r.source = source;
    const s = Math.hypot(est.err, source.err);
    if (s > 0) r.z = combinedZ(est.value, est.err, source);
  }
  return r;
}

function collectResults(state: FlowState): ResultEntry[] {
  const out: ResultEntry[] = [];
  for (const t of state.thermometers) {
    if (t.bayes)
      out.push({
        name: `thermometer.${thermometerTag(t, '.')}.bayes`,
        value: t.bayes.value,
        err: t.bayes.err,
        unit: '',
        method:
          'the best accuracy any classifier can reach on the held-out sets: the energy is a sufficient statistic, so ' +
          'the exact posterior over the classes (Kaufman / ring ln Z) is known; its largest value averaged over the ' +
          'configurations (standard error)',
      });
    out.push({
      name: `thermometer.${thermometerTag(t, '.')}.accuracy`,
      value: t.accuracy,
      err: Math.sqrt((t.accuracy * (1 - t.accuracy)) / t.confusion.flat().reduce((a, b) => a + b, 0)),
      unit: '',
      method: `held-out accuracy of ${t.kind === 'veiga' ? "Veiga & Vicente's" : 'the'} MLP ${t.sizes.join('-')} over ${t.confusion.length} temperatures (binomial error)`,
    });
  }
  for (const e of state.experiments) {
    for (const flow of e.flows)
      out.push(...fixedEntries(e, flow, flow.step === 'sampled' ? '' : '.meanfield'));
    const c = e.model.check;
    if (c) {
      const fp = e.flows[0]?.fixedPoint;
      if (fp)
        out.push(
          entry(
            `check.${e.name}.energy`,
            { value: fp.energy.value - c.energy.value, err: Math.hypot(fp.energy.err, c.energy.err) },
            '',
            `T*(energy) of the sampled flow after ${e.model.epochs} epochs minus after ${c.epochs}: ≈ 0 when training has converged`,
          ),
        );
    }
  }
  return out;
}

/**
 * The finite lattice's pseudo-critical temperature: where its exact specific heat peaks (golden-section search on
 * [1.5, 3.5]); 2.3 or so on 10×10, against T_c = 2.269 of the infinite lattice. Null for the ring (no transition).
 */
export function specificHeatPeak(lattice: Lattice): number | null {
  if (lattice.kind !== 'square') return null;
  const curve = exactCurve(lattice);
  const c = (T: number) => curve.at(T).specificHeat;
  let lo = 1.5;
  let hi = 3.5;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 80; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (c(a) > c(b)) hi = b;
    else lo = a;
  }
  return (lo + hi) / 2;
}

/** The thermality checks of a reading, compactly: variance z, histogram p, T_E–T_m z. */
function checks(r: GenerationReading): string {
  const parts = [`var z ${r.variance.z.toFixed(1)}`];
  if (r.histogram)
    parts.push(`hist p ${r.histogram.p < 1e-3 ? r.histogram.p.toExponential(0) : r.histogram.p.toFixed(3)}`);
  if (r.agreement) parts.push(`E–|m| z ${r.agreement.z.toFixed(1)}`);
  return parts.join(', ');
}

function fmt(e: Estimate | undefined, digits = 3): string {
  if (!e || !Number.isFinite(e.value)) return '—';
  const bound = (e as { bound?: string }).bound;
  if (bound === 'ground') return '0 (ground state)';
  if (bound === 'infinite') return '∞';
  if (bound && bound !== 'below' && bound !== 'above') return `— (${bound})`;
  const s = e.err > 0 && Number.isFinite(e.err) ? formatValueErr(e.value, e.err) : e.value.toFixed(digits);
  return bound ? `${s} (${bound} the scan)` : s;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function sourceText(name: string): string {
  const s = FLOW_SOURCES[name];
  return s ? `${s.value === T_C ? 'T_c' : s.value} (${s.where.split(',')[0]})` : '—';
}

function markdown(o: RbmFlowOptions, state: FlowState, results: ResultEntry[], complete: boolean): string {
  const lines: string[] = [];
  lines.push(
    `RBM flows on ${o.L}×${o.L} Ising configurations (and a ring of ${o.ring.N}, and ${o.large.L}×${o.large.L}) at T = ${o.temperatures[0]}, ${o.temperatures[1]}, …, ${o.temperatures.at(-1)}, ` +
      `read by three thermometers: the MLP classifier of the sources, the exact energy curve, and ⟨|m|⟩.`,
  );
  const vl = o.veigaLarge;
  if (o.experiments.some((e) => e === 'L100' || e === 'L100extremes'))
    lines.push(
      '',
      `Veiga & Vicente's L = 100 experiments (L100, L100extremes) run here on ${vl.L}×${vl.L} at ` +
        `T = ${vl.temperatures.map((T) => Number(T.toFixed(3))).join(', ')} (0: the ordered states)` +
        (vl.L === 100 ? '.' : `: not the source's L = 100, so their ⟨|m|⟩* are not directly comparable.`),
    );
  if (!complete)
    lines.push(
      '',
      `**Partial report** (${state.stopped ?? 'incomplete'}): the experiments below are the ones that finished.`,
    );
  lines.push('', '## The fixed points (sampled steps)', '');
  lines.push(
    'T* is read on the last generation pooled over every start (the flow set at each T > 0, all-up, and exactly-half-up); ' +
      'errors are one standard error over the independent chains. "thermal" says whether that pooled generation passes the ' +
      'thermality checks; "drift" is the change of T*(energy) over the last generations.' +
      (state.thermometers.some((t) => t.kind === 'veiga')
        ? " T* (MLP) is each source's own classifier: de Gier's MLP for the ±1 RBMs, Veiga & Vicente's for theirs."
        : ''),
    '',
  );
  const rows: string[][] = [];
  for (const e of state.experiments) {
    const fp = e.flows.find((f) => f.step === 'sampled')?.fixedPoint;
    if (!fp) continue;
    rows.push([
      `${e.name}`,
      fmt(fp.mlp),
      fmt(fp.energy),
      fmt(fp.magnetization),
      fmt(fp.absM, 4),
      sourceText(`tstar.${e.name}`) +
        (FLOW_SOURCES[`mstar.${e.name}`] ? `; ⟨|m|⟩* ${FLOW_SOURCES[`mstar.${e.name}`]!.value}` : ''),
      `${fp.reading.thermal ? 'yes' : 'no'} (${checks(fp.reading)})`,
      Number.isFinite(fp.energy.value - fp.earlier.energy.value)
        ? (fp.energy.value - fp.earlier.energy.value).toFixed(3)
        : '—',
      Number.isFinite(fp.startSpread) ? fp.startSpread.toFixed(3) : '—',
    ]);
  }
  lines.push(
    table(
      [
        'experiment',
        'T* (MLP)',
        'T* (energy)',
        'T* (|m|)',
        '⟨|m|⟩*',
        'source',
        'thermal',
        'drift',
        'spread over starts',
      ],
      rows,
    ),
  );
  lines.push('', '## Mean-field steps', '');
  const mf: string[][] = [];
  for (const e of state.experiments) {
    const fp = e.flows.find((f) => f.step === 'mean-field')?.fixedPoint;
    if (!fp) continue;
    mf.push([
      e.name,
      fmt(fp.mlp),
      fmt(fp.energy),
      fmt(fp.magnetization),
      fmt(fp.absM, 4),
      fp.reading.thermal ? 'yes' : 'no',
    ]);
  }
  lines.push(table(['experiment', 'T* (MLP)', 'T* (energy)', 'T* (|m|)', '⟨|m|⟩*', 'thermal'], mf));
  lines.push('', '## The experiments', '');
  for (const e of state.experiments) {
    const m = e.model;
    const trained =
      m.trainedOn.length > 0
        ? `trained on ${m.trainedOn.length} temperature(s) (${m.trainedOn.map((T) => (T === Infinity || T === null ? '∞' : T)).join(', ')}), ${m.samples} configurations, ${m.epochs} epochs (${m.updates} updates)`
        : 'not trained';
    const last = m.monitor.at(-1);
    const mon = last
      ? `; reconstruction error ${(100 * last.reconstruction).toFixed(1)} %, free-energy gap (held-out − training) ${last.freeEnergyGap.toFixed(4)} per unit`
      : '';
    const check = m.check ? `; after ${m.check.epochs} epochs T*(energy) was ${fmt(m.check.energy)}` : '';
    lines.push(
      `- **${e.name}**: ${e.description}; ${m.units} units ${m.nv} → ${m.nh}, ${trained}${mon}${check} (${m.seconds.toFixed(0)} s)` +
        (e.mlpSizes ? `; read by the MLP ${e.mlpSizes.join('-')}.` : '.'),
    );
  }
  lines.push('', '## The thermometers', '');
  for (const t of state.thermometers) {
    const worst = t.energyCheck.reduce((a, c) => Math.max(a, Math.abs(c.TE - c.T) / (c.err || Infinity)), 0);
    lines.push(
      `- ${t.lattice.kind === 'ring' ? `ring of ${t.lattice.N}` : `${t.lattice.L}×${t.lattice.L}`}: ${t.kind === 'veiga' ? "Veiga & Vicente's MLP (it reads the Veiga experiments)" : 'MLP'} ${t.sizes.join('-')}, held-out accuracy ` +
        `${(100 * t.accuracy).toFixed(1)} % (within one grid step ${(100 * t.accuracyWithinOne).toFixed(1)} %), loss ${t.loss.toFixed(3)}` +
        (t.augmented ? ', trained on a fresh random symmetry of each configuration every epoch' : '') +
        (t.bayes
          ? ` (no classifier can do better than ${formatValueErr(100 * t.bayes.value, 100 * t.bayes.err)} % on these sets: the exact posterior's Bayes limit)`
          : '') +
        '; ' +
        `the energy thermometer reads the held-out equilibrium sets back within ${worst.toFixed(1)} σ at worst (${t.energyCheck.length} temperatures).`,
    );
  }
  for (const d of state.data) {
    const taus = d.sampling.filter((s) => s.tauEnergy !== null);
    if (taus.length > 0) {
      const worst = taus.reduce((a, s) => (s.tauEnergy! > a.tauEnergy! ? s : a));
      lines.push(
        `- data ${d.lattice.kind === 'ring' ? 'ring' : `${(d.lattice as { L: number }).L}×${(d.lattice as { L: number }).L}`}: Swendsen–Wang, ` +
          `sampled every ≥ 2 τ_int sweeps; the largest τ_int(E) was ${worst.tauEnergy!.toFixed(2)} sweeps at T = ${worst.T} (interval ${worst.interval}); ${d.seconds.toFixed(0)} s.`,
      );
    } else
      lines.push(`- data ring: drawn exactly (enumeration of the 2^N states), independent by construction.`);
  }
  lines.push('', '## Does the flow go to T_c?', '', answer(state, results));
  if (state.mnist) lines.push('', mnistFlowMarkdown(state.mnist));
  if (state.notes.length > 0) lines.push('', '## Notes', '', ...state.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function answer(state: FlowState, results: ResultEntry[]): string {
  const get = (name: string) => results.find((r) => r.name === name);
  const show = (r: ResultEntry | undefined) => (r ? formatValueErr(r.value, r.err) : '—');
  const parts: string[] = [];
  let thermal = 0;
  let read = 0;
  for (const e of state.experiments) {
    const fp = e.flows.find((f) => f.step === 'sampled')?.fixedPoint;
    if (!fp) continue;
    read++;
    if (fp.reading.thermal) thermal++;
    const peak = specificHeatPeak(e.lattice);
    const near =
      peak === null
        ? ''
        : ` (T_c = ${T_C.toFixed(3)}; the ${latticeLabel(e.lattice)} specific heat peaks at ${peak.toFixed(3)})`;
    parts.push(
      `- **${e.name}**: the MLP reads ${show(get(`tstar.${e.name}.mlp`))}, the energy ${fmt(fp.energy)}, ` +
        `⟨|m|⟩ ${fmt(fp.magnetization)}${near}; the pooled last generation is ` +
        `${fp.reading.thermal ? 'thermal' : '**not thermal**'} (${checks(fp.reading)}).`,
    );
  }
  if (read === 0) return 'No experiment finished.';
  const verdict =
    thermal === read
      ? 'Every fixed point passes the thermality checks, so the physical thermometers can be read as temperatures.'
      : `${read - thermal} of ${read} fixed points fail the thermality checks: their configurations are not an ` +
        'equilibrium ensemble at any one temperature (most often the energy and ⟨|m|⟩ name different temperatures), ' +
        'so "the temperature of the fixed point" is only what each thermometer projects, and the MLP, trained on ' +
        'equilibrium data only, has no way to notice.';
  return [verdict, '', ...parts].join('\n');
}

function latticeLabel(l: Lattice): string {
  return l.kind === 'ring' ? `ring of ${l.N}` : `${l.L}×${l.L}`;
}

function fanFigure(e: ExperimentResult, flow: FlowRun): FigureSpec {
  const points: LinePoint[] = [];
  flow.readings.forEach((gens, s) => {
    gens.forEach((r, g) => {
      const vals: [string, number][] = [
        ['MLP', r.mlp.value],
        ['energy', r.energy.bound === 'ground' ? 0 : r.energy.value],
        ['|m|', r.magnetization.value],
      ];
      for (const [panel, y] of vals)
        if (Number.isFinite(y)) points.push({ x: g, y, series: flow.starts[s]!, panel });
    });
  });
  return linePlot({
    name: `flow-${e.name}-${flow.step}`,
    title: `${e.name}: temperature by generation (${flow.step} steps), one line per start`,
    points,
    xTitle: 'generation',
    yTitle: 'T',
    seriesOrder: flow.starts,
    rule: e.lattice.kind === 'square' ? { value: T_C, label: 'T_c (infinite lattice)' } : undefined,
  });
}

function figures(state: FlowState): FigureSpec[] {
  const out: FigureSpec[] = [];
  for (const e of state.experiments) for (const f of e.flows) out.push(fanFigure(e, f));
  const hist = state.experiments
    .map((e) => ({ e, fp: e.flows.find((f) => f.step === 'sampled')?.fixedPoint }))
    .filter((x) => x.fp);
  if (hist.length > 0) {
    const edges = (n: number) => Array.from({ length: n + 1 }, (_, i) => i / n);
    out.push(
      histogramPlot({
        name: 'absm-fixed-points',
        title:
          '|m| of the last generation (sampled steps, pooled over starts) beside equilibrium at T*(energy)',
        histograms: hist.flatMap(({ e, fp }) => [
          {
            series: 'flow, last generation',
            panel: e.name,
            edges: edges(fp!.absMHistogram.length),
            counts: fp!.absMHistogram,
          },
          ...(fp!.equilibriumAbsM
            ? [
                {
                  series: 'equilibrium at the scan T nearest T*(energy)',
                  panel: e.name,
                  edges: edges(fp!.equilibriumAbsM.counts.length),
                  counts: fp!.equilibriumAbsM.counts,
                },
              ]
            : []),
        ]),
        xTitle: '|m|',
      }),
    );
    // T* by start: the per-start energy temperature at the last generation.
    const tEdges = Array.from({ length: 25 }, (_, i) => 0.25 * i);
    out.push(
      histogramPlot({
        name: 'tstar-by-start',
        title: 'T*(energy) of each start at the last generation (sampled steps)',
        histograms: hist.map(({ e }) => {
          const flow = e.flows.find((f) => f.step === 'sampled')!;
          const counts = new Array<number>(tEdges.length - 1).fill(0);
          for (const gens of flow.readings) {
            const T = gens.at(-1)!.energy.value;
            if (!Number.isFinite(T)) continue;
            const k = Math.min(counts.length - 1, Math.max(0, Math.floor(T / 0.25)));
            counts[k]!++;
          }
          return { series: e.name, edges: tEdges, counts };
        }),
        xTitle: 'T*(energy)',
      }),
    );
  }
  for (const t of state.thermometers) {
    const tag = thermometerTag(t, '-');
    const points: ErrorBarPoint[] = [
      ...(t.mlpCheck ?? []).map((c) => ({ x: c.T, y: c.TMlp, err: c.err, series: 'MLP (expected T)' })),
      ...t.energyCheck
        .filter((c) => Number.isFinite(c.TE) && Number.isFinite(c.err))
        .map((c) => ({ x: c.T, y: c.TE, err: c.err, series: 'energy (exact curve)' })),
    ];
    if (points.length > 0)
      out.push(
        errorBarPlot({
          name: `calibration-${tag}`,
          title: `Thermometers on held-out equilibrium data, ${latticeLabel(t.lattice)}${t.kind === 'veiga' ? " (Veiga & Vicente's MLP)" : ''}: temperature read against true T`,
          points,
          xTitle: 'true T',
          yTitle: 'T read',
        }),
      );
    const K = t.confusion.length;
    const data = t.confusion.flatMap((row) => {
      const s = row.reduce((a, b) => a + b, 0) || 1;
      return row.map((c) => c / s);
    });
    out.push(
      heatmap({
        name: `confusion-${tag}`,
        title: `MLP thermometer ${t.sizes.join('-')}: held-out confusion (row = true T, column = predicted)`,
        panels: [{ label: 'fraction', rows: K, cols: K, data }],
        diverging: false,
        cellSize: 12,
        valueTitle: 'fraction of the row',
      }),
    );
  }
  return out;
}

/** Turns the state into the StudyOutput (report.json, report.md, figures, arrays). */
export function flowOutput(o: RbmFlowOptions, state: FlowState): StudyOutput {
  // Every requested experiment runs unless the run is stopped (a failure throws; a missing optional `mnist`
  // package skips that experiment with a note).
  const complete = state.stopped === null;
  const results = [...collectResults(state), ...(state.mnist ? mnistFlowResults(state.mnist) : [])];
  const arrays: StudyOutput['arrays'] = [];
  for (const e of state.experiments) {
    for (const f of e.flows) {
      // [starts × generations × 4]: T(MLP), T(energy), T(|m|), ⟨|m|⟩ per start and generation.
      const S = f.readings.length;
      const G = f.readings[0]?.length ?? 0;
      const data = new Float64Array(S * G * 4);
      f.readings.forEach((gens, s) =>
        gens.forEach((r, g) => {
          const i = (s * G + g) * 4;
          data[i] = r.mlp.value;
          data[i + 1] = r.energy.value;
          data[i + 2] = r.magnetization.value;
          data[i + 3] = r.absM.value;
        }),
      );
      arrays.push({ name: `flows.${e.name}.${f.step}`, npy: { dtype: 'float64', shape: [S, G, 4], data } });
    }
  }
  const settings: { [key: string]: JsonValue } = {
    ...(JSON.parse(JSON.stringify(o)) as { [key: string]: JsonValue }),
    dataSampling: JSON.parse(JSON.stringify(state.data)) as JsonValue,
    starts: state.experiments[0]?.flows[0]?.starts ?? [],
    resumed: state.resumed,
    stopped: state.stopped,
  };
  return {
    settings,
    results,
    markdown: markdown(o, state, results, complete),
    figures: [...figures(state), ...(state.mnist ? mnistFlowFigures(state.mnist) : [])],
    arrays,
    stages: state.stages,
    complete,
  };
}
