import { WeightsFileError } from '../errors.js';
import type { ReadWeightsOptions, XceptionWeightsReading } from '../keras-h5.js';
import type { ProgressCallback } from '../progress.js';
import { checkUrlShardPath, readTfjsArtifactsAt } from '../tfjs-artifacts-decode.js';

export interface BrowserReadOptions extends ReadWeightsOptions {
  /** The fetch to read model.json and shards with (default: globalThis.fetch), e.g. one that caches. */
  fetch?: typeof globalThis.fetch;
  /** Bytes read so far, after each file (phase 'download'). */
  onProgress?: ProgressCallback;
}

/**
 * Browsers (and workers, Deno, Node's fetch): TensorFlow.js layers-model artifacts from a URL,
 * as written by `xception weights convert <weights> <dir> --to web`, into Xception's weight
 * names, with the same manifest checks as in Node (shards beside model.json, sizes as declared,
 * quantized weights decoded by tfjs). A relative URL resolves against the page's address.
 */
export async function readTfjsArtifacts(url: string | URL, options: BrowserReadOptions = {}): Promise<XceptionWeightsReading> {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = typeof location === 'undefined' ? undefined : location.href;
  let modelUrl: URL;
  try {
    modelUrl = new URL(url, base);
  } catch (cause) {
    throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `weights: '${String(url)}' is not a URL; pass the address of a model.json.`, { url: String(url), cause });
  }
  if (modelUrl.pathname.endsWith('/')) modelUrl = new URL('model.json', modelUrl);
  let bytesRead = 0;
  return readTfjsArtifactsAt({
    display: modelUrl.href,
    url: modelUrl,
    modelJson: modelUrl.href,
    async read(relative) {
      const target = new URL(relative, modelUrl).href;
      let response: Response;
      try {
        response = await fetchFn(target);
      } catch (cause) {
        throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${target} could not be fetched (${(cause as Error).message}); check the address and the network.`, { url: target, cause });
      }
      if (!response.ok) {
        throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${target} answered HTTP ${response.status}; check the address (every shard named in model.json must be served beside it).`, { url: target });
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      bytesRead += bytes.byteLength;
      options.onProgress?.({ phase: 'download', bytes: bytesRead, totalBytes: null, target });
      return bytes;
    },
    checkShardPath: (p, fail) => checkUrlShardPath(modelUrl, p, fail),
    shardWhere: (p) => ({ url: new URL(p, modelUrl).href }),
  }, options);
}
