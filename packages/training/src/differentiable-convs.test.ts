import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@xception/test-kit';
import { randomImages } from '@xception/core/testing';
import { conv2d, depthwiseConv2d, maxPool } from './differentiable-convs.js';

/** Our im2col convs against tfjs' own conv kernels (what the frozen layers and inference run). */
describe('convolutions as slices and matMul', () => {
  beforeAll(() => useBackend('cpu'));
  const cases = [
    { size: [7, 7], k: 3, stride: 2, padding: 'valid' },
    { size: [6, 9], k: 3, stride: 1, padding: 'same' },
    { size: [5, 6], k: 1, stride: 2, padding: 'same' },
    { size: [8, 5], k: 3, stride: 2, padding: 'same' },
  ] as const;
  it.each(cases)('$k x $k, stride $stride, $padding, on $size: the same values as tf.conv2d, tf.depthwiseConv2d and tf.maxPool', ({ size, k, stride, padding }) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor4d(randomImages([2, size[0], size[1], 3], 1), [2, size[0], size[1], 3]);
      const kernel = tf.tensor4d(randomImages([k, k, 3, 4], 2), [k, k, 3, 4]);
      const depthwise = tf.tensor4d(randomImages([k, k, 3, 1], 3), [k, k, 3, 1]);
      const ours = conv2d(x, kernel, stride, padding);
      const theirs = tf.conv2d(x, kernel, stride, padding);
      expect(ours.shape).toEqual(theirs.shape);
      expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-5);
      const oursDw = depthwiseConv2d(x, depthwise, stride, padding);
      const theirsDw = tf.depthwiseConv2d(x, depthwise, stride, padding);
      expect(oursDw.shape).toEqual(theirsDw.shape);
      expect(tf.max(tf.abs(tf.sub(oursDw, theirsDw))).dataSync()[0]).toBeLessThan(1e-5);
      if (k === 3) expect(tf.max(tf.abs(tf.sub(maxPool(x, k, stride, padding), tf.maxPool(x, k, stride, padding)))).dataSync()[0]).toBe(0);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
