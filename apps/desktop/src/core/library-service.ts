import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  addPhotoTag,
  addScanCounts,
  applyTaughtTag,
  createIndexStore,
  rebuildIndex,
  reconcileFolder,
  removePhotoTag,
  TAUGHT_TAG_CLASS,
  usableTagName,
  writeRecordSidecar,
  type IndexStore,
  type TagRuleSettings,
} from '@xception/photo-library';
import type {
  FolderInfo,
  LibraryQuery,
  PhotoSummary,
  QueryResult,
  ScanSummary,
  Settings,
  SimilarPhoto,
  StartTaggingOptions,
  TagCount,
  TaggingProgress,
  TeachTagOptions,
  TeachTagResult,
} from '../shared/api.js';
import { createLibraryModel, type LibraryModel, type PhotoRecord } from './library-model.js';
import type { Classifier } from './classifier.js';
import { DesktopError, InvalidArgumentError, messageOf } from './errors.js';
import { createPathGuard, isInsideFolder, type PathGuard } from './path-guard.js';
import { createSettingsStore, type SettingsStore } from './settings-store.js';
import { createTaggingQueue, type TaggingJob, type TaggingQueue } from './tagging-queue.js';
import { taughtPredictionsFor, teachTagFromLibrary, type TaughtHeads } from './tag-teacher.js';
import { createTaughtTagsStore, type TaughtTagsStore } from './taught-tags-store.js';

export { TAUGHT_TAG_CLASS };

export interface LibraryServiceOptions {
  /** The app's data folder (Electron's userData): index and settings live here, never photos. */
  dataDir: string;
  /** Makes the classifier for the current settings (utility process in the app, stand-in in tests). */
  createClassifier(settings: Settings): Promise<Classifier>;
  /**
   * The id the classifier for these settings will record (engine-classifier's modelIdOf). With
   * it, "Tag new photos" also tags the photos that other weights tagged, so that one library
   * never mixes two models' predictions and features. Without it (stand-ins), tagged photos stay.
   */
  currentModelId?(settings: Settings): Promise<string>;
  onProgress?(progress: TaggingProgress): void;
  describeLoadError?(error: unknown): string;
  indexStore?: IndexStore;
  settingsStore?: SettingsStore;
  taughtTagsStore?: TaughtTagsStore;
}

/** Everything the IPC handlers call; one instance per app. */
export interface LibraryService {
  readonly guard: PathGuard;
  readonly library: LibraryModel;
  init(): Promise<void>;
  listFolders(): FolderInfo[];
  addFolder(path: string): Promise<FolderInfo>;
  removeFolder(path: string): Promise<void>;
  scan(): Promise<ScanSummary>;
  query(query: LibraryQuery): QueryResult;
  tagCounts(): TagCount[];
  similar(photo: string, count: number): Promise<SimilarPhoto[]>;
  addTag(photo: string, tag: string): Promise<PhotoSummary>;
  removeTag(photo: string, tag: string): Promise<PhotoSummary>;
  /**
   * "Teach a tag" (see tag-teacher.ts). The heads are kept in the data folder: with autoApply the
   * tag goes on applying to photos tagged later, and survives "Re-tag all" (never where it was removed by hand).
   */
  teachTag(tag: string, options?: TeachTagOptions): Promise<TeachTagResult>;
  /** Writes a suggested tag as a hand tag (addTag) and drops it from the tag's suggestions. */
  acceptSuggestion(photo: string, tag: string): Promise<PhotoSummary>;
  /** The taught heads (this session's and the saved ones), by lower-case tag name. */
  taughtTags(): ReadonlyMap<string, TaughtHeads>;
  startTagging(options: StartTaggingOptions): Promise<void>;
  pauseTagging(): void;
  resumeTagging(): void;
  cancelTagging(): void;
  progress(): TaggingProgress;
  whenIdle(): Promise<void>;
  getSettings(): Settings;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Forgets the index and reads every photo's tags back from its sidecar. */
  rebuildIndex(): Promise<void>;
  /** Persists the index now (also done every 25 photos and when tagging stops). */
  flush(): Promise<void>;
  dispose(): Promise<void>;
}

/** A tag typed in the page, checked once where it enters (the photo library's sentence), refused as the page's mistake. */
function usableTag(raw: string): string {
  try {
    return usableTagName(raw);
  } catch (error) {
    throw new DesktopError('ERR_INVALID_ARGUMENT', messageOf(error), { cause: error });
  }
}

const rulesOf = (s: Settings): TagRuleSettings => ({ threshold: s.threshold, ignoreLabels: s.ignoreLabels, renames: s.renames, mergeMode: s.mergeMode });
const RULE_KEYS: readonly (keyof Settings)[] = ['threshold', 'ignoreLabels', 'renames', 'mergeMode', 'hierarchyRoot'];
const MODEL_KEYS: readonly (keyof Settings)[] = ['engine', 'weights'];
/** Scans confined as the path guard is: a symlink out of the folder is neither read nor tagged. */
const SCAN = { confineSymlinks: true } as const;

export function createLibraryService(options: LibraryServiceOptions): LibraryService {
  const indexStore = options.indexStore ?? createIndexStore(join(options.dataDir, 'library'));
  const settingsStore = options.settingsStore ?? createSettingsStore(join(options.dataDir, 'settings.json'));
  const taughtStore = options.taughtTagsStore ?? createTaughtTagsStore(join(options.dataDir, 'taught-tags.json'));
  let settings: Settings;
  let folders: string[] = [];
  const library = createLibraryModel({ threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' });
  const guard = createPathGuard(() => folders);
  const taught = new Map<string, TaughtHeads>();

  const recordOf = async (photo: string): Promise<PhotoRecord> => {
    const path = await guard.check(photo);
    const record = library.get(path);
    if (!record) throw new DesktopError('ERR_INVALID_ARGUMENT', `The photo '${photo}' is not in the library; scan its folder first.`);
    return record;
  };

  /**
   * One photo's edits, one at a time: each change reads the record as the previous one left it,
   * writes the sidecar, then updates the index. Without this, two edits at once (two addTag
   * calls, a tag and a re-tag) both start from the same record and the later write loses the
   * other's tag. Every sidecar write of the service goes through here.
   */
  const photoQueues = new Map<string, Promise<unknown>>();
  const editPhoto = <T>(id: string, edit: () => Promise<T>): Promise<T> => {
    const previous = photoQueues.get(id) ?? Promise.resolve();
    const next = previous.then(edit, edit);
    const settled = next.catch(() => undefined);
    photoQueues.set(id, settled);
    void settled.then(() => {
      if (photoQueues.get(id) === settled) photoQueues.delete(id);
    });
    return next;
  };

  /** Writes what the index knows about a photo into its sidecar (writeRecordSidecar); called inside editPhoto. */
  const writeSidecar = async (record: PhotoRecord): Promise<PhotoRecord> => {
    const written = await writeRecordSidecar(record, settings);
    if (written !== record) library.upsert(written);
    return written;
  };

  const queue: TaggingQueue = createTaggingQueue({
    classifier: () => options.createClassifier(settings),
    topK: () => settings.topK,
    onClassified: (photo, result, modelId) => editPhoto(photo, async () => {
      const record = library.get(photo);
      if (!record) return; // its folder was removed meanwhile
      library.setFeatures(photo, result.features);
      // Auto-applied taught tags are predictions too: scored again here (on the features as the
      // library keeps them, which the heads learnt from), so re-tagging keeps them and new photos get them.
      const fromTaught = taughtPredictionsFor(taught.values(), record, library.features(photo)!, modelId, settings.threshold);
      const updated: PhotoRecord = { ...record, predictions: [...result.predictions, ...fromTaught], model: modelId, status: 'tagged' };
      delete updated.error;
      library.upsert(updated);
      try {
        await writeSidecar(updated);
      } catch (error) {
        library.upsert({ ...updated, status: 'error', error: messageOf(error) });
        throw error;
      }
    }),
    onRewrite: (photo) => editPhoto(photo, async () => {
      const record = library.get(photo);
      if (record && record.status === 'tagged') await writeSidecar(record);
    }),
    onFailed(photo, error) {
      const record = library.get(photo);
      if (record) library.upsert({ ...record, status: 'error', error: error.message });
    },
    onProgress: (p) => options.onProgress?.(p),
    onCheckpoint: () => indexStore.save(library, folders),
    ...(options.describeLoadError ? { describeLoadError: options.describeLoadError } : {}),
  });

  const folderInfo = (folder: string): FolderInfo => {
    let photoCount = 0;
    for (const record of library.all()) if (record.folder === folder) photoCount++;
    return { path: folder, photoCount };
  };

  /** The record as the photo's previous edit left it (its folder may have gone meanwhile). */
  const currentRecord = (id: string): PhotoRecord => {
    const record = library.get(id);
    if (!record) throw new DesktopError('ERR_INVALID_ARGUMENT', `The photo '${id}' is no longer in the library; scan its folder again.`);
    return record;
  };

  /** One hand edit of the photo library (addPhotoTag, removePhotoTag) on the current record; stored and saved when it changed something. */
  const editTags = (id: string, edit: (record: PhotoRecord) => Promise<PhotoRecord>): Promise<PhotoSummary> => editPhoto(id, async () => {
    const record = currentRecord(id);
    const updated = await edit(record);
    if (updated !== record) {
      library.upsert(updated);
      await indexStore.save(library, folders);
    }
    return library.summaryOf(updated);
  });

  const service: LibraryService = {
    guard,
    library,
    async init() {
      settings = await settingsStore.load();
      for (const heads of await taughtStore.load()) taught.set(heads.tag.toLowerCase(), heads);
      library.setRules(rulesOf(settings));
      const loaded = await indexStore.load(library);
      folders = loaded.folders;
      if (!loaded.ok) await service.rebuildIndex();
    },
    listFolders: () => folders.map(folderInfo),
    async addFolder(path) {
      const info = await stat(path).catch(() => null);
      if (!info?.isDirectory()) throw new InvalidArgumentError('addFolder', `'${path}' is not a folder`);
      const folder = await realpath(resolve(path));
      if (folders.some((f) => isInsideFolder(folder, f))) return folderInfo(folders.find((f) => isInsideFolder(folder, f))!);
      // Adding a parent of added folders replaces them.
      for (const inner of folders.filter((f) => isInsideFolder(f, folder))) await service.removeFolder(inner);
      folders = [...folders, folder];
      await reconcileFolder(library, folder, SCAN);
      await indexStore.save(library, folders);
      return folderInfo(folder);
    },
    async removeFolder(path) {
      const folder = folders.find((f) => f === resolve(path));
      if (!folder) return;
      folders = folders.filter((f) => f !== folder);
      for (const record of [...library.all()]) if (record.folder === folder) library.remove(record.id);
      await indexStore.save(library, folders);
    },
    async scan() {
      let summary: ScanSummary = { added: 0, changed: 0, removed: 0, unchanged: 0 };
      for (const folder of folders) summary = addScanCounts(summary, await reconcileFolder(library, folder, SCAN));
      await indexStore.save(library, folders);
      return summary;
    },
    query: (query) => library.query(query),
    tagCounts: () => library.tagCounts(),
    async similar(photo, count) {
      const record = await recordOf(photo);
      return library.similar(record.id, count);
    },
    async addTag(photo, raw) {
      const { id } = await recordOf(photo);
      const tag = usableTag(raw);
      return editTags(id, (record) => addPhotoTag(record, tag, settings));
    },
    async removeTag(photo, tag) {
      const { id } = await recordOf(photo);
      return editTags(id, (record) => removePhotoTag(record, tag, settings));
    },
    async teachTag(raw, { autoApply = false } = {}) {
      const tag = usableTag(raw);
      // The current weights' photos only (a half-finished re-tag after a change of weights leaves others).
      const current = options.currentModelId ? await options.currentModelId(settings).catch(() => null) : null;
      const heads = { ...(await teachTagFromLibrary(library, tag, 0, current)), autoApply };
      taught.set(tag.toLowerCase(), heads);
      await taughtStore.save(taught.values());
      let applied = 0;
      if (autoApply) {
        for (const { id, score } of heads.scores) {
          const wrote = await editPhoto(id, async () => {
            const record = library.get(id);
            const updated = record ? await applyTaughtTag(record, tag, score, settings) : null;
            if (updated) library.upsert(updated);
            return updated !== null;
          });
          if (wrote) applied++;
        }
        if (applied > 0) await indexStore.save(library, folders);
      }
      const suggestions = heads.scores.flatMap(({ id, score }) => {
        const record = library.get(id);
        if (!record || library.tagsOf(record).some((t) => t.name.toLowerCase() === tag.toLowerCase())) return [];
        return [{ photo: library.summaryOf(record), score }];
      });
      return { tag, positives: heads.positives, negatives: heads.negatives, suggestions, applied };
    },
    async acceptSuggestion(photo, tag) {
      const summary = await service.addTag(photo, tag);
      const heads = taught.get(tag.toLowerCase());
      if (heads) heads.scores = heads.scores.filter((s) => s.id !== summary.id);
      return summary;
    },
    taughtTags: () => taught,
    async startTagging({ scope }) {
      const jobs: TaggingJob[] = [];
      // Unreadable weights: the queue's load says so in one sentence (describeLoadError); tagged photos wait.
      const current = scope === 'new' && options.currentModelId ? await options.currentModelId(settings).catch(() => null) : null;
      for (const record of library.all()) {
        const otherModel = current !== null && record.model !== current;
        if (scope === 'all' || record.status !== 'tagged' || otherModel || !library.features(record.id)) jobs.push({ photo: record.id, kind: 'classify' });
      }
      jobs.sort((a, b) => (a.photo < b.photo ? -1 : 1));
      queue.enqueue(jobs);
    },
    pauseTagging: () => queue.pause(),
    resumeTagging: () => queue.resume(),
    cancelTagging: () => queue.cancel(),
    progress: () => queue.progress(),
    whenIdle: () => queue.whenIdle(),
    getSettings: () => ({ ...settings }),
    async updateSettings(patch) {
      const before = settings;
      settings = { ...settings, ...patch };
      await settingsStore.save(settings);
      const changed = (keys: readonly (keyof Settings)[]): boolean => keys.some((k) => JSON.stringify(before[k]) !== JSON.stringify(settings[k]));
      if (changed(MODEL_KEYS)) await queue.resetClassifier();
      if (changed(RULE_KEYS)) {
        library.setRules(rulesOf(settings));
        // Rules need no inference: rewrite the sidecars from the stored predictions.
        const jobs: TaggingJob[] = [];
        for (const record of library.all()) if (record.status === 'tagged') jobs.push({ photo: record.id, kind: 'rewrite' });
        if (jobs.length > 0) queue.enqueue(jobs);
      }
      return { ...settings };
    },
    rebuildIndex: () => rebuildIndex(library, folders, indexStore, SCAN),
    flush: () => indexStore.save(library, folders),
    async dispose() {
      queue.cancel();
      await queue.whenIdle();
      await queue.resetClassifier();
      await indexStore.save(library, folders);
    },
  };
  return service;
}
