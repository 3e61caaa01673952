import { ClassifierError } from './classifier-error.js';

/** Checks `topK` against the number of classes, in the option's words. */
export function checkTopK(topK: unknown, classes: number): number {
  if (topK === undefined) return Math.min(5, classes);
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > classes) {
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `classify: topK must be an integer from 1 to ${classes} (the classes of these weights); got ${JSON.stringify(topK) ?? String(topK)}.`);
  }
  return topK;
}
