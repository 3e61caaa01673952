import * as tf from '@tensorflow/tfjs-core';
import { PreprocessError } from './errors.js';
import { preprocessPixels } from './preprocess-pixels.js';

/**
 * Keras' preprocess_input modes. Xception (like Inception and MobileNet) uses 'tf': pixels in
 * [0, 255] are scaled to [-1, 1]; the ImageNet weights only give Keras' answers with this scaling.
 */
export type PreprocessMode = 'tf';

export interface PreprocessOptions {
  /** Default 'tf', the mode keras.applications.xception.preprocess_input uses. */
  mode?: PreprocessMode;
}

const MODES: readonly string[] = ['tf'];

function checkMode(options: PreprocessOptions | undefined): PreprocessMode {
  const mode = options?.mode ?? 'tf';
  if (!MODES.includes(mode as string)) {
    throw new PreprocessError(
      'ERR_PREPROCESS_MODE',
      `preprocessInput: unknown mode ${JSON.stringify(mode)}; use 'tf' (Keras' Xception scaling, x / 127.5 - 1).`,
    );
  }
  return mode;
}

/**
 * Keras' `preprocess_input(x, mode='tf')`: x / 127.5 - 1, elementwise, any shape.
 * A tensor gives a new float32 tensor (the input is not disposed); a typed array or number array
 * gives a new Float32Array.
 */
export function preprocessInput<T extends tf.Tensor>(x: T, options?: PreprocessOptions): T;
export function preprocessInput(x: ArrayLike<number>, options?: PreprocessOptions): Float32Array;
export function preprocessInput(x: tf.Tensor | ArrayLike<number>, options?: PreprocessOptions): tf.Tensor | Float32Array {
  checkMode(options);
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) {
      throw new PreprocessError('ERR_PREPROCESS_INPUT', 'preprocessInput: the tensor has been disposed; pass a live tensor.');
    }
    if (x.dtype === 'string' || x.dtype === 'complex64') {
      throw new PreprocessError('ERR_PREPROCESS_INPUT', `preprocessInput: a ${x.dtype} tensor cannot be scaled; pass pixel values as a numeric tensor.`);
    }
    // Same order of operations as Keras (divide, then subtract) so float32 results match bit for bit.
    return tf.tidy(() => tf.sub(tf.div(tf.cast(x, 'float32'), 127.5), 1));
  }
  if (x == null || typeof (x as ArrayLike<number>).length !== 'number') {
    throw new PreprocessError('ERR_PREPROCESS_INPUT', 'preprocessInput: expected a tensor, a typed array or an array of numbers; got ' + describe(x) + '.');
  }
  return preprocessPixels(x);
}

function describe(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
}
