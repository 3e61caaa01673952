import { describe, expect, it } from 'vitest';
import { ImageOptionsError } from './errors.js';
import { resolveImageOptions } from './image-options.js';
import { resizePlan } from './resize-plan.js';

describe('resizePlan', () => {
  it("squashes to the target size by default (Keras' load_img)", () => {
    expect(resizePlan(4000, 3000)).toEqual({ resizeWidth: 299, resizeHeight: 299, crop: { left: 0, top: 0, width: 299, height: 299 } });
    // size is [height, width], Keras' target_size order.
    expect(resizePlan(640, 480, { size: [200, 300] })).toEqual({ resizeWidth: 300, resizeHeight: 200, crop: { left: 0, top: 0, width: 300, height: 200 } });
  });

  it("centre-crops like timm's eval transform at crop fraction 0.8975", () => {
    // By hand: floor(299 / 0.8975) = floor(333.147…) = 333; landscape 4000×3000: height 333,
    // width int(333 × 4000 / 3000) = 444; left = round((444 − 299) / 2) = round(72.5) = 72 (half to even), top = 17.
    expect(resizePlan(4000, 3000, { resize: 'center-crop' })).toEqual({
      resizeWidth: 444,
      resizeHeight: 333,
      crop: { left: 72, top: 17, width: 299, height: 299 },
    });
    // Portrait 500×375 swapped: width 333, height int(333 × 500 / 375) = 444.
    expect(resizePlan(375, 500, { resize: 'center-crop' }).crop).toEqual({ left: 17, top: 72, width: 299, height: 299 });
    // A square photo: 333×333, offset round(17) = 17.
    expect(resizePlan(1000, 1000, { resize: 'center-crop' })).toEqual({ resizeWidth: 333, resizeHeight: 333, crop: { left: 17, top: 17, width: 299, height: 299 } });
  });

  it('rounds halves to even as Python does', () => {
    // 224 at fraction 0.875: floor(256) = 256; 256×341 (int(256 × 400 / 300) = 341): top = round(58.5) = 58.
    expect(resizePlan(300, 400, { size: 224, resize: 'center-crop', cropFraction: 0.875 }).crop.top).toBe(58);
    // 1 × 3 image at size 2, fraction 1: 2 × 6; top = round(2) = 2.
    expect(resizePlan(1, 3, { size: 2, resize: 'center-crop', cropFraction: 1 })).toEqual({
      resizeWidth: 2,
      resizeHeight: 6,
      crop: { left: 0, top: 2, width: 2, height: 2 },
    });
  });

  it('keeps the crop inside the resized image for non-square sizes', () => {
    const plan = resizePlan(640, 480, { size: [240, 320], resize: 'center-crop', cropFraction: 0.8 });
    // floor(320 / 0.8) = 400, floor(240 / 0.8) = 300; offsets 40 and 30.
    expect(plan).toEqual({ resizeWidth: 400, resizeHeight: 300, crop: { left: 40, top: 30, width: 320, height: 240 } });
  });

  it('refuses bad sizes and options with typed errors', () => {
    for (const [w, h] of [[0, 10], [10, -1], [1.5, 2], [Number.NaN, 3]]) {
      expect(() => resizePlan(w!, h!)).toThrow(ImageOptionsError);
    }
    const bad = [
      { size: 0 },
      { size: [299] },
      { size: [299, 299.5] },
      { size: 100000 },
      { resize: 'fit' },
      { cropFraction: 0 },
      { cropFraction: 1.2 },
      { interpolation: 'cubic' },
      { background: { r: 256, g: 0, b: 0 } },
      { maxPixels: -1 },
      { timeoutMs: 0 },
      { shrinkOnLoad: 'yes' },
    ];
    for (const options of bad) expect(() => resizePlan(10, 10, options as never), JSON.stringify(options)).toThrow(ImageOptionsError);
  });
});

describe('resolveImageOptions', () => {
  it('documents its defaults: 299², squash, nearest, no shrink-on-load, white, 100 MP, upright, ICC ignored', () => {
    expect(resolveImageOptions()).toEqual({
      height: 299,
      width: 299,
      resize: 'squash',
      cropFraction: 0.8975,
      interpolation: 'nearest',
      shrinkOnLoad: false,
      background: { r: 255, g: 255, b: 255 },
      maxPixels: 100_000_000,
      autoOrient: true,
      timeoutMs: 30_000,
      colorManagement: 'ignore',
    });
  });
});
