import type { ArtifactStore } from './artifact-store.js';

/** The Cache Storage bucket that keeps model folders between visits (`caches.delete(CACHE_NAME)` empties it). */
export const CACHE_NAME = 'xception-classifier-v1';

/** The model folder in Cache Storage; null where the page has none (insecure contexts) or it cannot be opened. */
export async function openCacheStorageStore(): Promise<ArtifactStore | null> {
  if (typeof caches === 'undefined') return null;
  const cache = await caches.open(CACHE_NAME).catch(() => null);
  if (!cache) return null;
  return {
    get: async (url) => {
      const hit = await cache.match(url).catch(() => undefined);
      return hit?.arrayBuffer().catch(() => undefined);
    },
    put: (url, bytes, type) => cache.put(url, new Response(bytes, { headers: { 'content-type': type } })).catch(() => undefined),
    delete: (url) => cache.delete(url).then(() => undefined, () => undefined),
  };
}
