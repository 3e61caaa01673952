import { groupPathOf } from './imagenet-hierarchy.js';
import type { PhotoTag, Prediction, TagRuleSettings } from './types.js';
import { xmlIllegalCharacter } from './xml-characters.js';

/** Keras labels use underscores ("golden_retriever"); keywords read better with spaces. */
export function tagNameOf(label: string): string {
  return label.replace(/_/g, ' ').trim();
}

/**
 * Turns a photo's top predictions into model tags. Order of the rules: ignore (by Keras label
 * or tag name), rename, then merge into the ImageNet groups. A group's confidence is the sum
 * of its members' scores among the kept predictions (two likely terriers make a likely dog),
 * so a group can pass the threshold when no single breed does.
 */
export function modelTagsFrom(predictions: readonly Prediction[], rules: TagRuleSettings): PhotoTag[] {
  const ignored = new Set(rules.ignoreLabels.map((l) => tagNameOf(l).toLowerCase()));
  const rename = (name: string): string => {
    // Own keys only: a class named 'constructor' or 'toString' must not find Object.prototype's.
    const own = (key: string): string | undefined => (Object.hasOwn(rules.renames, key) ? rules.renames[key] : undefined);
    const to = own(name) ?? own(name.replace(/ /g, '_'));
    return to ? tagNameOf(to) : name;
  };
  const tags = new Map<string, PhotoTag>();
  const add = (name: string, path: string[], score: number): void => {
    const key = name.toLowerCase();
    const existing = tags.get(key);
    if (existing) existing.score = Math.min(1, (existing.score ?? 0) + score);
    else tags.set(key, { name, path, score: Math.min(1, score), source: 'model' });
  };
  for (const prediction of predictions) {
    const name = tagNameOf(prediction.label);
    if (ignored.has(name.toLowerCase())) continue;
    const leaf = rename(name);
    if (ignored.has(leaf.toLowerCase())) continue;
    const group = rules.mergeMode === 'none' ? [] : groupPathOf(prediction.index).map(rename);
    if (group.length > 0 && !group.some((g) => ignored.has(g.toLowerCase()))) {
      add(group[group.length - 1]!, [...group], prediction.score);
      if (rules.mergeMode === 'group-only') continue;
      if (leaf.toLowerCase() === group[group.length - 1]!.toLowerCase()) continue;
      add(leaf, [...group, leaf], prediction.score);
    } else {
      add(leaf, [leaf], prediction.score);
    }
  }
  return [...tags.values()].filter((t) => (t.score ?? 0) >= rules.threshold).sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
}

/** What the user decided by hand for one photo; never touched by the model. */
export interface HandEdits {
  added: readonly string[];
  /** Model tags the user removed: the model must not bring them back. */
  removed: readonly string[];
}

/** The photo's tags: model tags (minus the ones removed by hand) plus hand-added tags. */
export function effectiveTags(predictions: readonly Prediction[], edits: HandEdits, rules: TagRuleSettings): PhotoTag[] {
  const removed = new Set(edits.removed.map((t) => t.toLowerCase()));
  const added = new Set(edits.added.map((t) => t.toLowerCase()));
  const tags = modelTagsFrom(predictions, rules).filter((t) => !removed.has(t.name.toLowerCase()) && !added.has(t.name.toLowerCase()));
  for (const name of edits.added) tags.push({ name, path: [name], score: null, source: 'user' });
  return tags;
}

/**
 * A hand-typed tag, trimmed, its whitespace runs (newlines too) made one space; null when empty,
 * unusable in the hierarchy separators, or holding a control character or one XML cannot hold.
 */
export function cleanTagName(raw: string): string | null {
  const name = raw.replace(/\s+/g, ' ').trim();
  if (name.length === 0 || name.length > 100 || /[|/\\<>\p{Cc}]/u.test(name) || xmlIllegalCharacter(name)) return null;
  return name;
}
