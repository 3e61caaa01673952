import { intersect, LibrarySearchIndex, SortedIds } from './library-search-index.js';
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
    // Neither predictions nor hand tags: no tags under any rules (most of a library not yet
    // tagged); not cached, which spared a 100,000-photo start 100,000 WeakMap entries.
    if (record.predictions.length === 0 && record.added.length === 0) return [];
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
  // The search index (library-search-index.ts) follows every upsert and removal; a change of
  // rules re-derives every photo's tags, so it is rebuilt (once) on the next read.
  const index = new LibrarySearchIndex();
  const order = new SortedIds();
  let indexStale = false;
  const indexed = (): LibrarySearchIndex => {
    if (indexStale) {
      index.clear();
      for (const record of records.values()) index.put(record.id, record.name, tagsOf(record).map((t) => t.name));
      indexStale = false;
    }
    return index;
  };

  return {
    get size() {
      return records.size;
    },
    get: (id) => records.get(id),
    upsert(record) {
      if (!records.has(record.id)) order.add(record.id);
      records.set(record.id, record);
      tagCache.delete(record);
      if (!indexStale) index.put(record.id, record.name, tagsOf(record).map((t) => t.name));
    },
    remove(id) {
      if (records.delete(id)) order.remove(id);
      features.delete(id);
      index.remove(id);
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
      const matches = matchingIds(indexed(), order.ids(), query);
      const offset = Math.max(0, query.offset ?? 0);
      const limit = Math.max(0, query.limit ?? 200);
      return { total: matches.length, offset, photos: matches.slice(offset, offset + limit).map((id) => summaryOf(records.get(id)!)) };
    },
    tagCounts: () => indexed().tagCounts(),
    similar(id, count) {
      return nearest(features, id, count, (other) => records.has(other)).map((s) => ({ photo: summaryOf(records.get(s.id)!), similarity: s.similarity }));
    },
    setRules(rules) {
      current = rules;
      tagCache = new WeakMap();
      indexStale = true;
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

/**
 * The ids (in path order) of the photos carrying every wanted tag and with the text in the file
 * name or a tag name (both case-insensitive), from the search index.
 */
function matchingIds(index: LibrarySearchIndex, order: readonly string[], query: LibraryQuery): readonly string[] {
  let found: ReadonlySet<string> | null = null;
  for (const tag of query.tags ?? []) found = found ? intersect(found, index.withTag(tag.toLowerCase())) : index.withTag(tag.toLowerCase());
  const text = query.text?.trim().toLowerCase() ?? '';
  if (text) found = found ? intersect(found, index.containing(text)) : index.containing(text);
  if (found === null) return order;
  // A few matches are sorted on their own; many are picked out of the sorted library in one pass.
  const chosen = found;
  return chosen.size * 16 < order.length ? [...chosen].sort() : order.filter((id) => chosen.has(id));
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
