import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecodeError, ImageOptionsError } from '../errors.js';
import { canDecodeHeic, loadImage } from './load-image.js';
import { loadImageBatch, loadImageTensor } from './load-image-tensor.js';
import { makeTempDir, pixelAt, rawRgb } from './test-support/temp-dir.js';

const tmp = makeTempDir('load');
afterAll(() => tmp.remove());
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 7×5 pattern whose every pixel says where it came from: [30x, 50y, 100]. */
const PATTERN = rawRgb(7, 5, (x, y) => [30 * x, 50 * y, 100]);
const patternPng = (): Promise<Buffer> => sharp(PATTERN, { raw: { width: 7, height: 5, channels: 3 } }).png().toBuffer();
/** A one-colour image from raw pixels (exact values, unlike sharp's create, which rounds through a colour space). */
const solid = (r: number, g: number, b: number, w = 16, h = 12): Sharp =>
  sharp(rawRgb(w, h, () => [r, g, b]), { raw: { width: w, height: h, channels: 3 } });
const near = (a: readonly number[], b: readonly number[], tol: number): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe("loadImage: Keras' default (squash, Pillow nearest on the full decode)", () => {
  it('samples a hand-made PNG at the source pixels Pillow picks', async () => {
    const image = await loadImage(await patternPng(), { size: [3, 3] });
    expect([image.width, image.height, image.originalWidth, image.originalHeight]).toEqual([3, 3, 7, 5]);
    expect(image.format).toBe('png');
    // By hand: 7 → 3 columns floor((i + 0.5) × 7/3) = 1, 3, 5; 5 → 3 rows = 0, 2, 4.
    const xs = [1, 3, 5];
    const ys = [0, 2, 4];
    for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) expect(pixelAt(image.pixels, 3, i, j)).toEqual([30 * xs[i]!, 50 * ys[j]!, 100]);
  });

  it('enlarges by repeating pixels and keeps the [height, width] order of size', async () => {
    const image = await loadImage(await patternPng(), { size: [10, 14] });
    expect([image.width, image.height]).toEqual([14, 10]);
    // 7 → 14: column i comes from floor((i + 0.5) / 2) = floor(i / 2); 5 → 10 likewise.
    expect(pixelAt(image.pixels, 14, 13, 9)).toEqual([180, 200, 100]);
    expect(pixelAt(image.pixels, 14, 4, 3)).toEqual([60, 50, 100]);
  });

  it('centre-crops with the timm geometry', async () => {
    // 7×5 at size 3, fraction 1: shorter side 5 → 3, longer int(3 × 7 / 5) = 4; left = round(0.5) = 0.
    // 7 → 4 columns: floor((i + 0.5) × 1.75) = 0, 2, 4 (for i = 0..2); 5 → 3 rows: 0, 2, 4.
    const image = await loadImage(await patternPng(), { size: 3, resize: 'center-crop', cropFraction: 1 });
    expect(pixelAt(image.pixels, 3, 0, 0)).toEqual([0, 0, 100]);
    expect(pixelAt(image.pixels, 3, 2, 2)).toEqual([120, 200, 100]);
  });

  it('reads files as well as buffers and names the file', async () => {
    const path = tmp.file('pattern.png');
    writeFileSync(path, await patternPng());
    const image = await loadImage(path, { size: 3 });
    expect(image.path).toBe(path);
    expect(image.source).toBe(path);
    const fromArrayBuffer = await loadImage(new Uint8Array(await patternPng()).buffer, { size: 3 });
    expect(fromArrayBuffer.pixels).toEqual(image.pixels);
    expect(fromArrayBuffer.source).toMatch(/^<buffer of \d+ bytes>$/);
  });
});

describe('loadImage: formats', () => {
  const red = [200, 30, 40] as const;
  const cases: [string, () => Promise<Buffer>, number][] = [
    ['jpeg', () => solid(...red).jpeg({ quality: 95 }).toBuffer(), 6],
    ['png', () => solid(...red).png().toBuffer(), 0],
    ['webp', () => solid(...red).webp({ lossless: true }).toBuffer(), 0],
    ['tiff', () => solid(...red).tiff({ compression: 'lzw' }).toBuffer(), 0], // sharp's TIFF default is JPEG-compressed
    ['gif', () => solid(...red).gif().toBuffer(), 8],
    ['heif', () => solid(...red).avif({ quality: 90 }).toBuffer(), 12],
  ];
  for (const [format, make, tolerance] of cases) {
    it(`decodes ${format === 'heif' ? 'AVIF' : format.toUpperCase()} made by sharp`, async () => {
      const image = await loadImage(await make(), { size: [12, 16] });
      expect(image.format).toBe(format);
      expect([image.width, image.height]).toEqual([16, 12]);
      expect(near(pixelAt(image.pixels, 16, 8, 6), red, tolerance)).toBe(true);
    });
  }

  it('takes the first frame of an animated GIF', async () => {
    const frames = [solid(255, 0, 0).png().toBuffer(), solid(0, 0, 255).png().toBuffer()];
    const gif = await sharp(await Promise.all(frames), { join: { animated: true } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await loadImage(gif, { size: [12, 16] });
    expect(near(pixelAt(image.pixels, 16, 3, 3), [255, 0, 0], 4)).toBe(true);
  });

  it('converts greyscale to three equal channels', async () => {
    const grey = await sharp(Buffer.from([0, 64, 128, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    const image = await loadImage(grey, { size: 2 });
    expect(Array.from(image.pixels)).toEqual([0, 0, 0, 64, 64, 64, 128, 128, 128, 255, 255, 255]);
  });

  it('converts 16-bit PNG to 8-bit by scaling, not clipping', async () => {
    const raw = new Uint16Array([65535, 32896, 0, 257 * 16, 257 * 200, 65535]);
    // sharp takes the sample depth from the typed array: Uint16Array is 16-bit.
    const png16 = await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const image = await loadImage(png16, { size: [1, 2] });
    // v16 / 257 is the 8-bit value: 65535 → 255, 32896 → 128, 257·16 → 16, 257·200 → 200.
    expect(Array.from(image.pixels)).toEqual([255, 128, 0, 16, 200, 255]);
  });

  it('converts CMYK JPEG to RGB', async () => {
    const cmyk = await solid(200, 30, 40).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await loadImage(cmyk, { size: 4 });
    const [r, g, b] = pixelAt(image.pixels, 4, 2, 2);
    // A round trip through a CMYK profile is not exact: red must stay clearly red.
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('flattens alpha onto white by default, or onto the given background', async () => {
    // Transparent, half-transparent black, opaque (10, 20, 30).
    const rgba = Buffer.from([0, 0, 0, 0, 0, 0, 0, 128, 10, 20, 30, 255]);
    const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();
    const white = await loadImage(png, { size: [1, 3] });
    expect(pixelAt(white.pixels, 3, 0, 0)).toEqual([255, 255, 255]);
    // 0 × 128/255 + 255 × 127/255 = 127.
    expect(near(pixelAt(white.pixels, 3, 1, 0), [127, 127, 127], 1)).toBe(true);
    expect(pixelAt(white.pixels, 3, 2, 0)).toEqual([10, 20, 30]);
    const green = await loadImage(png, { size: [1, 3], background: { r: 0, g: 128, b: 0 } });
    expect(pixelAt(green.pixels, 3, 0, 0)).toEqual([0, 128, 0]);
  });

  it(`HEIC: ${canDecodeHeic() ? 'this sharp decodes it' : 'this sharp build reads AVIF only, so HEIC gets ERR_IMAGE_UNSUPPORTED'}`, () => {
    // The prebuilt sharp binaries ship libheif with AV1 only; a HEIC photo cannot be made here to
    // test the refusal end to end, so this records which case the build is in.
    expect(typeof canDecodeHeic()).toBe('boolean');
  });
});

describe('loadImage: filtered and shrink-on-load modes', () => {
  it('gives the requested size and the right colours in every mode', async () => {
    const jpeg = await solid(20, 120, 220, 640, 480).jpeg({ quality: 95 }).toBuffer();
    for (const interpolation of ['nearest', 'bilinear', 'bicubic', 'lanczos3'] as const) {
      for (const shrinkOnLoad of [false, true]) {
        for (const resize of ['squash', 'center-crop'] as const) {
          const image = await loadImage(jpeg, { interpolation, shrinkOnLoad, resize, size: 64 });
          expect([image.width, image.height, image.pixels.length]).toEqual([64, 64, 64 * 64 * 3]);
          expect(near(pixelAt(image.pixels, 64, 32, 32), [20, 120, 220], 6), `${interpolation} ${shrinkOnLoad} ${resize}`).toBe(true);
        }
      }
    }
  });

  it('bilinear averages where nearest picks: a 2×1 black/white image enlarged to 4×1', async () => {
    const png = await sharp(Buffer.from([0, 0, 0, 255, 255, 255]), { raw: { width: 2, height: 1, channels: 3 } }).png().toBuffer();
    const nearest = await loadImage(png, { size: [1, 4] });
    expect(Array.from(nearest.pixels.filter((_, i) => i % 3 === 0))).toEqual([0, 0, 255, 255]);
    const bilinear = await loadImage(png, { size: [1, 4], interpolation: 'bilinear' });
    const reds = Array.from(bilinear.pixels.filter((_, i) => i % 3 === 0));
    // Interpolated: some value strictly between black and white, still increasing left to right.
    expect(reds.some((v) => v > 0 && v < 255)).toBe(true);
    expect([...reds].sort((a, b) => a - b)).toEqual(reds);
  });
});

describe('loadImage: concurrency and tensors', () => {
  it('decodes many images at once, each to its own result', async () => {
    const colours = Array.from({ length: 12 }, (_, i) => [i * 20, 255 - i * 20, (i * 37) % 256] as const);
    const files = await Promise.all(colours.map((c) => solid(...c).png().toBuffer()));
    const images = await Promise.all(files.map((f) => loadImage(f, { size: 8 })));
    images.forEach((image, i) => expect(pixelAt(image.pixels, 8, 4, 4)).toEqual(colours[i]));
  });

  it('gives a preprocessed [1, h, w, 3] tensor and a batch tensor, and leaks nothing', async () => {
    const png = await patternPng();
    const before = tf.memory().numTensors;
    const one = await loadImageTensor(png, { size: [3, 3] });
    expect(one.shape).toEqual([1, 3, 3, 3]);
    expect(one.dtype).toBe('float32');
    // Pixel (0, 0) came from source (1, 0) = [30, 0, 100] → 30/127.5 − 1, −1, 100/127.5 − 1.
    const v = one.dataSync();
    expect(v[0]).toBeCloseTo(30 / 127.5 - 1, 6);
    expect(v[1]).toBe(-1);
    expect(v[2]).toBeCloseTo(100 / 127.5 - 1, 6);
    const batch = await loadImageBatch([png, png, png], { size: [3, 3], concurrency: 2 });
    expect(batch.shape).toEqual([3, 3, 3, 3]);
    expect(Array.from(batch.dataSync().subarray(27, 54))).toEqual(Array.from(v));
    const raw = await loadImageTensor(png, { size: [3, 3], preprocess: false });
    expect(raw.dataSync()[0]).toBe(30);
    tf.dispose([one, batch, raw]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options with ImageOptionsError', async () => {
    await expect(loadImage(await patternPng(), { resize: 'stretch' as never })).rejects.toThrow(ImageOptionsError);
    await expect(loadImage(await patternPng(), { size: -3 })).rejects.toThrow(ImageOptionsError);
  });

  it('batch rejects with the ImageDecodeError of a bad member', async () => {
    await expect(loadImageBatch([await patternPng(), Buffer.from('not an image')], { size: 3 })).rejects.toThrow(ImageDecodeError);
  });
});
