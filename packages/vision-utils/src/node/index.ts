/**
 * @xception/vision-utils/node: photo files to Xception input with sharp (libvips), plus everything
 * from the universal entry.
 */
export * from '../index.js';
export { loadImage, canDecodeHeic, type ImageInput } from './load-image.js';
export { loadImageTensor, loadImageBatch, type LoadTensorOptions, type LoadBatchOptions } from './load-image-tensor.js';
