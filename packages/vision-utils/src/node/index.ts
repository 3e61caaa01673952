/**
 * @xception/vision-utils/node: photo files to Xception input with sharp (libvips), plus everything
 * from the universal entry.
 */
export * from '../index.js';
export { loadImage, loadImageWithThumbnail, canDecodeHeic, type ImageInput, type ThumbnailRequest } from './load-image.js';
export { loadImageTensor, loadImageBatch, type LoadTensorOptions, type LoadBatchOptions } from './load-image-tensor.js';
