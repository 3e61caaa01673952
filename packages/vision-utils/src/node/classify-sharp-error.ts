import { ImageDecodeError, type ImageDecodeErrorCode } from '../errors.js';

/**
 * Turns an error from sharp/libvips into an ImageDecodeError. libvips only gives text, so the
 * message is matched; anything not recognised is ERR_IMAGE_UNREADABLE with libvips' first line kept.
 */
export function classifySharpError(error: unknown, source: string, path: string | undefined): ImageDecodeError {
  if (error instanceof ImageDecodeError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const first = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
  const make = (code: ImageDecodeErrorCode, message: string): ImageDecodeError =>
    new ImageDecodeError(code, source, message, { cause: error, ...(path === undefined ? {} : { path }) });
  if (/unsupported image format/i.test(text)) {
    return make('ERR_IMAGE_NOT_AN_IMAGE', 'not an image in any format the decoder knows (JPEG, PNG, WebP, GIF, TIFF, AVIF); check that the file is a photo');
  }
  if (/buffer is empty|file is empty/i.test(text)) return make('ERR_IMAGE_EMPTY', 'the image is empty (0 bytes); re-export or re-copy the photo');
  if (/pixel limit/i.test(text)) {
    return make('ERR_IMAGE_TOO_LARGE', 'the image has more pixels than the maxPixels limit; raise maxPixels if you trust the file');
  }
  if (/timeout/i.test(text)) return make('ERR_IMAGE_TIMEOUT', 'decoding took longer than timeoutMs and was stopped; check the file or raise timeoutMs');
  if (/premature end|truncat|unexpected end|end of (file|stream|data)|not enough data|out of data|short read|read error|no image/i.test(text)) {
    return make('ERR_IMAGE_TRUNCATED', `the file ends before the image does (${first}); re-copy or re-download it`);
  }
  if (/unsupported (codec|feature|compression)|no decoder|not supported|heif: /i.test(text)) {
    return make('ERR_IMAGE_UNSUPPORTED', `this kind of image cannot be decoded here (${first}); convert it to JPEG or PNG`);
  }
  return make('ERR_IMAGE_UNREADABLE', `the image is damaged or cannot be read (${first}); check the file or convert it to JPEG or PNG`);
}
