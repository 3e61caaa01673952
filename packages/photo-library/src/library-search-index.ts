import type { TagCount } from './types.js';

/**
 * The library's search index (no Node built-ins: the renderer's stand-in bridge bundles it):
 * every distinct file name and tag name, lower-cased, with the photos that carry it, kept up to
 * date on each upsert and removal. The page's search is a case-insensitive substring of a file
 * name or a tag name, so a query tests each distinct term once (100,000 short strings: a few
 * ms) instead of deriving and lower-casing every photo's tags, and a tag filter is a set
 * look-up. Results are exactly what a pass over every photo finds (library-model.test.ts).
 */
export class LibrarySearchIndex {
  /** Lower-cased file name → photo ids (one id as a string: most names are unique). */
  private readonly names = new Map<string, string | Set<string>>();
  /** Lower-cased tag name → the first spelling seen and the photo ids. */
  private readonly tags = new Map<string, { name: string; ids: Set<string> }>();
  /** What is indexed per photo: its lower-cased name, and its tag keys when it has tags (most photos of a new library have none). */
  private readonly entries = new Map<string, string | { name: string; tags: string[] }>();

  /** Indexes a photo (replacing what was indexed for its id) by its file name and tag names. */
  put(id: string, fileName: string, tagNames: readonly string[]): void {
    this.remove(id);
    const name = fileName.toLowerCase();
    const held = this.names.get(name);
    if (held === undefined) this.names.set(name, id);
    else if (typeof held === 'string') this.names.set(name, new Set([held, id]));
    else held.add(id);
    const keys: string[] = [];
    for (const tag of tagNames) {
      const key = tag.toLowerCase();
      if (keys.includes(key)) continue;
      keys.push(key);
      const entry = this.tags.get(key);
      if (entry) entry.ids.add(id);
      else this.tags.set(key, { name: tag, ids: new Set([id]) });
    }
    this.entries.set(id, keys.length === 0 ? name : { name, tags: keys });
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    const name = typeof entry === 'string' ? entry : entry.name;
    const held = this.names.get(name);
    if (typeof held === 'string' || (held && held.delete(id) && held.size === 0)) this.names.delete(name);
    if (typeof entry === 'string') return;
    for (const key of entry.tags) {
      const tag = this.tags.get(key)!;
      tag.ids.delete(id);
      if (tag.ids.size === 0) this.tags.delete(key);
    }
  }

  clear(): void {
    this.names.clear();
    this.tags.clear();
    this.entries.clear();
  }

  /** The photos whose file name or a tag name contains `text` (lower case). */
  containing(text: string): Set<string> {
    const found = new Set<string>();
    for (const [name, held] of this.names) {
      if (!name.includes(text)) continue;
      if (typeof held === 'string') found.add(held);
      else for (const id of held) found.add(id);
    }
    for (const [key, tag] of this.tags) if (key.includes(text)) for (const id of tag.ids) found.add(id);
    return found;
  }

  /** The photos carrying a tag (lower case); empty when none does. */
  withTag(key: string): ReadonlySet<string> {
    return this.tags.get(key)?.ids ?? new Set();
  }

  /** Photos per tag name (case-insensitive, the first spelling seen), most first. */
  tagCounts(): TagCount[] {
    return [...this.tags.values()].map((t) => ({ name: t.name, count: t.ids.size })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  }
}

/**
 * Photo ids in path order, kept sorted as photos come and go: additions and removals wait and
 * are merged in on the next read (a scan adds thousands between two page queries), so a query
 * never sorts the whole library again.
 */
export class SortedIds {
  private order: string[] = [];
  private readonly adding = new Set<string>();
  private readonly removing = new Set<string>();

  add(id: string): void {
    if (!this.removing.delete(id)) this.adding.add(id);
  }

  remove(id: string): void {
    if (!this.adding.delete(id)) this.removing.add(id);
  }

  /** Every id, sorted by UTF-16 code units (as `<` compares). */
  ids(): readonly string[] {
    if (this.removing.size > 0) {
      this.order = this.order.filter((id) => !this.removing.has(id));
      this.removing.clear();
    }
    if (this.adding.size > 0) {
      this.order = mergeSorted(this.order, [...this.adding].sort());
      this.adding.clear();
    }
    return this.order;
  }
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const merged = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) merged[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) merged[k++] = a[i++]!;
  while (j < b.length) merged[k++] = b[j++]!;
  return merged;
}

/** The ids in both sets, walking the smaller one. */
export function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  const both = new Set<string>();
  for (const id of small) if (large.has(id)) both.add(id);
  return both;
}
