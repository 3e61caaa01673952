import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { expectedWeights, kerasInitialWeights, resolveXceptionConfig, type WeightValues, type XceptionConfig } from '@xception/core';
import { activateBackend } from '@xception/engines';
import { readWeights, writeTfjsArtifacts, type KerasArchiveReading, savedInputShape } from '@xception/weights';
import { EXIT } from '../cli-error.js';
import { withDownloadBar } from '../download-bar.js';
import { writeOnnxFile, type ConvertOptions } from './weights.js';

/** What `manifest.json` in a `--to web` folder says: enough for a page to pick a file and check it. */
export interface WebManifest {
  format: 'xception-web';
  version: 1;
  /** What the weights were converted from (a path, URL, 'imagenet' or 'none'). */
  source: string;
  model: { includeTop: boolean; classes: number | null; inputShape: readonly [number | null, number | null, 3]; classifierActivation: string | null; pooling: string | null };
  /** Keras' preprocess_input for Xception: RGB, NHWC, x / 127.5 - 1. */
  input: { layout: 'NHWC'; channels: 'RGB'; scale: 'x / 127.5 - 1' };
  tfjs: { modelJson: string; quantize: string; maxAbsWeightError: number };
  onnx: { file: string; opset: 13; dtype: 'float32' };
  /** Every file of the folder but this manifest, with its size and sha256 (for caches and mirrors). */
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

/**
 * `--to web`: one folder a static server can host, for browsers: tfjs layers-model artifacts
 * (model.json + shards, optionally float16/uint8/uint16), the same weights as xception.onnx
 * (onnxruntime-web), and manifest.json naming both with sizes and hashes. The weights are read
 * once; 'none' writes Keras' seeded random initialisation (for tests and timing).
 */
export async function convertToWeb(input: string, outDir: string, o: ConvertOptions, log: (line: string) => void): Promise<number> {
  await activateBackend('wasm'); // tfjs artifacts are decoded through tfjs tensors
  let config: XceptionConfig;
  let values: WeightValues;
  if (input === 'none') {
    config = resolveXceptionConfig({ weights: null, includeTop: o.top !== false });
    values = kerasInitialWeights(expectedWeights(config), 0); // the seed loadXception({ weights: null }) uses
  } else {
    const reading = await withDownloadBar((onProgress) => readWeights(input, { onProgress, ...(o.top === false ? { includeTop: false } : {}) }));
    const saved = 'savedConfig' in reading ? (reading as KerasArchiveReading).savedConfig : null;
    const includeTop = o.top !== false && reading.hasTop;
    const shape = savedInputShape(reading);
    config = resolveXceptionConfig({
      weights: null,
      includeTop,
      ...(includeTop ? { classes: reading.classes ?? 1000 } : {}),
      ...(shape ? { inputShape: shape } : {}),
      ...(saved ? (includeTop ? { classifierActivation: saved.classifierActivation } : { pooling: saved.pooling }) : {}),
    });
    values = reading.values;
  }
  const tfjs = await writeTfjsArtifacts({ outDir, config, values, quantize: o.quantize ?? null });
  log(`wrote ${tfjs.modelJson} and ${tfjs.shards.length} shards (${(tfjs.weightBytes / 1e6).toFixed(1)} MB, ${tfjs.quantize ?? 'float32'}); largest weight error ${tfjs.maxAbsError.toExponential(2)}`);
  const onnx = await writeOnnxFile(input, outDir, { ...config, weights: input === 'none' ? null : input }, values, o, log);
  if (onnx.code !== EXIT.ok) return onnx.code;

  const files = [tfjs.modelJson, ...tfjs.shards.map((s) => join(outDir, basename(s))), onnx.file].map((file) => ({
    path: relative(outDir, file).split('\\').join('/'),
    bytes: statSync(file).size,
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  }));
  const manifest: WebManifest = {
    format: 'xception-web',
    version: 1,
    source: input,
    model: {
      includeTop: config.includeTop,
      classes: config.includeTop ? config.classes : null,
      inputShape: config.inputShape,
      classifierActivation: config.includeTop ? (config.classifierActivation ?? null) : null,
      pooling: config.includeTop ? null : (config.pooling ?? null),
    },
    input: { layout: 'NHWC', channels: 'RGB', scale: 'x / 127.5 - 1' },
    tfjs: { modelJson: 'model.json', quantize: tfjs.quantize ?? 'float32', maxAbsWeightError: tfjs.maxAbsError },
    onnx: { file: basename(onnx.file), opset: 13, dtype: 'float32' },
    files,
  };
  const target = join(outDir, 'manifest.json');
  writeFileSync(`${target}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${target}.partial`, target);
  log(`wrote ${target}: serve ${outDir} as static files; load ${join(outDir, 'model.json')} (tfjs) or xception.onnx (onnxruntime-web)`);
  return EXIT.ok;
}
