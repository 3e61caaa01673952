import { rankClasses } from '@xception/vision-utils';

/** How many classes a model has, and their names when its file keeps them (null: ImageNet's, named by @xception/vision-utils). */
export interface ModelClasses {
  classes: number;
  classNames: readonly string[] | null;
}

export interface NamedPrediction { index: number; wnid: string; label: string; score: number }

/** The top-k per row, named by @xception/vision-utils' rankClasses; a model's own classes have no wnid ('' in result files). */
export function decodeTop(output: Float32Array, count: number, weights: ModelClasses, topK: number): NamedPrediction[][] {
  return rankClasses({ data: output, rows: count, classes: weights.classes, classNames: weights.classNames }, topK)
    .map((row) => row.map((p) => ({ index: p.index, wnid: p.wnid ?? '', label: p.label, score: p.score })));
}
