import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { countParameters, describeXception, expectedWeights, RESIDUAL_LAYERS, resolveXceptionConfig, type GraphNode } from './index.js';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';

interface KerasLayer { name: string; class_name: string; config: Record<string, any>; inbound_nodes: any[][] }

const topologyPath = sharedPath('reference', 'keras-xception-tfjs-model.json');
const keras = topologyPath ? JSON.parse(readFileSync(topologyPath, 'utf8')) : null;
const kerasLayers: KerasLayer[] = keras?.modelTopology.model_config.config.layers ?? [];

/** Keras' auto-named layers in this file, renamed to ours: residual convs/BNs by order, adds by block. */
function kerasToOurNames(): Map<string, string> {
  const names = new Map<string, string>();
  kerasLayers.filter((l) => /^conv2d_\d+$/.test(l.name)).forEach((l, i) => names.set(l.name, RESIDUAL_LAYERS[i]!.conv));
  kerasLayers.filter((l) => /^batch_normalization_\d+$/.test(l.name)).forEach((l, i) => names.set(l.name, RESIDUAL_LAYERS[i]!.bn));
  const addBlocks = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  kerasLayers.filter((l) => l.class_name === 'Add').forEach((l, i) => names.set(l.name, `block${addBlocks[i]}_add`));
  names.set(kerasLayers[0]!.name, 'input_1');
  return names;
}

describe.skipIf(!keras)('the graph is the real Keras Xception topology', () => {
  if (!keras) console.warn(SKIP_NO_SHARED);
  const graph = describeXception(resolveXceptionConfig());
  const rename = kerasToOurNames();
  const ours = new Map(graph.nodes.map((n) => [n.name, n]));

  test('the same 134 layers, with the same names', () => {
    expect(kerasLayers).toHaveLength(134);
    expect(graph.nodes).toHaveLength(134);
    expect(new Set(kerasLayers.map((l) => rename.get(l.name) ?? l.name))).toEqual(new Set(ours.keys()));
  });

  test('each layer has Keras\' kind, configuration and inputs', () => {
    const kind: Record<string, GraphNode['op']> = {
      InputLayer: 'input', Conv2D: 'conv2d', SeparableConv2D: 'separableConv2d', BatchNormalization: 'batchNorm',
      Activation: 'relu', MaxPooling2D: 'maxPool', Add: 'add', GlobalAveragePooling2D: 'globalAvgPool', Dense: 'dense',
    };
    for (const layer of kerasLayers) {
      const name = rename.get(layer.name) ?? layer.name;
      const node = ours.get(name)!;
      const c = layer.config;
      expect(node.op, name).toBe(kind[layer.class_name]);
      const inputs = (layer.inbound_nodes[0] ?? []).map((i: any[]) => rename.get(i[0]) ?? i[0]);
      expect(node.inputs, name).toEqual(inputs);
      switch (node.op) {
        case 'conv2d':
        case 'separableConv2d':
          expect([node.channels, node.kernelSize, node.kernelSize, node.strides, node.strides, node.padding], name)
            .toEqual([c.filters, ...c.kernel_size, ...c.strides, c.padding]);
          expect(c.use_bias, name).toBe(false);
          if (node.op === 'separableConv2d') expect(c.depth_multiplier).toBe(1);
          break;
        case 'batchNorm':
          expect(node.epsilon, name).toBe(c.epsilon);
          break;
        case 'relu':
          expect(c.activation, name).toBe('relu');
          break;
        case 'maxPool':
          expect([node.poolSize, node.poolSize, node.strides, node.strides, node.padding], name).toEqual([...c.pool_size, ...c.strides, c.padding]);
          break;
        case 'dense':
          expect([node.units, node.activation], name).toEqual([c.units, c.activation]);
          break;
        default:
      }
    }
  });

  test('the weights contract is the converter\'s 236 weights with their shapes', () => {
    const manifest: Array<{ name: string; shape: number[] }> = keras.weightsManifest.flatMap((g: any) => g.weights);
    expect(manifest).toHaveLength(236);
    const fromFile = new Map(manifest.map((w) => {
      // 'block1_conv1_1/kernel' (a session suffix) and auto-named layers map to our names.
      const [layer, variable] = w.name.split('/') as [string, string];
      const kerasLayer = kerasLayers.find((l) => l.name === layer || layer === `${l.name}_1`)!;
      return [`${rename.get(kerasLayer.name) ?? kerasLayer.name}/${variable}`, w.shape];
    }));
    const expected = expectedWeights({});
    expect(expected).toHaveLength(236);
    expect(new Map(expected.map((w) => [w.name, [...w.shape]]))).toEqual(fromFile);
  });
});

describe('the weights contract', () => {
  test('parameter counts are Keras\' figures', () => {
    expect(countParameters({})).toBe(22_910_480);
    expect(countParameters({ includeTop: false })).toBe(20_861_480);
    expect(countParameters({ includeTop: false, pooling: 'max' })).toBe(20_861_480);
  });
  test('names follow Keras, in Keras\' order within each layer', () => {
    const names = expectedWeights({}).map((w) => w.name);
    expect(names.slice(0, 5)).toEqual([
      'block1_conv1/kernel', 'block1_conv1_bn/gamma', 'block1_conv1_bn/beta', 'block1_conv1_bn/moving_mean', 'block1_conv1_bn/moving_variance',
    ]);
    expect(names).toContain('block2_sepconv1/depthwise_kernel');
    expect(names).toContain('block13_residual_bn/moving_variance');
    expect(names.slice(-2)).toEqual(['predictions/kernel', 'predictions/bias']);
  });
  test('shapes follow Keras\' layouts: HWIO, depthwise [k, k, C, 1], dense [in, out]', () => {
    const shapes = new Map(expectedWeights({ weights: null, classes: 10 }).map((w) => [w.name, w.shape]));
    expect(shapes.get('block1_conv1/kernel')).toEqual([3, 3, 3, 32]);
    expect(shapes.get('block2_sepconv1/depthwise_kernel')).toEqual([3, 3, 64, 1]);
    expect(shapes.get('block2_sepconv1/pointwise_kernel')).toEqual([1, 1, 64, 128]);
    expect(shapes.get('block2_residual_conv/kernel')).toEqual([1, 1, 64, 128]);
    expect(shapes.get('predictions/kernel')).toEqual([2048, 10]);
    expect(shapes.get('predictions/bias')).toEqual([10]);
  });
  test('without a top there is no classifier', () => {
    const names = expectedWeights({ includeTop: false }).map((w) => w.name);
    expect(names).toHaveLength(234);
    expect(names.some((n) => n.startsWith('predictions'))).toBe(false);
  });
});
