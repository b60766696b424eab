/** meanError: the mean and sd/√n of independent values, over a whole list or a slice of it. */
import { describe, expect, it } from 'vitest';
import { meanError } from '../../src/stats/index.ts';

describe('meanError', () => {
  it('gives the mean and sd/√n, of a slice too, and says what it cannot know', () => {
    // 1, 2, 3, 4: mean 2.5, sample variance 5/3, error √(5/3/4).
    expect(meanError([1, 2, 3, 4])).toEqual({ mean: 2.5, err: Math.sqrt(5 / 3 / 4) });
    expect(meanError([9, 1, 2, 3, 4, 9], 1, 5)).toEqual({ mean: 2.5, err: Math.sqrt(5 / 3 / 4) });
    expect(meanError([7])).toEqual({ mean: 7, err: 0 });
    const none = meanError([]);
    expect(Number.isNaN(none.mean) && Number.isNaN(none.err)).toBe(true);
  });
});
