import type { WeightValues } from '@xception/core';
import { readKerasH5 } from '@xception/weights';
import { CliError } from './cli-error.js';

/** `--weights`: 'imagenet', a path or URL, or 'none' (Keras' initialisers: for tests and timing). */
export async function loadWeightValues(spec: string, options: { includeTop: boolean }): Promise<WeightValues | null> {
  if (spec === 'none') return null;
  if (/\.(h5|hdf5|keras)$/i.test(spec)) return (await readKerasH5(spec, { includeTop: options.includeTop })).values;
  throw new CliError('ERR_WEIGHTS_UNSUPPORTED', `--weights ${spec} is not supported yet; pass a Keras .h5 file or 'none'.`);
}
