import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The durable cache of Xception's pooled features (what "similar photos" ranks by), beside the
 * index in the app's data folder. Sidecars do not carry the 2048 floats, so without this cache
 * a rebuilt index (from sidecars) would have no features until the next re-tag.
 *
 * - `features-<generation>.f32`: float32 rows, little-endian, `dim` values each, nothing else.
 * - `features.json`: `{ version: 2, dim, rows: 'features-<generation>.f32', entries: { <path>: [size, mtimeMs, row, model] } }`.
 *
 * A photo's row is used only while its size and mtime (and the model, when known) still match,
 * so an edited photo never gets a stale neighbour list. Writes are atomic and consistent: the
 * rows go to a new generation's file first, then the map naming it replaces the old map, then
 * the old rows file is deleted; a crash in between leaves the old pair (or an orphan file that
 * the next save removes).
 */
export interface FeatureKey {
  id: string;
  size: number;
  mtimeMs: number;
  model?: string | undefined;
}

export interface CachedFeatures {
  size: number;
  mtimeMs: number;
  model: string | null;
  values: Float32Array;
}

type Entry = [size: number, mtimeMs: number, row: number, model: string | null];
interface MapFile {
  version: 2;
  dim: number;
  rows: string;
  entries: Record<string, Entry>;
}

export const FEATURE_MAP = 'features.json';
const ROWS = /^features-[0-9a-f]{16}\.f32$/;

const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads the cache; a missing, broken or inconsistent cache is empty (it is only a cache). */
export async function readFeatureCache(dir: string): Promise<Map<string, CachedFeatures>> {
  const result = new Map<string, CachedFeatures>();
  let map: MapFile;
  try {
    map = JSON.parse(await readFile(join(dir, FEATURE_MAP), 'utf8')) as MapFile;
  } catch {
    return result;
  }
  if (map?.version !== 2 || !Number.isInteger(map.dim) || map.dim <= 0 || typeof map.rows !== 'string' || !ROWS.test(map.rows) || typeof map.entries !== 'object' || map.entries === null) return result;
  const bytes = await readFile(join(dir, map.rows)).catch(() => null);
  if (!bytes || bytes.byteLength % (4 * map.dim) !== 0) return result;
  const count = bytes.byteLength / (4 * map.dim);
  // Copy into an aligned buffer (readFile's Buffer may sit at any offset of a shared pool).
  const all = new Float32Array(count * map.dim);
  new Uint8Array(all.buffer).set(bytes);
  if (!little) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < all.length; i++) all[i] = view.getFloat32(4 * i, true);
  }
  for (const [id, entry] of Object.entries(map.entries)) {
    if (!Array.isArray(entry)) continue;
    const [size, mtimeMs, row, model] = entry;
    if (typeof size !== 'number' || typeof mtimeMs !== 'number' || !Number.isInteger(row) || row < 0 || row >= count) continue;
    result.set(id, { size, mtimeMs, model: typeof model === 'string' ? model : null, values: all.slice(row * map.dim, (row + 1) * map.dim) });
  }
  return result;
}

/** The cached row for a photo, only if it still describes the same bytes (and model). */
export function cachedFor(cache: ReadonlyMap<string, CachedFeatures>, key: FeatureKey): Float32Array | undefined {
  const hit = cache.get(key.id);
  if (!hit || hit.size !== key.size || hit.mtimeMs !== key.mtimeMs) return undefined;
  if (key.model && hit.model && key.model !== hit.model) return undefined;
  return hit.values;
}

/** Replaces the cache with these rows (all of the same length). */
export async function writeFeatureCache(dir: string, rows: Iterable<[FeatureKey, Float32Array]>): Promise<void> {
  const list = [...rows];
  const dim = list[0]?.[1].length ?? 0;
  const all = new Float32Array(list.length * dim);
  const entries: Record<string, Entry> = {};
  let row = 0;
  for (const [key, values] of list) {
    if (values.length !== dim) continue;
    all.set(values, row * dim);
    entries[key.id] = [key.size, key.mtimeMs, row, key.model ?? null];
    row++;
  }
  const bytes = new Uint8Array(all.buffer, 0, row * dim * 4);
  if (!little) {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < row * dim; i++) view.setFloat32(4 * i, all[i]!, true);
  }
  const name = `features-${randomBytes(8).toString('hex')}.f32`;
  await writeFileAtomic(join(dir, name), bytes);
  const map: MapFile = { version: 2, dim: Math.max(dim, 1), rows: name, entries };
  await writeFileAtomic(join(dir, FEATURE_MAP), JSON.stringify(map));
  // Older generations (and the pre-cache features.bin) are no longer named by the map.
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if ((ROWS.test(file) && file !== name) || file === 'features.bin') await unlink(join(dir, file)).catch(() => undefined);
  }
}
