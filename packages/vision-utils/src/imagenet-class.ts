import { IMAGENET_CLASS_ROWS } from './imagenet-classes.js';

/** One of Keras' 1000 ImageNet classes. Labels are not unique ("crane" is 134 and 517): key on wnid. */
export interface ImagenetClass {
  /** Keras' class index, 0–999: the position in the model's output. */
  readonly index: number;
  /** WordNet id, e.g. 'n02504458': the unique key. */
  readonly wnid: string;
  /** Keras' label, e.g. 'African_elephant'. */
  readonly label: string;
}

/** The 1000 classes in Keras' order (IMAGENET_CLASSES[i].index === i). */
export const IMAGENET_CLASSES: readonly ImagenetClass[] = Object.freeze(
  IMAGENET_CLASS_ROWS.map(([wnid, label], index) => Object.freeze({ index, wnid, label })),
);

const byWnid = new Map<string, ImagenetClass>(IMAGENET_CLASSES.map((c) => [c.wnid, c]));

/**
 * The class for a Keras index (0–999) or a wnid ('n01440764'); undefined for anything else, so
 * that user input (a CLI argument, a tag filter) can be checked without try/catch.
 */
export function imagenetClass(indexOrWnid: number | string): ImagenetClass | undefined {
  if (typeof indexOrWnid === 'number') {
    return Number.isInteger(indexOrWnid) ? IMAGENET_CLASSES[indexOrWnid] : undefined;
  }
  return typeof indexOrWnid === 'string' ? byWnid.get(indexOrWnid.trim()) : undefined;
}

/**
 * Keras' label as a readable tag: underscores become spaces, runs of spaces collapse, ends are
 * trimmed ('African_elephant' → 'African elephant', "jack-o'-lantern" unchanged). Case is kept
 * because it carries meaning ('Cardigan' the corgi, 'cardigan' the sweater).
 */
export function tagName(label: string): string {
  return String(label).replace(/_/g, ' ').replace(/\s+/g, ' ').trim();
}
