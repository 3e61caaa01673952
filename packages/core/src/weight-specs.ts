import { resolveXceptionConfig, type XceptionConfig, type XceptionOptions } from './config.js';
import type { GraphDescription, WeightSpec } from './graph-nodes.js';
import { describeXception } from './xception-graph.js';

/**
 * The nodes the given outputs depend on (so not, for instance, the pooled features when the
 * output is the 4D map). Exporters use it to write only the layers that lead somewhere.
 */
export function liveNodeNames(graph: GraphDescription, outputs: readonly string[]): Set<string> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const live = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (live.has(name)) continue;
    live.add(name);
    stack.push(...(byName.get(name)?.inputs ?? []));
  }
  return live;
}

/**
 * Every weight the graph for this configuration expects, with Keras' name and layout, in Keras'
 * layer order. This is the weights contract: a weight map must hold exactly these.
 */
export function expectedWeights(config: XceptionConfig | XceptionOptions): WeightSpec[] {
  // Resolving is idempotent, so a resolved config may be passed back in.
  return weightSpecsOf(describeXception(resolveXceptionConfig(config)));
}

export function weightSpecsOf(graph: GraphDescription): WeightSpec[] {
  const live = liveNodeNames(graph, [graph.output, graph.pooledFeatures]);
  return graph.nodes.filter((n) => live.has(n.name)).flatMap((n) => n.weights);
}

/** Keras' `model.count_params()`: every weight element, BatchNorm moving statistics included. */
export function countParameters(config: XceptionConfig | XceptionOptions): number {
  return expectedWeights(config).reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
}

