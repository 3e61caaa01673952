import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describeXception, type GraphDescription, type GraphNode, type XceptionConfig } from '@xception/core';
import { loadH5wasm } from './h5wasm-module.js';
import { kerasClassOf, keras3LayerOrder, keras3StorageKeys } from './keras3-layout.js';
import type { WeightValue } from './xception-mapping.js';

/** The Keras version whose file layout these writers follow (and that the tests load them with). */
export const KERAS3_VERSION = '3.15.1';

export interface WriteKeras3Options {
  /** The model the weights belong to (includeTop, classes, inputShape, pooling, classifierActivation). */
  config: XceptionConfig;
  /** Weights by Keras name, as expectedWeights(config) lists them. */
  values: ReadonlyMap<string, WeightValue>;
  /** `.keras` only: the classes' names, kept in metadata.json as `class_names` (Keras ignores them). */
  classNames?: readonly string[];
}

/**
 * Keras 3's `model.weights.h5` for the graph: `layers/<class>[_N]/vars/<i>` in `model.layers`
 * order (keras3-layout.ts), each `vars` group naming its layer, weightless layers included, and
 * the model's own empty `vars` group, as Keras 3.15's `save_weights` writes them.
 */
async function writeWeightsH5(path: string, graph: GraphDescription, values: ReadonlyMap<string, WeightValue>): Promise<void> {
  const h5 = await loadH5wasm();
  const keys = keras3StorageKeys(graph);
  const file = new h5.File(path, 'w');
  try {
    file.create_group('layers');
    file.create_group('vars');
    for (const node of keras3LayerOrder(graph)) {
      const key = keys.get(node.name)!;
      file.create_group(key);
      const vars = file.create_group(`${key}/vars`);
      vars.create_attribute('name', node.name);
      node.weights.forEach((spec, i) => {
        const value = values.get(spec.name);
        if (!value) throw new Error(`writeKeras3: no value for weight '${spec.name}'`);
        vars.create_dataset({ name: String(i), data: value.values, shape: [...spec.shape], dtype: '<f' });
      });
    }
  } finally {
    file.close();
  }
}

/** A Keras 3 layer entry of config.json. Inbound nodes use the list form, which Keras 3 reads (functional.py, deserialize_node). */
function layerConfig(node: GraphNode): Record<string, unknown> {
  const { className } = kerasClassOf(node);
  const base = { name: node.name, trainable: true, dtype: 'float32' };
  const spatial = (n: { kernelSize: number; strides: number; padding: string }): Record<string, unknown> => ({
    filters: node.channels, kernel_size: [n.kernelSize, n.kernelSize], strides: [n.strides, n.strides], padding: n.padding,
    data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false,
  });
  let config: Record<string, unknown>;
  switch (node.op) {
    case 'input': config = { name: node.name, batch_shape: [null, ...node.shape], dtype: 'float32', sparse: false }; break;
    case 'conv2d': config = { ...base, ...spatial(node) }; break;
    case 'separableConv2d': config = { ...base, ...spatial(node), depth_multiplier: 1 }; break;
    case 'batchNorm': config = { ...base, axis: -1, momentum: 0.99, epsilon: node.epsilon, center: true, scale: true }; break;
    case 'relu': config = { ...base, activation: 'relu' }; break;
    case 'maxPool': config = { ...base, pool_size: [node.poolSize, node.poolSize], strides: [node.strides, node.strides], padding: node.padding, data_format: 'channels_last' }; break;
    case 'add': config = base; break;
    case 'globalAvgPool':
    case 'globalMaxPool': config = { ...base, data_format: 'channels_last', keepdims: false }; break;
    case 'dense': config = { ...base, units: node.units, activation: node.activation ?? 'linear', use_bias: true }; break;
  }
  return {
    module: 'keras.layers', class_name: className, config, registered_name: null, name: node.name,
    inbound_nodes: node.inputs.length === 0 ? [] : [node.inputs.map((input) => [input, 0, 0, {}])],
  };
}

/** config.json of a `.keras` archive: Keras 3's functional model for the graph. */
export function keras3ModelConfig(graph: GraphDescription, name = 'xception'): Record<string, unknown> {
  const layers = keras3LayerOrder(graph);
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name, trainable: true, layers: layers.map(layerConfig), input_layers: [layers[0]!.name, 0, 0], output_layers: [graph.output, 0, 0] },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

async function withTempFile<T>(use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'xception-keras3-'));
  try {
    return await use(join(dir, 'model.weights.h5'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Written under a temporary name and renamed, so that nobody sees half a file. */
async function writeAtomically(path: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await write(partial);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Writes a Keras 3 `.weights.h5` file (what `model.load_weights('x.weights.h5')` reads). */
export async function writeKeras3Weights(path: string, options: WriteKeras3Options): Promise<void> {
  await writeAtomically(path, (partial) => writeWeightsH5(partial, describeXception(options.config), options.values));
}

/**
 * Writes a Keras 3 `.keras` archive (what `keras.models.load_model('x.keras')` reads): a zip of
 * config.json, metadata.json and model.weights.h5, stored uncompressed as Keras writes it.
 */
export async function writeKerasArchive(path: string, options: WriteKeras3Options): Promise<void> {
  const graph = describeXception(options.config);
  const weights = await withTempFile(async (h5Path) => {
    await writeWeightsH5(h5Path, graph, options.values);
    return readFile(h5Path);
  });
  const metadata = { keras_version: KERAS3_VERSION, date_saved: new Date().toISOString(), ...(options.classNames ? { class_names: [...options.classNames] } : {}) };
  const text = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
  const archive = zipSync({
    'metadata.json': [text(metadata), { level: 0 }],
    'config.json': [text(keras3ModelConfig(graph)), { level: 0 }],
    'model.weights.h5': [weights, { level: 0 }],
  });
  await writeAtomically(path, (partial) => writeFile(partial, archive));
}
