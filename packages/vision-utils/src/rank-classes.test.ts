import { describe, expect, it } from 'vitest';
import { DecodePredictionsError } from './errors.js';
import { rankClasses } from './rank-classes.js';

describe('rankClasses', () => {
  it("names a 1000-class head without names by ImageNet's classes (as decode_predictions)", () => {
    const data = new Float32Array(1000).fill(0.001);
    data[386] = 0.8; // n02504458 African_elephant in Keras' class index
    data[101] = 0.1; // n01871265 tusker
    const [row] = rankClasses({ data, rows: 1, classes: 1000 }, 2);
    expect(row).toEqual([
      { index: 386, wnid: 'n02504458', label: 'African_elephant', score: Math.fround(0.8) },
      { index: 101, wnid: 'n01871265', label: 'tusker', score: Math.fround(0.1) },
    ]);
  });

  it("names any other head by the model's class names: score descending, ties by the lower index, NaN last", () => {
    const data = Float32Array.from([0.2, NaN, 0.5, 0.2, /* row 2 */ 0.1, 0.7, 0.1, 0.1]);
    const ranked = rankClasses({ data, rows: 2, classes: 4, classNames: ['cat', 'garden', 'sky', 'sea'] }, 4);
    expect(ranked[0]!.map((p) => [p.index, p.label, p.wnid])).toEqual([[2, 'sky', null], [0, 'cat', null], [3, 'sea', null], [1, 'garden', null]]);
    expect(Number.isNaN(ranked[0]![3]!.score)).toBe(true);
    expect(ranked[1]!.map((p) => p.label)).toEqual(['garden', 'cat', 'sky', 'sea']);
  });

  it('names classes by their index without names; top above the classes gives them all; a 1000-class head with names keeps the names', () => {
    expect(rankClasses({ data: [0.1, 0.9, 0], rows: 1, classes: 3 }, 5)[0]!.map((p) => p.label)).toEqual(['1', '0', '2']);
    const named = rankClasses({ data: new Float32Array(1000).fill(0).fill(1, 7, 8), rows: 1, classes: 1000, classNames: Array.from({ length: 1000 }, (_, i) => `mine ${i}`) }, 1);
    expect(named[0]).toEqual([{ index: 7, wnid: null, label: 'mine 7', score: 1 }]);
  });

  it('refuses data that does not fit rows × classes, names that do not fit the classes, and a bad top', () => {
    const refused = (f: () => unknown): unknown => { try { f(); return null; } catch (error) { return error; } };
    expect(refused(() => rankClasses({ data: [1, 2, 3], rows: 2, classes: 2 }))).toBeInstanceOf(DecodePredictionsError);
    expect((refused(() => rankClasses({ data: [1, 2], rows: 1, classes: 2, classNames: ['a'] })) as Error).message).toBe('rankClasses: 1 class names for 2 classes; pass one name per class.');
    expect((refused(() => rankClasses({ data: [1, 2], rows: 1, classes: 2 }, 0)) as Error).message).toBe('rankClasses: top must be a positive integer; got 0.');
  });
});
