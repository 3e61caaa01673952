import type { DecodedImage } from '../decoded-image.js';
import { ImageDecodeError, type ImageDecodeErrorCode } from '../errors.js';
import { jpegWithoutOrientation } from '../exif-orientation.js';
import { looksTruncated, readImageHeader, type SniffedFormat } from '../image-header.js';
import { resolveImageOptions, type ImageLoadOptions, type Interpolation, type ResolvedImageOptions } from '../image-options.js';
import { planResize, type ResizePlan } from '../resize-plan.js';
import { sampleNearest } from '../sample-nearest.js';

/** What a page or an Electron renderer can hand over. */
export type BrowserImageSource = Blob | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

/** Formats browsers decode in createImageBitmap (AVIF in current Chromium, Firefox and Safari). */
const BROWSER_FORMATS: ReadonlySet<SniffedFormat> = new Set(['jpeg', 'png', 'gif', 'webp', 'bmp', 'avif']);
/** Bytes read before decoding: enough for the JPEG segments before SOF (EXIF thumbnails can be ~64 KB). */
const HEADER_BYTES = 256 * 1024;

const SMOOTHING: Record<Exclude<Interpolation, 'nearest'>, ImageSmoothingQuality> = {
  bilinear: 'low',
  bicubic: 'medium',
  lanczos3: 'high',
};

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
type Drawable = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

function newContext(width: number, height: number): Canvas2D {
  const settings = { willReadFrequently: true, colorSpace: 'srgb' as const };
  if (typeof OffscreenCanvas !== 'undefined') {
    const ctx = new OffscreenCanvas(width, height).getContext('2d', settings);
    if (ctx) return ctx;
  }
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', settings) as CanvasRenderingContext2D | null;
    if (ctx) return ctx;
  }
  throw new Error('no 2D canvas (OffscreenCanvas or document) in this context');
}

function describeSource(source: unknown): string {
  if (typeof File !== 'undefined' && source instanceof File) return source.name || `<file of ${source.size} bytes>`;
  if (typeof Blob !== 'undefined' && source instanceof Blob) return `<blob of ${source.size} bytes>`;
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return source.currentSrc || source.src || '<img>';
  if (source && typeof source === 'object') return `<${source.constructor?.name ?? 'object'}>`;
  return `<${source === null ? 'null' : typeof source}>`;
}

function sizeOf(source: Drawable): { width: number; height: number } {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) return { width: source.naturalWidth, height: source.naturalHeight };
  return { width: source.width, height: source.height };
}

/**
 * The browser and Electron-renderer twin of the Node loadImage: same options, same output, same
 * resize plans. The default ('nearest') samples the fully decoded pixels in JavaScript with
 * Pillow's rule, so a PNG gives the same bytes as in Node; JPEG pixels can differ by the browser's
 * JPEG decoder (IDCT and chroma upsampling), which is not Keras' libjpeg. Files and Blobs are
 * sniffed first: non-images, formats the browser does not decode (TIFF, HEIC, SVG), cut-off JPEG
 * and PNG files and images over maxPixels are refused before decoding. EXIF orientation is
 * applied by the browser (createImageBitmap 'from-image'; <img> by default); with autoOrient
 * false a File or Blob JPEG is decoded as stored (its orientation tag hidden from the decoder). shrinkOnLoad does
 * nothing here. Every failure rejects with an ImageDecodeError naming the file.
 */
export async function loadImageInBrowser(source: BrowserImageSource, options: ImageLoadOptions = {}): Promise<DecodedImage> {
  const o = resolveImageOptions(options);
  const name = describeSource(source);
  const fail = (code: ImageDecodeErrorCode, message: string, cause?: unknown): never => {
    throw new ImageDecodeError(code, name, message, cause === undefined ? {} : { cause });
  };
  let drawable: Drawable;
  let owned: ImageBitmap | undefined;
  let format = 'unknown';
  try {
    if (typeof Blob !== 'undefined' && source instanceof Blob) {
      if (source.size === 0) fail('ERR_IMAGE_EMPTY', 'the file is empty (0 bytes); re-export or re-copy the photo');
      const head = new Uint8Array(await source.slice(0, HEADER_BYTES).arrayBuffer());
      const header = readImageHeader(head);
      if (!header) fail('ERR_IMAGE_NOT_AN_IMAGE', 'not an image in any format the browser decodes (JPEG, PNG, WebP, GIF, BMP, AVIF); check that the file is a photo');
      format = header!.format;
      if (!BROWSER_FORMATS.has(header!.format)) {
        fail('ERR_IMAGE_UNSUPPORTED', `${header!.format.toUpperCase()} is not decoded here; convert it to JPEG or PNG (or load it in Node)`);
      }
      if (header!.width !== undefined && header!.height !== undefined && header!.width * header!.height > o.maxPixels) {
        fail('ERR_IMAGE_TOO_LARGE', `${header!.width}×${header!.height} pixels is over the limit of ${o.maxPixels}; raise maxPixels if you trust the file`);
      }
      const tail = new Uint8Array(await source.slice(Math.max(0, source.size - 1024)).arrayBuffer());
      if (looksTruncated(header!.format, tail)) fail('ERR_IMAGE_TRUNCATED', 'the file ends before the image does; re-copy or re-download it');
      try {
        // Chromium applies EXIF orientation even with imageOrientation 'none' (now an alias of
        // 'from-image'): without autoOrient the decoder gets a JPEG whose tag reads "upright".
        const unrotated = !o.autoOrient && header!.format === 'jpeg' ? jpegWithoutOrientation(new Uint8Array(await source.arrayBuffer())) : null;
        owned = await createImageBitmap(unrotated ? new Blob([unrotated as BlobPart]) : source, { imageOrientation: o.autoOrient ? 'from-image' : 'none', premultiplyAlpha: 'default' } as ImageBitmapOptions);
      } catch (error) {
        fail('ERR_IMAGE_UNREADABLE', 'the browser could not decode the image; the file is damaged or in a variant it does not support', error);
      }
      drawable = owned!;
    } else if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
      try {
        await source.decode();
      } catch (error) {
        fail('ERR_IMAGE_UNREADABLE', 'the <img> did not load or decode; check its src', error);
      }
      drawable = source;
    } else if (source && typeof source === 'object' && 'width' in source && 'height' in source) {
      drawable = source as Drawable;
    } else {
      return fail('ERR_IMAGE_UNREADABLE', 'expected a File, Blob, ImageBitmap, <img>, <canvas> or OffscreenCanvas; pass one of those');
    }
    const { width, height } = sizeOf(drawable);
    if (!(width > 0 && height > 0)) fail('ERR_IMAGE_UNREADABLE', 'the image has no pixels (0×0); check that it has loaded');
    if (width * height > o.maxPixels) fail('ERR_IMAGE_TOO_LARGE', `${width}×${height} pixels is over the limit of ${o.maxPixels}; raise maxPixels if you trust the image`);
    const plan = planResize(width, height, o);
    const pixels = o.interpolation === 'nearest' ? drawNearest(drawable, width, height, plan, o) : drawFiltered(drawable, plan, o);
    return { pixels, width: plan.crop.width, height: plan.crop.height, originalWidth: width, originalHeight: height, format, source: name };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    return fail('ERR_IMAGE_UNREADABLE', `the image could not be drawn (${error instanceof Error ? error.message : String(error)})`, error);
  } finally {
    owned?.close();
  }
}

function fillBackground(ctx: Canvas2D, width: number, height: number, o: ResolvedImageOptions): void {
  // Painting the background first and drawing over it is alpha flattening, as in the Node decoder.
  const { r, g, b } = o.background;
  ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
  ctx.fillRect(0, 0, width, height);
}

/** Full-size draw, then Pillow's nearest in JavaScript: the same sampling as Node and Keras. */
function drawNearest(source: Drawable, width: number, height: number, plan: ResizePlan, o: ResolvedImageOptions): Uint8Array {
  const ctx = newContext(width, height);
  fillBackground(ctx, width, height, o);
  ctx.drawImage(source, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  return sampleNearest({ data: rgba, width, height, channels: 4 }, plan);
}

/** The browser's own smoothing: resize the whole image so that the crop window lands on the canvas. */
function drawFiltered(source: Drawable, plan: ResizePlan, o: ResolvedImageOptions): Uint8Array {
  const { left, top, width, height } = plan.crop;
  const ctx = newContext(width, height);
  fillBackground(ctx, width, height, o);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = SMOOTHING[o.interpolation as Exclude<Interpolation, 'nearest'>];
  ctx.drawImage(source, -left, -top, plan.resizeWidth, plan.resizeHeight);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i]!;
    out[j + 1] = rgba[i + 1]!;
    out[j + 2] = rgba[i + 2]!;
  }
  return out;
}
