import { readKerasH5File } from './keras-h5-file.js';
import { mapToXception, variableOf, type MappedWeights } from './xception-mapping.js';

export interface ReadWeightsOptions {
  /** Keep the classifier. Default: keep it when the file has one; false ignores a file's top. */
  includeTop?: boolean;
  /** The classifier width wanted; a file with another fails with ERR_WEIGHTS_SHAPE. */
  classes?: number;
}

export interface XceptionWeightsReading extends MappedWeights {
  readonly format: 'keras-h5' | 'tfjs-layers' | 'keras';
  /** The file or URL the weights came from. */
  readonly source: string;
  /**
   * [height, width, channels] of the model's input when the file records it (a tfjs model.json's
   * InputLayer); absent for weight-only formats. A .keras archive has its whole `savedConfig`.
   */
  readonly inputShape?: readonly [number, number, number] | null;
}

/**
 * Reads a Keras HDF5 file (Keras 2's save_weights or model.save, Keras 3's legacy model.save
 * to .h5, or Keras 3's `.weights.h5`) into Xception's weight names, as
 * float32 values ready for createXceptionFromValues().
 */
export async function readKerasH5(path: string, options: ReadWeightsOptions = {}): Promise<XceptionWeightsReading> {
  const contents = await readKerasH5File(path);
  const layers = contents.layers.map((layer) => ({
    name: layer.name,
    weights: layer.weights.map((w) => ({
      variable: variableOf(w.name),
      fileName: w.name,
      shape: w.shape,
      values: w.data instanceof Float32Array ? w.data : w.dtype === 'float64' ? Float32Array.from(w.data) : halfToFloat(w.data as Uint16Array),
    })),
  }));
  const mapped = mapToXception(layers, { ...options, source: { path } });
  return { ...mapped, format: 'keras-h5', source: path };
}

/** IEEE 754 half precision bits to float32 (HDF5 stores float16 this way). */
export function halfToFloat(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

let halves: Float32Array | null = null;

/**
 * Every float16's value, by its bits (256 KB, made on first use): a lookup per weight instead of
 * a power per weight, which took 1.7 s for a float16 Xception's 21 M weights.
 */
function halfTable(): Float32Array {
  if (halves) return halves;
  halves = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    halves[h] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024)
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
      : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return halves;
}
