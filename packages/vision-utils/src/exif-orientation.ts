/**
 * A copy of a JPEG whose EXIF orientation tag (IFD0 0x0112) reads 1 (upright as stored), or null
 * when the file has no such tag. Browsers always apply the tag when decoding (Chromium treats
 * createImageBitmap's imageOrientation 'none' as 'from-image'), so `autoOrient: false`, which
 * Keras' load_img does, is only possible by hiding the tag from the decoder. Small exact code:
 * one JPEG segment walk and one TIFF directory, bounds checked; a library would parse far more.
 */
export function jpegWithoutOrientation(bytes: Uint8Array): Uint8Array | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2; // after SOI
  for (let guard = 0; guard < 256 && at + 4 <= bytes.length && bytes[at] === 0xff; guard++) {
    const marker = bytes[at + 1]!;
    if (marker === 0xda || marker === 0xd9) return null; // image data: no EXIF before it
    const length = view.getUint16(at + 2);
    const segment = at + 4;
    if (marker === 0xe1 && length >= 16 && String.fromCharCode(...bytes.subarray(segment, segment + 6)) === 'Exif\0\0') {
      const found = orientationEntry(view, segment + 6, Math.min(bytes.length, at + 2 + length));
      if (found === null) return null;
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint16(found.offset, 1, found.littleEndian);
      return copy;
    }
    at += 2 + length;
  }
  return null;
}

/** Where IFD0's orientation value sits in a TIFF block [tiff, end), or null. */
function orientationEntry(view: DataView, tiff: number, end: number): { offset: number; littleEndian: boolean } | null {
  if (tiff + 8 > end) return null;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const le = order === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, le);
  if (ifd + 2 > end) return null;
  const count = view.getUint16(ifd, le);
  for (let i = 0; i < count && ifd + 2 + (i + 1) * 12 <= end; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, le) === 0x0112 && view.getUint16(entry + 2, le) === 3) return { offset: entry + 8, littleEndian: le };
  }
  return null;
}
