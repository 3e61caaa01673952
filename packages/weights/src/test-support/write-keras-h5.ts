import h5wasm from 'h5wasm/node';
import { RESIDUAL_LAYERS, describeXception, resolveXceptionConfig, type XceptionOptions } from '@xception/core';

export interface KerasH5WriteOptions {
  /** Which Xception (includeTop, classes...) the layer list describes. */
  config: XceptionOptions;
  /** Weights by our Keras names (expectedWeights()). */
  values: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>;
  /** Names for the four residual convs / BNs, in topology order. Default Keras 2.0's conv2d_1..4. */
  residualConvNames?: readonly string[];
  residualBnNames?: readonly string[];
  /** 'save_weights' (groups at the root) or 'model.save' (under model_weights/). */
  layout?: 'save_weights' | 'model.save';
  /** Drop these layers' groups and names (to make broken files). */
  omitLayers?: readonly string[];
  /** Rewrite a weight before it is written (to make broken files). */
  mutate?: (name: string, values: Float32Array, shape: readonly number[]) => { values: Float32Array; shape: readonly number[] };
  kerasVersion?: string;
}

/**
 * Writes an HDF5 file in Keras 2.x's save_weights layout, mirroring what the real files in
 * shared/keras-h5-samples show: root attributes `backend`, `keras_version` (variable-length
 * strings) and `layer_names` (fixed-length byte strings, every layer including weightless ones);
 * one group per layer with a `weight_names` attribute (fixed-length strings, or an empty
 * float64 array for weightless layers); datasets nested as `layer/layer/variable:0`.
 */
export async function writeKerasH5(path: string, options: KerasH5WriteOptions): Promise<void> {
  await h5wasm.ready;
  const graph = describeXception(resolveXceptionConfig({ ...options.config, weights: null }));
  const convNames = options.residualConvNames ?? ['conv2d_1', 'conv2d_2', 'conv2d_3', 'conv2d_4'];
  const bnNames = options.residualBnNames ?? ['batch_normalization_1', 'batch_normalization_2', 'batch_normalization_3', 'batch_normalization_4'];
  const fileName = new Map<string, string>();
  RESIDUAL_LAYERS.forEach((r, i) => { fileName.set(r.conv, convNames[i]!); fileName.set(r.bn, bnNames[i]!); });
  const omit = new Set(options.omitLayers ?? []);
  // Keras lists the residual conv after the block's second sepconv BN and the residual BN after
  // the pool (as the real converter output in shared/reference shows), not where we build them.
  const ordered = graph.nodes.filter((n) => !/_residual_(conv|bn)$/.test(n.name));
  for (const r of RESIDUAL_LAYERS) {
    const block = r.conv.split('_')[0]!;
    ordered.splice(ordered.findIndex((n) => n.name === `${block}_sepconv2_bn`) + 1, 0, graph.nodes.find((n) => n.name === r.conv)!);
    ordered.splice(ordered.findIndex((n) => n.name === `${block}_pool`) + 1, 0, graph.nodes.find((n) => n.name === r.bn)!);
  }
  const nodes = ordered.filter((n) => !omit.has(n.name));

  const file = new h5wasm.File(path, 'w');
  try {
    const root = options.layout === 'model.save' ? file.create_group('model_weights') : file;
    if (options.layout === 'model.save') {
      file.create_attribute('keras_version', options.kerasVersion ?? '2.0.8', null, 'S');
      file.create_attribute('backend', 'tensorflow', null, 'S');
      file.create_attribute('model_config', JSON.stringify({ class_name: 'Model', config: { name: 'xception' } }), null, 'S');
    }
    const layerNames = nodes.map((n) => fileName.get(n.name) ?? n.name);
    const width = Math.max(...layerNames.map((n) => n.length));
    root.create_attribute('layer_names', layerNames, [layerNames.length], `A${width}`);
    root.create_attribute('backend', 'tensorflow', null, 'S');
    root.create_attribute('keras_version', options.kerasVersion ?? '2.0.8', null, 'S');
    for (const node of nodes) {
      const layer = fileName.get(node.name) ?? node.name;
      const group = root.create_group(layer);
      if (node.weights.length === 0) {
        group.create_attribute('weight_names', new Float64Array(0), [0]);
        continue;
      }
      const weightNames = node.weights.map((w) => `${layer}/${w.name.slice(w.layer.length + 1)}:0`);
      group.create_attribute('weight_names', weightNames, [weightNames.length], `A${Math.max(...weightNames.map((n) => n.length))}`);
      group.create_group(layer);
      node.weights.forEach((spec, i) => {
        const given = options.values.get(spec.name);
        if (!given) throw new Error(`writeKerasH5: no value for ${spec.name}`);
        const { values, shape } = options.mutate ? options.mutate(spec.name, given.values, given.shape) : given;
        group.create_dataset({ name: weightNames[i]!, data: values, shape: [...shape], dtype: '<f' });
      });
    }
  } finally {
    file.close();
  }
}
