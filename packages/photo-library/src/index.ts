/**
 * `@xception/photo-library`: a photo library on disk, shared by the desktop app and
 * `xception tag`. Scanning, sidecar naming, XMP read/merge/write (only our properties and the
 * three keyword lists change; every other byte of the file stays), tag rules, hand edits, the
 * index and its feature cache, atomic writes, and the library's operations on them (hand edits,
 * taught tags, reconciling a scan, rebuilding the index).
 */
export type { LibraryQuery, MergeMode, PhotoRecord, PhotoStatus, PhotoSummary, PhotoTag, Prediction, QueryResult, SimilarPhoto, TagCount, SidecarRules, TagRuleSettings } from './types.js';
export { cleanTagName, effectiveTags, modelTagsFrom, tagNameOf, type HandEdits } from './tag-rules.js';
export { xmlIllegalCharacter } from './xml-characters.js';
export { groupPathOf, IMAGENET_GROUPS, type HierarchyGroup } from './imagenet-hierarchy.js';
export { OWN_CLASS_INDEX, predictionsForTags, TAUGHT_TAG_CLASS, type RankedClassLike } from './class-predictions.js';
export { sidecarTagsFor, type TaggedPhoto } from './hand-edits.js';
export { mergeSidecar, readSidecarState, XMP_NAMESPACES, type SidecarState, type SidecarTags } from './xmp-sidecar.js';
export {
  basenameSidecarPath,
  fullSidecarPath,
  locateSidecar,
  MAX_SIDECAR_BYTES,
  planPhotoSidecar,
  readPhotoSidecar,
  writePhotoSidecar,
  writePhotoSidecarWithState,
  type SidecarPlan,
} from './sidecar-files.js';
export { diffScan, PHOTO_EXTENSIONS, scanFolder, walkFolder, type KnownPhoto, type ScanDiff, type ScannedDirectory, type ScanOptions, type ScannedPhoto, type WalkOptions } from './scanner.js';
export { createIndexStore, type IndexedLibrary, type IndexStore } from './index-store.js';
// The library's operations: what a hand edit, a taught tag, a scan and a rebuild mean.
export type { LibraryRecords } from './library-records.js';
export { createLibraryModel, type LibraryModel } from './library-model.js';
export { taughtPredictionsFor, taughtTagExamples, type PhotoForTaughtTags, type TagScorer, type TaughtHeads, type TaughtTagExamples } from './taught-tags.js';
export { recordFromScan, writeRecordSidecar } from './record-sidecar.js';
export { addPhotoTag, applyTaughtTag, removePhotoTag, usableTagName } from './tag-edits.js';
export { addScanCounts, reconcileFolder, type ReconcileOptions, type ScanCounts } from './reconcile-scan.js';
export { rebuildIndex } from './rebuild-index.js';
export { createFolderWatcher, type FolderWatcher, type FolderWatcherOptions } from './folder-watcher.js';
export { cachedFor, FEATURE_MAP, readFeatureCache, writeFeatureCache, type CachedFeatures, type FeatureKey } from './feature-cache.js';
export { removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
export { PhotoLibraryError, SidecarSymlinkError, SidecarTooLargeError, SidecarUnreadableError, SidecarWriteError, UnusableTagError, type PhotoLibraryErrorCode } from './errors.js';
