import { ImageOptionsError } from './errors.js';

/**
 * How the decoded photo becomes the model's input size.
 * - 'squash': the whole photo is resized to the target size, aspect ratio not kept. This is
 *   Keras' `load_img(path, target_size=(299, 299))`, which produced Keras' published results.
 * - 'center-crop': timm's evaluation transform: the shorter side is resized to
 *   floor(size / cropFraction) (333 for 299 at timm's Xception crop fraction 0.8975), then the
 *   centre size×size is cut out; the aspect ratio is kept and the borders are dropped.
 */
export type ResizeMode = 'squash' | 'center-crop';

/**
 * How pixels are sampled when resizing.
 * - 'nearest' (default): Pillow's nearest neighbour (what Keras' load_img uses by default), computed
 *   in JavaScript on the fully decoded pixels, so Node and browsers give the same bytes as Pillow.
 * - 'bilinear', 'bicubic', 'lanczos3': the decoder's own filtered resize (sharp/libvips in Node,
 *   canvas drawImage in browsers). libvips first box-averages by whole factors, so these behave
 *   like area averaging for large reductions. They are smoother than 'nearest' but do not give
 *   Keras' pixels.
 */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos3';

/**
 * What happens to a photo's embedded ICC colour profile.
 * - 'ignore' (default): the stored values are used as they are, as Keras' load_img (Pillow),
 *   TensorFlow's decode_jpeg and so ImageNet training do; the pixels are Keras' pixels.
 * - 'srgb': colour-managed: the values are converted from the embedded profile (Camera RGB,
 *   Display P3, Gray Gamma 2.2, ...) to sRGB, so the colours look as the photographer saw them,
 *   but the numbers differ from Keras' (by up to ~30 levels on the shared photos with a
 *   profile). Photos without a profile, and browsers' canvas decoding, are unaffected by it.
 */
export type ColorManagement = 'ignore' | 'srgb';

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

export interface ImageLoadOptions {
  /** Output size: one number for a square, or [height, width] in Keras' target_size order. Default [299, 299]. */
  size?: number | readonly [height: number, width: number];
  /** Default 'squash' (Keras' load_img). */
  resize?: ResizeMode;
  /** Fraction of the resized shorter side kept by 'center-crop', in (0, 1]. Default 0.8975 (timm's Xception). */
  cropFraction?: number;
  /** Default 'nearest' (Keras' load_img default). */
  interpolation?: Interpolation;
  /**
   * Let the codec decode at a reduced size (JPEG DCT scaling by 1/2, 1/4, 1/8; WebP likewise) and
   * resize with the decoder's filter. Several times faster on big JPEGs, but the pixels differ from
   * Keras', which decodes the full image. Default false. Node only; browsers always decode fully.
   */
  shrinkOnLoad?: boolean;
  /** Colour that transparent pixels are flattened onto (0–255 each). Default white {255, 255, 255}. */
  background?: Rgb;
  /** Images with more pixels than this (width × height, read from the header) are refused before decoding. Default 100 MP. */
  maxPixels?: number;
  /** Apply the EXIF orientation so photos come out upright (Keras' load_img does not). Default true. */
  autoOrient?: boolean;
  /** Default 'ignore' (Keras' pixels): see ColorManagement. Node only. */
  colorManagement?: ColorManagement;
  /** Give up on one image after this many milliseconds (Node; pathological files). Default 30 000. */
  timeoutMs?: number;
}

export interface ResolvedImageOptions {
  readonly height: number;
  readonly width: number;
  readonly resize: ResizeMode;
  readonly cropFraction: number;
  readonly interpolation: Interpolation;
  readonly shrinkOnLoad: boolean;
  readonly background: Rgb;
  readonly maxPixels: number;
  readonly autoOrient: boolean;
  readonly timeoutMs: number;
  readonly colorManagement: ColorManagement;
}

/** timm's crop_pct for Xception (timm/models/xception.py default_cfg). */
export const XCEPTION_CROP_FRACTION = 0.8975;
export const DEFAULT_IMAGE_SIZE = 299;
export const DEFAULT_MAX_PIXELS = 100_000_000;
export const DEFAULT_BACKGROUND: Rgb = Object.freeze({ r: 255, g: 255, b: 255 });

const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'center-crop'];
const COLOR_MANAGEMENTS: readonly ColorManagement[] = ['ignore', 'srgb'];
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos3'];
/** Larger outputs are certainly a mistake (a swapped argument, a pixel count passed as size). */
const MAX_SIDE = 16384;

function fail(what: string): never {
  throw new ImageOptionsError(`image options: ${what}.`);
}

function isSide(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_SIDE;
}

/** Fills in defaults and checks every option, so that decoders never see a bad value. */
export function resolveImageOptions(options: ImageLoadOptions = {}): ResolvedImageOptions {
  if (options === null || typeof options !== 'object') fail(`expected an options object, got ${String(options)}`);
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  const [height, width] = typeof size === 'number' ? [size, size] : Array.isArray(size) ? size : [undefined, undefined];
  if (!isSide(height) || !isSide(width)) {
    fail(`size must be an integer from 1 to ${MAX_SIDE} or [height, width] of such integers; got ${JSON.stringify(size)}`);
  }
  const resize = options.resize ?? 'squash';
  if (!RESIZE_MODES.includes(resize)) fail(`resize must be one of ${RESIZE_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(resize)}`);
  const cropFraction = options.cropFraction ?? XCEPTION_CROP_FRACTION;
  if (typeof cropFraction !== 'number' || !(cropFraction > 0 && cropFraction <= 1)) {
    fail(`cropFraction must be a number in (0, 1] (timm's Xception uses 0.8975); got ${String(cropFraction)}`);
  }
  const interpolation = options.interpolation ?? 'nearest';
  if (!INTERPOLATIONS.includes(interpolation)) {
    fail(`interpolation must be one of ${INTERPOLATIONS.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(interpolation)}`);
  }
  const background = options.background ?? DEFAULT_BACKGROUND;
  const channel = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
  if (!background || !channel(background.r) || !channel(background.g) || !channel(background.b)) {
    fail(`background must be {r, g, b} with integers 0–255; got ${JSON.stringify(background)}`);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !Number.isInteger(maxPixels) || maxPixels < 1) fail(`maxPixels must be a positive integer; got ${String(maxPixels)}`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) fail(`timeoutMs must be a positive number; got ${String(timeoutMs)}`);
  const colorManagement = options.colorManagement ?? 'ignore';
  if (!COLOR_MANAGEMENTS.includes(colorManagement)) {
    fail(`colorManagement must be one of ${COLOR_MANAGEMENTS.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(colorManagement)}`);
  }
  const shrinkOnLoad = options.shrinkOnLoad ?? false;
  const autoOrient = options.autoOrient ?? true;
  if (typeof shrinkOnLoad !== 'boolean') fail(`shrinkOnLoad must be true or false; got ${String(shrinkOnLoad)}`);
  if (typeof autoOrient !== 'boolean') fail(`autoOrient must be true or false; got ${String(autoOrient)}`);
  return {
    height,
    width,
    resize,
    cropFraction,
    interpolation,
    shrinkOnLoad,
    background: { r: background.r, g: background.g, b: background.b },
    maxPixels,
    autoOrient,
    timeoutMs,
    colorManagement,
  };
}
