import type { Prediction } from './types.js';

/**
 * The class number a model's own class (not one of ImageNet's 1000, e.g. a `.keras` from
 * `xception train`) carries in the tag rules and in sidecars: it joins no ImageNet group, so
 * the tag is the class name alone under the hierarchy root.
 */
export const OWN_CLASS_INDEX = -1;

/**
 * The class number a taught tag's prediction carries (the desktop's "Teach a tag"): outside
 * ImageNet's 0..999 so it joins no ImageNet group, and digits because the sidecar stores
 * predictions as "class|label|score".
 */
export const TAUGHT_TAG_CLASS = 1_000_000;

/** A ranked class as the classifiers give it: `wnid` is ImageNet's id, or null ('' in older rows) for a model's own class. */
export interface RankedClassLike {
  readonly index: number;
  readonly wnid: string | null;
  readonly label: string;
  readonly score: number;
}

/**
 * Ranked classes as the tag rules take them: ImageNet's classes keep their index (their
 * hierarchy groups apply: a terrier is also a dog); a model's own classes get OWN_CLASS_INDEX,
 * since their index means nothing in ImageNet's hierarchy. The desktop app and `xception tag`
 * both go through this, so the same model gives the same tags.
 */
export function predictionsForTags(ranked: readonly RankedClassLike[]): Prediction[] {
  return ranked.map((p) => ({ index: p.wnid ? p.index : OWN_CLASS_INDEX, label: p.label, score: p.score }));
}
