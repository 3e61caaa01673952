import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreprocessError } from './errors.js';
import { preprocessInput } from './preprocess-input.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('preprocessInput (Keras mode "tf": x / 127.5 - 1)', () => {
  it('maps 0 → -1, 127.5 → 0, 255 → 1 for tensors', () => {
    const x = tf.tensor1d([0, 127.5, 255]);
    const y = preprocessInput(x);
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.dataSync())).toEqual([-1, 0, 1]);
    tf.dispose([x, y]);
  });

  it('casts int32 tensors and keeps the shape', () => {
    const x = tf.tensor4d([0, 51, 255, 102, 204, 153], [1, 1, 2, 3], 'int32');
    const y = preprocessInput(x);
    expect(y.shape).toEqual([1, 1, 2, 3]);
    expect(y.dtype).toBe('float32');
    // 51 / 127.5 - 1 = -0.6 etc., by hand.
    const expected = [-1, -0.6, 1, -0.2, 0.6, 0.2];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    tf.dispose([x, y]);
  });

  it('maps typed arrays and number arrays to Float32Array', () => {
    const u8 = preprocessInput(new Uint8Array([0, 255, 51]));
    expect(u8).toBeInstanceOf(Float32Array);
    expect(u8[0]).toBe(-1);
    expect(u8[1]).toBe(1);
    expect(u8[2]).toBe(Math.fround(Math.fround(51 / 127.5) - 1));
    expect(Array.from(preprocessInput([127.5]))).toEqual([0]);
    expect(preprocessInput(new Float32Array(0))).toHaveLength(0);
  });

  it('gives the same float32 numbers for arrays and tensors', () => {
    const values = Array.from({ length: 256 }, (_, i) => i);
    const x = tf.tensor1d(values, 'float32');
    const y = preprocessInput(x);
    expect(Array.from(preprocessInput(values))).toEqual(Array.from(y.dataSync()));
    tf.dispose([x, y]);
  });

  it('refuses an unknown mode with a typed error', () => {
    const call = (): unknown => preprocessInput([1], { mode: 'caffe' as 'tf' });
    expect(call).toThrow(PreprocessError);
    expect(call).toThrow(/unknown mode "caffe"; use 'tf'/);
    try {
      call();
    } catch (e) {
      expect((e as PreprocessError).code).toBe('ERR_PREPROCESS_MODE');
    }
  });

  it('refuses inputs it cannot scale with a typed error', () => {
    const s = tf.tensor1d(['a'], 'string');
    expect(() => preprocessInput(s)).toThrow(PreprocessError);
    s.dispose();
    const d = tf.tensor1d([1]);
    d.dispose();
    expect(() => preprocessInput(d)).toThrow(/disposed/);
    expect(() => preprocessInput(null as unknown as number[])).toThrow(PreprocessError);
    expect(() => preprocessInput(42 as unknown as number[])).toThrow(PreprocessError);
  });

  it('leaks no tensors', () => {
    const x = tf.zeros([2, 4, 4, 3], 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) preprocessInput(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('preprocessInput of bytes (decoded pixels, as the engines pass them)', () => {
  it('gives every byte value the same float32 bits as tf.js does on a float tensor', () => {
    const bytes = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) % 256);
    const x = tf.tensor1d(Array.from(bytes), 'float32');
    const y = preprocessInput(x);
    const expected = new Uint32Array(y.dataSync().slice().buffer);
    for (const input of [bytes, new Uint8ClampedArray(bytes)]) {
      expect(new Uint32Array(preprocessInput(input).buffer)).toEqual(expected);
    }
    tf.dispose([x, y]);
  });
});
