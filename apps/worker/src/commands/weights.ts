import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createXceptionFromValues, type CreateXceptionOptions, type WeightValues } from '@xception/core';
import { decodeOnnxModel, exportXceptionOnnx, ONNX_IO } from '@xception/onnx';
import { convertWeights, defaultCacheDir, fetchImagenetWeights, imagenetWeightsPath, readWeights, verifyWeightsFile, type QuantizeDtype, savedInputShape } from '@xception/weights';
import { convertToKeras } from './convert-to-keras.js';
import { convertToWeb } from './convert-to-web.js';
import { withDownloadBar } from '../download-bar.js';
import { CliError, EXIT } from '../cli-error.js';
import { activateBackend, onnxSessionOptions, probeOnnxRuntime } from '@xception/engines';

export async function weightsFetch(o: { top: boolean; cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const path = await withDownloadBar((onProgress) => fetchImagenetWeights({ includeTop: o.top, onProgress, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) }));
  log(path);
  return EXIT.ok;
}

export async function weightsPath(o: { top: boolean; cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const path = imagenetWeightsPath({ includeTop: o.top, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
  log(path);
  return existsSync(path) ? EXIT.ok : EXIT.error;
}

export async function weightsVerify(files: readonly string[], o: { cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const targets = files.length > 0
    ? files
    : [true, false].map((top) => imagenetWeightsPath({ includeTop: top, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) })).filter((p) => existsSync(p));
  if (targets.length === 0) {
    log(`no ImageNet weights in the cache (${o.cacheDir ?? defaultCacheDir()}); run 'xception weights fetch' or give files to verify`);
    return EXIT.error;
  }
  let status: number = EXIT.ok;
  for (const file of targets) {
    const v = await verifyWeightsFile(file);
    log(`${v.ok ? 'ok' : 'BAD'} ${file}: ${v.bytes} bytes, md5 ${v.md5}, sha256 ${v.sha256}${v.problems.length ? ` (${v.problems.join('; ')})` : ''}`);
    if (!v.ok) status = EXIT.error;
  }
  return status;
}

export interface ConvertOptions {
  quantize?: QuantizeDtype;
  top?: boolean;
  /** tfjs (layers-model artifacts, the default), onnx (xception.onnx), web (both and manifest.json) or keras (a .keras or .weights.h5 file). */
  to?: 'tfjs' | 'onnx' | 'keras' | 'web';
  /** onnx, web: skip the ONNX file's output check against the tfjs core. */
  check?: boolean;
}

export async function weightsConvert(input: string, outDir: string, o: ConvertOptions, log: (line: string) => void): Promise<number> {
  if (o.to === 'onnx') return convertToOnnx(input, outDir, o, log);
  if (o.to === 'keras') return convertToKeras(input, outDir, o, log);
  if (o.to === 'web') return convertToWeb(input, outDir, o, log);
  if (input === 'none') throw new CliError('ERR_USAGE', "'none' (random weights) converts only with --to onnx.", EXIT.usage);
  // Reading tfjs artifacts and the output check make tfjs tensors: a backend must be registered.
  await activateBackend('wasm');
  const report = await withDownloadBar((onProgress) => convertWeights({ input, outDir, quantize: o.quantize ?? null, checkOutputs: true, onProgress, ...(o.top === undefined ? {} : { includeTop: o.top }) }));
  log(`wrote ${report.modelJson} and ${report.shards.length} shards (${(report.weightBytes / 1e6).toFixed(1)} MB, ${report.quantize ?? 'float32'})`);
  log(`largest weight error ${report.maxAbsError.toExponential(2)}${report.maxAbsErrorWeight ? ` (${report.maxAbsErrorWeight})` : ''}; ` +
    `largest output difference on a test image ${report.maxAbsOutputDiff === null ? 'not measured' : report.maxAbsOutputDiff.toExponential(2)}`);
  return EXIT.ok;
}


/**
 * `--to onnx`: the file's weights through the core's graph and BatchNorm folding into
 * `<outdir>/xception.onnx`, then (when onnxruntime-node loads) one test image through the file
 * and through the tfjs core, and the largest difference printed. 'none' exports Keras' seeded
 * random initialisation (for tests and timing).
 */
async function convertToOnnx(input: string, outDir: string, o: ConvertOptions, log: (line: string) => void): Promise<number> {
  if (o.quantize) throw new CliError('ERR_USAGE', '--quantize applies to --to tfjs and --to web only; the ONNX file stores float32.', EXIT.usage);
  let model: CreateXceptionOptions;
  let values: WeightValues | null;
  if (input === 'none') {
    model = { includeTop: o.top !== false, weights: null };
    values = null;
  } else {
    await activateBackend('wasm'); // tfjs artifacts are decoded through tfjs tensors
    const reading = await withDownloadBar((onProgress) => readWeights(input, { onProgress, ...(o.top === false ? { includeTop: false } : {}) }));
    const shape = savedInputShape(reading);
    model = { includeTop: reading.hasTop, classes: reading.classes ?? 1000, weights: input, ...(shape ? { inputShape: shape } : {}) };
    values = reading.values;
  }
  return (await writeOnnxFile(input, outDir, model, values, o, log)).code;
}

/** Exports `<outdir>/xception.onnx` and, unless --no-check, compares it with the tfjs core on one test image. */
export async function writeOnnxFile(input: string, outDir: string, model: CreateXceptionOptions, values: WeightValues | null, o: ConvertOptions, log: (line: string) => void): Promise<{ code: number; file: string }> {
  const started = performance.now();
  const exported = exportXceptionOnnx(model, values, { docString: `Weights: ${input}.` });
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'xception.onnx');
  writeFileSync(`${file}.partial`, exported.bytes);
  renameSync(`${file}.partial`, file);
  const summary = decodeOnnxModel(exported.bytes);
  const shape = (dims: ReadonlyArray<number | string>): string => `[${dims.join(', ')}]`;
  log(`wrote ${file} (${(exported.bytes.length / 1e6).toFixed(1)} MB, opset ${summary.opset}, ${summary.ops.length} nodes, ${summary.parameters.toLocaleString('en-US')} parameters after BatchNorm folding) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  log(`input ${ONNX_IO.input} ${shape(summary.inputs[0]!.dims)} float32 NHWC in [-1, 1]; outputs ${summary.outputs.map((x) => `${x.name} ${shape(x.dims)}`).join(', ')}`);
  if (o.check === false) return { code: EXIT.ok, file };

  const probe = await probeOnnxRuntime();
  if (!probe.available || !probe.ort) {
    log(`output check skipped: ${probe.detail}`);
    return { code: EXIT.ok, file };
  }
  const side = exported.config.inputShape[0] ?? 299;
  const x = new Float32Array(side * side * 3).map((_, i) => Math.sin(i * 0.37));
  const session = await probe.ort.InferenceSession.create(exported.bytes, onnxSessionOptions(['cpu'], 2));
  const r = await session.run({ [ONNX_IO.input]: new probe.ort.Tensor('float32', x, [1, side, side, 3]) });
  await session.release();
  await activateBackend('wasm');
  const core = createXceptionFromValues(model, values);
  const reference = tf.tidy(() => {
    const { output, features } = core.predictWithFeatures(tf.tensor4d(x, [1, side, side, 3]));
    return { output: output.dataSync(), features: features.dataSync() };
  });
  core.dispose();
  const diff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  };
  const dOut = diff(r[ONNX_IO.output]!.data as Float32Array, reference.output);
  const dFeat = diff(r[ONNX_IO.features]!.data as Float32Array, reference.features);
  log(`largest difference from the tfjs core on a ${side}x${side} test image: output ${dOut.toExponential(2)}, pooled features ${dFeat.toExponential(2)}`);
  if (!(dOut <= 1e-3 && dFeat <= 1e-3)) {
    log('the ONNX file does not match the tfjs core (difference above 1e-3): please report it');
    return { code: EXIT.error, file };
  }
  return { code: EXIT.ok, file };
}
