/** One ImageNet prediction as the classifier returned it. */
export interface Prediction {
  index: number;
  label: string;
  score: number;
}

/** A tag on a photo: a keyword (dc:subject) and its place in the hierarchy. */
export interface PhotoTag {
  /** The keyword (dc:subject). */
  name: string;
  /** Its place in the hierarchy below the root, e.g. ['animal', 'dog', 'golden retriever']. */
  path: string[];
  /** Model confidence; null for hand-added tags. */
  score: number | null;
  source: 'model' | 'user';
}

/** How ImageNet labels are grouped (see imagenet-hierarchy.ts). */
export type MergeMode = 'none' | 'hierarchy' | 'group-only';

/** The rules that decide which model tags a photo gets. */
export interface TagRuleSettings {
  /** Model tags below this confidence are neither shown nor written to sidecars. */
  threshold: number;
  /** Labels (Keras label or tag name) that are never tagged. */
  ignoreLabels: string[];
  /** Label or group name to the tag name to write instead (merging when names collide). */
  renames: Record<string, string>;
  mergeMode: MergeMode;
}

/** Everything that decides a sidecar's keywords: the tag rules and the hierarchy's root. */
export interface SidecarRules extends TagRuleSettings {
  /** First component of the lr:hierarchicalSubject / digiKam:TagsList entries, e.g. 'Xception'. */
  hierarchyRoot: string;
}

export type PhotoStatus = 'new' | 'changed' | 'tagged' | 'error';

/** What the index knows about one photo; everything but its features is in its sidecar too. */
export interface PhotoRecord {
  /** Absolute path of the photo. */
  id: string;
  /** The added folder it was found under. */
  folder: string;
  name: string;
  size: number;
  mtimeMs: number;
  status: PhotoStatus;
  error?: string;
  /** The model's top predictions (rules turn them into tags, so rule changes need no inference). */
  predictions: Prediction[];
  /** Which weights produced the predictions, e.g. 'imagenet'. */
  model?: string;
  /** Hand-added tag names. */
  added: string[];
  /** Model tag names the user removed. */
  removed: string[];
}

/** One photo as a page lists it: its tags as the rules derive them. */
export interface PhotoSummary {
  /** Absolute path of the photo; the id every call uses. */
  id: string;
  name: string;
  folder: string;
  status: PhotoStatus;
  tags: PhotoTag[];
  error?: string;
}

export interface LibraryQuery {
  /** Photos carrying every one of these tag names. */
  tags?: string[];
  /** Case-insensitive substring of a tag name or the file name. */
  text?: string;
  offset?: number;
  limit?: number;
}

export interface QueryResult {
  total: number;
  offset: number;
  photos: PhotoSummary[];
}

export interface TagCount {
  name: string;
  count: number;
}

export interface SimilarPhoto {
  photo: PhotoSummary;
  /** Cosine similarity of the pooled 2048-d features, in [-1, 1]. */
  similarity: number;
}
