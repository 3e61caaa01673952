/**
 * `@xception/photo-library`: a photo library on disk, shared by the desktop app and
 * `xception tag`. Scanning, sidecar naming, XMP read/merge/write (only our properties and the
 * three keyword lists change; every other byte of the file stays), tag rules, hand edits, the
 * index and its feature cache, atomic writes.
 */
export type { MergeMode, PhotoRecord, PhotoStatus, PhotoTag, Prediction, TagRuleSettings } from './types.js';
export { cleanTagName, effectiveTags, modelTagsFrom, tagNameOf, type HandEdits } from './tag-rules.js';
export { xmlIllegalCharacter } from './xml-characters.js';
export { groupPathOf, IMAGENET_GROUPS, type HierarchyGroup } from './imagenet-hierarchy.js';
export { OWN_CLASS_INDEX, predictionsForTags, type RankedClassLike } from './class-predictions.js';
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
export { diffScan, PHOTO_EXTENSIONS, scanFolder, type KnownPhoto, type ScanDiff, type ScanOptions, type ScannedPhoto } from './scanner.js';
export { createIndexStore, type IndexedLibrary, type IndexStore } from './index-store.js';
export { cachedFor, FEATURE_MAP, readFeatureCache, writeFeatureCache, type CachedFeatures, type FeatureKey } from './feature-cache.js';
export { removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
export { PhotoLibraryError, SidecarSymlinkError, SidecarTooLargeError, SidecarUnreadableError, SidecarWriteError, UnusableTagError, type PhotoLibraryErrorCode } from './errors.js';
