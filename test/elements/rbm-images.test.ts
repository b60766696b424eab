/** The trainer's mosaics (src/elements/rbm-images.ts): layout, the diverging palette's scale, sample shading. */
import { describe, expect, it } from 'vitest';
import { diverging, filterMosaic, imageShape, sampleMosaic } from '../../src/elements/rbm-images.ts';

const pixel = (m: { rgba: Uint8ClampedArray; width: number }, x: number, y: number): number[] => [
  ...m.rgba.subarray((y * m.width + x) * 4, (y * m.width + x) * 4 + 3),
];

describe('RBM mosaics', () => {
  it('finds the image shape of a configuration', () => {
    expect(imageShape([8, 8], 64)).toEqual([8, 8]);
    expect(imageShape([784], 784)).toEqual([28, 28]);
    expect(imageShape([1, 28, 28], 784)).toEqual([28, 28]);
    expect(imageShape([10], 10)).toEqual([3, 4]);
  });

  it('draws a dense RBM’s hidden units as images of the visible shape, one scale for all', () => {
    // nv = 4 (2×2), nh = 3: W[i·nh + j]; unit 0 has the largest weight (+2) at pixel 3.
    const W = [0, 1, 0, 0, -1, 0, 0, 0, 0, 2, 0, 0.5];
    const m = filterMosaic([...W, 0, 0, 0, 0, 0, 0, 0], { nv: 4, nh: 3 }, [2, 2]);
    expect([m.tiles, m.columns, m.width, m.height, m.scale]).toEqual([3, 2, 7, 7, 2]);
    expect(pixel(m, 2, 2)).toEqual(diverging(1)); // tile 0, pixel (1, 1) = W[3·3 + 0] = +2
    expect(pixel(m, 0, 0)).toEqual([221, 226, 234]); // the gap
    expect(pixel(m, 4, 1)).toEqual(diverging(0.5)); // tile 1, pixel (0, 0) = W[0·3 + 1] = +1
    expect(pixel(m, 1, 4)).toEqual(diverging(0)); // tile 2 (second row), pixel (0, 0) = W[0·3 + 2] = 0
  });

  it('draws a conv RBM’s k×k filters', () => {
    const m = filterMosaic([1, -1, 0, 0.5], { nv: 16, nh: 4, conv: { filters: 1, k: 2 } }, [4, 4]);
    expect([m.tiles, m.width, m.height, m.scale]).toEqual([1, 4, 4, 1]);
    expect(pixel(m, 1, 1)).toEqual(diverging(1));
    expect(pixel(m, 2, 1)).toEqual(diverging(-1));
    expect(pixel(m, 2, 2)).toEqual(diverging(0.5));
  });

  it('shades samples: on dark, off light, for both unit conventions', () => {
    const ising = sampleMosaic([1, -1, -1, 1], 4, [2, 2], 'ising', 16);
    const bern = sampleMosaic([1, 0, 0, 1], 4, [2, 2], 'bernoulli', 16);
    expect(ising.rgba).toEqual(bern.rgba);
    expect(ising.tiles).toBe(1);
    expect(pixel(ising, 1, 1)[0]).toBeLessThan(60);
    expect(pixel(ising, 2, 1)[0]).toBeGreaterThan(240);
  });
});
