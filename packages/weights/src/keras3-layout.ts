import { liveNodeNames, type GraphDescription, type GraphNode } from '@xception/core';

/**
 * Keras 3's names for our graph's layers, as its own saving code derives them.
 *
 * Keras 3 stores a model's weights by position, not by layer name: `model.weights.h5` (inside a
 * `.keras` archive, or a `.weights.h5` file) holds `layers/<class>[_N]/vars/<i>`, where <class>
 * is the snake_case class name (conv2d, batch_normalization, ...) and N counts the earlier
 * layers of that class in `model.layers` order, and <i> the variables in creation order. So a
 * writer must know `model.layers` order: Keras 3's functional models sort layers by their depth
 * from the output (deepest first), and layers of equal depth by a depth-first post-order walk
 * from the output through each node's inputs in argument order (keras/src/ops/function.py,
 * map_graph). That is not our description's order: a residual branch (two layers) is shallower
 * than its block's main path (seven), so Keras lists it after the main path.
 */

/** Keras 3's class and its snake_case storage name for each of our ops. */
const KERAS_CLASS: Record<GraphNode['op'], readonly [className: string, snake: string]> = {
  input: ['InputLayer', 'input_layer'],
  conv2d: ['Conv2D', 'conv2d'],
  separableConv2d: ['SeparableConv2D', 'separable_conv2d'],
  batchNorm: ['BatchNormalization', 'batch_normalization'],
  relu: ['Activation', 'activation'],
  maxPool: ['MaxPooling2D', 'max_pooling2d'],
  add: ['Add', 'add'],
  globalAvgPool: ['GlobalAveragePooling2D', 'global_average_pooling2d'],
  globalMaxPool: ['GlobalMaxPooling2D', 'global_max_pooling2d'],
  dense: ['Dense', 'dense'],
};

/** The variables Keras 3 creates, in order (vars/0, vars/1, ...), per storage class. */
export const KERAS3_VARIABLES: Readonly<Record<string, readonly string[]>> = {
  conv2d: ['kernel', 'bias'],
  separable_conv2d: ['depthwise_kernel', 'pointwise_kernel', 'bias'],
  batch_normalization: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
  dense: ['kernel', 'bias'],
};

export function kerasClassOf(node: GraphNode): { className: string; snake: string } {
  const [className, snake] = KERAS_CLASS[node.op];
  return { className, snake };
}

/** The layers of a functional Keras 3 model built from the graph, in `model.layers` order. */
export function keras3LayerOrder(graph: GraphDescription): GraphNode[] {
  const live = liveNodeNames(graph, [graph.output]);
  const byName = new Map(graph.nodes.filter((n) => live.has(n.name)).map((n) => [n.name, n]));
  const consumers = new Map<string, string[]>();
  for (const node of byName.values()) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node.name]);

  // Depth: the longest path from the node to the output (the output has depth 0).
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const d = Math.max(-1, ...(consumers.get(name) ?? []).map(depthOf)) + 1;
    depth.set(name, d);
    return d;
  };
  // Post-order of a depth-first walk from the output through the inputs in argument order.
  const postOrder = new Map<string, number>();
  const visit = (name: string): void => {
    if (postOrder.has(name)) return;
    for (const input of byName.get(name)!.inputs) visit(input);
    postOrder.set(name, postOrder.size);
  };
  visit(graph.output);
  return [...byName.values()].sort((a, b) => depthOf(b.name) - depthOf(a.name) || postOrder.get(a.name)! - postOrder.get(b.name)!);
}

/** `layers/<snake>[_N]` for each layer of the graph, keyed by our layer name, in `model.layers` order. */
export function keras3StorageKeys(graph: GraphDescription): Map<string, string> {
  const counts = new Map<string, number>();
  const keys = new Map<string, string>();
  for (const node of keras3LayerOrder(graph)) {
    const { snake } = kerasClassOf(node);
    const n = counts.get(snake) ?? 0;
    counts.set(snake, n + 1);
    keys.set(node.name, `layers/${n === 0 ? snake : `${snake}_${n}`}`);
  }
  return keys;
}
