import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeXception, weightSpecsOf, type XceptionConfig } from '@xception/core';
import { kerasTopologyOf } from './keras-topology.js';
import { halfToFloat } from './keras-h5.js';
import { quantizeWeight, type QuantizeDtype } from './quantize.js';
import type { WeightValue } from './xception-mapping.js';

/** tensorflowjs_converter's default shard size: 4 MiB, which browsers cache well. */
export const SHARD_BYTES = 4 * 1024 * 1024;

export interface WriteTfjsArtifactsOptions {
  /** Where model.json and the shards go (created if needed). */
  outDir: string;
  /** The model the weights belong to (includeTop, classes, inputShape...). */
  config: XceptionConfig;
  /** Weights by Keras name, as expectedWeights(config) lists them. */
  values: ReadonlyMap<string, WeightValue>;
  /** Store weights as float16, uint8 or uint16, dequantized on load as tfjs does. Default null. */
  quantize?: QuantizeDtype | null;
  shardBytes?: number;
}

export interface TfjsArtifactsReport {
  modelJson: string;
  shards: string[];
  /** Bytes of weight data in the shards. */
  weightBytes: number;
  quantize: QuantizeDtype | null;
  /** Largest |stored - original| over all weights (0 without quantization). */
  maxAbsError: number;
  /** The weight where that error occurs. */
  maxAbsErrorWeight: string | null;
}

/**
 * Writes a tfjs layers-model (model.json with a Keras topology generated from the graph
 * description, a weightsManifest, and shards) that tf.loadLayersModel and readTfjsArtifacts load.
 * Files are written under temporary names and renamed, model.json last, so that a reader never
 * sees a manifest whose shards are not complete.
 */
export async function writeTfjsArtifacts(options: WriteTfjsArtifactsOptions): Promise<TfjsArtifactsReport> {
  const quantize = options.quantize ?? null;
  const shardBytes = options.shardBytes ?? SHARD_BYTES;
  const graph = describeXception(options.config);
  const specs = weightSpecsOf(graph);
  const topology = kerasTopologyOf(graph);
  const writtenLayers = new Set(topology.model_config.config.layers.map((l) => l.name));

  const chunks: Uint8Array[] = [];
  const entries: Array<Record<string, unknown>> = [];
  let maxAbsError = 0;
  let maxAbsErrorWeight: string | null = null;
  for (const spec of specs) {
    if (!writtenLayers.has(spec.layer)) continue;
    const value = options.values.get(spec.name);
    if (!value) throw new Error(`writeTfjsArtifacts: no value for weight '${spec.name}'`);
    const entry: Record<string, unknown> = { name: spec.name, shape: [...spec.shape], dtype: 'float32' };
    if (quantize) {
      const q = quantizeWeight(value.values, quantize);
      entry.quantization = q.quantization;
      chunks.push(q.bytes);
      const back = dequantize(q.bytes, q.quantization);
      for (let i = 0; i < back.length; i++) {
        const e = Math.abs(back[i]! - value.values[i]!);
        if (e > maxAbsError) { maxAbsError = e; maxAbsErrorWeight = spec.name; }
      }
    } else {
      chunks.push(new Uint8Array(value.values.buffer, value.values.byteOffset, value.values.byteLength));
    }
    entries.push(entry);
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) { data.set(c, offset); offset += c.byteLength; }

  const count = Math.max(1, Math.ceil(total / shardBytes));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  await mkdir(options.outDir, { recursive: true });
  const tag = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const temps: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const tmp = join(options.outDir, paths[i]! + tag);
      temps.push(tmp);
      await writeFile(tmp, data.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)));
    }
    for (let i = 0; i < count; i++) await rename(temps[i]!, join(options.outDir, paths[i]!));
    const modelJson = {
      format: 'layers-model',
      generatedBy: 'keras v2.2.4 (topology from @xception/core describeXception)',
      convertedBy: '@xception/weights',
      modelTopology: topology,
      weightsManifest: [{ paths, weights: entries }],
    };
    const jsonPath = join(options.outDir, 'model.json');
    const tmpJson = jsonPath + tag;
    temps.push(tmpJson);
    await writeFile(tmpJson, JSON.stringify(modelJson));
    await rename(tmpJson, jsonPath);
    return { modelJson: jsonPath, shards: paths.map((p) => join(options.outDir, p)), weightBytes: total, quantize, maxAbsError, maxAbsErrorWeight };
  } catch (error) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw error;
  }
}

/** What tf.io.decodeWeights computes from a quantized weight, without tensors. */
function dequantize(bytes: Uint8Array, q: { dtype: QuantizeDtype; scale?: number; min?: number }): Float32Array {
  if (q.dtype === 'float16') return halfToFloat(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
  const ints = q.dtype === 'uint8' ? bytes : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) out[i] = ints[i]! * q.scale! + q.min!;
  return out;
}
