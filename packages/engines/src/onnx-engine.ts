import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { resolveXceptionConfig, type CreateXceptionOptions, type WeightValues } from '@xception/core';
import { exportXceptionOnnx, ONNX_IO } from '@xception/onnx';
import { preprocessInput } from '@xception/vision-utils';
import { defaultCacheDir } from '@xception/weights';
import type { EngineBatch, EngineOptions, EngineResult, InferenceEngine } from './engine.js';
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
    enableMemPattern: true,
    // Idle intra-op threads sleep instead of spinning, so that decoding (sharp) gets the cores
    // between and beside batches.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * Inference with onnxruntime-node on the ONNX export of the same graph the tfjs engines run
 * (@xception/onnx). One session; onnxruntime spreads each batch over `threads` cores itself, so
 * the pipeline keeps one batch in flight. With CUDA libraries installed, the CUDA provider runs
 * first and the CPU one takes what it cannot.
 */
export async function createOnnxEngine(options: EngineOptions, probe?: OnnxProbe): Promise<InferenceEngine> {
  const found = probe ?? (await probeOnnxRuntime());
  if (!found.available || !found.ort) throw new Error(found.detail);
  const ort = found.ort;
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const { bytes, source } = onnxModelBytes(options.model, options.weights, options.onnxCacheDir);

  let session: Session;
  let providers = options.device === 'cpu' ? ['cpu'] : found.providers;
  if (options.device === 'cuda' && !providers.includes('cuda')) throw new Error(`device: 'cuda': onnxruntime's CUDA provider cannot run here (${found.cudaNote ?? 'unknown'})`);
  try {
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions(providers, threads));
  } catch (error) {
    if (!providers.includes('cuda') || options.device === 'cuda') throw error;
    // The CUDA provider is there but does not start (no GPU, a driver mismatch): CPU it is.
    providers = ['cpu'];
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions(providers, threads));
  }

  return {
    name: 'onnx',
    detail: `onnx (onnxruntime-node ${ort.env?.versions?.node ?? '?'}, ${providers.join(' + ')}, ${threads} thread${threads === 1 ? '' : 's'}; model ${source})`,
    parallelism: 1,
    async run(batch: EngineBatch): Promise<EngineResult> {
      const floats = batch.pixels instanceof Float32Array ? batch.pixels : preprocessInput(batch.pixels);
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

/**
 * The ONNX bytes for a model: exported in memory (about 0.6 s for Xception), and, for real
 * weights, kept in `<weights cache>/onnx/xception-<hash>.onnx`, keyed by a SHA-256 of the
 * configuration and every weight, so that the next start reads the file instead.
 * `cacheDir: null` never touches the disk; random weights (null) are never cached.
 */
export function onnxModelBytes(model: CreateXceptionOptions, weights: WeightValues | null, cacheDir?: string | null): { bytes: Uint8Array; source: string } {
  const dir = cacheDir === undefined ? join(defaultCacheDir(), 'onnx') : cacheDir;
  if (weights === null || dir === null) return { bytes: exportXceptionOnnx(model, weights).bytes, source: 'exported in memory' };
  const file = join(dir, `xception-${onnxCacheKey(model, weights)}.onnx`);
  try {
    return { bytes: readFileSync(file), source: `cached ${file}` };
  } catch {
    // Not cached yet (or unreadable): export, then cache if the disk lets us.
  }
  const { bytes } = exportXceptionOnnx(model, weights);
  const partial = `${file}.${process.pid}.partial`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(partial, bytes);
    renameSync(partial, file); // atomic: a reader never sees half a file
    return { bytes, source: `exported, cached at ${file}` };
  } catch {
    rmSync(partial, { force: true });
    return { bytes, source: 'exported in memory (the cache was not writable)' };
  }
}

/** What decides the exported bytes: the resolved configuration and every weight. */
export function onnxCacheKey(model: CreateXceptionOptions, weights: WeightValues): string {
  const config = resolveXceptionConfig({ ...model, weights: model.weights ?? 'weight-map' });
  const hash = createHash('sha256');
  hash.update(`@xception/onnx 1\n${JSON.stringify({ ...config, weights: null })}\n`);
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(`${name} [${w.shape.join(',')}]\n`);
    hash.update(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  }
  return hash.digest('hex').slice(0, 24);
}
