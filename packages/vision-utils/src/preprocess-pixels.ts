// No imports: the inference threads scale pixels with this without loading tfjs-core.
/**
 * Keras' `preprocess_input(x, mode='tf')` on plain numbers: x / 127.5 - 1 into a new Float32Array.
 * Keras works in float32: the input, the quotient and the difference are each rounded to float32
 * (a double result rounded once to float32 equals the float32 operation for / and -).
 */
export function preprocessPixels(x: ArrayLike<number>): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.fround(Math.fround(Number(x[i])) / 127.5) - 1);
  return out;
}
