import * as tf from '@tensorflow/tfjs-core';
import type { Padding } from '@xception/core';

/**
 * Convolutions written as shifted slices and one matMul (im2col), for the layers that train.
 * tfjs' own conv gradients are slow on the pure-JS cpu backend (Conv2DBackpropFilter loops per
 * element: ~50x a forward pass for Xception's 1x1 convs) and missing on wasm (no
 * Conv2DBackpropFilter, no depthwise backprop kernels); slices, elementwise products and matMul
 * have fast gradients on every backend. Same arithmetic as TensorFlow's convs, TensorFlow's
 * 'same' padding (the extra pixel at the bottom and right).
 */

/** TensorFlow's output size and leading pad for one spatial dimension. */
function geometry(size: number, kernel: number, stride: number, padding: Padding): { out: number; before: number; after: number } {
  if (padding === 'valid') return { out: Math.floor((size - kernel) / stride) + 1, before: 0, after: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/** Every stride-th row and column of x, starting at (top, left), `rows` x `cols` of them. */
function strided(x: tf.Tensor4D, top: number, left: number, rows: number, cols: number, stride: number): tf.Tensor4D {
  const [n, , , c] = x.shape;
  if (stride === 1) return tf.slice(x, [0, top, left, 0], [n, rows, cols, c]);
  // Take rows*stride rows (padding at the end where the image runs out), fold the stride into
  // its own axis and keep index 0: a strided slice built from ops whose gradients exist everywhere.
  const needRows = rows * stride;
  const needCols = cols * stride;
  const available = tf.slice(x, [0, top, left, 0], [n, Math.min(needRows, x.shape[1] - top), Math.min(needCols, x.shape[2] - left), c]);
  const padded = tf.pad(available, [[0, 0], [0, needRows - available.shape[1]], [0, needCols - available.shape[2]], [0, 0]]);
  const folded = tf.reshape(padded, [n, rows, stride, cols, stride, c]);
  return tf.reshape(tf.slice(folded, [0, 0, 0, 0, 0, 0], [n, rows, 1, cols, 1, c]), [n, rows, cols, c]);
}

function padded(x: tf.Tensor4D, kernel: number, stride: number, padding: Padding, value = 0): { x: tf.Tensor4D; rows: number; cols: number } {
  const h = geometry(x.shape[1], kernel, stride, padding);
  const w = geometry(x.shape[2], kernel, stride, padding);
  const xp = h.before + h.after + w.before + w.after === 0 ? x : tf.pad(x, [[0, 0], [h.before, h.after], [w.before, w.after], [0, 0]], value);
  return { x: xp, rows: h.out, cols: w.out };
}

/** Keras' Conv2D (no bias): kernel [k, k, in, out]. */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number, padding: Padding): tf.Tensor4D {
  const [k, , cin, cout] = kernel.shape;
  const { x: xp, rows, cols } = padded(x, k, stride, padding);
  const patches: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) patches.push(strided(xp, i, j, rows, cols, stride));
  const columns = patches.length === 1 ? patches[0]! : tf.concat(patches, 3);
  const n = x.shape[0];
  const product = tf.matMul(tf.reshape(columns, [n * rows * cols, k * k * cin]), tf.reshape(kernel, [k * k * cin, cout]));
  return tf.reshape(product, [n, rows, cols, cout]);
}

/** Keras' DepthwiseConv2D (multiplier 1, no bias): kernel [k, k, channels, 1]. */
export function depthwiseConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number, padding: Padding): tf.Tensor4D {
  const [k, , c] = kernel.shape;
  const { x: xp, rows, cols } = padded(x, k, stride, padding);
  const taps = tf.reshape(kernel, [k * k, c]);
  let sum: tf.Tensor4D | null = null;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const term = tf.mul(strided(xp, i, j, rows, cols, stride), tf.reshape(tf.slice(taps, [i * k + j, 0], [1, c]), [c])) as tf.Tensor4D;
      sum = sum ? (tf.add(sum, term) as tf.Tensor4D) : term;
    }
  }
  return sum!;
}

/**
 * Keras' MaxPooling2D as the largest of the window's strided slices ('same' pads with -Infinity,
 * as TensorFlow ignores the padding). tfjs' wasm MaxPoolGrad routes gradients wrongly with
 * 'same' padding (max error 0.9 against a hand-computed reference on a 5x5 map, 3x3 stride 2;
 * the cpu backend's is right), and Xception's strided blocks pool exactly so.
 */
export function maxPool(x: tf.Tensor4D, size: number, stride: number, padding: Padding): tf.Tensor4D {
  const { x: xp, rows, cols } = padded(x, size, stride, padding, -Infinity);
  let max: tf.Tensor4D | null = null;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const window = strided(xp, i, j, rows, cols, stride);
      max = max ? (tf.maximum(max, window) as tf.Tensor4D) : window;
    }
  }
  return max!;
}

/** Keras' SeparableConv2D (no bias): depthwise, then a 1x1 pointwise conv. */
export function separableConv2d(x: tf.Tensor4D, depthwise: tf.Tensor4D, pointwise: tf.Tensor4D, stride: number, padding: Padding): tf.Tensor4D {
  return conv2d(depthwiseConv2d(x, depthwise, stride, padding), pointwise, 1, 'valid');
}
