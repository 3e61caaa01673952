import type { WeightValues } from '@xception/core';
import { decodePredictions } from '@xception/vision-utils';
import { readWeights } from '@xception/weights';

/** Weights with a classifier top, how many classes it has, and their names when the file keeps them. */
export interface ClassifierWeights {
  values: WeightValues | null;
  classes: number;
  /** A .keras archive's class names (`xception train` writes them); null for ImageNet's 1000. */
  classNames: readonly string[] | null;
}

/** `--weights` with its top: 'none' is ImageNet-shaped random weights; a trained .keras brings its classes. */
export async function loadClassifierWeights(spec: string): Promise<ClassifierWeights> {
  if (spec === 'none') return { values: null, classes: 1000, classNames: null };
  const reading = await readWeights(spec, { includeTop: true });
  const classNames = 'classNames' in reading ? (reading.classNames as readonly string[] | null) : null;
  return { values: reading.values, classes: reading.classes ?? 1000, classNames };
}

export interface NamedPrediction { index: number; wnid: string; label: string; score: number }

/** The top-k per row: ImageNet's names (and wnids) for a 1000-class model without names, else the model's own class names (no wnid). */
export function decodeTop(output: Float32Array, count: number, weights: Pick<ClassifierWeights, 'classes' | 'classNames'>, topK: number): NamedPrediction[][] {
  const { classes, classNames } = weights;
  if (!classNames && classes === 1000) return decodePredictions({ data: output, shape: [count, classes] }, topK);
  return Array.from({ length: count }, (_, row) => {
    const scores = output.subarray(row * classes, (row + 1) * classes);
    return Array.from({ length: classes }, (_, i) => i)
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, Math.min(topK, classes))
      .map((index) => ({ index, wnid: '', label: classNames?.[index] ?? `class_${index}`, score: scores[index]! }));
  });
}
