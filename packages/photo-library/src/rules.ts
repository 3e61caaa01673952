/**
 * `@xception/photo-library/rules`: the tag rules and the ImageNet groups without any Node
 * built-in, for code that runs in a browser (the desktop renderer's types come from here).
 */
export type { LibraryQuery, MergeMode, PhotoRecord, PhotoStatus, PhotoSummary, PhotoTag, Prediction, QueryResult, SimilarPhoto, TagCount, TagRuleSettings } from './types.js';
export { cleanTagName, effectiveTags, modelTagsFrom, tagNameOf, type HandEdits } from './tag-rules.js';
export { xmlIllegalCharacter } from './xml-characters.js';
export { groupPathOf, IMAGENET_GROUPS, type HierarchyGroup } from './imagenet-hierarchy.js';
export { OWN_CLASS_INDEX, predictionsForTags, type RankedClassLike } from './class-predictions.js';
export { createLibraryModel, type LibraryModel } from './library-model.js';
