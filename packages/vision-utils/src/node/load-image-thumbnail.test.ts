import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '@xception/test-kit';
import { loadImage, loadImageWithThumbnail } from './load-image.js';
import { makeTempDir, pixelAt, rawRgb } from './test-support/temp-dir.js';

const tmp = makeTempDir('thumb');
afterAll(() => tmp.remove());

/** The thumbnail decoded back by sharp (an independent read of the JPEG bytes). */
async function decodeJpeg(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number; format: string }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const format = (await sharp(bytes).metadata()).format;
  return { data, width: info.width, height: info.height, format: String(format) };
}
const near = (a: readonly number[], b: readonly number[], tol = 12): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);
const GREEN = [0, 200, 0] as const;
const BLUE = [0, 0, 200] as const;
const RED = [200, 0, 0] as const;

describe('loadImageWithThumbnail: the model input and a grid thumbnail from one decode', () => {
  it("gives loadImage's exact pixels and a square JPEG of the upright photo (EXIF orientation 6 applied)", async () => {
    // 20×20, top half green, bottom half blue, stored with orientation 6 (shown turned 90° clockwise):
    // upright, the top goes to the right: left half blue, right half green.
    const jpeg = await sharp(rawRgb(20, 20, (_x, y) => (y < 10 ? GREEN : BLUE)), { raw: { width: 20, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const both = await loadImageWithThumbnail(jpeg, { size: 9 }, { size: 16 });
    expect(both.pixels).toEqual((await loadImage(jpeg, { size: 9 })).pixels);
    const thumb = await decodeJpeg(both.thumbnail);
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 16, 16]);
    expect(near(pixelAt(thumb.data, 16, 2, 8), BLUE)).toBe(true);
    expect(near(pixelAt(thumb.data, 16, 13, 8), GREEN)).toBe(true);
  });

  it('cover-crops a wide photo to its centre', async () => {
    // 40×20: red bands of 10 columns each side of a blue centre of 20: the centred square is all blue.
    const png = await sharp(rawRgb(40, 20, (x) => (x < 10 || x >= 30 ? RED : BLUE)), { raw: { width: 40, height: 20, channels: 3 } }).png().toBuffer();
    const path = join(tmp.dir, 'wide.png');
    await sharp(png).toFile(path);
    const both = await loadImageWithThumbnail(path, { size: 5 }, { size: 10, quality: 95 });
    const thumb = await decodeJpeg(both.thumbnail);
    for (const [x, y] of [[0, 0], [9, 0], [0, 9], [9, 9], [5, 5]] as const) expect(near(pixelAt(thumb.data, 10, x, y), BLUE)).toBe(true);
  });

  it('with shrinkOnLoad keeps the model input as loadImage gives it', async () => {
    const jpeg = await sharp(rawRgb(64, 48, (x, y) => [4 * x, 5 * y, 90]), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    const options = { size: 8, shrinkOnLoad: true, interpolation: 'bilinear' } as const;
    const both = await loadImageWithThumbnail(jpeg, options, { size: 12 });
    expect(both.pixels).toEqual((await loadImage(jpeg, options)).pixels);
    expect((await decodeJpeg(both.thumbnail)).width).toBe(12);
  });

  it('rejects a damaged file with the typed error loadImage gives, and no stray rejection', async () => {
    const jpeg = await sharp(rawRgb(32, 32, () => RED), { raw: { width: 32, height: 32, channels: 3 } }).jpeg().toBuffer();
    const cut = jpeg.subarray(0, jpeg.length - 200);
    await expect(loadImageWithThumbnail(cut, { size: 8 }, { size: 8 })).rejects.toMatchObject({ name: 'ImageDecodeError' });
  });

  const samples = sharedPath('images', 'imagenet-samples');
  it.skipIf(!samples)("on real photos: the thumbnail is sharp's own thumbnail of the same file, not of another photo", async () => {
    const names = ['n01440764_tench.JPEG', 'n01498041_stingray.JPEG', 'n01532829_house_finch.JPEG'];
    // sharp straight from the file (shrink-on-load, its own resampling): close, not equal.
    const reference = async (name: string): Promise<Buffer> => {
      const { data, info } = await sharp(join(samples!, name)).rotate().resize(64, 64, { fit: 'cover' }).raw().toBuffer({ resolveWithObject: true });
      return info.channels === 3 ? data : Buffer.from([...data].flatMap((v) => [v, v, v]));
    };
    const meanDifference = (a: Buffer, b: Buffer): number => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;
    for (const [i, name] of names.entries()) {
      const ours = (await decodeJpeg((await loadImageWithThumbnail(join(samples!, name), {}, { size: 64, quality: 95 })).thumbnail)).data;
      const same = meanDifference(ours, await reference(name));
      const other = meanDifference(ours, await reference(names[(i + 1) % names.length]!));
      // Resampling differs on textured photos (up to ~10 levels); another photo differs by far more.
      expect(same).toBeLessThan(12);
      expect(same).toBeLessThan(other / 2);
    }
  });
});
