import { mkdirSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecodeError, type ImageDecodeErrorCode } from '../errors.js';
import { loadImage, type ImageInput } from './load-image.js';
import { makeTempDir, rawRgb } from './test-support/temp-dir.js';

const tmp = makeTempDir('hostile');
afterAll(() => tmp.remove());

/** A PNG chunk: length, type, data, CRC-32 of type and data (PNG spec §5.3). */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A valid PNG header announcing width × height, 8-bit RGB, with a few bytes of (bogus) pixel data. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00])), pngChunk('IEND', Buffer.alloc(0))]);
}

async function expectDecodeError(input: ImageInput, code: ImageDecodeErrorCode, options = {}): Promise<ImageDecodeError> {
  let error: unknown;
  try {
    await loadImage(input, options);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(ImageDecodeError);
  const typed = error as ImageDecodeError;
  expect(typed.code, typed.message).toBe(code);
  if (typeof input === 'string') {
    expect(typed.path).toBe(input);
    expect(typed.message.startsWith(`${input}: `)).toBe(true);
  }
  return typed;
}

let jpeg: Buffer;
beforeAll(async () => {
  // Noise so the entropy-coded data is long and cutting it leaves the header intact.
  const noise = rawRgb(256, 256, (x, y) => [(x * 7919 + y * 104729) % 256, (x * y) % 256, (x ^ y) % 256]);
  jpeg = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
});

describe('hostile and broken files get a typed error that names the file', () => {
  it('zero bytes → ERR_IMAGE_EMPTY', async () => {
    const path = tmp.file('empty.jpg');
    writeFileSync(path, Buffer.alloc(0));
    await expectDecodeError(path, 'ERR_IMAGE_EMPTY');
    await expectDecodeError(Buffer.alloc(0), 'ERR_IMAGE_EMPTY');
  });

  it('a truncated JPEG → ERR_IMAGE_TRUNCATED', async () => {
    const path = tmp.file('truncated.jpg');
    writeFileSync(path, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    const error = await expectDecodeError(path, 'ERR_IMAGE_TRUNCATED');
    expect(error.message).toMatch(/re-copy or re-download/);
  });

  it('a truncated JPEG decoded 40 times at once is ERR_IMAGE_TRUNCATED every time (libvips loses its message under load)', async () => {
    const path = tmp.file('truncated-many.jpg');
    writeFileSync(path, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    const codes = await Promise.all(Array.from({ length: 40 }, () => loadImage(path).then(() => 'decoded', (e: ImageDecodeError) => e.code)));
    expect(new Set(codes)).toEqual(new Set(['ERR_IMAGE_TRUNCATED']));
  });

  it('text named .jpg → ERR_IMAGE_NOT_AN_IMAGE', async () => {
    const path = tmp.file('notes.jpg');
    writeFileSync(path, 'These are my holiday notes, not a photo.\n');
    await expectDecodeError(path, 'ERR_IMAGE_NOT_AN_IMAGE');
  });

  it('a PNG header announcing 100000×100000 → ERR_IMAGE_TOO_LARGE before decoding', async () => {
    const path = tmp.file('bomb.png');
    writeFileSync(path, pngHeader(100_000, 100_000));
    expect((await sharp(path, { limitInputPixels: false }).metadata()).width).toBe(100_000); // the header is valid: it is the size that is refused
    const error = await expectDecodeError(path, 'ERR_IMAGE_TOO_LARGE');
    expect(error.message).toMatch(/100000×100000/);
  });

  it('a PNG that is nothing but its header (signature + IHDR) announcing 100000×100000 → ERR_IMAGE_TOO_LARGE, not "damaged"', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(100_000, 0);
    ihdr.writeUInt32BE(100_000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const path = tmp.file('header-only-bomb.png');
    writeFileSync(path, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)]));
    // libvips alone calls this file corrupt; the size in its header is what must be refused.
    await expect(sharp(path, { limitInputPixels: false }).metadata()).rejects.toThrow();
    const error = await expectDecodeError(path, 'ERR_IMAGE_TOO_LARGE');
    expect(error.message).toMatch(/100000×100000/);
  });

  it('an ordinary image over a small maxPixels → ERR_IMAGE_TOO_LARGE', async () => {
    await expectDecodeError(jpeg, 'ERR_IMAGE_TOO_LARGE', { maxPixels: 256 * 255 });
    expect((await loadImage(jpeg, { maxPixels: 256 * 256 })).width).toBe(299);
  });

  it('SVG (an image, but not a photo format) → ERR_IMAGE_UNSUPPORTED', async () => {
    const path = tmp.file('drawing.svg');
    writeFileSync(path, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectDecodeError(path, 'ERR_IMAGE_UNSUPPORTED');
  });

  it('a missing file or a folder → ERR_IMAGE_UNREADABLE', async () => {
    await expectDecodeError(tmp.file('no-such-photo.jpg'), 'ERR_IMAGE_UNREADABLE');
    const folder = tmp.file('folder.jpg');
    mkdirSync(folder);
    await expectDecodeError(folder, 'ERR_IMAGE_UNREADABLE');
    await expectDecodeError(42 as unknown as string, 'ERR_IMAGE_UNREADABLE');
  });

  it('corrupted bytes never crash: each gives pixels or an ImageDecodeError', async () => {
    // Deterministic damage: overwrite a run of bytes at 24 places through the file.
    for (let k = 1; k <= 24; k++) {
      const damaged = Buffer.from(jpeg);
      const at = Math.floor((damaged.length * k) / 25);
      damaged.fill(k * 37, at, at + 64);
      try {
        const image = await loadImage(damaged, { size: 32 });
        expect(image.pixels.length).toBe(32 * 32 * 3);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(ImageDecodeError);
      }
    }
  });
});
