/**
 * Reads the format and the pixel size from the first bytes of an image file, without decoding.
 * The browser decoder uses it to refuse decompression bombs and non-images before handing the file
 * to createImageBitmap (which has no pixel limit of its own).
 */
export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif' | 'heic' | 'svg';

export interface ImageHeader {
  readonly format: SniffedFormat;
  /** Undefined when the size is not in the bytes given (AVIF/HEIC/TIFF, or too few bytes). */
  readonly width?: number;
  readonly height?: number;
}

const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));

function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  // Walk the marker segments to the first SOFn (C0–CF except C4 DHT, C8 JPG, CC DAC).
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
    }
    if (length < 2) return undefined;
    i += 2 + length;
  }
  return undefined;
}

function webpSize(b: Uint8Array, view: DataView): { width: number; height: number } | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X' && b.length >= 30) {
    return { width: 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16)), height: 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16)) };
  }
  if (chunk === 'VP8 ' && b.length >= 30) return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  return undefined;
}

/** The format and, where the header holds it, the size; null when the bytes are no known image. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  const b = bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const withSize = (format: SniffedFormat, size: { width: number; height: number } | undefined): ImageHeader =>
    size ? { format, width: size.width, height: size.height } : { format };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return withSize('jpeg', jpegSize(b));
  if (b.length >= 8 && ascii(b, 1, 3) === 'PNG' && b[0] === 0x89) {
    return withSize('png', b.length >= 24 && ascii(b, 12, 4) === 'IHDR' ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined);
  }
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) {
    return withSize('gif', b.length >= 10 ? { width: view.getUint16(6, true), height: view.getUint16(8, true) } : undefined);
  }
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return withSize('webp', webpSize(b, view));
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') {
    return withSize('bmp', b.length >= 26 ? { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) } : undefined);
  }
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return { format: 'tiff' };
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    if (brand === 'avif' || brand === 'avis') return withSize('avif', heifSize(b, view));
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return withSize('heic', heifSize(b, view));
    return null;
  }
  const text = ascii(b, 0, Math.min(b.length, 256)).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return { format: 'svg' };
  return null;
}

/**
 * Whether a complete file of this format lacks its end marker in `tail` (its last bytes): a JPEG
 * without EOI (FF D9) or a PNG without IEND. Cut-off downloads look like this; browsers would
 * decode them silently with a grey or transparent bottom.
 */
export function looksTruncated(format: SniffedFormat, tail: Uint8Array): boolean {
  if (format === 'jpeg') {
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return false;
    return true;
  }
  if (format === 'png') {
    for (let i = tail.length - 4; i >= 0; i--) if (ascii(tail, i, 4) === 'IEND') return false;
    return true;
  }
  return false;
}

/**
 * AVIF/HEIC (ISO BMFF): the image size is in meta > iprp > ipco > ispe boxes, one per image item
 * (the primary image, its alpha plane, thumbnails); the largest is what a decoder allocates, so
 * the pixel limit applies to it before anything is decoded. Undefined when the boxes are not in
 * the bytes read (the limit is then checked after decoding).
 */
function heifSize(b: Uint8Array, view: DataView): { width: number; height: number } | undefined {
  let best: { width: number; height: number } | undefined;
  // Each level lists its child boxes: [start, end) of the payload after `skip` header bytes.
  const children = (start: number, end: number, visit: (type: string, payload: number, boxEnd: number) => void): void => {
    let at = start;
    for (let guard = 0; guard < 4096 && at + 8 <= end; guard++) {
      let size = view.getUint32(at);
      let header = 8;
      if (size === 1) {
        if (at + 16 > end) return;
        size = Number(view.getBigUint64(at + 8));
        header = 16;
      } else if (size === 0) {
        size = end - at;
      }
      if (size < header) return;
      const boxEnd = Math.min(end, at + size);
      visit(ascii(b, at + 4, 4), at + header, boxEnd);
      at += size;
    }
  };
  children(0, b.length, (type, payload, end) => {
    if (type !== 'meta') return;
    children(payload + 4, end, (type2, payload2, end2) => { // meta is a full box: 4 bytes of version and flags
      if (type2 !== 'iprp') return;
      children(payload2, end2, (type3, payload3, end3) => {
        if (type3 !== 'ipco') return;
        children(payload3, end3, (type4, payload4, end4) => {
          if (type4 !== 'ispe' || payload4 + 12 > end4) return;
          const width = view.getUint32(payload4 + 4);
          const height = view.getUint32(payload4 + 8);
          if (!best || width * height > best.width * best.height) best = { width, height };
        });
      });
    });
  });
  return best;
}
