import { ImageOptionsError } from './errors.js';
import { resolveImageOptions, type ImageLoadOptions, type ResolvedImageOptions } from './image-options.js';

/**
 * The geometry both decoders follow: resize the whole (upright) image to resizeWidth ×
 * resizeHeight, then cut out `crop`. For 'squash' the crop is the whole resized image.
 */
export interface ResizePlan {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Where the output pixels come from, for an image of originalWidth × originalHeight (after EXIF
 * orientation). 'center-crop' follows timm's eval transform exactly: for a square size s the
 * shorter side goes to floor(s / cropFraction) and the longer to int(that × long / short)
 * (torchvision's Resize(int)); otherwise both sides are divided by cropFraction; then the crop
 * offsets are Python round((resized − size) / 2), as torchvision's CenterCrop.
 */
export function resizePlan(originalWidth: number, originalHeight: number, options: ImageLoadOptions = {}): ResizePlan {
  return planResize(originalWidth, originalHeight, resolveImageOptions(options));
}

/** resizePlan for options already checked by resolveImageOptions (what the decoders call). */
export function planResize(originalWidth: number, originalHeight: number, o: ResolvedImageOptions): ResizePlan {
  if (!Number.isInteger(originalWidth) || !Number.isInteger(originalHeight) || originalWidth < 1 || originalHeight < 1) {
    throw new ImageOptionsError(`resizePlan: the image size must be positive integers; got ${originalWidth}×${originalHeight}.`);
  }
  if (o.resize === 'squash') {
    return { resizeWidth: o.width, resizeHeight: o.height, crop: { left: 0, top: 0, width: o.width, height: o.height } };
  }
  let resizeWidth: number;
  let resizeHeight: number;
  if (o.width === o.height) {
    const short = Math.floor(o.width / o.cropFraction);
    if (originalWidth <= originalHeight) {
      resizeWidth = short;
      resizeHeight = Math.floor((short * originalHeight) / originalWidth);
    } else {
      resizeHeight = short;
      resizeWidth = Math.floor((short * originalWidth) / originalHeight);
    }
  } else {
    resizeWidth = Math.floor(o.width / o.cropFraction);
    resizeHeight = Math.floor(o.height / o.cropFraction);
  }
  // A very thin image can give a long side shorter than the crop after flooring; never crop outside.
  resizeWidth = Math.max(resizeWidth, o.width);
  resizeHeight = Math.max(resizeHeight, o.height);
  return {
    resizeWidth,
    resizeHeight,
    crop: {
      left: roundHalfEven((resizeWidth - o.width) / 2),
      top: roundHalfEven((resizeHeight - o.height) / 2),
      width: o.width,
      height: o.height,
    },
  };
}
