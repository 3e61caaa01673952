import * as tf from '@tensorflow/tfjs-core';
import type { DecodedImage } from './decoded-image.js';
import { PreprocessError } from './errors.js';
import { preprocessInput, type PreprocessOptions } from './preprocess-input.js';

export interface ImageTensorOptions extends PreprocessOptions {
  /** Apply preprocessInput (default true). false gives float32 pixel values 0–255. */
  preprocess?: boolean;
}

/**
 * Stacks decoded images (all the same size) into a float32 tensor [N, height, width, 3], by default
 * already scaled by Keras' preprocess_input, ready for the model. The caller owns the tensor.
 */
export function imagesToTensor(images: DecodedImage | readonly DecodedImage[], options: ImageTensorOptions = {}): tf.Tensor4D {
  const list: readonly DecodedImage[] = Array.isArray(images) ? images : [images as DecodedImage];
  if (list.length === 0) {
    throw new PreprocessError('ERR_PREPROCESS_INPUT', 'imagesToTensor: no images given; pass at least one decoded image.');
  }
  const { width, height } = list[0]!;
  const size = width * height * 3;
  for (const image of list) {
    if (image.width !== width || image.height !== height || image.pixels.length !== size) {
      throw new PreprocessError(
        'ERR_PREPROCESS_INPUT',
        `imagesToTensor: ${image.source} is ${image.width}×${image.height} but the batch is ${width}×${height}; load every image with the same size option.`,
      );
    }
  }
  const data = new Float32Array(list.length * size);
  list.forEach((image, i) => {
    if (options.preprocess === false) data.set(image.pixels, i * size);
    else data.set(preprocessInput(image.pixels, options), i * size);
  });
  return tf.tensor4d(data, [list.length, height, width, 3], 'float32');
}
