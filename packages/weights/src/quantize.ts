/** The encodings tfjs' converter offers (`--quantize_float16`, `--quantize_uint8`, `--quantize_uint16`). */
export type QuantizeDtype = 'float16' | 'uint8' | 'uint16';

export interface QuantizedWeight {
  readonly bytes: Uint8Array;
  /** The manifest's `quantization` entry, read back by tf.io.decodeWeights. */
  readonly quantization: { dtype: QuantizeDtype; scale?: number; min?: number; original_dtype: 'float32' };
}

/**
 * Quantizes float32 values as tensorflowjs_converter does (quantization.py): affine uint8/uint16
 * with the range nudged so that 0 is exact, or IEEE half precision rounded to nearest even.
 */
export function quantizeWeight(values: Float32Array, dtype: QuantizeDtype): QuantizedWeight {
  if (dtype === 'float16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]!);
    return { bytes: new Uint8Array(out.buffer), quantization: { dtype, original_dtype: 'float32' } };
  }
  const quantMax = dtype === 'uint8' ? 255 : 65535;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const out = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  if (values.length === 0 || lo === hi) {
    // One value: the converter stores zeros with scale 1 and min at that value.
    return { bytes: new Uint8Array(out.buffer), quantization: { dtype, scale: 1, min: values.length ? lo : 0, original_dtype: 'float32' } };
  }
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  const scale = (hi - lo) / quantMax;
  const zeroPoint = Math.min(quantMax, Math.max(0, Math.round(-lo / scale)));
  const min = -zeroPoint * scale;
  const max = quantMax * scale + min;
  for (let i = 0; i < values.length; i++) {
    const clipped = Math.min(max, Math.max(min, values[i]!));
    out[i] = Math.round((clipped - min) / scale);
  }
  return { bytes: new Uint8Array(out.buffer), quantization: { dtype, scale, min, original_dtype: 'float32' } };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 to IEEE 754 half bits, round to nearest even, overflow to Inf, subnormals kept. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}
