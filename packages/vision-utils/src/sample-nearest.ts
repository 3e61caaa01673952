import type { ResizePlan } from './resize-plan.js';

/** Decoded pixels, row-major, `channels` bytes per pixel (3 = RGB, 4 = RGBA whose alpha is ignored). */
export interface PixelBuffer {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Beyond this many steps the running sum is replaced by the closed form (only absurdly thin images). */
const MAX_ACCUMULATED_STEPS = 1 << 22;

/**
 * Source indices for output positions start … start+count−1 of a nearest-neighbour resize from
 * inSize to outSize, exactly as Pillow's ImagingScaleAffine computes them: step = in/out,
 * position = step/2, then position += step for each output pixel, truncated. The running sum (not
 * floor((i + 0.5) × in/out)) matters: the two differ at exact halves, e.g. 2 → 299 at i = 149
 * where Pillow picks source 0 and the closed form 1.
 */
export function pillowNearestIndices(inSize: number, outSize: number, start: number, count: number): Int32Array {
  const step = inSize / outSize;
  const out = new Int32Array(count);
  const clamp = (v: number): number => (v < 0 ? 0 : v >= inSize ? inSize - 1 : v);
  if (start + count > MAX_ACCUMULATED_STEPS) {
    for (let i = 0; i < count; i++) out[i] = clamp(Math.trunc(step * 0.5 + step * (start + i)));
    return out;
  }
  let pos = step * 0.5;
  for (let i = 0; i < start; i++) pos += step;
  for (let i = 0; i < count; i++) {
    out[i] = clamp(Math.trunc(pos));
    pos += step;
  }
  return out;
}

/**
 * Applies a resize plan with Pillow's nearest neighbour to full-size pixels and returns packed RGB
 * (HWC, crop.width × crop.height × 3). Costs one lookup per output pixel, independent of the input size.
 */
export function sampleNearest(src: PixelBuffer, plan: ResizePlan): Uint8Array {
  const { left, top, width, height } = plan.crop;
  const xs = pillowNearestIndices(src.width, plan.resizeWidth, left, width);
  const ys = pillowNearestIndices(src.height, plan.resizeHeight, top, height);
  const out = new Uint8Array(width * height * 3);
  const c = src.channels;
  const rowStride = src.width * c;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = ys[y]! * rowStride;
    for (let x = 0; x < width; x++) {
      const p = row + xs[x]! * c;
      if (c >= 3) {
        out[o] = src.data[p]!;
        out[o + 1] = src.data[p + 1]!;
        out[o + 2] = src.data[p + 2]!;
      } else {
        // Greyscale buffers: copy the one value to all three channels.
        out[o] = out[o + 1] = out[o + 2] = src.data[p]!;
      }
      o += 3;
    }
  }
  return out;
}
