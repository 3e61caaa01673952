import { CliError, EXIT } from '../cli-error.js';
import type { EngineChoice, EngineResult, InferenceEngine } from '@xception/engines';
import { openModel, type Precision } from '@xception/runtime';
import { calibrateOnTensor } from '../int8-calibration.js';
import { withDownloadBar } from '../download-bar.js';
import { readNpy, writeNpy } from '@xception/batch';

export interface PredictOptions {
  weights: string;
  input: string;
  output: string;
  top: boolean;
  pooling?: 'avg' | 'max';
  engine: EngineChoice;
  features?: string;
  /** Images per engine run (`--batch-size`). */
  batchSize: number;
  /** fp32 (default) or int8 (calibrated on the input's first images when no int8 model is cached). */
  precision?: Precision;
}

/**
 * The raw model output for a float32 NHWC tensor (already preprocessed), for parity checks
 * against Keras: `np.save('x.npy', xception.preprocess_input(x))`, then compare the outputs.
 */
export async function predictCommand(o: PredictOptions, log: (line: string) => void): Promise<number> {
  const x = await readNpy(o.input);
  if (x.shape.length !== 4 || x.shape[3] !== 3) {
    throw new CliError('ERR_USAGE', `${o.input} has shape (${x.shape.join(', ')}); predict expects float32 NHWC images (N, height, width, 3) preprocessed to [-1, 1].`, EXIT.usage);
  }
  if (o.top && o.pooling) throw new CliError('ERR_USAGE', '--pooling applies only with --no-top, as in Keras.', EXIT.usage);
  const [n, h, w] = x.shape as [number, number, number, 3];
  // Threads as in classify: the engine's default, the number of CPUs (onnxruntime's intra-op
  // threads, or the wasm pool's worker threads).
  const { engine } = await withDownloadBar((onProgress) => openModel(o.weights, {
    ...(o.precision === 'int8' ? { precision: 'int8' as const, calibration: calibrateOnTensor(x.data as Float32Array, n, log) } : {}),
    engine: o.engine, includeTop: o.top, imageSize: [h, w], pooling: o.pooling ?? null, onProgress, log,
  }));
  try {
    const t0 = performance.now();
    const result = await runInBatches(engine, x.data, n, h, w, o.batchSize);
    const ms = performance.now() - t0;
    await writeNpy(o.output, { data: result.output, shape: result.outputShape });
    if (o.features) await writeNpy(o.features, { data: result.features, shape: [n, 2048] });
    log(`predict: (${x.shape.join(', ')}) → (${result.outputShape.join(', ')}) in ${o.output} (engine ${engine.detail}; inference ${ms.toFixed(1)} ms, ${(ms / n).toFixed(1)} ms/image)`);
    return EXIT.ok;
  } finally {
    await engine.dispose();
  }
}

/**
 * The input in batches of at most batchSize, all handed to the engine at once: it queues them
 * (onnxruntime keeps two in its thread; the wasm pool gives one to each free thread), so that
 * onnxruntime's slow first runs of a fresh session (about 2.3x the steady time for two runs)
 * are paid on two batches, not on the whole input. Small inputs are split so that every wasm
 * thread gets a part. The outputs are joined back in order along the batch axis.
 */
async function runInBatches(engine: InferenceEngine, data: Float32Array, n: number, h: number, w: number, batchSize: number): Promise<EngineResult> {
  const per = Math.max(1, Math.min(batchSize, Math.ceil(n / engine.parallelism)));
  const image = h * w * 3;
  const results = await Promise.all(Array.from({ length: Math.ceil(n / per) }, (_, i) => {
    const count = Math.min(per, n - i * per);
    return engine.run({ pixels: data.slice(i * per * image, (i * per + count) * image), count, height: h, width: w });
  }));
  if (results.length === 1) return results[0]!;
  const join = (arrays: Float32Array[]): Float32Array => {
    const all = new Float32Array(arrays.reduce((sum, a) => sum + a.length, 0));
    let at = 0;
    for (const a of arrays) { all.set(a, at); at += a.length; }
    return all;
  };
  return {
    output: join(results.map((r) => r.output)),
    outputShape: [n, ...results[0]!.outputShape.slice(1)],
    features: join(results.map((r) => r.features)),
  };
}
