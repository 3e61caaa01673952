/**
 * Keras' `Normalization(axis=-1)`: per feature, `(x - mean) / max(sqrt(variance), 1e-7)`, with
 * mean and variance set by `adapt()` on the training features. Keras adapts a NumPy array with
 * `np.mean` and `np.var` (the population variance, ddof=0); we sum in float64 and round once,
 * which agrees with NumPy's float32 pairwise sums to float32 round-off.
 */
export interface NormalizationStats {
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** Keras' backend.epsilon(): the floor on the standard deviation that Normalization divides by. */
export const NORMALIZATION_EPSILON = 1e-7;

/** Keras' `Normalization.adapt(features)` for `count` rows of `dims` features, row-major. */
export function adaptNormalization(features: Float32Array, count: number, dims: number): NormalizationStats {
  if (count < 1 || features.length !== count * dims) {
    throw new RangeError(`adaptNormalization: ${features.length} values are not ${count} rows of ${dims} features.`);
  }
  const sum = new Float64Array(dims);
  for (let r = 0; r < count; r++) for (let c = 0; c < dims; c++) sum[c] = sum[c]! + features[r * dims + c]!;
  const mean = sum.map((s) => s / count);
  const squares = new Float64Array(dims);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < dims; c++) {
      const d = features[r * dims + c]! - mean[c]!;
      squares[c] = squares[c]! + d * d;
    }
  }
  return { mean: Float32Array.from(mean), variance: Float32Array.from(squares, (s) => s / count) };
}
