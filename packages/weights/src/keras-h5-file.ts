import { stat } from 'node:fs/promises';
import { WeightsFileError } from './errors.js';
import { readHdf5Header } from './hdf5-header.js';
import { loadH5wasm } from './h5wasm-module.js';
import { readKeras3Layers } from './keras3-h5-layers.js';

/** One dataset of a Keras HDF5 weights file, as stored. */
export interface KerasH5Weight {
  /** The name in the layer's `weight_names` attribute: `block1_conv1/kernel:0`. */
  readonly name: string;
  /** The dataset's path in the file: `model_weights/block1_conv1/block1_conv1/kernel:0`. */
  readonly path: string;
  readonly shape: readonly number[];
  /** The stored HDF5 type in numpy's spelling: float32, float64, float16. */
  readonly dtype: string;
  /** The data as stored (little-endian typed array of the stored precision); empty when read with `values: false`. */
  readonly data: Float32Array | Float64Array | Uint16Array;
}

export interface KerasH5Layer {
  readonly name: string;
  readonly weights: readonly KerasH5Weight[];
}

/** What a Keras HDF5 weights file holds, in the file's own names. */
export interface KerasH5Contents {
  readonly path: string;
  /**
   * 'save_weights' (Keras 2 groups at the root), 'model.save' (Keras 2 groups under
   * `model_weights/`; also Keras 3's legacy `model.save('x.h5')`), or 'keras3' (Keras 3's
   * `.weights.h5`, also inside a `.keras` archive: `layers/<class>_N/vars/<i>`).
   */
  readonly layout: 'save_weights' | 'model.save' | 'keras3';
  readonly kerasVersion: string | null;
  readonly backend: string | null;
  /** Every layer of `layer_names`, weightless ones included, in the file's (model) order. */
  readonly layers: readonly KerasH5Layer[];
  /** The `model_config` JSON string of a model.save file. */
  readonly modelConfig: string | null;
  readonly superblockVersion: number;
}

export type H5 = Awaited<ReturnType<typeof loadH5wasm>>;
export type H5Group = InstanceType<H5['Group']>;

/**
 * Reads every weight of a Keras HDF5 file (Keras 2 layouts, or Keras 3's `.weights.h5`) with h5wasm (the HDF5 C library compiled to
 * WebAssembly), after checking that the file is HDF5 and is not cut short.
 */
export async function readKerasH5File(path: string, options: { values?: boolean } = {}): Promise<KerasH5Contents> {
  const values = options.values ?? true;
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -1),
    () => null,
  );
  if (size === null) {
    throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `The weights file ${path} does not exist; check the path.`, { path });
  }
  if (size < 0) {
    throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${path} is not a file; pass the path of a Keras .h5 file or of a tfjs model.json.`, { path });
  }
  const header = await readHdf5Header(path);
  if (!header) {
    throw new WeightsFileError(
      'ERR_WEIGHTS_NOT_HDF5',
      `${path} is not an HDF5 file (no HDF5 signature in its ${size} bytes); pass a Keras .h5 weights file, or a tfjs model.json for TensorFlow.js artifacts.`,
      { path },
    );
  }
  if (header.declaredBytes > header.actualBytes) {
    throw new WeightsFileError(
      'ERR_WEIGHTS_TRUNCATED',
      `${path} is truncated: it has ${header.actualBytes} bytes but its HDF5 superblock declares ${header.declaredBytes}; download or copy the file again.`,
      { path },
    );
  }

  const h5 = await loadH5wasm();
  let file: InstanceType<H5['File']>;
  try {
    file = new h5.File(path, 'r');
  } catch (cause) {
    throw new WeightsFileError('ERR_WEIGHTS_NOT_HDF5', `${path} could not be opened as HDF5 (the file is damaged); download or copy it again.`, { path, cause });
  }
  try {
    const isModelSave = file.keys().includes('model_weights');
    const root = (isModelSave ? file.get('model_weights') : file) as H5Group;
    const layerNames = stringList(root.attrs['layer_names']?.value);
    if (layerNames === null && !isModelSave && file.get('layers') instanceof h5.Group) {
      return {
        path, layout: 'keras3', kerasVersion: null, backend: null, modelConfig: null, superblockVersion: header.superblockVersion,
        layers: readKeras3Layers(h5, path, file.get('layers') as H5Group, values),
      };
    }
    if (layerNames === null) {
      throw new WeightsFileError(
        'ERR_WEIGHTS_FORMAT',
        `${path} is HDF5 but not a Keras weights file (neither Keras 2's layer_names attribute${isModelSave ? ' in model_weights/' : ' at the root'} nor Keras 3's layers/ group); save it with Keras' save_weights('x.weights.h5'), model.save('x.keras') or model.save('x.h5').`,
        { path },
      );
    }
    const rootAttr = (name: string): string | null => {
      const value = (root.attrs[name] ?? file.attrs[name])?.value;
      return typeof value === 'string' ? value : null;
    };
    const modelConfig = file.attrs['model_config']?.value;
    const layers = layerNames.map((layerName) => readLayer(h5, path, root, isModelSave ? 'model_weights/' : '', layerName, values));
    return {
      path,
      layout: isModelSave ? 'model.save' : 'save_weights',
      kerasVersion: rootAttr('keras_version'),
      backend: rootAttr('backend'),
      layers,
      modelConfig: typeof modelConfig === 'string' ? modelConfig : null,
      superblockVersion: header.superblockVersion,
    };
  } catch (error) {
    if (error instanceof WeightsFileError) throw error;
    throw new WeightsFileError('ERR_WEIGHTS_NOT_HDF5', `${path} could not be read as HDF5 (the file is damaged); download or copy it again.`, { path, cause: error });
  } finally {
    file.close();
  }
}

/**
 * A dataset's shape, stored type and (unless `values` is false: then an empty array, and only
 * the file's metadata is read) data.
 */
export function readFloatDataset(path: string, dataset: unknown, layerName: string, weightName: string, values = true): { shape: number[]; dtype: string; data: KerasH5Weight['data'] } {
  const ds = dataset as { shape: number[] | null; metadata: { type: number; size: number }; value: unknown };
  const FLOAT = 1; // HDF5's H5T_FLOAT class
  const value = values ? ds.value : null;
  const dtype = !values ? (ds.metadata.type === FLOAT ? ({ 2: 'float16', 4: 'float32', 8: 'float64' } as Record<number, string>)[ds.metadata.size] ?? null : null)
    : value instanceof Float32Array ? 'float32' : value instanceof Float64Array ? 'float64' : value instanceof Uint16Array && ds.metadata.type === FLOAT ? 'float16' : null;
  if (dtype === null) {
    throw new WeightsFileError(
      'ERR_WEIGHTS_FORMAT',
      `${path}: weight '${weightName}' of layer '${layerName}' is not stored as floating point; Keras weights are float32.`,
      { path, layer: layerName },
    );
  }
  return { shape: ds.shape ?? [], dtype, data: values ? (value as KerasH5Weight['data']) : new Float32Array(0) };
}

function readLayer(h5: H5, path: string, root: H5Group, prefix: string, layerName: string, values: boolean): KerasH5Layer {
  const group = root.get(layerName);
  if (!(group instanceof h5.Group)) {
    throw new WeightsFileError(
      'ERR_WEIGHTS_LAYER_MISSING',
      `${path} lists layer '${layerName}' in layer_names but has no group for it; the file is incomplete, save it again.`,
      { path, layer: layerName },
    );
  }
  // Weightless layers store an empty float64 array here (numpy's default for []).
  const weightNames = stringList(group.attrs['weight_names']?.value) ?? [];
  const weights = weightNames.map((weightName): KerasH5Weight => {
    const dataset = group.get(weightName);
    if (!(dataset instanceof h5.Dataset)) {
      throw new WeightsFileError(
        'ERR_WEIGHTS_LAYER_MISSING',
        `${path}: layer '${layerName}' names weight '${weightName}' but the file has no such dataset; the file is incomplete, save it again.`,
        { path, layer: layerName },
      );
    }
    return { name: weightName, path: `${prefix}${layerName}/${weightName}`, ...readFloatDataset(path, dataset, layerName, weightName, values) };
  });
  return { name: layerName, weights };
}

/** An HDF5 string-array attribute as JS strings (h5wasm gives a string for a scalar). */
function stringList(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map(String);
  if (ArrayBuffer.isView(value) && (value as unknown as ArrayLike<number>).length === 0) return [];
  return null;
}
