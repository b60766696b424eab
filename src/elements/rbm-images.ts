/**
 * The trainer's images without the DOM: mosaics of RBM filters (a dense RBM's hidden units as images of the
 * visible shape, a conv RBM's k×k filters) on a diverging palette, and grids of visible samples, as RGBA
 * pixels ready for `putImageData` (one pixel per unit; CSS scales them up crisply).
 */

/** An RGBA image and how its tiles are laid out. */
export interface Mosaic {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  tiles: number;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  /** The largest |value| shown (the palette's ends), for filter mosaics. */
  scale: number;
}

/** Pixels between tiles (and around them). */
const GAP = 1;
const BACKGROUND = [221, 226, 234] as const;

/** The image shape [height, width] of one visible configuration of `shape` (nv units). */
export function imageShape(shape: readonly number[], nv: number): [number, number] {
  const dims = shape.filter((d) => d !== 1);
  if (dims.length === 2) return [dims[0]!, dims[1]!];
  const side = Math.round(Math.sqrt(nv));
  if (side * side === nv) return [side, side];
  const width = Math.ceil(Math.sqrt(nv));
  return [Math.ceil(nv / width), width];
}

function layout(tiles: number, tileHeight: number, tileWidth: number): Omit<Mosaic, 'rgba' | 'scale'> {
  const columns = Math.max(1, Math.ceil(Math.sqrt(tiles)));
  const rows = Math.max(1, Math.ceil(tiles / columns));
  return {
    tiles,
    tileWidth,
    tileHeight,
    columns,
    width: columns * (tileWidth + GAP) + GAP,
    height: rows * (tileHeight + GAP) + GAP,
  };
}

function blank(width: number, height: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.set([...BACKGROUND, 255], p * 4);
  return rgba;
}

/** Diverging colour of t ∈ [−1, 1]: blue (negative), white (0), red (positive). */
export function diverging(t: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, t));
  const blue = [36, 86, 199];
  const red = [194, 65, 12];
  const end = x < 0 ? blue : red;
  const a = Math.abs(x);
  return [0, 1, 2].map((i) => Math.round(255 + (end[i]! - 255) * a)) as [number, number, number];
}

/**
 * The filters of an RBM from its parameters [W | a | b]: dense — the first `maxTiles` hidden units j, each the
 * image of W[·, j] in the visible shape; conv — the first `maxTiles` filters, k×k each. One scale (max |W| of
 * the tiles shown) for all, so tiles compare.
 */
export function filterMosaic(
  parameters: ArrayLike<number>,
  model: { nv: number; nh: number; conv?: { filters: number; k: number } | null },
  shape: readonly number[],
  maxTiles = 64,
): Mosaic {
  const { nv, nh, conv } = model;
  const [tileHeight, tileWidth] = conv ? [conv.k, conv.k] : imageShape(shape, nv);
  const tiles = Math.min(maxTiles, conv ? conv.filters : nh);
  const value = conv
    ? (t: number, p: number): number => parameters[t * conv.k * conv.k + p] as number
    : (t: number, p: number): number => parameters[p * nh + t] as number;
  const pixels = tileHeight * tileWidth;
  const units = conv ? pixels : nv;
  let scale = 0;
  for (let t = 0; t < tiles; t++)
    for (let p = 0; p < units; p++) scale = Math.max(scale, Math.abs(value(t, p)));
  const l = layout(tiles, tileHeight, tileWidth);
  const rgba = blank(l.width, l.height);
  for (let t = 0; t < tiles; t++) {
    const x0 = GAP + (t % l.columns) * (tileWidth + GAP);
    const y0 = GAP + Math.floor(t / l.columns) * (tileHeight + GAP);
    for (let p = 0; p < Math.min(units, pixels); p++) {
      const c = diverging(scale > 0 ? value(t, p) / scale : 0);
      const at = ((y0 + Math.floor(p / tileWidth)) * l.width + x0 + (p % tileWidth)) * 4;
      rgba.set([...c, 255], at);
    }
  }
  return { ...l, rgba, scale };
}

/**
 * The first `count` visible configurations of `samples` ([rows × nv] unit values) as a grid of images: units
 * on (1) dark, off (0 or −1) light, means in between.
 */
export function sampleMosaic(
  samples: ArrayLike<number>,
  nv: number,
  shape: readonly number[],
  units: 'bernoulli' | 'ising',
  count = 16,
): Mosaic {
  const rowsAvailable = Math.floor(samples.length / nv);
  const tiles = Math.min(count, rowsAvailable);
  const [tileHeight, tileWidth] = imageShape(shape, nv);
  const l = layout(tiles, tileHeight, tileWidth);
  const rgba = blank(l.width, l.height);
  const low = units === 'ising' ? -1 : 0;
  for (let t = 0; t < tiles; t++) {
    const x0 = GAP + (t % l.columns) * (tileWidth + GAP);
    const y0 = GAP + Math.floor(t / l.columns) * (tileHeight + GAP);
    for (let p = 0; p < nv; p++) {
      const on = ((samples[t * nv + p] as number) - low) / (1 - low);
      const g = Math.round(250 - 225 * Math.max(0, Math.min(1, on)));
      const at = ((y0 + Math.floor(p / tileWidth)) * l.width + x0 + (p % tileWidth)) * 4;
      rgba.set([g, g, g + 8, 255], at);
    }
  }
  return { ...l, rgba, scale: 1 };
}
