import * as tf from '@tensorflow/tfjs-core';
import { silenceCpuBackendBanner } from '@xception/core';
import { WeightsFileError, type WeightsFileErrorCode } from './errors.js';
import type { ReadWeightsOptions, XceptionWeightsReading } from './keras-h5.js';
import { mapToXception, type FileLayer, type FileWeight } from './xception-mapping.js';

type ManifestEntry = tf.io.WeightsManifestEntry;
interface ManifestGroup { paths: string[]; weights: ManifestEntry[] }

/** More than any real model.json (Xception's is 140 KB); a larger one is not read. */
const MODEL_JSON_MAX_BYTES = 64 * 2 ** 20;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Reads TensorFlow.js layers-model artifacts from wherever `location` reads them (files in Node,
 * fetch in a browser): no Node built-ins here, so the browser entry shares every check. The
 * manifest is checked before any shard is trusted: shard paths must stay inside the model's
 * directory, and shard lengths must add up to what the manifest declares. Weights decode through
 * tf.io.decodeWeights (tfjs' own dequantization of uint8/uint16/float16); names map onto layers
 * through the topology, so converter suffixes (`block1_conv1_1/kernel`) and auto-named residual
 * layers (`conv2d_4`) are handled. Needs a registered tfjs backend (decoding makes tensors, which
 * are disposed before returning).
 */
export async function readTfjsArtifactsAt(location: ArtifactsLocation, options: ReadWeightsOptions = {}): Promise<XceptionWeightsReading> {
  const where = location.url ? { url: location.url.href } : { path: location.path! };
  const fail = (code: WeightsFileErrorCode, message: string, extra: { path?: string; url?: string; layer?: string } = {}): WeightsFileError =>
    new WeightsFileError(code, `${location.display}: ${message}`, { ...where, ...extra });

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await location.read(location.modelJson, MODEL_JSON_MAX_BYTES)));
  } catch (cause) {
    if (cause instanceof WeightsFileError) throw cause;
    throw fail('ERR_WEIGHTS_MANIFEST', `model.json is not valid JSON (${(cause as Error).message}); convert the model again.`);
  }
  const { groups, layers: topologyLayers, inputShape } = checkModelJson(json, fail);

  // Shard paths first: nothing outside the model's directory is ever read.
  for (const group of groups) for (const p of group.paths) location.checkShardPath(p, fail);

  const specs: ManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const [g, group] of groups.entries()) {
    const expected = group.weights.reduce((n, w) => n + byteLength(w), 0);
    // No shard can hold more than its whole group needs.
    const shards = await Promise.all(group.paths.map((p) => location.read(p, expected)));
    const actual = shards.reduce((n, s) => n + s.byteLength, 0);
    if (actual !== expected) {
      const shard = group.paths[oddShard(shards.map((s) => s.byteLength), expected)]!;
      throw fail('ERR_WEIGHTS_SHARD_SIZE', `the shards of weight group ${g + 1} hold ${actual} bytes but the manifest's ${group.weights.length} weights need ${expected} (check shard ${shard}, ${shards[group.paths.indexOf(shard)]!.byteLength} bytes); the download or copy is incomplete, fetch the artifacts again.`, location.shardWhere(shard));
    }
    specs.push(...group.weights);
    for (const s of shards) buffers.push(s.buffer.slice(s.byteOffset, s.byteOffset + s.byteLength) as ArrayBuffer);
  }

  await ensureTfjsBackend();
  const decoded = tf.io.decodeWeights(tf.io.concatenateArrayBuffers(buffers), specs);
  const values = new Map<string, FileWeight>();
  try {
    for (const spec of specs) {
      const tensor = decoded[spec.name]!;
      const data = tensor.dataSync();
      values.set(spec.name, {
        variable: spec.name.slice(spec.name.lastIndexOf('/') + 1).replace(/:\d+$/, ''),
        fileName: spec.name,
        shape: tensor.shape,
        values: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>),
      });
    }
  } finally {
    tf.dispose(Object.values(decoded));
  }

  const layers = assignToLayers(topologyLayers, [...values.values()], fail);
  const mapped = mapToXception(layers, { ...options, source: where });
  return { ...mapped, format: 'tfjs-layers', source: location.display, inputShape };
}

/**
 * Which shard of a group is the wrong size. The converter cuts a group into equal shards and a
 * shorter last one, so the culprit is the one shard whose right size (what the group needs less
 * the others) makes that pattern; the last shard when no single one does.
 */
function oddShard(sizes: readonly number[], expected: number): number {
  const actual = sizes.reduce((n, s) => n + s, 0);
  const fits = (fixed: number[]): boolean => {
    const last = fixed[fixed.length - 1]!;
    return fixed.slice(0, -1).every((s) => s === fixed[0]) && last > 0 && (fixed.length === 1 || last <= fixed[0]!);
  };
  const culprit = sizes.findIndex((s, i) => fits(sizes.map((t, j) => (j === i ? expected - (actual - s) : t))));
  return culprit >= 0 ? culprit : sizes.length - 1;
}

function byteLength(w: ManifestEntry): number {
  const dtype = w.quantization?.dtype ?? w.dtype;
  return w.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]!;
}

export type Fail = (code: WeightsFileErrorCode, message: string, extra?: { path?: string; url?: string; layer?: string }) => WeightsFileError;

function checkModelJson(json: unknown, fail: Fail): { groups: ManifestGroup[]; layers: string[]; inputShape: [number, number, number] | null } {
  const model = json as { modelTopology?: unknown; weightsManifest?: unknown };
  if (typeof model !== 'object' || model === null || !Array.isArray(model.weightsManifest)) {
    throw fail('ERR_WEIGHTS_MANIFEST', 'model.json has no weightsManifest list; it is not a TensorFlow.js layers model.');
  }
  const topology = model.modelTopology as { model_config?: { config?: unknown } ; config?: unknown } | undefined;
  const config = (topology?.model_config?.config ?? topology?.config) as { layers?: Array<{ name?: unknown }> } | Array<{ config?: { name?: unknown } }> | undefined;
  const rawLayers = Array.isArray(config) ? config.map((l) => l.config?.name) : config?.layers?.map((l) => l.name);
  if (!rawLayers || !rawLayers.every((n): n is string => typeof n === 'string')) {
    throw fail('ERR_WEIGHTS_MANIFEST', 'model.json has no Keras modelTopology with named layers (a graph model, or a weights-only manifest); convert the Keras model as a layers model (tfjs_layers_model).');
  }
  const names = new Set<string>();
  const inputShape = inputShapeOf(Array.isArray(config) ? config : config?.layers);
  const groups = model.weightsManifest.map((group: unknown, g: number): ManifestGroup => {
    const gr = group as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(gr?.paths) || !gr.paths.every((p) => typeof p === 'string') || !Array.isArray(gr.weights)) {
      throw fail('ERR_WEIGHTS_MANIFEST', `weightsManifest group ${g + 1} needs a 'paths' list of shard names and a 'weights' list; the manifest is damaged.`);
    }
    if (gr.weights.length > 0 && gr.paths.length === 0) {
      throw fail('ERR_WEIGHTS_MANIFEST', `weightsManifest group ${g + 1} lists ${gr.weights.length} weights but no shard; the manifest is damaged.`);
    }
    for (const w of gr.weights as ManifestEntry[]) {
      const layer = typeof w?.name === 'string' ? w.name.split('/')[0] : undefined;
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw fail('ERR_WEIGHTS_MANIFEST', `weight ${JSON.stringify(w?.name ?? null)} in group ${g + 1} has no valid name or shape; the manifest is damaged.`, layer ? { layer } : {});
      }
      const dtype = w.quantization?.dtype ?? w.dtype;
      if (w.dtype !== 'float32' || !(dtype in DTYPE_BYTES) || (w.quantization && w.quantization.dtype !== 'float16' && !(Number.isFinite(w.quantization.scale) && Number.isFinite(w.quantization.min)))) {
        throw fail('ERR_WEIGHTS_MANIFEST', `weight '${w.name}' has dtype ${String(w.dtype)}${w.quantization ? ` quantized as ${JSON.stringify(w.quantization)}` : ''}, which is not float32 weights (optionally float16/uint8/uint16-quantized with scale and min); the manifest is damaged.`, { layer: layer! });
      }
      if (names.has(w.name)) throw fail('ERR_WEIGHTS_MANIFEST', `weight '${w.name}' is listed twice; the manifest is damaged.`, { layer: layer! });
      names.add(w.name);
    }
    return { paths: gr.paths as string[], weights: gr.weights as ManifestEntry[] };
  });
  return { groups, layers: rawLayers, inputShape };
}

/**
 * The model's input side from its InputLayer: Keras 2 topologies (tensorflowjs_converter, ours)
 * say `batch_input_shape`, Keras 3 `batch_shape`, both [null, height, width, channels]. Null when
 * the topology leaves the size open (None) or has no InputLayer.
 */
function inputShapeOf(layers: unknown): [number, number, number] | null {
  if (!Array.isArray(layers)) return null;
  const input = layers.find((l: { class_name?: unknown }) => l?.class_name === 'InputLayer') as { config?: { batch_input_shape?: unknown; batch_shape?: unknown } } | undefined;
  const shape = input?.config?.batch_input_shape ?? input?.config?.batch_shape;
  if (!Array.isArray(shape) || shape.length !== 4) return null;
  const [, h, w, c] = shape as unknown[];
  return [h, w, c].every((d) => Number.isInteger(d) && (d as number) > 0) ? [h as number, w as number, c as number] : null;
}

/**
 * Puts each manifest weight under its topology layer. Names are `layer/variable`, except that
 * the converter may suffix a session counter (`block1_conv1_1/kernel`). Exact names win; a
 * suffixed name resolves to the layer it names without the suffix. When that is ambiguous
 * (`conv2d_1/kernel` could be layer conv2d_1, or layer conv2d with a suffix), the reading
 * that gives every layer at most one weight per variable is taken.
 */
function assignToLayers(layerNames: readonly string[], weights: readonly FileWeight[], fail: Fail): FileLayer[] {
  const layerSet = new Set(layerNames);
  const prefixOf = (w: FileWeight): string => w.fileName.slice(0, w.fileName.lastIndexOf('/'));
  const strip = (p: string): string => p.replace(/_\d+$/, '');
  const attempt = (preferStripped: boolean): Map<string, FileWeight[]> | null => {
    const byLayer = new Map<string, FileWeight[]>();
    for (const w of weights) {
      const p = prefixOf(w);
      const candidates = preferStripped ? [strip(p), p] : [p, strip(p)];
      const layer = candidates.find((c) => layerSet.has(c) && !(byLayer.get(c) ?? []).some((o) => o.variable === w.variable));
      if (!layer) return null;
      byLayer.set(layer, [...(byLayer.get(layer) ?? []), w]);
    }
    return byLayer;
  };
  const byLayer = attempt(false) ?? attempt(true);
  if (!byLayer) {
    const lost = weights.find((w) => !layerSet.has(prefixOf(w)) && !layerSet.has(strip(prefixOf(w))));
    throw fail('ERR_WEIGHTS_MANIFEST', lost
      ? `weight '${lost.fileName}' belongs to no layer of the model's topology; the manifest and topology do not match.`
      : 'two weights of the manifest claim the same layer variable; the manifest and topology do not match.', lost ? { layer: prefixOf(lost) } : {});
  }
  return layerNames.map((name) => ({ name, weights: byLayer.get(name) ?? [] }));
}

/** Where artifacts are read from: the model.json, its shards, and how errors name them. */
export interface ArtifactsLocation {
  display: string;
  path?: string;
  url?: URL;
  modelJson: string;
  /** The bytes of model.json or of a shard; more than `maxBytes` is refused, never read whole. */
  read(relative: string, maxBytes: number): Promise<Uint8Array>;
  checkShardPath(p: string, fail: Fail): void;
  shardWhere(p: string): { path?: string; url?: string };
}

/**
 * tf.io.decodeWeights (tfjs' own dequantisation) makes tensors, and tensors need a backend. A
 * caller that registered none (a CLI reading weights before it picks an engine) gets the pure-JS
 * cpu backend, which is all that decoding needs; a registered one is left as it is.
 */
async function ensureTfjsBackend(): Promise<void> {
  if (Object.keys(tf.engine().registryFactory).length === 0) await import('@tensorflow/tfjs-backend-cpu');
  await tf.ready();
  await silenceCpuBackendBanner(); // decoding a few tensors on cpu needs no advice to install tfjs-node
}

/** A shard of a model.json at `modelUrl` must sit beside it or below: same origin, no `..`, no absolute path. */
/** Whether `url` lies in the folder that holds `modelUrl` (same origin, under its path). */
export function insideModelDirectory(modelUrl: URL, url: URL): boolean {
  const base = new URL('.', modelUrl);
  return url.origin === base.origin && url.pathname.startsWith(base.pathname);
}

export function checkUrlShardPath(modelUrl: URL, p: string, fail: Fail): void {
  const base = new URL('.', modelUrl);
  const resolved = new URL(p, modelUrl);
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.includes('\\') || !insideModelDirectory(modelUrl, resolved) || p.split('/').includes('..')) {
    throw fail('ERR_WEIGHTS_SHARD_PATH', `shard path '${p}' leaves the model's directory ${base.href}; shards must sit beside model.json, so this manifest is refused.`, { url: resolved.href });
  }
}
