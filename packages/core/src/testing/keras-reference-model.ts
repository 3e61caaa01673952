import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { FoldedWeight } from '../fused-plan.js';
import { RESIDUAL_LAYERS } from '../xception-graph.js';

/**
 * Keras' own Xception, as an independent reference: the real topology that Keras 2.2.4 wrote
 * (shared/reference/keras-xception-tfjs-model.json), loaded into tfjs-layers, which runs each
 * Keras layer as Keras defines it (no folding, no fusion). Nothing here comes from our graph
 * description: layers are matched to our weight names by their Keras names, and the four
 * auto-named residual layers (conv2d_N, batch_normalization_N) by topology order.
 */
export interface KerasReferenceModel {
  model: tfl.LayersModel;
  /** Runs the reference and returns [predictions or features, avg_pool features]. */
  run(images: tf.Tensor4D): { output: tf.Tensor; pooled: tf.Tensor2D };
  dispose(): void;
}

export interface KerasReferenceOptions {
  topologyPath: string;
  inputShape?: readonly [number | null, number | null, 3];
  includeTop?: boolean;
  classifierActivation?: 'softmax' | null;
  /** Omit to get the topology alone (for shapes). */
  weights?: ReadonlyMap<string, FoldedWeight>;
}

export async function loadKerasReferenceModel(options: KerasReferenceOptions): Promise<KerasReferenceModel> {
  const json = JSON.parse(readFileSync(options.topologyPath, 'utf8'));
  const topology = json.modelTopology.model_config;
  const layers: Array<{ name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }> =
    topology.config.layers;

  // Fixes that tfjs-layers 4.x needs for this Keras 2.2.4 file (shared/README.md):
  // SeparableConv2D configs carry kernel_* fields that tfjs-layers rejects.
  for (const layer of layers) {
    if (layer.class_name === 'SeparableConv2D') {
      for (const key of ['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']) delete layer.config[key];
    }
    if (layer.class_name === 'InputLayer' && options.inputShape) {
      layer.config.batch_input_shape = [null, ...options.inputShape];
    }
    if (layer.name === 'predictions' && options.classifierActivation !== undefined) {
      layer.config.activation = options.classifierActivation ?? 'linear';
    }
  }
  const includeTop = options.includeTop ?? true;
  if (!includeTop) {
    const cut = layers.findIndex((l) => l.name === 'avg_pool');
    layers.splice(cut);
    topology.config.output_layers = [['block14_sepconv2_act', 0, 0]];
  }

  // Only the topology: the file's weightsManifest names shards that are not here.
  const model = await tfl.models.modelFromJSON({ modelTopology: topology });

  // Our name for every Keras layer: identical except the auto-named residual layers.
  const residualConvs = model.layers.filter((l) => /^conv2d(_\d+)?$/.test(l.name));
  const residualBns = model.layers.filter((l) => /^batch_normalization(_\d+)?$/.test(l.name));
  const ourName = new Map<string, string>();
  residualConvs.forEach((l, i) => ourName.set(l.name, RESIDUAL_LAYERS[i]!.conv));
  residualBns.forEach((l, i) => ourName.set(l.name, RESIDUAL_LAYERS[i]!.bn));

  for (const layer of options.weights ? model.layers : []) {
    const layerName = ourName.get(layer.name) ?? layer.name;
    const tensors = layer.weights.map((variable) => {
      // tfjs-layers names variables 'layer/kernel' (sometimes with a suffix): keep the last part.
      const base = variable.originalName.split('/').pop()!.replace(/_\d+$/, '');
      const w = options.weights!.get(`${layerName}/${base}`);
      if (!w) throw new Error(`reference model: no weight ${layerName}/${base} for Keras layer ${layer.name}`);
      return tf.tensor(w.values, [...w.shape]);
    });
    if (tensors.length > 0) {
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
  }

  const lastFeatures = model.getLayer('block14_sepconv2_act').output as tfl.SymbolicTensor;
  const pooled = includeTop
    ? (model.getLayer('avg_pool').output as tfl.SymbolicTensor)
    : (tfl.layers.globalAveragePooling2d({}).apply(lastFeatures) as tfl.SymbolicTensor);
  const both = tfl.model({ inputs: model.inputs, outputs: [model.outputs[0]!, pooled] });

  return {
    model,
    run(images) {
      const [output, pool] = both.predict(images) as tf.Tensor[];
      return { output: output!, pooled: pool as tf.Tensor2D };
    },
    dispose() {
      model.dispose();
    },
  };
}
