import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImage } from './load-image.js';
import { pixelAt } from './test-support/temp-dir.js';

/**
 * The upright picture: 48 wide, 32 high, four quadrants of distinct colours. For each EXIF
 * orientation the test stores the pixels the way a camera would (the inverse of what the tag
 * asks the viewer to do, written out from the EXIF 2.3 table below, not with sharp's rotate) and
 * sets the tag; loadImage must give the upright picture back.
 */
const W = 48;
const H = 32;
const TL = [220, 20, 20] as const; // red
const TR = [20, 200, 20] as const; // green
const BL = [20, 20, 220] as const; // blue
const BR = [230, 230, 30] as const; // yellow
const upright = (x: number, y: number): readonly number[] => (y < H / 2 ? (x < W / 2 ? TL : TR) : x < W / 2 ? BL : BR);

/**
 * EXIF 2.3, tag 0x0112: where stored row 0 and column 0 are on the upright picture. For each
 * orientation, the upright (x, y) shown at stored (column c, row r).
 */
const STORED_TO_UPRIGHT: Record<number, (c: number, r: number) => [number, number]> = {
  1: (c, r) => [c, r], // row 0 top, column 0 left
  2: (c, r) => [W - 1 - c, r], // row 0 top, column 0 right
  3: (c, r) => [W - 1 - c, H - 1 - r], // row 0 bottom, column 0 right
  4: (c, r) => [c, H - 1 - r], // row 0 bottom, column 0 left
  5: (c, r) => [r, c], // row 0 left, column 0 top
  6: (c, r) => [W - 1 - r, c], // row 0 right, column 0 top
  7: (c, r) => [W - 1 - r, H - 1 - c], // row 0 right, column 0 bottom
  8: (c, r) => [r, H - 1 - c], // row 0 left, column 0 bottom
};

async function storedJpeg(orientation: number): Promise<Buffer> {
  const swap = orientation >= 5;
  const sw = swap ? H : W;
  const sh = swap ? W : H;
  const raw = Buffer.alloc(sw * sh * 3);
  for (let r = 0; r < sh; r++) {
    for (let c = 0; c < sw; c++) {
      const [x, y] = STORED_TO_UPRIGHT[orientation]!(c, r);
      raw.set(upright(x, y), (r * sw + c) * 3);
    }
  }
  return sharp(raw, { raw: { width: sw, height: sh, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation }).toBuffer();
}

const near = (a: readonly number[], b: readonly number[]): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= 12);

describe('EXIF orientation', () => {
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${orientation} comes out upright`, async () => {
      const jpeg = await storedJpeg(orientation);
      expect((await sharp(jpeg).metadata()).orientation).toBe(orientation);
      const image = await loadImage(jpeg, { size: [H, W] });
      expect([image.originalWidth, image.originalHeight]).toEqual([W, H]);
      // Quadrant centres, away from JPEG's blurred edges.
      expect(near(pixelAt(image.pixels, W, 12, 8), TL)).toBe(true);
      expect(near(pixelAt(image.pixels, W, 36, 8), TR)).toBe(true);
      expect(near(pixelAt(image.pixels, W, 12, 24), BL)).toBe(true);
      expect(near(pixelAt(image.pixels, W, 36, 24), BR)).toBe(true);
    });
  }

  it("can keep the stored pixels, as Keras' load_img does (autoOrient: false)", async () => {
    const image = await loadImage(await storedJpeg(6), { size: [W, H], autoOrient: false });
    expect([image.originalWidth, image.originalHeight]).toEqual([H, W]);
    // Stored (0, 0) of orientation 6 shows upright (W − 1, 0): the top-right quadrant.
    expect(near(pixelAt(image.pixels, H, 4, 4), TR)).toBe(true);
  });
});
