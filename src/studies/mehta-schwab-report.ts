/**
 * The report of `reproduce mehta-schwab` (src/studies/mehta-schwab.ts): the receptive-field radii per layer
 * (mean ± standard error over the training seeds of each seed's median over the layer's units) beside the nulls
 * (permuted weights, shuffled sites), ideal block spins and a uniform field; the data's τ_int; mosaics of the
 * fields, radius histograms, the radius against depth and the training curves as Vega-Lite figures.
 */
import type { NpyArray } from '../io/npy.ts';
import { K_C } from '../exact/ising.ts';
import type { JsonValue } from '../rg/result-files.ts';
import {
  errorBarPlot,
  imageGrid,
  histogramPlot,
  linePlot,
  type HeatmapPanel,
  type LinePoint,
} from './figures.ts';
import type { MehtaSchwabOptions, MehtaSchwabState, TrainedDbn, Variant } from './mehta-schwab.ts';
import { column, meanErr, median, permuteEntries, receptiveFields } from './receptive-fields.ts';
import { formatValueErr } from './report.ts';
import type { FigureSpec, ResultEntry, StudyOutput } from './study.ts';

interface Estimate {
  value: number;
  err: number;
  /** Seeds that entered. */
  n: number;
}

/** What a row of the tables shows: a variant's radii (or a null of it). */
type RadiusKind = 'trained' | 'permuted' | 'unscrambled';

function radiiOf(d: TrainedDbn, kind: RadiusKind): Float64Array[] | undefined {
  return kind === 'trained' ? d.radii : kind === 'permuted' ? d.permutedRadii : d.unscrambledRadii;
}

/** Mean ± SE over seeds of the per-seed median radius of layer l; null with fewer than 2 seeds. */
function layerRadius(dbns: TrainedDbn[], variant: string, kind: RadiusKind, l: number): Estimate | null {
  const per = dbns
    .filter((d) => d.variant === variant)
    .map((d) => radiiOf(d, kind)?.[l])
    .filter((r): r is Float64Array => r !== undefined)
    .map((r) => median(r));
  if (per.length < 2 || per.some((x) => !Number.isFinite(x))) return null;
  return { ...meanErr(per), n: per.length };
}

/** Mean ± SE over seeds of median(last layer) / median(layer 1). */
function growth(dbns: TrainedDbn[], variant: string, kind: RadiusKind): Estimate | null {
  const per = dbns
    .filter((d) => d.variant === variant)
    .map((d) => radiiOf(d, kind))
    .filter((r): r is Float64Array[] => r !== undefined)
    .map((r) => median(r[r.length - 1]!) / median(r[0]!));
  if (per.length < 2 || per.some((x) => !Number.isFinite(x))) return null;
  return { ...meanErr(per), n: per.length };
}

/** Mean ± SE over seeds of the mean |cosine| between layer l's fields at the main K; null with < 2 seeds or 1 unit. */
function similarity(dbns: TrainedDbn[], l: number): Estimate | null {
  const per = dbns.filter((d) => d.variant === 'critical').map((d) => d.similarity[l]!);
  if (per.length < 2 || per.some((x) => !Number.isFinite(x))) return null;
  return { ...meanErr(per), n: per.length };
}

/** Root mean square of a weight matrix. */
function weightRms(W: Float32Array): number {
  let s = 0;
  for (const w of W) s += w * w;
  return Math.sqrt(s / W.length);
}

/** The Madras–Sokal error of τ_int: τ √(2(2W + 1)/n), window W = ⌈6 τ⌉, n measured sweeps. */
function tauError(tau: number, sweeps: number): number {
  return tau * Math.sqrt((2 * (2 * Math.ceil(6 * tau) + 1)) / sweeps);
}

/** The rows of the report: (name suffix, label, variant, kind). */
function rowsOf(
  state: MehtaSchwabState,
): { suffix: string; label: string; variant: Variant; kind: RadiusKind }[] {
  const rows: { suffix: string; label: string; variant: Variant; kind: RadiusKind }[] = [];
  for (const v of state.variants) {
    if (v.name === 'critical') {
      rows.push({ suffix: '', label: `trained, ${v.label}`, variant: v, kind: 'trained' });
      rows.push({ suffix: '.permuted', label: 'null: weights permuted', variant: v, kind: 'permuted' });
    } else if (v.shuffled) {
      rows.push({
        suffix: '.shuffledSites',
        label: 'null: sites shuffled (as the network sees them)',
        variant: v,
        kind: 'trained',
      });
      rows.push({
        suffix: '.shuffledSites.unscrambled',
        label: 'sites shuffled, shuffle undone',
        variant: v,
        kind: 'unscrambled',
      });
    } else rows.push({ suffix: `.K${v.K}`, label: `trained, ${v.label}`, variant: v, kind: 'trained' });
  }
  return rows;
}

const METHOD_RADIUS =
  'half-mass radius on the torus of each unit’s receptive field (product of the layers’ weights back to the lattice), ' +
  'around its |w|-weighted circular centre, interpolated; per training seed the median over the layer’s units, then ' +
  'mean ± standard error over the seeds';

function results(o: MehtaSchwabOptions, state: MehtaSchwabState): ResultEntry[] {
  const out: ResultEntry[] = [];
  const sweeps = Math.max(200, o.therm);
  const main = state.data.find((d) => d.K === o.K);
  for (const d of state.data) {
    out.push({
      name: d.K === o.K ? 'mehta.data.tauInt' : `mehta.data.tauInt.K${d.K}`,
      value: d.tauEnergy,
      err: tauError(d.tauEnergy, sweeps),
      unit: 'sweeps',
      method:
        `integrated autocorrelation time of the energy, Swendsen–Wang on ${o.L}×${o.L} at K = ${d.K}, ${sweeps} measured sweeps ` +
        `after ${o.therm} of thermalisation (ordered start); error by the Madras–Sokal formula; configurations saved ${d.interval} sweeps apart`,
    });
  }
  if (main)
    out.push({
      name: 'mehta.data.interval',
      value: main.interval,
      err: 0,
      unit: 'sweeps',
      method: `sweeps between saved configurations at K = ${o.K} (at least ⌈2 τ_int⌉ of the slower of E and |m|)`,
    });
  const rows = rowsOf(state);
  for (let l = 0; l < o.hidden.length; l++) {
    for (const r of rows) {
      const e = layerRadius(state.dbns, r.variant.name, r.kind, l);
      if (!e) continue;
      out.push({
        name: `mehta.rfRadius.layer${l + 1}${r.suffix}`,
        value: e.value,
        err: e.err,
        unit: 'lattice spacings',
        method: `${METHOD_RADIUS} (${e.n} seeds); ${r.label}; layer ${l + 1} of ${o.hidden.length} (${o.hidden[l]} units)`,
      });
    }
    out.push({
      name: `mehta.rfRadius.layer${l + 1}.blockSpin`,
      value: state.blockSpin[l]!,
      err: 0,
      unit: 'lattice spacings',
      method: `the same radius of an ideal ${state.blockSizes[l]}×${state.blockSizes[l]} block spin (b = √(L²/n) = √(${o.L * o.L}/${o.hidden[l]})), exact`,
    });
  }
  out.push({
    name: 'mehta.rfRadius.uniform',
    value: state.uniform,
    err: 0,
    unit: 'lattice spacings',
    method: `the same radius of a uniform field on ${o.L}×${o.L} (completely delocalised), exact`,
  });
  const top = o.hidden.length;
  for (const r of rows) {
    const g = growth(state.dbns, r.variant.name, r.kind);
    if (!g) continue;
    out.push({
      name: `mehta.rfRadius.growth${r.suffix}`,
      value: g.value,
      err: g.err,
      unit: '',
      method: `per seed median radius of layer ${top} over that of layer 1, mean ± standard error over ${g.n} seeds; ${r.label}`,
    });
  }
  out.push({
    name: 'mehta.rfRadius.growth.blockSpin',
    value: state.blockSpin[top - 1]! / state.blockSpin[0]!,
    err: 0,
    unit: '',
    method: `radius of the ${state.blockSizes[top - 1]}×${state.blockSizes[top - 1]} block over that of the ${state.blockSizes[0]}×${state.blockSizes[0]} block, exact`,
  });
  for (let l = 0; l < o.hidden.length; l++) {
    const e = similarity(state.dbns, l);
    if (!e) continue;
    out.push({
      name: `mehta.fieldSimilarity.layer${l + 1}`,
      value: e.value,
      err: e.err,
      unit: '',
      method: `mean |cosine| between the receptive fields of all pairs of layer ${l + 1}'s units (0 for block spins, which do not overlap; 1 when every unit has the same field); mean ± SE over ${e.n} seeds at K = ${o.K}`,
    });
  }
  for (const v of state.variants) {
    const per = state.dbns.filter((d) => d.variant === v.name).map((d) => weightRms(d.weights[0]!));
    if (per.length < 2) continue;
    const e = meanErr(per);
    const suffix = v.name === 'critical' ? '' : v.shuffled ? '.shuffledSites' : `.K${v.K}`;
    out.push({
      name: `mehta.weightRms.layer1${suffix}`,
      value: e.value,
      err: e.err,
      unit: '',
      method: `root mean square of the first layer's weights after training (initialised at ${o.initScale}), mean ± SE over ${per.length} seeds; ${v.label}: tells learned-but-delocalised fields from weights that stayed near their random start`,
    });
  }
  for (let l = 0; l < o.hidden.length; l++) {
    const per = state.dbns
      .filter((d) => d.variant === 'critical')
      .map((d) => d.curves.filter((c) => c.layer === l + 1).at(-1)?.y)
      .filter((y): y is number => y !== undefined);
    if (per.length < 2) continue;
    const e = meanErr(per);
    out.push({
      name: `mehta.reconstruction.layer${l + 1}`,
      value: e.value,
      err: e.err,
      unit: '',
      method: `mean squared difference between layer ${l + 1}'s input and its one-step reconstruction (v → sampled h → mean v) on ${Math.min(o.monitorRows, o.configurations)} training rows after the last epoch; mean ± SE over ${per.length} seeds`,
    });
  }
  return out;
}

const fmt = (e: Estimate | null) => (e ? formatValueErr(e.value, e.err) : '—');

function markdown(o: MehtaSchwabOptions, state: MehtaSchwabState, complete: boolean): string {
  const lines: string[] = [];
  if (!complete)
    lines.push(
      `**Partial report** (${state.stopped ?? 'incomplete'}): only the data sets and networks that finished are reported; a row needs at least 2 finished seeds.`,
      '',
    );
  const widths = [o.L * o.L, ...o.hidden].join('-');
  lines.push(
    '## Setup',
    '',
    `Data: ${o.configurations} configurations of the ${o.L}×${o.L} periodic Ising model at K = ${o.K} (K_c = ${K_C.toFixed(4)}) ` +
      `and at ${o.offCritical.map((k) => `K = ${k}`).join(', ') || 'no other coupling'}, Swendsen–Wang from an ordered start, ` +
      `${o.therm} thermalisation sweeps, saved at least ⌈2 τ_int⌉ sweeps apart; every other configuration flipped globally ` +
      '(both signs present; this changes nothing above T_c and restores the symmetry of the ordered phase).',
    '',
    `Network: a DBN ${widths} trained layer by layer (each layer on the previous layer's hidden probabilities), ` +
      `{0,1} units (the source does not say; Hinton-style DBNs, and the replication, use binary units), all biases fixed at 0, CD-1, ` +
      `SGD with momentum ${o.momentum}, learning rate ${o.lr}, batch ${o.batch}, L1 ${o.l1} (the replication's settings, PHYSICS.md), ` +
      `initial weights N(0, ${o.initScale}²), ${o.epochs.join(' / ')} epochs per layer (not given by the source: chosen), ` +
      `${o.seeds} training seeds per data set.`,
    '',
    'Receptive field of a unit of layer l: its column of W1·…·Wl, a map on the lattice. Its size: the **half-mass radius**, ' +
      'the radius of the torus disc around the field’s |w|-weighted circular centre that holds half of Σ|w| (the cumulative ' +
      'mass taken piecewise linear between site distances). Per seed the median over the layer’s units; the table gives the ' +
      'mean ± standard error of that median over the seeds. For comparison, the same radius of an ideal b×b block spin ' +
      '(b = √(L²/n), the block a layer of n units would hold if it were block-spin RG) and of a uniform field (not local at all).',
    '',
    'Mehta & Schwab print no numbers (their claim is the pictures), so no result carries a `source`: the block-spin radius is a ' +
      'model’s expectation, not a published figure, and is reported as its own row (`…blockSpin`) instead of a z-score.',
    '',
    '## Data',
    '',
    '| K | T | configurations | τ_int(E) | τ_int(\\|m\\|) | interval (sweeps) |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const d of state.data)
    lines.push(
      `| ${d.K} | ${(1 / d.K).toFixed(4)} | ${d.count} | ${d.tauEnergy.toFixed(2)} | ${d.tauAbsM.toFixed(2)} | ${d.interval} |`,
    );
  lines.push('');
  const rows = rowsOf(state);
  for (let l = 0; l < o.hidden.length; l++) {
    const b = state.blockSizes[l]!;
    lines.push(
      `## Layer ${l + 1}: ${o.hidden[l]} units (block ${b}×${b})`,
      '',
      '| receptive fields of | radius (lattice spacings) | radius / block-spin radius |',
      '| --- | --- | --- |',
    );
    for (const r of rows) {
      const e = layerRadius(state.dbns, r.variant.name, r.kind, l);
      lines.push(`| ${r.label} | ${fmt(e)} | ${e ? (e.value / state.blockSpin[l]!).toFixed(2) : '—'} |`);
    }
    const sim = similarity(state.dbns, l);
    lines.push(
      `| ideal ${b}×${b} block spin | ${state.blockSpin[l]!.toFixed(3)} | 1 |`,
      `| uniform field (delocalised) | ${state.uniform.toFixed(3)} | ${(state.uniform / state.blockSpin[l]!).toFixed(2)} |`,
      '',
      `Mean |cosine| between this layer's fields (K = ${o.K}): ${fmt(sim)} (block spins: 0; identical fields: 1).`,
      '',
    );
  }
  const top = o.hidden.length;
  const gBlock = state.blockSpin[top - 1]! / state.blockSpin[0]!;
  lines.push(
    `## Growth: radius of layer ${top} over layer 1`,
    '',
    '| receptive fields of | growth |',
    '| --- | --- |',
    ...rows.map((r) => `| ${r.label} | ${fmt(growth(state.dbns, r.variant.name, r.kind))} |`),
    `| ideal block spins (${state.blockSizes[top - 1]}×${state.blockSizes[top - 1]} over ${state.blockSizes[0]}×${state.blockSizes[0]}) | ${gBlock.toFixed(3)} |`,
    '',
    '## What agrees and what does not',
    '',
    verdict(o, state),
    '',
  );
  if (state.resumed.length > 0)
    lines.push(`Taken from checkpoints of an earlier run: ${state.resumed.join(', ')}.`, '');
  return lines.join('\n');
}

/** The paragraph on what agrees, from the numbers. */
function verdict(o: MehtaSchwabOptions, state: MehtaSchwabState): string {
  const parts: string[] = [];
  const top = o.hidden.length;
  const sep = (a: Estimate, b: Estimate) => (b.value - a.value) / Math.hypot(a.err, b.err);
  const say = (z: number) => (Number.isFinite(z) ? `${z.toFixed(1)} σ` : 'beyond any error');
  const local: string[] = [];
  for (let l = 0; l < top; l++) {
    const t = layerRadius(state.dbns, 'critical', 'trained', l);
    const p = layerRadius(state.dbns, 'critical', 'permuted', l);
    if (!t) continue;
    const ratio = t.value / state.blockSpin[l]!;
    let s = `layer ${l + 1}: ${formatValueErr(t.value, t.err)} (${ratio.toFixed(2)} × the ${state.blockSizes[l]}×${state.blockSizes[l]} block's ${state.blockSpin[l]!.toFixed(2)}, uniform ${state.uniform.toFixed(1)}`;
    if (p)
      s += `; permuted weights ${formatValueErr(p.value, p.err)}, ${say(sep(t, p))} ${p.value > t.value ? 'larger' : 'smaller'}`;
    local.push(`${s})`);
  }
  if (local.length === 0) return 'No layer has results from at least two seeds: nothing to compare yet.';
  parts.push(`Radii at K = ${o.K}, ${local.join('; ')}.`);
  const first = layerRadius(state.dbns, 'critical', 'trained', 0);
  const firstNull = layerRadius(state.dbns, 'critical', 'permuted', 0);
  if (first && firstNull) {
    const below = firstNull.value - first.value > 3 * Math.hypot(first.err, firstNull.err);
    const share = first.value / state.uniform;
    const b0 = `${state.blockSizes[0]}×${state.blockSizes[0]}`;
    parts.push(
      below && share < 0.6
        ? `The first layer's fields are local: ${share.toFixed(2)} of the uniform field's radius and well below the permuted null, as the source's pictures show${
            first.value > 2 * state.blockSpin[0]!
              ? `, but far larger than a ${b0} block: each unit covers a correlated patch and neighbouring units overlap, where block spins tile the lattice (the half-mass radius also counts the weak background that L1 has not removed)`
              : ''
          }.`
        : below
          ? `The first layer's fields are smaller than the permuted null beyond the errors but only weakly localised (${share.toFixed(2)} of the uniform field's radius): at this training length the local structure has barely begun to form, so the growth below is not yet a test of the claim.`
          : 'The first layer’s fields are not distinguishable from the permuted null: at this training length the network has not learned local fields, so the growth below says nothing about learning.',
    );
  }
  const simTop = similarity(state.dbns, top - 1);
  if (simTop && simTop.value > 0.5)
    parts.push(
      `The deepest layer's units are close to copies of one another (mean |cosine| between their fields ${formatValueErr(simTop.value, simTop.err)}): they do not tile the lattice as distinct block spins would, so its radius measures one shared, broad feature.`,
    );
  const g = growth(state.dbns, 'critical', 'trained');
  const gp = growth(state.dbns, 'critical', 'permuted');
  const gs = growth(state.dbns, 'shuffled', 'trained');
  const gBlock = state.blockSpin[top - 1]! / state.blockSpin[0]!;
  if (g) {
    const grows = g.value - 3 * g.err > 1;
    parts.push(
      `From layer 1 to layer ${top} the radius ${grows ? 'grows' : g.value > 1 ? 'grows, but by less than 3 standard errors,' : 'does not grow'} by a factor ${formatValueErr(g.value, g.err)}, ` +
        `against ${gBlock.toFixed(2)} for ideal block spins` +
        (gp ? `, ${formatValueErr(gp.value, gp.err)} for permuted weights` : '') +
        (gs ? ` and ${formatValueErr(gs.value, gs.err)} for the shuffled-sites network` : '') +
        '.',
    );
  }
  const t1 = layerRadius(state.dbns, 'critical', 'trained', 0);
  const p1 = layerRadius(state.dbns, 'critical', 'permuted', 0);
  const s1 = layerRadius(state.dbns, 'shuffled', 'trained', 0);
  const u1 = layerRadius(state.dbns, 'shuffled', 'unscrambled', 0);
  if (t1 && p1 && s1)
    parts.push(
      `The nulls: products of permuted weights and the network trained on shuffled sites (read in the coordinates it sees) ` +
        `have layer-1 radii ${formatValueErr(p1.value, p1.err)} and ${formatValueErr(s1.value, s1.err)}, near the uniform field's ${state.uniform.toFixed(1)} when they are not local; ` +
        (u1
          ? `undoing the shuffle gives ${formatValueErr(u1.value, u1.err)}, so the network learns the lattice's geometry from the correlations alone, whichever way the sites are numbered. `
          : '') +
        'A trained radius well below both nulls is locality that was learned, not an artefact of taking products.',
    );
  const off = o.offCritical
    .map((K) => ({
      K,
      g: growth(state.dbns, `K${K}`, 'trained'),
      r: layerRadius(state.dbns, `K${K}`, 'trained', top - 1),
    }))
    .filter((x) => x.g && x.r);
  if (g && off.length > 0)
    parts.push(
      `Away from K_c: ${off
        .map(
          (x) =>
            `at K = ${x.K} (${x.K > K_C ? 'ordered' : 'disordered'}) the growth is ${formatValueErr(x.g!.value, x.g!.err)} (${say(sep(g, x.g!))} from K = ${o.K}) and the layer-${top} radius ${formatValueErr(x.r!.value, x.r!.err)}`,
        )
        .join('; ')}. ` +
        `The first layer's rms weight is ${[
          { K: o.K, v: 'critical' },
          ...o.offCritical.map((K) => ({ K, v: `K${K}` })),
        ]
          .map(({ K, v }) => {
            const w = state.dbns.filter((d) => d.variant === v).map((d) => weightRms(d.weights[0]!));
            return w.length > 1 ? `${formatValueErr(meanErr(w).value, meanErr(w).err)} at K = ${K}` : null;
          })
          .filter((x) => x !== null)
          .join(
            ', ',
          )} (initial ${o.initScale}): a radius near the uniform field's with weights at or below their initial scale means the data taught nothing local that survives the L1 penalty; with larger weights, that the learned features are global (the magnetisation in the ordered phase). ` +
        (off.every((x) => Math.abs(sep(g, x.g!)) < 2)
          ? 'The growth is the same within two standard errors away from K_c, so it is not specific to near-critical data: it comes from the architecture (fewer units deeper up) and the L1 penalty rather than from criticality.'
          : 'The growth differs between the couplings beyond two standard errors, so it depends on the data; whether that is criticality or only that the off-critical data teach less local structure (compare the rms weights) is not decided by the radius alone.'),
    );
  parts.push(
    'The source shows pictures and prints no radius, so the comparison is with the block-spin picture it invokes: a ratio near 1 in the tables ' +
      'is a match in size, not a test of the exact mapping; the epochs, the units and the radius definition are our choices (stated above), and ' +
      'L1 in particular shrinks fields towards their largest weights, so the absolute radii depend on it more than the ordering of the rows does.',
  );
  return parts.join(' ');
}

/** Fields of seed 1 of `variant` (recomputed from its weights), per layer [L² × units]. */
function fieldsOf(o: MehtaSchwabOptions, state: MehtaSchwabState, variant: string): Float64Array[] | null {
  const d = state.dbns.find((x) => x.variant === variant && x.seedIndex === 0);
  return d ? receptiveFields(d.weights, [o.L * o.L, ...o.hidden]) : null;
}

function panelsOf(P: Float64Array, L: number, units: number, count: number, prefix = 'unit'): HeatmapPanel[] {
  return Array.from({ length: Math.min(count, units) }, (_, j) => ({
    label: `${prefix} ${j + 1}`,
    rows: L,
    cols: L,
    data: column(P, L * L, units, j),
  }));
}

function figures(o: MehtaSchwabOptions, state: MehtaSchwabState): FigureSpec[] {
  const out: FigureSpec[] = [];
  const cellSize = Math.max(2, Math.round(100 / o.L));
  const critical = fieldsOf(o, state, 'critical');
  const top = o.hidden.length;
  if (critical)
    critical.forEach((P, l) =>
      out.push(
        imageGrid({
          name: `fields-layer${l + 1}`,
          title: `Receptive fields of layer ${l + 1} (${Math.min(o.mosaic, o.hidden[l]!)} of ${o.hidden[l]} units, K = ${o.K}, seed 1)`,
          panels: panelsOf(P, o.L, o.hidden[l]!, o.mosaic),
          columns: 5,
          cellSize,
          valueTitle: 'weight product',
          scale: 'panel',
        }),
      ),
    );
  // The last layer's fields of the nulls and the off-critical networks, five of each.
  const nullPanels: HeatmapPanel[] = [];
  const d0 = state.dbns.find((x) => x.variant === 'critical' && x.seedIndex === 0);
  if (d0) {
    const P = receptiveFields(
      d0.weights.map((W, l) => permuteEntries(W, d0.seed + 500, l + 1)),
      [o.L * o.L, ...o.hidden],
    )[top - 1]!;
    nullPanels.push(...panelsOf(P, o.L, o.hidden[top - 1]!, 5, 'permuted'));
  }
  const shuffled = fieldsOf(o, state, 'shuffled');
  if (shuffled)
    nullPanels.push(...panelsOf(shuffled[top - 1]!, o.L, o.hidden[top - 1]!, 5, 'shuffled sites'));
  for (const K of o.offCritical) {
    const f = fieldsOf(o, state, `K${K}`);
    if (f) nullPanels.push(...panelsOf(f[top - 1]!, o.L, o.hidden[top - 1]!, 5, `K = ${K}`));
  }
  if (nullPanels.length > 0) {
    out.push(
      imageGrid({
        name: 'fields-nulls',
        title: `Layer-${top} receptive fields: permuted weights, shuffled sites, off-critical data`,
        panels: nullPanels,
        columns: 5,
        cellSize,
        valueTitle: 'weight product',
        scale: 'panel',
      }),
    );
  }
  const points: { x: number; y: number; err: number; series: string }[] = [];
  const rows = rowsOf(state);
  for (let l = 0; l < top; l++) {
    for (const r of rows) {
      const e = layerRadius(state.dbns, r.variant.name, r.kind, l);
      if (e) points.push({ x: l + 1, y: e.value, err: e.err, series: r.label });
    }
    points.push({ x: l + 1, y: state.blockSpin[l]!, err: 0, series: 'ideal block spin' });
  }
  out.push(
    errorBarPlot({
      name: 'radius-by-layer',
      title: 'Half-mass radius of the receptive fields against depth',
      points,
      xTitle: 'layer',
      yTitle: 'radius (lattice spacings)',
      integerX: true,
      exact: { value: state.uniform, label: 'uniform field (delocalised)' },
    }),
  );
  const bins = 24;
  const hi = state.uniform * 1.1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i * hi) / bins);
  const histograms = [];
  for (let l = 0; l < top; l++) {
    for (const r of rows) {
      if (r.kind === 'unscrambled') continue;
      const counts = new Array<number>(bins).fill(0);
      let any = false;
      for (const d of state.dbns.filter((x) => x.variant === r.variant.name)) {
        const radii = radiiOf(d, r.kind)?.[l];
        if (!radii) continue;
        for (const x of radii)
          if (Number.isFinite(x)) {
            counts[Math.min(bins - 1, Math.floor((x / hi) * bins))]!++;
            any = true;
          }
      }
      if (any) histograms.push({ series: r.label, panel: `layer ${l + 1}`, edges, counts });
    }
  }
  if (histograms.length > 0)
    out.push(
      histogramPlot({
        name: 'radius-histograms',
        title: 'Receptive-field radii per layer (all units, all seeds)',
        histograms,
        xTitle: 'half-mass radius (lattice spacings)',
      }),
    );
  const curve: LinePoint[] = [];
  for (const d of state.dbns) {
    const v = state.variants.find((x) => x.name === d.variant)!;
    for (const c of d.curves)
      curve.push({
        x: c.epoch,
        y: c.y,
        series: `${v.label}, seed ${d.seedIndex + 1}`,
        panel: `layer ${c.layer}`,
      });
  }
  if (curve.length > 0)
    out.push(
      linePlot({
        name: 'reconstruction',
        title: 'Reconstruction error while training (one-step v → h → v, mean squared difference)',
        points: curve,
        xTitle: 'epoch',
        yTitle: 'reconstruction error',
      }),
    );
  return out;
}

function arrays(o: MehtaSchwabOptions, state: MehtaSchwabState): { name: string; npy: NpyArray }[] {
  const out: { name: string; npy: NpyArray }[] = [];
  const sites = o.L * o.L;
  const widths = [sites, ...o.hidden];
  const d0 = state.dbns.find((x) => x.variant === 'critical' && x.seedIndex === 0);
  if (d0) {
    d0.weights.forEach((W, l) =>
      out.push({
        name: `weights.seed1.W${l + 1}`,
        npy: { dtype: 'float32', shape: [widths[l]!, widths[l + 1]!], data: W },
      }),
    );
    receptiveFields(d0.weights, widths).forEach((P, l) => {
      const n = o.hidden[l]!;
      const f = new Float32Array(n * sites);
      for (let j = 0; j < n; j++) for (let i = 0; i < sites; i++) f[j * sites + i] = P[i * n + j]!;
      out.push({ name: `fields.layer${l + 1}`, npy: { dtype: 'float32', shape: [n, o.L, o.L], data: f } });
    });
  }
  for (const r of rowsOf(state)) {
    const dbns = state.dbns.filter((d) => d.variant === r.variant.name && radiiOf(d, r.kind));
    if (dbns.length === 0) continue;
    for (let l = 0; l < o.hidden.length; l++) {
      const n = o.hidden[l]!;
      const data = new Float64Array(dbns.length * n);
      dbns.forEach((d, s) => data.set(radiiOf(d, r.kind)![l]!, s * n));
      out.push({
        name: `radii${r.suffix || '.critical'}.layer${l + 1}`,
        npy: { dtype: 'float64', shape: [dbns.length, n], data },
      });
    }
  }
  out.push({
    name: 'sitePermutation',
    npy: { dtype: 'uint32', shape: [sites], data: state.sitePermutation },
  });
  return out;
}

/** The study's output from its state (complete or partial). */
export function mehtaSchwabOutput(o: MehtaSchwabOptions, state: MehtaSchwabState): StudyOutput {
  const complete = state.stopped === null;
  const settings = JSON.parse(JSON.stringify(o)) as { [key: string]: JsonValue };
  settings.units = 'bernoulli ({0,1})';
  settings.biases = 'none (fixed at 0)';
  settings.radiusStatistic = 'per seed median over units; mean ± SE over seeds';
  settings.resumed = [...state.resumed];
  settings.data = state.data.map((d) => ({
    K: d.K,
    count: d.count,
    interval: d.interval,
    tauEnergy: d.tauEnergy,
    tauAbsM: d.tauAbsM,
    converged: d.converged,
  }));
  settings.trainingSeeds = state.dbns.map((d) => ({
    variant: d.variant,
    seedIndex: d.seedIndex,
    seed: d.seed,
  }));
  return {
    settings,
    results: results(o, state),
    markdown: markdown(o, state, complete),
    figures: figures(o, state),
    arrays: arrays(o, state),
    stages: state.stages,
    complete,
  };
}
