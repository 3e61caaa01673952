import { effectiveTags } from './tag-rules.js';
import type { LibraryQuery, PhotoRecord, PhotoSummary, PhotoTag, QueryResult, SimilarPhoto, TagCount, TagRuleSettings } from './types.js';

export interface LibraryModel {
  readonly size: number;
  get(id: string): PhotoRecord | undefined;
  upsert(record: PhotoRecord): void;
  remove(id: string): void;
  all(): IterableIterator<PhotoRecord>;
  /** Pooled features, L2-normalised on the way in; null for photos not tagged yet. */
  setFeatures(id: string, features: Float32Array | null): void;
  features(id: string): Float32Array | undefined;
  tagsOf(record: PhotoRecord): PhotoTag[];
  summaryOf(record: PhotoRecord): PhotoSummary;
  query(query: LibraryQuery): QueryResult;
  tagCounts(): TagCount[];
  /** Nearest neighbours by cosine similarity of the pooled features, best first. */
  similar(id: string, count: number): SimilarPhoto[];
  /** The rules tags are computed with; changing them re-derives every photo's tags. */
  setRules(rules: TagRuleSettings): void;
}

export function createLibraryModel(rules: TagRuleSettings): LibraryModel {
  const records = new Map<string, PhotoRecord>();
  const features = new Map<string, Float32Array>();
  // Tags are derived data; caching them per record keeps queries over 20,000 photos in ms.
  let tagCache = new WeakMap<PhotoRecord, PhotoTag[]>();
  let current = rules;

  const tagsOf = (record: PhotoRecord): PhotoTag[] => {
    let tags = tagCache.get(record);
    if (!tags) {
      tags = effectiveTags(record.predictions, { added: record.added, removed: record.removed }, current);
      tagCache.set(record, tags);
    }
    return tags;
  };
  const summaryOf = (record: PhotoRecord): PhotoSummary => ({
    id: record.id,
    name: record.name,
    folder: record.folder,
    status: record.status,
    tags: tagsOf(record),
    ...(record.error ? { error: record.error } : {}),
  });
  const sorted = (): PhotoRecord[] => [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  return {
    get size() {
      return records.size;
    },
    get: (id) => records.get(id),
    upsert(record) {
      records.set(record.id, record);
      tagCache.delete(record);
    },
    remove(id) {
      records.delete(id);
      features.delete(id);
    },
    all: () => records.values(),
    setFeatures(id, values) {
      if (values) features.set(id, normalised(values));
      else features.delete(id);
    },
    features: (id) => features.get(id),
    tagsOf,
    summaryOf,
    query(query) {
      const wanted = (query.tags ?? []).map((t) => t.toLowerCase());
      const text = query.text?.trim().toLowerCase() ?? '';
      const matches = sorted().filter((record) => matchesQuery(record, tagsOf(record), wanted, text));
      const offset = Math.max(0, query.offset ?? 0);
      const limit = Math.max(0, query.limit ?? 200);
      return { total: matches.length, offset, photos: matches.slice(offset, offset + limit).map(summaryOf) };
    },
    tagCounts: () => countTags([...records.values()].map(tagsOf)),
    similar(id, count) {
      return nearest(features, id, count, (other) => records.has(other)).map((s) => ({ photo: summaryOf(records.get(s.id)!), similarity: s.similarity }));
    },
    setRules(rules) {
      current = rules;
      tagCache = new WeakMap();
    },
  };
}

/** L2-normalised, so that similarity is a dot product. */
function normalised(values: Float32Array): Float32Array {
  let norm = 0;
  for (const v of values) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(values, (v) => v / norm);
}

/** Every wanted tag (lower case), and the text in the file name or a tag name. */
function matchesQuery(record: PhotoRecord, tags: readonly PhotoTag[], wanted: readonly string[], text: string): boolean {
  const names = tags.map((t) => t.name.toLowerCase());
  if (!wanted.every((w) => names.includes(w))) return false;
  return !text || record.name.toLowerCase().includes(text) || names.some((n) => n.includes(text));
}

/** Photos per tag name (case-insensitive, the first spelling kept), most first. */
function countTags(tagsPerPhoto: Iterable<readonly PhotoTag[]>): TagCount[] {
  const counts = new Map<string, TagCount>();
  for (const tags of tagsPerPhoto) {
    for (const tag of tags) {
      const key = tag.name.toLowerCase();
      const entry = counts.get(key) ?? { name: tag.name, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** The `count` photos whose (normalised) features are closest to `id`'s by cosine similarity, best first. */
function nearest(features: ReadonlyMap<string, Float32Array>, id: string, count: number, inLibrary: (id: string) => boolean): Array<{ id: string; similarity: number }> {
  const target = features.get(id);
  if (!target) return [];
  const scored: { id: string; similarity: number }[] = [];
  for (const [other, values] of features) {
    if (other === id || !inLibrary(other)) continue;
    let dot = 0;
    for (let i = 0; i < values.length; i++) dot += values[i]! * target[i]!;
    scored.push({ id: other, similarity: dot });
  }
  scored.sort((a, b) => b.similarity - a.similarity);
  return scored.slice(0, count);
}
