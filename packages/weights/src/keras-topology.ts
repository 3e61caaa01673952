import { liveNodeNames, type GraphDescription, type GraphNode } from '@xception/core';

/** A Keras 2 layer config as a model.json `modelTopology` carries it. */
export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

export interface KerasModelTopology {
  keras_version: string;
  backend: string;
  model_config: {
    class_name: 'Model';
    config: { name: string; layers: KerasLayerJson[]; input_layers: unknown[]; output_layers: unknown[] };
  };
}

/**
 * Keras' functional-model JSON for a graph description, as Keras 2 would write it (only the
 * fields tfjs-layers reads; SeparableConv2D without the `kernel_*` fields that tfjs-layers 4
 * rejects). Generated from describeXception() so that Xception is spelled out in one place.
 * Only the layers that lead to the output are written: a functional model has no dangling ones.
 */
export function kerasTopologyOf(graph: GraphDescription, name = 'xception'): KerasModelTopology {
  const live = liveNodeNames(graph, [graph.output]);
  const nodes = graph.nodes.filter((n) => live.has(n.name));
  const input = nodes.find((n) => n.op === 'input')!;
  return {
    keras_version: '2.2.4',
    backend: 'tensorflow',
    model_config: {
      class_name: 'Model',
      config: {
        name,
        layers: nodes.map(layerJson),
        input_layers: [[input.name, 0, 0]],
        output_layers: [[graph.output, 0, 0]],
      },
    },
  };
}

const common = (node: GraphNode): Record<string, unknown> => ({ name: node.name, trainable: true, dtype: 'float32' });

function layerJson(node: GraphNode): KerasLayerJson {
  const inbound = node.inputs.length === 0 ? [] : [node.inputs.map((i) => [i, 0, 0, {}])];
  const layer = (class_name: string, config: Record<string, unknown>): KerasLayerJson => ({
    name: node.name, class_name, config: { ...common(node), ...config }, inbound_nodes: inbound,
  });
  switch (node.op) {
    case 'input':
      return { name: node.name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...node.shape], dtype: 'float32', sparse: false, name: node.name }, inbound_nodes: [] };
    case 'conv2d':
      return layer('Conv2D', {
        filters: node.channels, kernel_size: [node.kernelSize, node.kernelSize], strides: [node.strides, node.strides],
        padding: node.padding, data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false,
      });
    case 'separableConv2d':
      return layer('SeparableConv2D', {
        filters: node.channels, kernel_size: [node.kernelSize, node.kernelSize], strides: [node.strides, node.strides],
        padding: node.padding, data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false,
        depth_multiplier: 1,
      });
    case 'batchNorm':
      return layer('BatchNormalization', { axis: -1, momentum: 0.99, epsilon: node.epsilon, center: true, scale: true });
    case 'relu':
      return layer('Activation', { activation: 'relu' });
    case 'maxPool':
      return layer('MaxPooling2D', {
        pool_size: [node.poolSize, node.poolSize], strides: [node.strides, node.strides], padding: node.padding, data_format: 'channels_last',
      });
    case 'add':
      return layer('Add', {});
    case 'globalAvgPool':
      return layer('GlobalAveragePooling2D', { data_format: 'channels_last' });
    case 'globalMaxPool':
      return layer('GlobalMaxPooling2D', { data_format: 'channels_last' });
    case 'dense':
      return layer('Dense', { units: node.units, activation: node.activation ?? 'linear', use_bias: true });
  }
}
