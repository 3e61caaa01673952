/**
 * Keras' `class_weight`: each sample's loss is multiplied by its class's weight (the batch loss is
 * still divided by the batch size, as Keras' `sum_over_batch_size` does). 'balanced' is
 * scikit-learn's rule, `samples / (classes * samplesOfClass)`, so rare classes weigh more.
 */
export type ClassWeights = readonly number[] | 'balanced';

export function resolveClassWeights(classWeights: ClassWeights | undefined, labels: Int32Array, classes: number): Float32Array | null {
  if (classWeights === undefined) return null;
  if (classWeights === 'balanced') {
    const counts = new Array<number>(classes).fill(0);
    for (const label of labels) counts[label]!++;
    return Float32Array.from(counts, (n) => (n === 0 ? 0 : labels.length / (classes * n)));
  }
  if (classWeights.length !== classes || classWeights.some((w) => !(Number.isFinite(w) && w >= 0))) {
    throw new RangeError(`classWeights must give one finite weight >= 0 per class (${classes}); got [${classWeights.join(', ')}].`);
  }
  return Float32Array.from(classWeights);
}
