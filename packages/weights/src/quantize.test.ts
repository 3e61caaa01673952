import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { halfToFloat } from './keras-h5.js';
import { floatToHalf, quantizeWeight } from './quantize.js';
import { useBackend } from './test-support/test-imports.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('quantizeWeight, decoded by tfjs itself', () => {
  it('float16 bits match IEEE 754 half precision (decoded by tfjs\' float16 decoder)', () => {
    // Known encodings (IEEE 754-2008 binary16 table).
    const cases: Array<[number, number]> = [[0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [Infinity, 0x7c00], [2 ** -24, 0x0001], [1 / 3, 0x3555], [0.1, 0x2e66]];
    for (const [value, bits] of cases) expect(floatToHalf(value), String(value)).toBe(bits);
    expect(floatToHalf(NaN) & 0x7c00).toBe(0x7c00);
    const values = Float32Array.from([0.5, -1.25, 3.14159, 1e-5, -7e-8, 1000.7]);
    const q = quantizeWeight(values, 'float16');
    const tensors = tf.io.decodeWeights(q.bytes.buffer as ArrayBuffer, [{ name: 'w', shape: [values.length], dtype: 'float32', quantization: q.quantization }]);
    const decoded = tensors.w!.dataSync();
    tf.dispose(tensors.w!);
    for (let i = 0; i < values.length; i++) expect(Math.abs(decoded[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -11 + 2 ** -25);
  });

  it('halfToFloat reads all 65,536 float16 bit patterns as tfjs\' float16 decoder does', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const tensors = tf.io.decodeWeights(bits.buffer, [{ name: 'w', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } }]);
    const expected = tensors.w!.dataSync();
    tf.dispose(tensors.w!);
    const ours = halfToFloat(bits);
    const differ = [...ours.keys()].filter((i) => !Object.is(ours[i], expected[i]) && !(Number.isNaN(ours[i]) && Number.isNaN(expected[i])));
    expect(differ.map((i) => `0x${i.toString(16)}: ${ours[i]} vs ${expected[i]}`).slice(0, 5)).toEqual([]);
  });

  it('uint8 and uint16 are affine with zero exact, within half a step after tf.io.decodeWeights', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.7 + 0.1);
    for (const dtype of ['uint8', 'uint16'] as const) {
      const q = quantizeWeight(values, dtype);
      const decoded = tf.io.decodeWeights(q.bytes.buffer as ArrayBuffer, [{ name: 'w', shape: [1000], dtype: 'float32', quantization: q.quantization }]);
      const back = decoded.w!.dataSync();
      tf.dispose(decoded.w!);
      const step = q.quantization.scale!;
      expect(step).toBeCloseTo((0.8 - -0.6) / (dtype === 'uint8' ? 255 : 65535), 2);
      for (let i = 0; i < values.length; i++) expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6);
      // Zero is representable exactly, as in the converter.
      expect(Math.abs(-q.quantization.min! / step - Math.round(-q.quantization.min! / step))).toBeLessThan(1e-6);
    }
    // A constant tensor: zeros with scale 1, as the converter writes it.
    expect(quantizeWeight(Float32Array.from([0.3, 0.3]), 'uint8').quantization).toMatchObject({ scale: 1, min: Math.fround(0.3) });
  });
});
