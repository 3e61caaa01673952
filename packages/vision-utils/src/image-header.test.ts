import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { looksTruncated, readImageHeader } from './image-header.js';

// Fixtures made by sharp (an independent encoder): their true size is the size we asked for.
const img = (): Sharp => sharp(Buffer.alloc(37 * 23 * 3, 90), { raw: { width: 37, height: 23, channels: 3 } });

describe('readImageHeader', () => {
  const cases: [string, () => Promise<Buffer>, boolean][] = [
    ['jpeg', () => img().jpeg().toBuffer(), true],
    ['png', () => img().png().toBuffer(), true],
    ['gif', () => img().gif().toBuffer(), true],
    ['webp', () => img().webp({ lossless: true }).toBuffer(), true],
    ['webp', () => img().webp({ quality: 80 }).toBuffer(), true],
    ['tiff', () => img().tiff().toBuffer(), false],
    ['avif', () => img().avif().toBuffer(), false],
  ];
  for (const [format, make, hasSize] of cases) {
    it(`reads ${format}${hasSize ? ' and its size' : ''}`, async () => {
      const header = readImageHeader(new Uint8Array(await make()));
      expect(header?.format).toBe(format);
      if (hasSize) expect([header?.width, header?.height]).toEqual([37, 23]);
    });
  }

  it('reads a progressive JPEG whose SOF2 comes after other segments', async () => {
    const progressive = await img().jpeg({ progressive: true }).withMetadata({ orientation: 6 }).toBuffer();
    expect(readImageHeader(progressive)).toEqual({ format: 'jpeg', width: 37, height: 23 });
  });

  it('knows SVG and refuses text, empty and random bytes', () => {
    expect(readImageHeader(new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))?.format).toBe('svg');
    expect(readImageHeader(new TextEncoder().encode('hello, not a photo'))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
    expect(readImageHeader(new Uint8Array([0xff, 0xd8]))).toBeNull();
    // A JPEG start with garbage after it: format known, size not.
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]))).toEqual({ format: 'jpeg' });
  });

  it('tells cut-off JPEG and PNG files from complete ones', async () => {
    const jpeg = await img().jpeg().toBuffer();
    const png = await img().png().toBuffer();
    expect(looksTruncated('jpeg', jpeg.subarray(-1024))).toBe(false);
    expect(looksTruncated('jpeg', jpeg.subarray(0, jpeg.length - 10).subarray(-1024))).toBe(true);
    expect(looksTruncated('png', png.subarray(-1024))).toBe(false);
    expect(looksTruncated('png', png.subarray(0, png.length - 12))).toBe(true);
    expect(looksTruncated('gif', new Uint8Array(0))).toBe(false);
  });
});
