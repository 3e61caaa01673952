/**
 * @xception/vision-utils, universal entry (browsers, workers, Node): Keras' preprocess_input and
 * decode_predictions, the ImageNet classes, resize geometry and pixel sampling shared by the Node
 * and browser decoders, and typed errors. No sharp and no node: built-ins here.
 */
export {
  VisionUtilsError,
  ImageDecodeError,
  ImageOptionsError,
  PreprocessError,
  DecodePredictionsError,
  type VisionUtilsErrorCode,
  type ImageDecodeErrorCode,
} from './errors.js';
export { preprocessInput, type PreprocessMode, type PreprocessOptions } from './preprocess-input.js';
export { preprocessPixels } from './preprocess-pixels.js';
export { IMAGENET_CLASSES, imagenetClass, tagName, type ImagenetClass } from './imagenet-class.js';
export { IMAGENET_CLASS_INDEX_MD5 } from './imagenet-classes.js';
export { decodePredictions, type Prediction, type PredictionBuffer, type PredictionsInput } from './decode-predictions.js';
export { rankClasses, type ClassScores, type RankedClass } from './rank-classes.js';
export {
  resolveImageOptions,
  XCEPTION_CROP_FRACTION,
  DEFAULT_IMAGE_SIZE,
  DEFAULT_MAX_PIXELS,
  DEFAULT_BACKGROUND,
  type ImageLoadOptions,
  type ResolvedImageOptions,
  type ResizeMode,
  type ColorManagement,
  type Interpolation,
  type Rgb,
} from './image-options.js';
export { resizePlan, planResize, type ResizePlan } from './resize-plan.js';
export { pillowNearestIndices, sampleNearest, type PixelBuffer } from './sample-nearest.js';
export type { DecodedImage } from './decoded-image.js';
export { imagesToTensor, type ImageTensorOptions } from './image-tensor.js';
export { readImageHeader, looksTruncated, type ImageHeader, type SniffedFormat } from './image-header.js';
