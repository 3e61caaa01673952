import type { ActivationRange } from './qdq-int8.js';

/**
 * How an activation's calibrated range is chosen from what the calibration photos produced:
 * - 'minmax': the smallest and largest value seen;
 * - 'percentile': clipped at the 99.99th percentile of |x| (outliers get no quantization levels);
 * - 'entropy': clipped where the KL divergence between the histogram of |x| and its 128-level
 *   quantization is least (TensorRT's calibration).
 * @xception/engines' CALIBRATION_DEFAULT, 'minmax', was chosen by measurement (this package's README:
 * `pnpm --filter @xception/worker bench:int8 -- --methods`).
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

const BINS = 2048;
const PERCENTILE = 0.9999;

/** Running per-tensor statistics: min and max (first pass), then a histogram of |x| over [0, max |x|] (second pass). */
export class RangeCollector {
  readonly min = new Map<string, number>();
  readonly max = new Map<string, number>();
  private readonly histograms = new Map<string, Float64Array>();

  /** Pass 1: the extremes. */
  observeExtremes(name: string, values: Float32Array): void {
    let lo = this.min.get(name) ?? Infinity, hi = this.max.get(name) ?? -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min.set(name, lo);
    this.max.set(name, hi);
  }

  /** Pass 2 (percentile, entropy): the histogram of |x|, bins fixed by pass 1's extremes. */
  observeHistogram(name: string, values: Float32Array): void {
    const top = this.absMax(name);
    if (!(top > 0)) return;
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Float64Array(BINS)));
    const perBin = BINS / top;
    for (let i = 0; i < values.length; i++) h[Math.min(BINS - 1, (Math.abs(values[i]!) * perBin) | 0)]!++;
  }

  /** The range `method` picks for each tensor seen. */
  ranges(method: CalibrationMethod): Map<string, ActivationRange> {
    const out = new Map<string, ActivationRange>();
    for (const [name, min] of this.min) {
      const max = this.max.get(name)!;
      const h = this.histograms.get(name);
      if (method === 'minmax' || !h) {
        out.set(name, { min, max });
        continue;
      }
      const bin = method === 'percentile' ? percentileBin(h, PERCENTILE) : entropyBin(h);
      const t = (bin / BINS) * this.absMax(name);
      out.set(name, { min: Math.max(min, -t), max: Math.min(max, t) });
    }
    return out;
  }

  private absMax(name: string): number {
    return Math.max(Math.abs(this.min.get(name) ?? 0), Math.abs(this.max.get(name) ?? 0));
  }
}

/** The upper edge (in bins) below which `fraction` of the counts lie. */
function percentileBin(h: Float64Array, fraction: number): number {
  const total = h.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let i = 0; i < h.length; i++) {
    sum += h[i]!;
    if (sum >= fraction * total) return i + 1;
  }
  return h.length;
}

/**
 * TensorRT's entropy calibration: for each candidate clip `i` (bins), the reference P is the
 * histogram cut at i with the outliers added to its last bin, Q is P merged into 128 levels
 * and spread back over the non-empty bins; the clip with the least KL(P || Q) wins.
 */
function entropyBin(h: Float64Array, levels = 128): number {
  let best = h.length, bestKl = Infinity;
  const total = h.reduce((a, b) => a + b, 0);
  for (let i = levels; i <= h.length; i += 16) {
    const p = Array.from(h.subarray(0, i));
    p[i - 1]! += h.subarray(i).reduce((a, b) => a + b, 0);
    const q = new Float64Array(i);
    const per = i / levels;
    for (let l = 0; l < levels; l++) {
      const from = Math.floor(l * per), to = l === levels - 1 ? i : Math.floor((l + 1) * per);
      let sum = 0, nonEmpty = 0;
      for (let j = from; j < to; j++) { sum += h[j]!; if (h[j]! > 0) nonEmpty++; }
      for (let j = from; j < to; j++) if (h[j]! > 0) q[j] = sum / nonEmpty;
    }
    let kl = 0;
    for (let j = 0; j < i; j++) {
      if (p[j]! === 0) continue;
      const pj = p[j]! / total, qj = q[j]! / total;
      kl += qj > 0 ? pj * Math.log(pj / qj) : pj * 20; // an empty Q bin under mass: heavily penalised
    }
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return best;
}
