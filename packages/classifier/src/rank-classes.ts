import { decodePredictions } from '@xception/vision-utils';
import type { Classification } from './classifier.js';
import { ClassifierError } from './classifier-error.js';

/**
 * The top `topK` classes of each row of `scores` ([rows, classes]). ImageNet's 1000 classes are
 * named by Keras' decode_predictions (vision-utils); other heads by `classNames` when the
 * weights carry them (a .keras archive's metadata), else by their index.
 */
export function rankClasses(scores: Float32Array, rows: number, classes: number, topK: number, classNames: readonly string[] | null): Classification[][] {
  if (classes === 1000 && !classNames) {
    return decodePredictions({ data: scores, shape: [rows, classes] }, topK).map((row) => row.map((p) => ({ index: p.index, wnid: p.wnid, label: p.label, score: p.score })));
  }
  return Array.from({ length: rows }, (_, r) => {
    const row = scores.subarray(r * classes, (r + 1) * classes);
    const score = (i: number): number => (Number.isNaN(row[i]!) ? -Infinity : row[i]!);
    // Same order as decode_predictions: score descending, ties by the lower index, NaN last.
    const order = Array.from({ length: classes }, (_, i) => i).sort((a, b) => score(b) - score(a) || a - b);
    return order.slice(0, topK).map((index) => ({ index, wnid: null, label: classNames?.[index] ?? String(index), score: row[index]! }));
  });
}

/** Checks `topK` against the number of classes, in the option's words. */
export function checkTopK(topK: unknown, classes: number): number {
  if (topK === undefined) return Math.min(5, classes);
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > classes) {
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `classify: topK must be an integer from 1 to ${classes} (the classes of these weights); got ${JSON.stringify(topK) ?? String(topK)}.`);
  }
  return topK;
}
