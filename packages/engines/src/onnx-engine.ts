import { availableParallelism } from 'node:os';
// Light subpaths: this module is what each inference thread loads, and the packages' entries
// would bring the exporter (protobufjs) and tfjs-core into every thread's start.
import { ONNX_IO } from '@xception/onnx/io';
import { preprocessPixels } from '@xception/vision-utils/preprocess-pixels';
import type { EngineBatch, EngineOptions, EngineResult, InferenceEngine } from './engine.js';
import type { OnnxModelFile } from './onnx-model-file.js';
import { commitOptimizedModel, discardOptimizedModel, haveOptimizedModel, optimizedModelCache, startOptimizedModel } from './onnx-optimized-model.js';
import { probeOnnxRuntime, type OnnxProbe, type OrtModule } from './onnx-probe.js';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

/** Session options for Xception on onnxruntime: the tuning lives here, once. */
export function onnxSessionOptions(providers: readonly string[], threads: number) {
  return {
    executionProviders: [...providers],
    graphOptimizationLevel: 'all' as const,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    enableCpuMemArena: true,
    // No memory pattern: with it, the first run of each input shape is traced through the arena
    // and the next allocates the planned block beside what the trace left there, so the arena
    // held both (at batch 8 and 299x299, 1,100 MB against 883 MB without it, measured with
    // onnxruntime-node 1.30 on this model; run times the same). The arena alone reuses its chunks.
    enableMemPattern: false,
    // Idle intra-op threads sleep instead of spinning, so that decoding (sharp) gets the cores
    // between and beside batches.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** Where a session's graph came from: onnxruntime's cached optimised graph, or the model (optimised now, and its graph cached when `written`). */
export type OnnxGraphSource = 'optimised graph loaded' | 'optimised graph written' | 'model optimised';

/**
 * A session for the model file. For a cached model on the CPU, onnxruntime's optimised graph is
 * cached beside it (onnx-optimized-model.ts): loaded, with optimisation off, when it is there
 * and intact; otherwise the plain model is optimised as always and the result written there for
 * the next start. (The CUDA provider optimises for its own kernels: its graph is not cached.)
 */
export async function createOnnxSession(ort: OrtModule, file: Pick<OnnxModelFile, 'path' | 'cached'>, providers: readonly string[], threads: number): Promise<{ session: Session; graph: OnnxGraphSource }> {
  const plain = onnxSessionOptions(providers, threads);
  const cache = file.cached && providers.length === 1 && providers[0] === 'cpu'
    ? optimizedModelCache(file.path, ort.env?.versions?.node ?? '?', plain.graphOptimizationLevel)
    : null;
  if (!cache) return { session: await ort.InferenceSession.create(file.path, plain), graph: 'model optimised' };
  if (await haveOptimizedModel(cache)) {
    try {
      return { session: await ort.InferenceSession.create(cache.graph, { ...plain, graphOptimizationLevel: 'disabled' }), graph: 'optimised graph loaded' };
    } catch {
      discardOptimizedModel(cache.dir); // refused: the plain model below, optimised again
    }
  }
  const partial = startOptimizedModel(cache);
  let session: Session;
  try {
    session = await ort.InferenceSession.create(file.path, {
      ...plain,
      optimizedModelFilePath: partial.sessionOptions.optimizedModelFilePath,
      extra: { session: { ...plain.extra.session, ...partial.sessionOptions.extra.session } },
      // onnxruntime warns, for each graph written at level 'all', that it suits this machine only: the cache is keyed on the CPU for that.
      logSeverityLevel: 3,
    });
  } catch {
    discardOptimizedModel(partial.dir); // say, an unwritable cache: a session that writes nothing
    return { session: await ort.InferenceSession.create(file.path, plain), graph: 'model optimised' };
  }
  return { session, graph: (await commitOptimizedModel(partial.dir, cache)) ? 'optimised graph written' : 'model optimised' };
}

/**
 * Inference with onnxruntime-node on the ONNX export of the same graph the tfjs engines run
 * (@xception/onnx). One session; onnxruntime spreads each batch over `threads` cores itself, so
 * the pipeline keeps one batch in flight. With CUDA libraries installed, the CUDA provider runs
 * first and the CPU one takes what it cannot.
 */
export async function createOnnxEngine(options: EngineOptions, probe?: OnnxProbe, prepared?: Pick<OnnxModelFile, 'path' | 'source' | 'cached'>): Promise<InferenceEngine> {
  const found = probe ?? (await probeOnnxRuntime());
  if (!found.available || !found.ort) throw new Error(found.detail);
  const ort = found.ort;
  const threads = Math.max(1, options.threads ?? availableParallelism());
  // onnxruntime loads the model from its file: no JavaScript copy of the bytes is kept.
  // A thread gets the file its main thread prepared; only a direct caller needs the exporter.
  const file = prepared ? { ...prepared, release: () => undefined } : await (await import('./onnx-model-file.js')).prepareOnnxModel(options.model, options.weights, options.onnxCacheDir);
  const { source } = file;

  let session: Session;
  let providers = options.device === 'cpu' ? ['cpu'] : found.providers;
  if (options.device === 'cuda' && !providers.includes('cuda')) throw new Error(`device: 'cuda': onnxruntime's CUDA provider cannot run here (${found.cudaNote ?? 'unknown'})`);
  try {
    try {
      ({ session } = await createOnnxSession(ort, file, providers, threads));
    } catch (error) {
      if (!providers.includes('cuda') || options.device === 'cuda') throw error;
      // The CUDA provider is there but does not start (no GPU, a driver mismatch): CPU it is.
      providers = ['cpu'];
      ({ session } = await createOnnxSession(ort, file, providers, threads));
    }
  } finally {
    file.release();
  }

  return {
    name: 'onnx',
    detail: `onnx (onnxruntime-node ${ort.env?.versions?.node ?? '?'}, ${providers.join(' + ')}, ${threads} thread${threads === 1 ? '' : 's'}; model ${source})`,
    parallelism: 1,
    async run(batch: EngineBatch): Promise<EngineResult> {
      const floats = batch.pixels instanceof Float32Array ? batch.pixels : preprocessPixels(batch.pixels);
      const input = new ort.Tensor('float32', floats, [batch.count, batch.height, batch.width, 3]);
      const r = await session.run({ [ONNX_IO.input]: input });
      const output = r[ONNX_IO.output]!;
      const features = r[ONNX_IO.features]!;
      return { output: output.data as Float32Array, outputShape: output.dims.map(Number), features: features.data as Float32Array };
    },
    async dispose() {
      await session.release();
    },
  };
}
