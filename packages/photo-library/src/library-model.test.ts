import { describe, expect, it } from 'vitest';
import { createLibraryModel } from './library-model.js';
import { effectiveTags } from './tag-rules.js';
import type { LibraryQuery, PhotoRecord, Prediction, TagRuleSettings } from './types.js';

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLASSES: Prediction[] = [
  { index: 207, label: 'golden_retriever', score: 0 },
  { index: 208, label: 'Labrador_retriever', score: 0 },
  { index: 281, label: 'tabby', score: 0 },
  { index: 817, label: 'sports_car', score: 0 },
  { index: 973, label: 'coral_reef', score: 0 },
];
const NAME_PARTS = ['IMG_', 'dsc', 'Dog', 'été-', 'beach', 'Ωmega', 'car', '0', '7', '_x'];
const HAND_TAGS = ['Family', 'family', 'Beach', 'trip 2024', 'Dog'];
const RULES: TagRuleSettings = { threshold: 0.2, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' };

function randomRecord(random: () => number, id: string): PhotoRecord {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const name = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(NAME_PARTS)).join('') + pick(['.jpg', '.JPG', '.png']);
  const predictions = random() < 0.3 ? [] : CLASSES.filter(() => random() < 0.4).map((c) => ({ ...c, score: random() }));
  const added = random() < 0.2 ? [pick(HAND_TAGS)] : [];
  const removed = random() < 0.1 ? ['dog'] : [];
  return { id, folder: '/lib', name, size: 1, mtimeMs: 1, status: predictions.length ? 'tagged' : 'new', predictions, added, removed };
}

/** The search as its contract says, over every photo: every tag (case-insensitive), the text in the file name or a tag name. */
function bruteForce(records: Iterable<PhotoRecord>, rules: TagRuleSettings, query: LibraryQuery): { total: number; ids: string[] } {
  const text = query.text?.trim().toLowerCase() ?? '';
  const wanted = (query.tags ?? []).map((t) => t.toLowerCase());
  const matches = [...records]
    .filter((r) => {
      const names = effectiveTags(r.predictions, r, rules).map((t) => t.name.toLowerCase());
      return wanted.every((w) => names.includes(w)) && (!text || r.name.toLowerCase().includes(text) || names.some((n) => n.includes(text)));
    })
    .map((r) => r.id)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const offset = query.offset ?? 0;
  return { total: matches.length, ids: matches.slice(offset, offset + (query.limit ?? 200)) };
}

function bruteCounts(records: Iterable<PhotoRecord>, rules: TagRuleSettings): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) for (const t of effectiveTags(r.predictions, r, rules)) counts.set(t.name.toLowerCase(), (counts.get(t.name.toLowerCase()) ?? 0) + 1);
  return counts;
}

const QUERIES: LibraryQuery[] = [
  {},
  { text: 'img' },
  { text: 'IMG_Dog' },
  { text: 'É' },
  { text: 'ωm' },
  { text: 'retriever' },
  { text: ' dog ' },
  { text: 'x', offset: 100, limit: 50 },
  { text: 'no such text anywhere' },
  { tags: ['dog'] },
  { tags: ['DOG', 'family'] },
  { tags: ['beach'], text: 'car' },
  { tags: ['not a tag'] },
  { offset: 1990, limit: 30 },
];

describe('library model search (the index against a pass over every photo)', () => {
  it('finds what a brute-force filter finds, before and after upserts, removals and a change of rules', () => {
    const random = seeded(24);
    const model = createLibraryModel(RULES);
    const truth = new Map<string, PhotoRecord>();
    for (let i = 0; i < 2000; i++) {
      const record = randomRecord(random, `/lib/${Math.floor(random() * 40)}/${i}-${Math.floor(random() * 1e6)}.jpg`);
      model.upsert(record);
      truth.set(record.id, record);
    }
    let rules = RULES;
    const check = (): void => {
      for (const query of QUERIES) {
        const result = model.query(query);
        expect({ total: result.total, ids: result.photos.map((p) => p.id) }, JSON.stringify(query)).toEqual(bruteForce(truth.values(), rules, query));
      }
      expect(new Map(model.tagCounts().map((t) => [t.name.toLowerCase(), t.count]))).toEqual(bruteCounts(truth.values(), rules));
    };
    check();
    // Edits between queries: the index follows each one.
    const ids = [...truth.keys()];
    for (let i = 0; i < 600; i++) {
      const id = ids[Math.floor(random() * ids.length)]!;
      if (i % 3 === 0) {
        model.remove(id);
        truth.delete(id);
      } else {
        const record = randomRecord(random, id);
        model.upsert(record);
        truth.set(id, record);
      }
      if (i % 150 === 0) check();
    }
    check();
    rules = { threshold: 0.5, ignoreLabels: ['tabby'], renames: { dog: 'Hund' }, mergeMode: 'none' };
    model.setRules(rules);
    check();
    model.upsert(randomRecord(random, '/lib/0/after-rules.jpg'));
    truth.set('/lib/0/after-rules.jpg', model.get('/lib/0/after-rules.jpg')!);
    check();
  });
});
