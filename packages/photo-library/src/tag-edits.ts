import { TAUGHT_TAG_CLASS } from './class-predictions.js';
import { UnusableTagError } from './errors.js';
import { writeRecordSidecar } from './record-sidecar.js';
import { cleanTagName, effectiveTags } from './tag-rules.js';
import type { PhotoRecord, SidecarRules } from './types.js';

/**
 * What a hand edit means, written to the photo's sidecar. Each function takes the record as the
 * library holds it, writes the sidecar and returns the new record (the caller stores it);
 * callers run one photo's edits one at a time, so that each starts from the previous one's record.
 */

const sameTag = (tag: string): ((other: string) => boolean) => {
  const lower = tag.toLowerCase();
  return (other) => other.toLowerCase() === lower;
};

/** A tag as typed by a person, cleaned (cleanTagName), or UnusableTagError (ERR_TAG_UNUSABLE) in one sentence. */
export function usableTagName(raw: string): string {
  const tag = cleanTagName(raw);
  if (!tag) throw new UnusableTagError(`The tag ${JSON.stringify(raw)} cannot be used: a tag has 1–100 characters, none of | / \\ < > and no control character; type it again without them.`);
  return tag;
}

/** Adds a hand tag (once, whatever its case); a model tag of that name removed by hand earlier is no longer removed. */
export async function addPhotoTag(record: PhotoRecord, raw: string, rules: SidecarRules): Promise<PhotoRecord> {
  const tag = usableTagName(raw);
  const isTag = sameTag(tag);
  return writeRecordSidecar({
    ...record,
    added: record.added.some(isTag) ? record.added : [...record.added, tag],
    removed: record.removed.filter((t) => !isTag(t)),
  }, rules);
}

/**
 * Removes a tag: a hand tag is dropped; a model tag the rules give the photo is recorded as
 * removed by hand, so that re-tagging never writes it again. A tag the photo does not have
 * changes nothing and writes nothing (the same record comes back).
 */
export async function removePhotoTag(record: PhotoRecord, tag: string, rules: SidecarRules): Promise<PhotoRecord> {
  const isTag = sameTag(tag);
  const isHand = record.added.some(isTag);
  const isModel = effectiveTags(record.predictions, record, rules).some((t) => t.source === 'model' && isTag(t.name));
  if (!isHand && !isModel) return record;
  return writeRecordSidecar({
    ...record,
    added: record.added.filter((t) => !isTag(t)),
    removed: isModel && !record.removed.some(isTag) ? [...record.removed, tag] : record.removed,
  }, rules);
}

/**
 * Applies a taught tag's score to a classified photo as a model prediction (class
 * TAUGHT_TAG_CLASS, replacing the tag's earlier score): above the rules' threshold it is a model
 * tag, shown with its score and removable like any other. Returns null, writing nothing, when
 * the score is under the threshold or the photo was never classified.
 */
export async function applyTaughtTag(record: PhotoRecord, tag: string, score: number, rules: SidecarRules): Promise<PhotoRecord | null> {
  if (score < rules.threshold || !record.model) return null;
  const isTag = sameTag(tag);
  const others = record.predictions.filter((p) => !(p.index === TAUGHT_TAG_CLASS && isTag(p.label)));
  return writeRecordSidecar({ ...record, predictions: [...others, { index: TAUGHT_TAG_CLASS, label: tag, score }] }, rules);
}
