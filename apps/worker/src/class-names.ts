import type { WeightValues } from '@xception/core';
import type { DeferredWeights } from '@xception/engines';
import { rankClasses } from '@xception/vision-utils';
import { openClassifierWeights, readClassifierWeights } from '@xception/weights';

/** Weights with a classifier top, how many classes it has, and their names when the file keeps them. */
export interface ClassifierWeights {
  /** The values, or (loaded with `defer`) a .keras or .h5 file's still undecoded: the engine decodes them if it needs them. */
  values: WeightValues | DeferredWeights | null;
  classes: number;
  /** A .keras archive's class names (`xception train` writes them); null for ImageNet's 1000. */
  classNames: readonly string[] | null;
  /** The input side the file was saved with (a .keras or model.json); null when it does not say. */
  inputSize: number | null;
}

/** `--weights` with its top: 'none' is ImageNet-shaped random weights; a trained .keras brings its classes. */
export async function loadClassifierWeights(spec: string, options: { defer?: boolean } = {}): Promise<ClassifierWeights> {
  if (spec === 'none') return { values: null, classes: 1000, classNames: null, inputSize: null };
  if (options.defer) {
    const { weights, classes, classNames, inputSize } = await openClassifierWeights(spec);
    return { values: weights, classes, classNames, inputSize };
  }
  const { values, classes, classNames, inputSize } = await readClassifierWeights(spec);
  return { values, classes, classNames, inputSize };
}

/** `--image-size` when given, else the size the weights were saved with, else Keras' 299. */
export function imageSizeFor(flag: number | undefined, weights: Pick<ClassifierWeights, 'inputSize'>): number {
  return flag ?? weights.inputSize ?? 299;
}

export interface NamedPrediction { index: number; wnid: string; label: string; score: number }

/** The top-k per row, named by @xception/vision-utils' rankClasses; a model's own classes have no wnid ('' in result files). */
export function decodeTop(output: Float32Array, count: number, weights: Pick<ClassifierWeights, 'classes' | 'classNames'>, topK: number): NamedPrediction[][] {
  return rankClasses({ data: output, rows: count, classes: weights.classes, classNames: weights.classNames }, topK)
    .map((row) => row.map((p) => ({ index: p.index, wnid: p.wnid ?? '', label: p.label, score: p.score })));
}
