import * as tf from '@tensorflow/tfjs-core';
import { DecodePredictionsError } from './errors.js';
import { IMAGENET_CLASSES } from './imagenet-class.js';
import { topIndices } from './top-indices.js';

/** One ranked class for one image, as Keras' (wnid, label, score) plus the class index. */
export interface Prediction {
  readonly index: number;
  readonly wnid: string;
  readonly label: string;
  readonly score: number;
}

/** Scores as a flat buffer plus its shape, e.g. what an ONNX or tfjs output gives. */
export interface PredictionBuffer {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

export type PredictionsInput = tf.Tensor | readonly ArrayLike<number>[] | PredictionBuffer;

const NUM_CLASSES = IMAGENET_CLASSES.length;

/** Python's str() of a shape tuple, as Keras prints it: (2, 1000), (1000,), (). */
function pythonShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function shapeError(shape: readonly number[]): DecodePredictionsError {
  // Keras' wording, kept verbatim so that people searching the message find Keras' docs too.
  return new DecodePredictionsError(
    'ERR_DECODE_PREDICTIONS_SHAPE',
    '`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). Found array with shape: ' +
      pythonShape(shape),
  );
}

function toRows(preds: PredictionsInput): { data: ArrayLike<number>[]; } {
  // Duck-typed as well as instanceof: a tensor from a second copy of tfjs-core still works.
  if (preds instanceof tf.Tensor || isTensorLike(preds)) {
    if (preds.isDisposed) {
      throw new DecodePredictionsError('ERR_DECODE_PREDICTIONS_SHAPE', 'decodePredictions: the tensor has been disposed; pass the model output before disposing it.');
    }
    if (preds.rank !== 2 || preds.shape[1] !== NUM_CLASSES) throw shapeError(preds.shape);
    const flat = preds.dataSync() as ArrayLike<number>;
    return { data: sliceRows(flat, preds.shape[0]!) };
  }
  if (Array.isArray(preds)) {
    const rows = preds as readonly ArrayLike<number>[];
    for (const row of rows) {
      if (row == null || typeof row !== 'object' || typeof row.length !== 'number') throw shapeError([rows.length]);
      if (row.length !== NUM_CLASSES) throw shapeError([rows.length, row.length]);
    }
    return { data: [...rows] };
  }
  if (preds != null && typeof preds === 'object' && 'shape' in preds && 'data' in preds && Array.isArray(preds.shape)) {
    const { data, shape } = preds as PredictionBuffer;
    if (shape.length !== 2 || shape[1] !== NUM_CLASSES) throw shapeError(shape);
    if (data == null || data.length !== shape[0]! * NUM_CLASSES) {
      throw new DecodePredictionsError(
        'ERR_DECODE_PREDICTIONS_SHAPE',
        `decodePredictions: data holds ${data?.length ?? 0} values but shape ${pythonShape(shape)} needs ${shape[0]! * NUM_CLASSES}; pass matching data and shape.`,
      );
    }
    return { data: sliceRows(data, shape[0]!) };
  }
  throw new DecodePredictionsError(
    'ERR_DECODE_PREDICTIONS_SHAPE',
    'decodePredictions: expected a tf.Tensor2D, an array of 1000-score rows or {data, shape}; got ' + (preds === null ? 'null' : typeof preds) + '.',
  );
}

function isTensorLike(x: unknown): x is tf.Tensor {
  return x != null && typeof x === 'object' && typeof (x as tf.Tensor).dataSync === 'function' && Array.isArray((x as tf.Tensor).shape) && typeof (x as tf.Tensor).rank === 'number';
}

function sliceRows(flat: ArrayLike<number>, n: number): ArrayLike<number>[] {
  const rows: ArrayLike<number>[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(ArrayBuffer.isView(flat) ? (flat as unknown as Float32Array).subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES) : Array.prototype.slice.call(flat, i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
  }
  return rows;
}

/**
 * Keras' `decode_predictions(preds, top=5)`: for each image, the `top` classes by score, highest
 * first. Ties keep the lower class index first; NaN scores rank last. Synchronous: a tensor is read
 * with dataSync() (use `{ data: await t.data(), shape: t.shape }` to avoid blocking on WebGL).
 */
export function decodePredictions(preds: PredictionsInput, top = 5): Prediction[][] {
  if (!Number.isInteger(top) || top < 1 || top > NUM_CLASSES) {
    throw new DecodePredictionsError('ERR_DECODE_PREDICTIONS_TOP', `decodePredictions: top must be an integer from 1 to ${NUM_CLASSES}; got ${String(top)}.`);
  }
  const { data } = toRows(preds);
  return data.map((row) =>
    topIndices(row, top).map((index) => {
      const c = IMAGENET_CLASSES[index]!;
      return { index, wnid: c.wnid, label: c.label, score: Number(row[index]) };
    }),
  );
}
