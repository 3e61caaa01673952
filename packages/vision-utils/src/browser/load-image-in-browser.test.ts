import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImageDecodeError, type ImageDecodeErrorCode } from '../errors.js';
import { loadImage } from '../node/load-image.js';
import { rawRgb } from '../node/test-support/temp-dir.js';
import { loadImageInBrowser, type BrowserImageSource } from './load-image-in-browser.js';

/**
 * Node has no canvas, so this runs the browser loader against stand-ins: createImageBitmap decodes
 * with sharp to RGBA, and a 2D context that can fill a rectangle, draw an RGBA bitmap at (0, 0)
 * over it with source-over alpha, and read pixels back. The loader's own logic (sniffing, limits,
 * plans, Pillow sampling, flattening, errors) is what is tested; real browsers are not.
 */
interface FakeBitmap {
  width: number;
  height: number;
  data: Uint8Array;
  close(): void;
}

class FakeContext {
  fillStyle = '';
  imageSmoothingEnabled = false;
  imageSmoothingQuality = 'low';
  readonly data: Uint8ClampedArray;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8ClampedArray(width * height * 4);
  }
  fillRect(): void {
    const [r, g, b] = this.fillStyle.match(/\d+/g)!.map(Number);
    for (let i = 0; i < this.data.length; i += 4) this.data.set([r!, g!, b!, 255], i);
  }
  drawImage(image: FakeBitmap, dx: number, dy: number, dw?: number, dh?: number): void {
    if (dx !== 0 || dy !== 0 || (dw !== undefined && (dw !== image.width || dh !== image.height))) throw new Error('the fake draws at natural size only');
    for (let i = 0; i < image.width * image.height * 4; i += 4) {
      const a = image.data[i + 3]! / 255;
      for (let c = 0; c < 3; c++) this.data[i + c] = Math.round(image.data[i + c]! * a + this.data[i + c]! * (1 - a));
    }
  }
  getImageData(): { data: Uint8ClampedArray } {
    return { data: this.data };
  }
}

let decoded = 0;
beforeAll(() => {
  vi.stubGlobal(
    'OffscreenCanvas',
    class {
      constructor(readonly width: number, readonly height: number) {}
      getContext(): FakeContext {
        return new FakeContext(this.width, this.height);
      }
    },
  );
  vi.stubGlobal('createImageBitmap', async (blob: Blob): Promise<FakeBitmap> => {
    decoded++;
    const { data, info } = await sharp(Buffer.from(await blob.arrayBuffer())).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data, close: () => undefined };
  });
});
afterAll(() => vi.unstubAllGlobals());

const pattern = (): Promise<Buffer> => sharp(rawRgb(40, 30, (x, y) => [x * 6, y * 8, (x * y) % 256]), { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();
const file = (bytes: Uint8Array | string, name: string): File => new File([bytes as BlobPart], name);

async function expectError(source: BrowserImageSource, code: ImageDecodeErrorCode, options = {}): Promise<void> {
  const before = decoded;
  const error = await loadImageInBrowser(source, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImageDecodeError);
  expect((error as ImageDecodeError).code).toBe(code);
  expect((error as Error).message.startsWith((source as File).name + ': ')).toBe(true);
  // Refused before decoding.
  expect(decoded).toBe(before);
}

describe('loadImageInBrowser (with stand-in canvas and decoder)', () => {
  it('gives the same bytes as the Node loader for a PNG, in both resize modes', async () => {
    const png = await pattern();
    for (const options of [{}, { size: 17 }, { resize: 'center-crop' as const }, { size: [9, 31] as const, resize: 'center-crop' as const, cropFraction: 0.5 }]) {
      const browser = await loadImageInBrowser(file(png, 'pattern.png'), options);
      const node = await loadImage(png, options);
      expect(browser.pixels).toEqual(node.pixels);
      expect([browser.width, browser.height, browser.originalWidth, browser.originalHeight, browser.format, browser.source]).toEqual([
        node.width,
        node.height,
        40,
        30,
        'png',
        'pattern.png',
      ]);
    }
  });

  it('flattens transparency onto the background', async () => {
    const png = await sharp(Buffer.from([0, 0, 0, 0, 10, 20, 30, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const image = await loadImageInBrowser(new Blob([png]), { size: [1, 2], background: { r: 1, g: 2, b: 3 } });
    expect(Array.from(image.pixels)).toEqual([1, 2, 3, 10, 20, 30]);
    expect(image.source).toMatch(/^<blob of \d+ bytes>$/);
  });

  it('refuses empty, non-image, unsupported, cut-off and oversized files before decoding', async () => {
    const png = await pattern();
    await expectError(file(new Uint8Array(0), 'empty.jpg'), 'ERR_IMAGE_EMPTY');
    await expectError(file('just some text', 'notes.jpg'), 'ERR_IMAGE_NOT_AN_IMAGE');
    await expectError(file(await sharp(png).tiff().toBuffer(), 'scan.tiff'), 'ERR_IMAGE_UNSUPPORTED');
    const jpeg = await sharp(png).jpeg().toBuffer();
    await expectError(file(jpeg.subarray(0, jpeg.length - 20), 'cut.jpg'), 'ERR_IMAGE_TRUNCATED');
    await expectError(file(png, 'big.png'), 'ERR_IMAGE_TOO_LARGE', { maxPixels: 40 * 30 - 1 });
  });

  it('reports a decoder failure as a typed error', async () => {
    // A valid JPEG start and end with nothing decodable between.
    const bogus = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xd9]);
    const error = await loadImageInBrowser(file(bogus, 'bogus.jpg')).catch((e: unknown) => e);
    expect((error as ImageDecodeError).code).toBe('ERR_IMAGE_UNREADABLE');
    const wrong = await loadImageInBrowser(42 as unknown as Blob).catch((e: unknown) => e);
    expect((wrong as ImageDecodeError).code).toBe('ERR_IMAGE_UNREADABLE');
  });
});
