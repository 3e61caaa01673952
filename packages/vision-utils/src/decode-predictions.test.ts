import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePredictions } from './decode-predictions.js';
import { DecodePredictionsError } from './errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const KERAS_SHAPE_MESSAGE =
  '`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). Found array with shape: ';

/** A row of 1000 small scores with chosen classes set high. */
function row(peaks: Record<number, number>): Float32Array {
  const r = new Float32Array(1000).fill(0.0001);
  for (const [i, v] of Object.entries(peaks)) r[Number(i)] = v;
  return r;
}

describe('decodePredictions', () => {
  it('ranks classes per image, highest first, with wnid and label', () => {
    const out = decodePredictions([row({ 386: 0.8871446, 101: 0.05, 385: 0.03 }), row({ 0: 0.9 })], 3);
    expect(out).toHaveLength(2);
    // 386/101/385 are n02504458 African_elephant, n01871265 tusker, n02504013 Indian_elephant in Keras' index.
    expect(out[0]!.map((p) => [p.index, p.wnid, p.label])).toEqual([
      [386, 'n02504458', 'African_elephant'],
      [101, 'n01871265', 'tusker'],
      [385, 'n02504013', 'Indian_elephant'],
    ]);
    expect(out[0]![0]!.score).toBeCloseTo(0.8871446, 6);
    expect(out[1]![0]).toEqual({ index: 0, wnid: 'n01440764', label: 'tench', score: Math.fround(0.9) });
    expect(out[1]).toHaveLength(3);
  });

  it('defaults to top 5 and accepts tensors and {data, shape}', () => {
    const data = new Float32Array(2000);
    for (let i = 0; i < 1000; i++) {
      data[i] = i / 1000; // ascending: top is 999, 998, ...
      data[1000 + i] = (1000 - i) / 1000; // descending: top is 0, 1, ...
    }
    const t = tf.tensor2d(data, [2, 1000]);
    for (const input of [t, { data, shape: [2, 1000] }]) {
      const out = decodePredictions(input);
      expect(out[0]!.map((p) => p.index)).toEqual([999, 998, 997, 996, 995]);
      expect(out[1]!.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    }
    t.dispose();
  });

  it('accepts a tensor from another copy of tfjs-core (duck-typed)', () => {
    const data = row({ 42: 0.7 });
    const foreign = { rank: 2, shape: [1, 1000], isDisposed: false, dataSync: () => data };
    expect(decodePredictions(foreign as unknown as tf.Tensor, 1)[0]![0]!.index).toBe(42);
  });

  it('breaks ties by the lower index and ranks NaN last', () => {
    const r = new Array<number>(1000).fill(0);
    r[7] = 0.5;
    r[3] = 0.5;
    r[1] = Number.NaN;
    const [top] = decodePredictions([r], 1000);
    expect(top!.slice(0, 3).map((p) => p.index)).toEqual([3, 7, 0]);
    expect(top![999]!.index).toBe(1);
  });

  it("raises Keras' error for shapes other than [N, 1000]", () => {
    const cases: [unknown, string][] = [
      [tf.zeros([1000]), '(1000,)'],
      [tf.zeros([1, 999]), '(1, 999)'],
      [tf.zeros([1, 1, 1000]), '(1, 1, 1000)'],
      [{ data: new Float32Array(1001), shape: [1, 1001] }, '(1, 1001)'],
      [[new Float32Array(10)], '(1, 10)'],
    ];
    for (const [input, shape] of cases) {
      let error: unknown;
      try {
        decodePredictions(input as tf.Tensor);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodePredictionsError);
      expect((error as DecodePredictionsError).code).toBe('ERR_DECODE_PREDICTIONS_SHAPE');
      expect((error as Error).message).toBe(KERAS_SHAPE_MESSAGE + shape);
      if (input instanceof tf.Tensor) input.dispose();
    }
  });

  it('refuses bad top values and non-prediction inputs with typed errors', () => {
    for (const top of [0, -1, 1001, 2.5, Number.NaN]) {
      expect(() => decodePredictions([row({})], top)).toThrow(DecodePredictionsError);
    }
    for (const bad of [null, undefined, 42, 'x', {}, { data: new Float32Array(5), shape: [1, 1000] }]) {
      expect(() => decodePredictions(bad as unknown as tf.Tensor)).toThrow(DecodePredictionsError);
    }
  });

  it('leaks no tensors', () => {
    const t = tf.randomUniform([3, 1000]);
    const before = tf.memory().numTensors;
    decodePredictions(t);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});
