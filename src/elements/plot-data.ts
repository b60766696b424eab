/** Data shapes of `<blockspin-plot>` and helpers that fill them; no DOM, so they run (and are tested) in Node too. */

/**
 * Plot data: `x` and one array per series, aligned with `x`; `null` leaves a gap. Optional `errors[i]` holds
 * series i's ± error bars (drawn as whiskers), aligned with `x` as well.
 */
export interface PlotData {
  x: number[];
  y: (number | null)[][];
  errors?: ((number | null)[] | undefined)[];
}

/** Counts of `values` in `bins` equal bins over [lo, hi] (values outside are dropped): x = left edges. */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): PlotData {
  if (!(hi > lo)) throw new RangeError(`histogram: hi must exceed lo; got [${lo}, ${hi}]`);
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`histogram: bins must be an integer ≥ 1; got ${bins}`);
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
  }
  return { x: counts.map((_, i) => lo + i * width), y: [counts] };
}
