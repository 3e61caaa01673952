import { RuntimeError } from './runtime-error.js';

/** Keras' ImageNet classifier was trained at 299x299: its top takes nothing else. */
export const IMAGENET_SIZE = 299;

/**
 * Keras' rule for the ImageNet weights with their classifier top: 299x299 only (a file is a
 * whole model, and without the top any size from 71 up works). Front doors call it before
 * they start anything, openModel() again.
 */
export function checkImageSize(weights: string | null, imageSize: number | undefined, includeTop = true): void {
  if (weights !== 'imagenet' || !includeTop || imageSize === undefined || imageSize === IMAGENET_SIZE) return;
  throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'imageSize', (w) =>
    `${w.option('imageSize', String(imageSize))} needs other weights than ${w.value('weights', 'imagenet')}, whose classifier expects ${IMAGENET_SIZE}x${IMAGENET_SIZE}; use ${w.option('imageSize', String(IMAGENET_SIZE))}.`);
}
