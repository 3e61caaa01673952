import type { ProgressEvent } from '@xception/weights';
import { ClassifierError, reasonOf } from '../classifier-error.js';
import { openArtifactStore } from './artifact-store.js';

export interface ModelArtifacts {
  /** model.json, parsed. */
  json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: WeightEntry[] }> };
  weightSpecs: WeightEntry[];
  /** The shards' bytes, concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** Files fetched from the network (the rest came from the store). */
  downloaded: number;
}

export interface WeightEntry { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale?: number; min?: number } }

const BYTES: Record<string, number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };
const entryBytes = (w: WeightEntry): number => w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 4);

/**
 * Reads a tfjs model folder (model.json + shards) from its URL through an ArtifactStore (Cache
 * Storage, or IndexedDB on plain-http pages): what the store holds is never downloaded again, so
 * a second visit fetches nothing. Shards must sit beside model.json (a manifest pointing
 * elsewhere is refused). Each shard's body is read as soon as its response arrives (tfjs' loader
 * over HTTP/1.1 stalls at 6 shards when bodies wait). Without a usable store it downloads.
 */
export async function fetchModelArtifacts(modelUrl: URL, useCache: boolean, onProgress?: (event: ProgressEvent) => void): Promise<ModelArtifacts> {
  const store = useCache ? await openArtifactStore() : null;
  let downloaded = 0;
  const download = async (url: URL): Promise<ArrayBuffer> => {
    let response: Response;
    try {
      response = await fetch(url.href);
    } catch (error) {
      throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${url.href} could not be fetched (${reasonOf(error)}); check the address and that the server allows this page (CORS).`, { cause: error });
    }
    if (!response.ok) throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${url.href} answered HTTP ${response.status}; check the address of the model folder.`);
    const bytes = await response.arrayBuffer();
    downloaded++;
    await store?.put(url.href, bytes, response.headers.get('content-type') ?? 'application/octet-stream');
    return bytes;
  };
  const get = async (url: URL): Promise<ArrayBuffer> => (await store?.get(url.href)) ?? download(url);

  type Json = ModelArtifacts['json'];
  const parse = (bytes: ArrayBuffer): Json => JSON.parse(new TextDecoder().decode(bytes)) as Json;
  const kept = await store?.get(modelUrl.href);
  let json: Json | undefined;
  try {
    json = kept && parse(kept);
  } catch {
    // A kept copy that no longer parses (a damaged store) is the store's fault, not the server's: fetch it again.
    await store?.delete(modelUrl.href);
  }
  if (json === undefined) {
    const bytes = await download(modelUrl);
    try {
      json = parse(bytes);
    } catch (error) {
      await store?.delete(modelUrl.href);
      throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${modelUrl.href} is not valid JSON (${reasonOf(error)}); pass the URL of a model.json written by \`xception weights convert … --to web\`.`, { cause: error });
    }
  }
  const groups = Array.isArray(json?.weightsManifest) ? json.weightsManifest : null;
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
    for (const p of paths) await store?.delete(new URL(p, modelUrl).href);
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: the shards of ${modelUrl.href} hold ${bytes} bytes but its manifest needs ${totalBytes}; the folder is incomplete, copy it again.`);
  }
  const weightData = new Uint8Array(bytes);
  let offset = 0;
  for (const s of shards) { weightData.set(new Uint8Array(s), offset); offset += s.byteLength; }
  onProgress?.({ phase: 'done', bytes, totalBytes, target: modelUrl.href });
  return { json, weightSpecs, weightData: weightData.buffer, downloaded };
}
