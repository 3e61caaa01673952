import { open as openFile, readFile, stat } from 'node:fs/promises';
import type { KernelEnum, Metadata, OutputInfo, Sharp, SharpOptions } from 'sharp';
import type { DecodedImage } from '../decoded-image.js';
import { ImageDecodeError, type ImageDecodeErrorCode } from '../errors.js';
import { resolveImageOptions, type ImageLoadOptions, type Interpolation, type ResolvedImageOptions } from '../image-options.js';
import { looksTruncated, readImageHeader } from '../image-header.js';
import { planResize } from '../resize-plan.js';
import { sampleNearest } from '../sample-nearest.js';
import { classifySharpError } from './classify-sharp-error.js';
import { sharpModule } from './sharp-module.js';

/** A file path, or the bytes of an image file (Buffer, Uint8Array, ArrayBuffer). */
export type ImageInput = string | Uint8Array | ArrayBuffer;

/** Formats decoded for photos. Others sharp knows (SVG, PDF, raw, ...) are refused as unsupported. */
const PHOTO_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

const SHARP_KERNELS: Record<Interpolation, keyof KernelEnum> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos3: 'lanczos3',
};

/** Whether this sharp build decodes HEIC (HEVC in HEIF). The prebuilt sharp binaries decode AVIF only. */
export function canDecodeHeic(): boolean {
  return (sharpModule().format.heif?.input.fileSuffix ?? []).some((s) => s.toLowerCase() === '.heic');
}

/**
 * Photos up to this size are read into memory once and handed to sharp as bytes. Given a path,
 * libvips opens the file again for every loader it asks "is this yours?" and for each pass
 * (~30 opens and ~140 seeks per JPEG, measured with strace): ~3 ms of CPU per photo on a
 * 2-core VM, a third of a 71x71 decode's, most of it system time. Larger files (scans, big
 * TIFFs) stay on disk for libvips to stream.
 */
const READ_WHOLE_BELOW = 64 * 1024 * 1024;

interface Opened {
  readonly input: string | Buffer;
  readonly source: string;
  readonly path: string | undefined;
}

async function open(input: ImageInput): Promise<Opened> {
  if (typeof input === 'string') {
    const path = input;
    const fail = (code: ImageDecodeErrorCode, message: string, cause?: unknown): never => {
      throw new ImageDecodeError(code, path, message, { path, cause });
    };
    let size = 0;
    try {
      const info = await stat(path);
      if (!info.isFile()) fail('ERR_IMAGE_UNREADABLE', 'not a file (a directory or device); pass the path of a photo');
      size = info.size;
    } catch (error) {
      if (error instanceof ImageDecodeError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      fail('ERR_IMAGE_UNREADABLE', code === 'ENOENT' ? 'no such file; check the path' : `cannot be read (${code ?? String(error)}); check the path and permissions`, error);
    }
    if (size === 0) fail('ERR_IMAGE_EMPTY', 'the file is empty (0 bytes); re-export or re-copy the photo');
    if (size > READ_WHOLE_BELOW) return { input: path, source: path, path };
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      return fail('ERR_IMAGE_UNREADABLE', `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path and permissions`, error);
    }
    if (bytes.length === 0) fail('ERR_IMAGE_EMPTY', 'the file is empty (0 bytes); re-export or re-copy the photo');
    return { input: bytes, source: path, path };
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const bytes = input instanceof ArrayBuffer ? Buffer.from(input) : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const source = `<buffer of ${bytes.length} bytes>`;
    if (bytes.length === 0) throw new ImageDecodeError('ERR_IMAGE_EMPTY', source, 'the image is empty (0 bytes); pass the bytes of an image file');
    return { input: bytes, source, path: undefined };
  }
  throw new ImageDecodeError(
    'ERR_IMAGE_UNREADABLE',
    `<${input === null ? 'null' : typeof input}>`,
    'expected a file path, a Buffer, a Uint8Array or an ArrayBuffer; pass one of those',
  );
}

function sharpOptions(o: ResolvedImageOptions): SharpOptions {
  return {
    // Refused again by libvips itself in case the header lied about the size.
    limitInputPixels: o.maxPixels,
    // Truncated and corrupt data fail; mere warnings (extraneous bytes) do not, as in Pillow.
    failOn: 'error',
    // GIF, WebP, TIFF, HEIF: the first frame/page only.
    pages: 1,
    page: 0,
    autoOrient: o.autoOrient,
    // Keras (Pillow) ignores embedded ICC profiles; libvips would convert them to sRGB.
    ignoreIcc: o.colorManagement === 'ignore',
  };
}

/** Decoding goes through sharp's thread pool; this just makes every step reject with a typed error. */
async function guarded<T>(opened: Opened, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const classified = classifySharpError(error, opened.source, opened.path);
    // libvips' error text is lost now and then when several images fail at once ("Unknown
    // error"): then the file's own structure tells a cut-off file from a damaged one.
    if (classified.code === 'ERR_IMAGE_UNREADABLE' && (await endsEarly(opened))) {
      throw new ImageDecodeError('ERR_IMAGE_TRUNCATED', opened.source, 'the file ends before the image does; re-copy or re-download it', {
        cause: error, ...(opened.path === undefined ? {} : { path: opened.path }),
      });
    }
    throw classified;
  }
}

/** A JPEG without its end-of-image marker or a PNG without IEND in its last bytes. */
async function endsEarly(opened: Opened): Promise<boolean> {
  const [head, tail] = await readEnds(opened, 64 * 1024, 1024).catch(() => [null, null]);
  const format = head ? readImageHeader(head)?.format : undefined;
  return format !== undefined && tail !== null && looksTruncated(format, tail);
}

/** The first `headBytes` and last `tailBytes` of the input. */
async function readEnds(opened: Opened, headBytes: number, tailBytes: number): Promise<[Uint8Array, Uint8Array]> {
  if (typeof opened.input !== 'string') return [opened.input.subarray(0, headBytes), opened.input.subarray(Math.max(0, opened.input.length - tailBytes))];
  const handle = await openFile(opened.input, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(headBytes, size));
    const tail = Buffer.alloc(Math.min(tailBytes, size));
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
    return [head, tail];
  } finally {
    await handle.close();
  }
}

function refuseIfTooLarge(width: number, height: number, o: ResolvedImageOptions, opened: Opened): void {
  if (width * height > o.maxPixels) {
    throw new ImageDecodeError(
      'ERR_IMAGE_TOO_LARGE', opened.source,
      `${width}×${height} = ${width * height} pixels is over the limit of ${o.maxPixels}; raise maxPixels if you trust the file`,
      opened.path === undefined ? {} : { path: opened.path },
    );
  }
}

/**
 * The size a file's own header announces, read from its first bytes without any decoder: a
 * decompression bomb is refused even when it is nothing but a header, which libvips would
 * reject as corrupt before looking at its size.
 */
async function sniffedSize(opened: Opened): Promise<{ width: number; height: number } | null> {
  const ends = await readEnds(opened, 64 * 1024, 0).catch(() => null);
  if (!ends) return null; // sharp reports the reason
  const header = readImageHeader(ends[0]);
  return header?.width !== undefined && header.height !== undefined ? { width: header.width, height: header.height } : null;
}

function checkHeader(meta: Metadata, o: ResolvedImageOptions, opened: Opened): { width: number; height: number; format: string } {
  const fail = (code: ImageDecodeErrorCode, message: string): never => {
    throw new ImageDecodeError(code, opened.source, message, opened.path === undefined ? {} : { path: opened.path });
  };
  const format = String(meta.format ?? 'unknown');
  if (!PHOTO_FORMATS.has(format)) {
    fail('ERR_IMAGE_UNSUPPORTED', `${format.toUpperCase()} is not a photo format this loader decodes; convert it to JPEG or PNG`);
  }
  if (format === 'heif' && meta.compression === 'hevc' && !canDecodeHeic()) {
    fail('ERR_IMAGE_UNSUPPORTED', 'HEIC (HEVC) is not decoded by this build of sharp/libvips, which reads AVIF only; convert the photo to JPEG');
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (!(width > 0 && height > 0)) fail('ERR_IMAGE_UNREADABLE', 'the header gives no image size; the file is damaged');
  refuseIfTooLarge(width, height, o, opened);
  // EXIF orientations 5–8 swap the sides.
  const swap = o.autoOrient && (meta.orientation ?? 1) >= 5;
  return { width: swap ? height : width, height: swap ? width : height, format };
}

function prepare(pipeline: Sharp, o: ResolvedImageOptions): Sharp {
  return pipeline
    .timeout({ seconds: Math.max(1, Math.ceil(o.timeoutMs / 1000)) })
    .flatten({ background: o.background })
    .toColourspace('srgb') // greyscale, CMYK (via its ICC profile), 16-bit → 8-bit sRGB
    .removeAlpha();
}

/**
 * Decodes one photo and resizes it as the options say (default: Keras' load_img, 299×299 squash,
 * Pillow nearest on the full decode). The header is read first, so decompression bombs are refused
 * before any pixel is decoded. Every failure rejects with an ImageDecodeError naming the source.
 * Safe to call concurrently (in one thread or from worker_threads): decoding runs on sharp's
 * thread pool and the JavaScript part is one lookup per output pixel.
 */
export function loadImage(input: ImageInput, options: ImageLoadOptions = {}): Promise<DecodedImage> {
  return decodePhoto(input, options, null);
}

/** A square, cover-cropped JPEG preview made from the same decode as the model's input. */
export interface ThumbnailRequest {
  /** Side in pixels. */
  size: number;
  /** JPEG quality (default 78). */
  quality?: number;
}

/**
 * loadImage plus a thumbnail (upright, sRGB, cover-cropped JPEG) from the same decode, so that a
 * photo library that shows a grid while it tags decodes each photo once: the model's pixels are
 * exactly loadImage's, and the thumbnail is resized from the full decoded pixels in memory. With
 * shrinkOnLoad (where the model's decode is already reduced) the thumbnail is its own
 * shrink-on-load decode, cheap for a JPEG.
 */
export async function loadImageWithThumbnail(input: ImageInput, options: ImageLoadOptions, thumbnail: ThumbnailRequest): Promise<DecodedImage & { thumbnail: Uint8Array }> {
  const decoded = await decodePhoto(input, options, thumbnail);
  return decoded as DecodedImage & { thumbnail: Uint8Array };
}

async function decodePhoto(input: ImageInput, options: ImageLoadOptions, thumb: ThumbnailRequest | null): Promise<DecodedImage & { thumbnail?: Uint8Array }> {
  const o = resolveImageOptions(options);
  const sharp = sharpModule();
  const opened = await open(input);
  const announced = await sniffedSize(opened);
  if (announced) refuseIfTooLarge(announced.width, announced.height, o, opened);
  // Header only (no pixels are decoded), so no pixel limit here: the size check below says more.
  const meta = await guarded(opened, () => sharp(opened.input, { ...sharpOptions(o), autoOrient: false, limitInputPixels: false }).metadata());
  const upright = checkHeader(meta, o, opened);
  const plan = planResize(upright.width, upright.height, o);
  const { crop } = plan;
  let thumbnail: Promise<Uint8Array> | undefined;

  const pixels = await guarded(opened, async () => {
    if (o.shrinkOnLoad) {
      if (thumb) thumbnail = coverJpeg(prepare(sharp(opened.input, sharpOptions(o)), o), thumb);
      // One pipeline: libvips picks the JPEG/WebP shrink-on-load factor, then the kernel finishes.
      const out = await prepare(sharp(opened.input, sharpOptions(o)), o)
        .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: SHARP_KERNELS[o.interpolation], fastShrinkOnLoad: true })
        .extract(crop)
        .raw()
        .toBuffer({ resolveWithObject: true });
      return checkRaw(out, crop.width, crop.height, opened);
    }
    // Full-size decode, once, as Pillow does in Keras' load_img.
    const full = await prepare(sharp(opened.input, sharpOptions(o)), o).raw().toBuffer({ resolveWithObject: true });
    if (full.info.channels !== 3) throw new Error(`decoder gave ${full.info.channels} channels, not 3`);
    const raw = { raw: { width: full.info.width, height: full.info.height, channels: 3 as const } };
    // The thumbnail from the pixels in memory (sharp's threads), while the model's sampling runs here.
    if (thumb) thumbnail = coverJpeg(sharp(full.data, raw), thumb);
    if (o.interpolation === 'nearest') {
      return sampleNearest({ data: full.data, width: full.info.width, height: full.info.height, channels: 3 }, plan);
    }
    const out = await sharp(full.data, raw)
      .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: SHARP_KERNELS[o.interpolation] })
      .extract(crop)
      .raw()
      .toBuffer({ resolveWithObject: true });
    return checkRaw(out, crop.width, crop.height, opened);
  });

  return {
    pixels,
    width: crop.width,
    height: crop.height,
    originalWidth: upright.width,
    originalHeight: upright.height,
    format: upright.format,
    source: opened.source,
    ...(opened.path === undefined ? {} : { path: opened.path }),
    ...(thumbnail ? { thumbnail: await guarded(opened, () => thumbnail!) } : {}),
  };
}

/** Started beside the model's pixels and awaited after them: a failure is marked handled until then. */
function coverJpeg(pipeline: Sharp, { size, quality = 78 }: ThumbnailRequest): Promise<Uint8Array> {
  const jpeg = pipeline.resize(size, size, { fit: 'cover' }).jpeg({ quality }).toBuffer();
  jpeg.catch(() => undefined);
  return jpeg;
}

function checkRaw(out: { data: Buffer; info: OutputInfo }, width: number, height: number, opened: Opened): Uint8Array {
  if (out.info.width !== width || out.info.height !== height || out.info.channels !== 3) {
    throw new ImageDecodeError(
      'ERR_IMAGE_UNREADABLE',
      opened.source,
      `the decoder gave ${out.info.width}×${out.info.height}×${out.info.channels} instead of ${width}×${height}×3; report this with the file`,
    );
  }
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}
