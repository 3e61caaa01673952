import { describe, expect, it } from 'vitest';
import { resizePlan } from './resize-plan.js';
import { pillowNearestIndices, sampleNearest } from './sample-nearest.js';

const all = (inSize: number, outSize: number): number[] => Array.from(pillowNearestIndices(inSize, outSize, 0, outSize));

describe("Pillow's nearest-neighbour convention", () => {
  it('matches indices computed by hand from floor((i + 0.5) × in / out)', () => {
    // 5 → 3: 0.833, 2.5, 4.167 → 0, 2, 4.   3 → 7: 0.214, 0.643, 1.071, 1.5, 1.929, 2.357, 2.786.
    expect(all(5, 3)).toEqual([0, 2, 4]);
    expect(all(3, 7)).toEqual([0, 0, 1, 1, 1, 2, 2]);
    expect(all(7, 3)).toEqual([1, 3, 5]);
    expect(all(4, 6)).toEqual([0, 1, 1, 2, 2, 3]);
    expect(all(6, 6)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("matches Pillow 12.3's Image.resize(NEAREST) where the running sum differs from the closed form", () => {
    // Measured with Pillow 12.3.0 (Image.new('I', (n, 1)) holding i at column i, resized with NEAREST).
    // The closed form floor((149 + 0.5) × 2 / 299) = 1 here, Pillow gives 0.
    expect(all(2, 299).slice(148, 151)).toEqual([0, 0, 1]);
    expect(all(600, 299).slice(148, 152)).toEqual([297, 300, 302, 304]);
    const a = all(1000, 333);
    expect([a[0], a[100], a[166], a[332]]).toEqual([1, 301, 500, 998]);
  });

  it('gives the same indices for a window as for the full row', () => {
    expect(Array.from(pillowNearestIndices(4000, 444, 72, 299))).toEqual(all(4000, 444).slice(72, 371));
  });
});

describe('sampleNearest', () => {
  it('samples a hand-made 4×2 RGB image down to 2×1', () => {
    // Pixel (x, y) = [10x + y, 100 + x, 200 + y]. 4 → 2: columns 1, 3. 2 → 1: row 1.
    const data = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) data.set([10 * x + y, 100 + x, 200 + y], (y * 4 + x) * 3);
    const out = sampleNearest({ data, width: 4, height: 2, channels: 3 }, resizePlan(4, 2, { size: [1, 2] }));
    expect(Array.from(out)).toEqual([11, 101, 201, 31, 103, 201]);
  });

  it('drops alpha from RGBA and spreads greyscale to three channels', () => {
    const rgba = new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 0]);
    expect(Array.from(sampleNearest({ data: rgba, width: 2, height: 1, channels: 4 }, resizePlan(2, 1, { size: [1, 2] })))).toEqual([1, 2, 3, 4, 5, 6]);
    const grey = new Uint8Array([7, 9]);
    expect(Array.from(sampleNearest({ data: grey, width: 2, height: 1, channels: 1 }, resizePlan(2, 1, { size: [1, 2] })))).toEqual([7, 7, 7, 9, 9, 9]);
  });

  it('applies the centre-crop window', () => {
    // 6×1 image, value = column; size 2, crop fraction 1: shorter side 1 → 2, long 12; left = round(5) = 5.
    // Columns 5 and 6 of a 6 → 12 resize come from source floor(5.5/2) = 2 and floor(6.5/2) = 3.
    const data = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const plan = resizePlan(6, 1, { size: 2, resize: 'center-crop', cropFraction: 1 });
    expect(plan.crop.left).toBe(5);
    expect(Array.from(sampleNearest({ data, width: 6, height: 1, channels: 1 }, plan))).toEqual([2, 2, 2, 3, 3, 3, 2, 2, 2, 3, 3, 3]);
  });
});
