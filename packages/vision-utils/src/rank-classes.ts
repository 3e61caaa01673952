import { decodePredictions } from './decode-predictions.js';
import { DecodePredictionsError } from './errors.js';
import { topIndices } from './top-indices.js';

/** One ranked class: `wnid` is ImageNet's id for ImageNet's 1000 classes, null for a model's own classes. */
export interface RankedClass {
  readonly index: number;
  readonly wnid: string | null;
  readonly label: string;
  readonly score: number;
}

/** A batch of class scores: `rows` × `classes` values, row after row. */
export interface ClassScores {
  readonly data: ArrayLike<number>;
  readonly rows: number;
  readonly classes: number;
  /** The model's class names (a trained `.keras` keeps them in its metadata), one per class; null or absent: none. */
  readonly classNames?: readonly string[] | null;
}

/**
 * The `top` best classes of each row, whatever the head: a 1000-class head without names is
 * ImageNet's and is named by Keras' decode_predictions (wnid and label); any other head by its
 * class names, else by its index as text ('2'), with wnid null. Same order as decode_predictions:
 * score descending, ties by the lower index, NaN last. `top` above the number of classes gives
 * every class.
 */
export function rankClasses(scores: ClassScores, top = 5): RankedClass[][] {
  const { data, rows, classes } = scores;
  const classNames = scores.classNames ?? null;
  if (!Number.isInteger(top) || top < 1) throw new DecodePredictionsError('ERR_DECODE_PREDICTIONS_TOP', `rankClasses: top must be a positive integer; got ${String(top)}.`);
  if (!Number.isInteger(classes) || classes < 1 || !Number.isInteger(rows) || rows < 0 || data.length !== rows * classes) {
    throw new DecodePredictionsError('ERR_DECODE_PREDICTIONS_SHAPE', `rankClasses: data holds ${data.length} values but ${rows} rows of ${classes} classes need ${rows * classes}; pass matching data, rows and classes.`);
  }
  if (classNames !== null && classNames.length !== classes) {
    throw new DecodePredictionsError('ERR_DECODE_PREDICTIONS_SHAPE', `rankClasses: ${classNames.length} class names for ${classes} classes; pass one name per class.`);
  }
  const k = Math.min(top, classes);
  if (classes === 1000 && classNames === null) return decodePredictions({ data, shape: [rows, classes] }, k);
  return Array.from({ length: rows }, (_, r) => {
    const at = (i: number): number => Number(data[r * classes + i]);
    return topIndices(data, k, r * classes, classes).map((index) => ({ index, wnid: null, label: classNames?.[index] ?? String(index), score: at(index) }));
  });
}
