import type { ProgressEvent } from '@xception/weights';
import { ClassifierError, reasonOf } from '../classifier-error.js';

/** The Cache Storage bucket that keeps model folders between visits. */
export const CACHE_NAME = 'xception-classifier-v1';

export interface ModelArtifacts {
  /** model.json, parsed. */
  json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: WeightEntry[] }> };
  weightSpecs: WeightEntry[];
  /** The shards' bytes, concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** Files fetched from the network (the rest came from the cache). */
  downloaded: number;
}

export interface WeightEntry { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale?: number; min?: number } }

const BYTES: Record<string, number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };
const entryBytes = (w: WeightEntry): number => w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 4);

/**
 * Reads a tfjs model folder (model.json + shards) from its URL through Cache Storage: what the
 * cache holds is never downloaded again, so a second visit fetches nothing. Shards must sit
 * beside model.json (a manifest pointing elsewhere is refused). Each shard's body is read as
 * soon as its response arrives (tfjs' loader over HTTP/1.1 stalls at 6 shards when bodies wait).
 * Where Cache Storage is missing (an http page that is not localhost), it downloads every time.
 */
export async function fetchModelArtifacts(modelUrl: URL, useCache: boolean, onProgress?: (event: ProgressEvent) => void): Promise<ModelArtifacts> {
  const cache = useCache && typeof caches !== 'undefined' ? await caches.open(CACHE_NAME).catch(() => null) : null;
  let downloaded = 0;
  const get = async (url: URL): Promise<ArrayBuffer> => {
    const hit = await cache?.match(url.href);
    if (hit) return hit.arrayBuffer();
    let response: Response;
    try {
      response = await fetch(url.href);
    } catch (error) {
      throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${url.href} could not be fetched (${reasonOf(error)}); check the address and that the server allows this page (CORS).`, { cause: error });
    }
    if (!response.ok) throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${url.href} answered HTTP ${response.status}; check the address of the model folder.`);
    const bytes = await response.arrayBuffer();
    downloaded++;
    await cache?.put(url.href, new Response(bytes, { headers: { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' } })).catch(() => undefined);
    return bytes;
  };

  let json: ModelArtifacts['json'];
  try {
    json = JSON.parse(new TextDecoder().decode(await get(modelUrl))) as ModelArtifacts['json'];
  } catch (error) {
    if (error instanceof ClassifierError) throw error;
    await cache?.delete(modelUrl.href);
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${modelUrl.href} is not valid JSON (${reasonOf(error)}); pass the URL of a model.json written by \`xception weights convert … --to web\`.`, { cause: error });
  }
  const groups = Array.isArray(json.weightsManifest) ? json.weightsManifest : null;
  if (!groups || !groups.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${modelUrl.href} has no weightsManifest; it is not a tfjs layers model (write one with \`xception weights convert … --to web\`).`);
  }
  const base = new URL('.', modelUrl);
  const paths = groups.flatMap((g) => g.paths);
  for (const p of paths) {
    const url = new URL(p, modelUrl);
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname) || p.split('/').includes('..')) {
      throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: shard path '${p}' in ${modelUrl.href} leaves the model's folder; shards must sit beside model.json, so this manifest is refused.`);
    }
  }
  const weightSpecs = groups.flatMap((g) => g.weights);
  const totalBytes = weightSpecs.reduce((n, w) => n + entryBytes(w), 0);
  let bytes = 0;
  const shards = await Promise.all(paths.map(async (p) => {
    const shard = await get(new URL(p, modelUrl));
    bytes += shard.byteLength;
    onProgress?.({ phase: 'download', bytes, totalBytes, target: modelUrl.href });
    return shard;
  }));
  if (bytes !== totalBytes) {
    for (const p of paths) await cache?.delete(new URL(p, modelUrl).href);
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: the shards of ${modelUrl.href} hold ${bytes} bytes but its manifest needs ${totalBytes}; the folder is incomplete, copy it again.`);
  }
  const weightData = new Uint8Array(bytes);
  let offset = 0;
  for (const s of shards) { weightData.set(new Uint8Array(s), offset); offset += s.byteLength; }
  onProgress?.({ phase: 'done', bytes, totalBytes, target: modelUrl.href });
  return { json, weightSpecs, weightData: weightData.buffer, downloaded };
}
