import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryModel, PhotoRecord } from '../shared/library-model.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The local index: `index.json` (folders and photo records) and `features.bin` (pooled
 * features for "similar photos"), in the app's data folder. It is a cache: everything in
 * index.json can be rebuilt from the sidecars (see library-service's rebuildIndex), and
 * features are recomputed by the next re-tag. A JSON file rather than sqlite: no native
 * module to build, and 20,000 records load in well under a second.
 */
export interface IndexStore {
  load(library: LibraryModel): Promise<{ folders: string[]; ok: boolean }>;
  save(library: LibraryModel, folders: readonly string[]): Promise<void>;
}

interface IndexFile {
  version: 1;
  photos: PhotoRecord[];
}

const MAGIC = 0x31464358; // 'XCF1' little-endian

export function encodeFeatures(entries: Iterable<[string, Float32Array]>): Uint8Array {
  const list = [...entries];
  const dim = list[0]?.[1].length ?? 0;
  const encoder = new TextEncoder();
  const names = list.map(([id]) => encoder.encode(id));
  const size = 12 + names.reduce((sum, n) => sum + 4 + n.length + 4 * dim, 0);
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, dim, true);
  view.setUint32(8, list.length, true);
  let at = 12;
  list.forEach(([, values], i) => {
    const name = names[i]!;
    view.setUint32(at, name.length, true);
    new Uint8Array(buffer, at + 4, name.length).set(name);
    at += 4 + name.length;
    for (let j = 0; j < dim; j++) view.setFloat32(at + 4 * j, values[j] ?? 0, true);
    at += 4 * dim;
  });
  return new Uint8Array(buffer);
}

export function decodeFeatures(bytes: Uint8Array): Map<string, Float32Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = new Map<string, Float32Array>();
  if (bytes.byteLength < 12 || view.getUint32(0, true) !== MAGIC) return result;
  const dim = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const decoder = new TextDecoder();
  let at = 12;
  for (let i = 0; i < count && at + 4 <= bytes.byteLength; i++) {
    const length = view.getUint32(at, true);
    if (at + 4 + length + 4 * dim > bytes.byteLength) break; // truncated: keep what is whole
    const id = decoder.decode(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
    const values = new Float32Array(dim);
    for (let j = 0; j < dim; j++) values[j] = view.getFloat32(at + 4 * j, true);
    at += 4 * dim;
    result.set(id, values);
  }
  return result;
}

function isRecord(value: unknown): value is PhotoRecord {
  const r = value as PhotoRecord;
  return (
    typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.folder === 'string' && typeof r.name === 'string' &&
    typeof r.size === 'number' && typeof r.mtimeMs === 'number' && Array.isArray(r.predictions) && Array.isArray(r.added) && Array.isArray(r.removed)
  );
}

export function createIndexStore(dir: string): IndexStore {
  const indexPath = join(dir, 'index.json');
  const featuresPath = join(dir, 'features.bin');
  // The folder list is the user's choice, not a cache: its own small file, so that a broken
  // index.json still knows which folders to rebuild from.
  const foldersPath = join(dir, 'folders.json');
  return {
    async load(library) {
      const folders = await readFile(foldersPath, 'utf8').then(
        (text) => {
          const list = JSON.parse(text) as unknown;
          return Array.isArray(list) ? list.filter((f): f is string => typeof f === 'string') : [];
        },
        () => [] as string[],
      ).catch(() => [] as string[]);
      let parsed: IndexFile;
      try {
        parsed = JSON.parse(await readFile(indexPath, 'utf8')) as IndexFile;
      } catch (error) {
        // Missing is a first start; unreadable means rebuild from the sidecars (ok: false).
        return { folders, ok: (error as NodeJS.ErrnoException).code === 'ENOENT' && folders.length === 0 };
      }
      if (parsed?.version !== 1 || !Array.isArray(parsed.photos)) return { folders, ok: false };
      for (const record of parsed.photos) if (isRecord(record)) library.upsert(record);
      const features = await readFile(featuresPath).then(decodeFeatures, () => new Map<string, Float32Array>());
      for (const [id, values] of features) if (library.get(id)) library.setFeatures(id, values);
      return { folders, ok: true };
    },
    async save(library, folders) {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(foldersPath, JSON.stringify(folders, null, 2));
      const file: IndexFile = { version: 1, photos: [...library.all()] };
      await writeFileAtomic(indexPath, JSON.stringify(file));
      const features: [string, Float32Array][] = [];
      for (const record of library.all()) {
        const values = library.features(record.id);
        if (values) features.push([record.id, values]);
      }
      await writeFileAtomic(featuresPath, encodeFeatures(features));
    },
  };
}
