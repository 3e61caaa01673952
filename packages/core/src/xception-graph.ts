import type { XceptionConfig } from './config.js';
import { GraphBuilder, type GraphDescription } from './graph-nodes.js';

/**
 * The residual branches' layers. Keras leaves them unnamed, so each Keras version numbers them
 * differently (`conv2d_4`, `conv2d_1`, `conv2d`...); these are our stable names, in topology
 * order. Weight loaders map a file's auto-named layers onto them by that order.
 */
export const RESIDUAL_LAYERS = [
  { conv: 'block2_residual_conv', bn: 'block2_residual_bn' },
  { conv: 'block3_residual_conv', bn: 'block3_residual_bn' },
  { conv: 'block4_residual_conv', bn: 'block4_residual_bn' },
  { conv: 'block13_residual_conv', bn: 'block13_residual_bn' },
] as const;

/**
 * Xception (Chollet, 2017), exactly as Keras' `applications/xception.py` builds it: the same
 * layers, names, paddings, BatchNorm epsilon (1e-3) and relu placement.
 *
 *   entry flow:  block1 (two plain convs), blocks 2-4 (separable convs, strided residuals)
 *   middle flow: blocks 5-12, each three relu-sepconv-BN steps around an identity residual
 *   exit flow:   block 13 (strided residual), block 14 (two sepconvs), then top or pooling
 */
export function describeXception(config: XceptionConfig): GraphDescription {
  const g = new GraphBuilder();
  let x = g.input('input_1', config.inputShape);

  // ---- Entry flow ----
  x = g.conv2d('block1_conv1', x, 32, 3, { strides: 2, padding: 'valid' });
  x = g.batchNorm('block1_conv1_bn', x);
  x = g.relu('block1_conv1_act', x);
  x = g.conv2d('block1_conv2', x, 64, 3, { padding: 'valid' });
  x = g.batchNorm('block1_conv2_bn', x);
  x = g.relu('block1_conv2_act', x);

  // Blocks 2, 3, 4 and 13 share one shape: two sepconvs, a strided max pool, and a strided
  // 1x1 conv on the residual. Block 2 alone opens without a relu (block 1 ended with one).
  const stridedBlock = (block: number, residualIndex: number, filters: [number, number], openWithRelu: boolean): void => {
    const prefix = `block${block}`;
    const names = RESIDUAL_LAYERS[residualIndex]!;
    let residual = g.conv2d(names.conv, x, filters[1], 1, { strides: 2, padding: 'same' });
    residual = g.batchNorm(names.bn, residual);

    if (openWithRelu) x = g.relu(`${prefix}_sepconv1_act`, x);
    x = g.separableConv2d(`${prefix}_sepconv1`, x, filters[0]);
    x = g.batchNorm(`${prefix}_sepconv1_bn`, x);
    x = g.relu(`${prefix}_sepconv2_act`, x);
    x = g.separableConv2d(`${prefix}_sepconv2`, x, filters[1]);
    x = g.batchNorm(`${prefix}_sepconv2_bn`, x);
    x = g.maxPool(`${prefix}_pool`, x);
    x = g.add(`${prefix}_add`, x, residual);
  };
  stridedBlock(2, 0, [128, 128], false);
  stridedBlock(3, 1, [256, 256], true);
  stridedBlock(4, 2, [728, 728], true);

  // ---- Middle flow: eight identical blocks ----
  for (let block = 5; block <= 12; block++) {
    const prefix = `block${block}`;
    const residual = x;
    for (let step = 1; step <= 3; step++) {
      x = g.relu(`${prefix}_sepconv${step}_act`, x);
      x = g.separableConv2d(`${prefix}_sepconv${step}`, x, 728);
      x = g.batchNorm(`${prefix}_sepconv${step}_bn`, x);
    }
    x = g.add(`${prefix}_add`, x, residual);
  }

  // ---- Exit flow ----
  stridedBlock(13, 3, [728, 1024], true);

  x = g.separableConv2d('block14_sepconv1', x, 1536);
  x = g.batchNorm('block14_sepconv1_bn', x);
  x = g.relu('block14_sepconv1_act', x);
  x = g.separableConv2d('block14_sepconv2', x, 2048);
  x = g.batchNorm('block14_sepconv2_bn', x);
  x = g.relu('block14_sepconv2_act', x);
  const features4d = x;

  if (config.includeTop) {
    const pooled = g.globalPool('avg_pool', features4d, 'avg');
    const predictions = g.dense('predictions', pooled, config.classes, config.classifierActivation);
    return g.build(predictions, pooled);
  }
  if (config.pooling === 'max') {
    const pooled = g.globalPool('max_pool', features4d, 'max');
    return g.build(pooled, pooled);
  }
  // pooling 'avg' outputs the pooled features; pooling null outputs the 4D map and still offers
  // the average-pooled features (computed only when asked for).
  const pooled = g.globalPool('avg_pool', features4d, 'avg');
  return g.build(config.pooling === 'avg' ? pooled : features4d, pooled);
}
