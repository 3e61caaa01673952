import { describeXception, resolveXceptionConfig } from '@xception/core';
import { WeightsFileError } from './errors.js';
import type { H5, H5Group, KerasH5Layer, KerasH5Weight } from './keras-h5-file.js';
import { readFloatDataset } from './keras-h5-file.js';
import { KERAS3_VARIABLES, keras3StorageKeys } from './keras3-layout.js';

const STORAGE_KEY = /^(.*?)(?:_(\d+))?$/;

/**
 * The layers of Keras 3's weights layout (`layers/<class>[_N]/vars/<i>`, see keras3-layout.ts)
 * under Keras' layer names. Keras 3 writes each layer's name as the `name` attribute of its
 * `vars` group; for a file without it, the name is what the storage key means in Keras'
 * Xception. Layers come ordered by class and then N, which is `model.layers` order within a
 * class: what mapToXception needs to tell the four unnamed residual layers apart.
 */
export function readKeras3Layers(h5: H5, path: string, layersGroup: H5Group, values = true): KerasH5Layer[] {
  const keys = layersGroup.keys()
    .map((key) => { const m = STORAGE_KEY.exec(key)!; return { key, snake: m[1]!, n: Number(m[2] ?? 0) }; })
    .sort((a, b) => (a.snake < b.snake ? -1 : a.snake > b.snake ? 1 : a.n - b.n));
  let fallbackNames: Map<string, string> | null = null;
  const fallbackName = (key: string): string => {
    if (!fallbackNames) {
      const includeTop = keys.some((k) => k.snake === 'dense');
      const graph = describeXception(resolveXceptionConfig({ includeTop, weights: null }));
      fallbackNames = new Map([...keras3StorageKeys(graph)].map(([ours, storage]) => [storage, ours]));
    }
    return fallbackNames.get(`layers/${key}`) ?? key;
  };
  return keys.map(({ key, snake }): KerasH5Layer => {
    const group = layersGroup.get(key);
    const vars = group instanceof h5.Group ? group.get('vars') : null;
    if (!(vars instanceof h5.Group)) {
      throw new WeightsFileError('ERR_WEIGHTS_LAYER_MISSING', `${path}: Keras 3 layer group 'layers/${key}' has no vars group; the file is incomplete, save it again.`, { path, layer: key });
    }
    const stored = vars.attrs['name']?.value;
    const name = typeof stored === 'string' ? stored : fallbackName(key);
    const count = vars.keys().length;
    const variables = KERAS3_VARIABLES[snake] ?? [];
    if (count > 0 && count > variables.length) {
      throw new WeightsFileError(
        'ERR_WEIGHTS_FORMAT',
        `${path}: layer '${name}' (layers/${key}) holds ${count} variables, more than a Keras ${snake} layer of Xception has; this is another model's weights file.`,
        { path, layer: name },
      );
    }
    const weights = Array.from({ length: count }, (_, i): KerasH5Weight => {
      const weightName = `${name}/${variables[i]!}`;
      const dataset = vars.get(String(i));
      if (!(dataset instanceof h5.Dataset)) {
        throw new WeightsFileError('ERR_WEIGHTS_LAYER_MISSING', `${path}: layer '${name}' lacks variable ${i} (layers/${key}/vars/${i}); the file is incomplete, save it again.`, { path, layer: name });
      }
      return { name: weightName, path: `layers/${key}/vars/${i}`, ...readFloatDataset(path, dataset, name, weightName, values) };
    });
    return { name, weights };
  });
}
