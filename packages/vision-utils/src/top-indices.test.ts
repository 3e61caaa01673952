import { describe, expect, it } from 'vitest';
import { topIndices } from './top-indices.js';

/** The definition, as a full sort: score descending, ties by the lower index, NaN last. */
function sortedIndices(row: readonly number[], k: number): number[] {
  const score = (i: number): number => (Number.isNaN(row[i]!) ? -Infinity : row[i]!);
  return row.map((_, i) => i).sort((a, b) => score(b) - score(a) || a - b).slice(0, k);
}

describe('topIndices', () => {
  it('agrees with a full sort on rows with ties, NaN and -Infinity, for k from 1 to past the row', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(random() * 60);
      // Few distinct values, so that ties are common.
      const row = Array.from({ length }, () => {
        const r = random();
        return r < 0.08 ? Number.NaN : r < 0.12 ? -Infinity : Math.floor(random() * 6) / 4;
      });
      for (const k of [1, 2, 5, 10, 33, length, length + 3]) expect(topIndices(row, k), `row ${JSON.stringify(row)}, k ${k}`).toEqual(sortedIndices(row, k));
    }
  });

  it('ranks one row of a flat batch (offset, length)', () => {
    const flat = Float32Array.from([9, 9, 9, /* row 1 */ 0.1, 0.7, 0.7, 0.2]);
    expect(topIndices(flat, 3, 3, 4)).toEqual([1, 2, 3]);
  });
});
