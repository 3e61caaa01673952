import type * as tf from '@tensorflow/tfjs-core';
import type { DecodedImage } from '../decoded-image.js';
import type { ImageLoadOptions } from '../image-options.js';
import { imagesToTensor, type ImageTensorOptions } from '../image-tensor.js';
import { loadImage, type ImageInput } from './load-image.js';

export type LoadTensorOptions = ImageLoadOptions & ImageTensorOptions;

export interface LoadBatchOptions extends LoadTensorOptions {
  /** How many images are decoded at once (default 4). sharp also uses its own thread pool per image. */
  concurrency?: number;
}

/** One photo as a float32 tensor [1, height, width, 3], preprocessed for Xception by default. */
export async function loadImageTensor(input: ImageInput, options: LoadTensorOptions = {}): Promise<tf.Tensor4D> {
  return imagesToTensor(await loadImage(input, options), options);
}

/**
 * Several photos as one tensor [N, height, width, 3], in input order. Rejects with the first
 * ImageDecodeError; use loadImage per file to skip bad files instead.
 */
export async function loadImageBatch(inputs: readonly ImageInput[], options: LoadBatchOptions = {}): Promise<tf.Tensor4D> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const images = new Array<DecodedImage>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const i = next++;
      images[i] = await loadImage(inputs[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return imagesToTensor(images, options);
}
