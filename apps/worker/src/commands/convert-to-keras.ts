import { resolveXceptionConfig } from '@xception/core';
import { readKerasH5, readKerasArchive, readWeights, writeKeras3Weights, writeKerasArchive, type KerasArchiveReading, savedInputShape } from '@xception/weights';
import { CliError, EXIT } from '../cli-error.js';
import { withDownloadBar } from '../download-bar.js';
import { activateBackend } from '@xception/engines';

/**
 * `weights convert <input> <out.keras | out.weights.h5> --to keras`: Keras 3's own files, which
 * `keras.models.load_model('out.keras')` and `model.load_weights('out.weights.h5')` read. A
 * .keras input keeps its input shape, pooling, classifier activation and class names. The file
 * is read back and every weight compared with the input's, bit for bit.
 */
export async function convertToKeras(input: string, out: string, o: { quantize?: string; top?: boolean }, log: (line: string) => void): Promise<number> {
  if (o.quantize) throw new CliError('ERR_USAGE', '--quantize applies to --to tfjs and --to web only; Keras files store float32.', EXIT.usage);
  if (input === 'none') throw new CliError('ERR_USAGE', "'none' (random weights) converts only with --to onnx.", EXIT.usage);
  const archive = /\.keras$/i.test(out);
  if (!archive && !/\.weights\.h5$/i.test(out)) {
    throw new CliError(
      'ERR_USAGE',
      `--to keras writes a Keras 3 archive (a name ending in .keras, for keras.models.load_model) or Keras 3 weights (a name ending in .weights.h5, for model.load_weights, which requires that ending); got '${out}'.`,
      EXIT.usage,
    );
  }
  await activateBackend('wasm'); // tfjs artifacts are decoded through tfjs tensors
  const reading = await withDownloadBar((onProgress) => readWeights(input, { onProgress, ...(o.top === false ? { includeTop: false } : {}) }));
  const saved = 'savedConfig' in reading ? (reading as KerasArchiveReading) : null;
  const includeTop = o.top === false ? false : reading.hasTop;
  // weights: null: the output is a whole Keras model, so Keras' rules for pretrained weights (a
  // softmax or linear top) do not apply; a .keras input with a sigmoid head stays one.
  const savedShape = savedInputShape(reading);
  const config = resolveXceptionConfig({
    weights: null,
    includeTop,
    ...(savedShape ? { inputShape: savedShape } : {}),
    ...(includeTop
      ? { classes: reading.classes ?? 1000, ...(saved ? { classifierActivation: saved.savedConfig.classifierActivation } : {}) }
      : saved && !saved.savedConfig.includeTop ? { pooling: saved.savedConfig.pooling } : {}),
  });
  const classNames = includeTop && saved?.classNames ? { classNames: saved.classNames } : {};
  if (archive) await writeKerasArchive(out, { config, values: reading.values, ...classNames });
  else await writeKeras3Weights(out, { config, values: reading.values });

  const written = archive ? await readKerasArchive(out) : await readKerasH5(out);
  let differing = 0;
  for (const [name, value] of reading.values) {
    const back = written.values.get(name)?.values;
    if (!back || back.length !== value.values.length || back.some((v, i) => !Object.is(v, value.values[i]))) differing++;
  }
  const shape = config.inputShape.map((d) => d ?? 'any').join('x');
  log(`wrote ${out} (Keras 3 ${archive ? '.keras archive' : '.weights.h5'}; ${includeTop ? `${config.classes}-class top, ${config.classifierActivation ?? 'linear'}` : `no top, pooling ${config.pooling ?? 'none'}`}; input ${shape})`);
  if (differing > 0) {
    log(`${differing} of ${reading.values.size} weights read back differently from ${out}: please report it`);
    return EXIT.error;
  }
  log(`read back: all ${reading.values.size} weights identical to the input's`);
  return EXIT.ok;
}
