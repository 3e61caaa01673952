import * as tf from '@tensorflow/tfjs-core';
import { createXceptionFromValues, resolveXceptionConfig, seededRandom } from '@xception/core';
import type { ProgressCallback } from './progress.js';
import type { QuantizeDtype } from './quantize.js';
import { writeTfjsArtifacts, type TfjsArtifactsReport } from './tfjs-artifacts-writer.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
import { readWeights, type ResolveSourceOptions } from './weights-source.js';

export interface ConvertWeightsOptions extends ResolveSourceOptions {
  /** A Keras .h5, a tfjs model.json, a directory holding one, a URL, or 'imagenet'. */
  input: string;
  outDir: string;
  /** float16, uint8 or uint16 storage, dequantized on load as tfjs does. Default null (float32). */
  quantize?: QuantizeDtype | null;
  /** Keep the classifier. Default: when the input has one. */
  includeTop?: boolean;
  /**
   * Also run one seeded 299x299 image through the model built from the input and from the
   * written artifacts, and report the largest output difference (needs a tfjs backend; about a
   * second on wasm). Default false.
   */
  checkOutputs?: boolean;
}

export interface ConvertWeightsReport extends TfjsArtifactsReport {
  input: string;
  includeTop: boolean;
  classes: number | null;
  /** Max |output(artifacts) - output(input)| on a seeded image, when checkOutputs was set. */
  maxAbsOutputDiff: number | null;
}

/**
 * Converts Xception weights into TensorFlow.js layers-model artifacts for browsers and the
 * Electron renderer, reporting the largest weight error the quantization introduced.
 */
export async function convertWeights(options: ConvertWeightsOptions): Promise<ConvertWeightsReport> {
  const onProgress: ProgressCallback | undefined = options.onProgress;
  const reading = await readWeights(options.input, options);
  const includeTop = options.includeTop ?? reading.hasTop;
  const config = resolveXceptionConfig({
    includeTop, weights: null, ...(includeTop ? { classes: reading.classes ?? 1000 } : {}),
  });
  onProgress?.({ phase: 'convert', bytes: 0, totalBytes: null, target: options.outDir });
  const report = await writeTfjsArtifacts({ outDir: options.outDir, config, values: reading.values, quantize: options.quantize ?? null });
  let maxAbsOutputDiff: number | null = null;
  if (options.checkOutputs) {
    const written = await readTfjsArtifacts(report.modelJson, { includeTop });
    const size = 299;
    const random = seededRandom(1);
    const image = tf.tensor4d(Float32Array.from({ length: size * size * 3 }, () => random() * 2 - 1), [1, size, size, 3]);
    const fixed = resolveXceptionConfig({ ...config, inputShape: [size, size, 3] });
    const a = createXceptionFromValues(fixed, reading.values);
    const b = createXceptionFromValues(fixed, written.values);
    try {
      maxAbsOutputDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(image), b.predict(image)))).dataSync()[0]!);
    } finally {
      a.dispose();
      b.dispose();
      image.dispose();
    }
  }
  onProgress?.({ phase: 'done', bytes: report.weightBytes, totalBytes: report.weightBytes, target: report.modelJson });
  return { ...report, input: options.input, includeTop, classes: includeTop ? reading.classes : null, maxAbsOutputDiff };
}
