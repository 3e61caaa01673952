import { modelTagsFrom } from './tag-rules.js';
import type { Prediction, TagRuleSettings } from './types.js';
import type { SidecarTags } from './xmp-sidecar.js';

/** A photo as far as its sidecar goes: what the model said and what the user decided by hand. */
export interface TaggedPhoto {
  predictions: readonly Prediction[];
  /** Which weights produced the predictions; null when the photo was never classified. */
  model: string | null;
  /** Hand-added tag names. */
  added: readonly string[];
  /** Model tags the user removed by hand: never written back. */
  removed: readonly string[];
}

/**
 * What goes into a photo's sidecar: the model tags after the rules, minus the ones removed by
 * hand and the ones also added by hand, plus the hand edits themselves. The desktop app and
 * `xception tag` both write through this, so the same predictions give the same sidecar.
 */
export function sidecarTagsFor(photo: TaggedPhoto, rules: TagRuleSettings, root: string): SidecarTags {
  const removed = new Set(photo.removed.map((t) => t.toLowerCase()));
  const added = new Set(photo.added.map((t) => t.toLowerCase()));
  const modelTags = modelTagsFrom(photo.predictions, rules).filter((t) => !removed.has(t.name.toLowerCase()) && !added.has(t.name.toLowerCase()));
  return { root, modelTags, userTags: [...photo.added], removedTags: [...photo.removed], predictions: [...photo.predictions], model: photo.model };
}
