import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  addPhotoTag,
  applyTaughtTag,
  createIndexStore,
  createLibraryModel,
  rebuildIndex,
  removePhotoTag,
  TAUGHT_TAG_CLASS,
  usableTagName,
  writeRecordSidecar,
  type IndexStore,
  type LibraryModel,
  type PhotoRecord,
  type TagRuleSettings,
} from '@xception/photo-library';
import type {
  FolderInfo,
  LibraryChange,
  LibraryQuery,
  PhotoSummary,
  PrecisionStatus,
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
import type { Classification, Classifier } from './classifier.js';
import { DesktopError, InvalidArgumentError, messageOf } from './errors.js';
import { createFolderSync, type FolderSync } from './folder-sync.js';
import { PhotoEditQueue } from './photo-edit-queue.js';
import { calibrationPhotosOf, classifierWithPrecision } from './precision-classifier.js';
import { createPathGuard, isInsideFolder, type PathGuard } from './path-guard.js';
import { createSettingsStore, type SettingsStore } from './settings-store.js';
import { createTaggingQueue, type TaggingJob, type TaggingQueue } from './tagging-queue.js';
import { taughtPredictionsFor, teachTagFromLibrary, type TaughtHeads } from './tag-teacher.js';
import { createTaughtTagsStore, type TaughtTagsStore } from './taught-tags-store.js';

export { TAUGHT_TAG_CLASS };

export interface LibraryServiceOptions {
  /** The app's data folder (Electron's userData): index and settings live here, never photos. */
  dataDir: string;
  /**
   * Makes the classifier for these settings (utility process in the app, stand-in in tests).
   * With precision 'int8', `calibrationPhotos` are the photos to calibrate on when no calibrated
   * model of the weights is cached; an int8 model refused or unable to run is followed by a call
   * with precision 'fp32' (precision-classifier.ts).
   */
  createClassifier(settings: Settings, context: { calibrationPhotos: readonly string[] }): Promise<Classifier>;
  /** One line about the model in use when the precision setting is int8 (the served shell's terminal). */
  log?(line: string): void;
  /**
   * The id the classifier for these settings will record (engine-classifier's modelIdOf). With
   * it, "Tag new photos" also tags the photos that other weights tagged, so that one library
   * never mixes two models' predictions and features. Without it (stand-ins), tagged photos stay.
   */
  currentModelId?(settings: Settings): Promise<string>;
  onProgress?(progress: TaggingProgress): void;
  /** Photos found, changed or gone by a scan or the folder watcher (a few times a second at most). */
  onLibraryChanged?(change: LibraryChange): void;
  /** A thumbnail the classifier made from its decode (thumbnails.ts' store): the grid's, without a second decode. */
  onThumbnail?(photo: string, jpeg: Uint8Array): Promise<void>;
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
  /** Adds a folder and scans it (`scan: false`: the next scan() walks it). */
  addFolder(path: string, options?: { scan?: boolean }): Promise<FolderInfo>;
  removeFolder(path: string): Promise<void>;
  /** Walks every folder; the records (and the page, onLibraryChanged) change folder by folder as it goes. */
  scan(): Promise<ScanSummary>;
  /**
   * Watches the folders (each folder a scan walks, from the next scan on): new, changed and
   * deleted photos are picked up without a rescan, and with `tagNew` new and changed ones tagged.
   */
  watch(options: { tagNew: boolean }): void;
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
  /** The photos the grid shows (the queue's showThumbnails): their tagging decodes also make thumbnails; paths outside the library are ignored. */
  showThumbnails(photos: readonly string[]): void;
  /** The tagging queue's prioritize(): the grid waits for a photo's tagging decode rather than decoding it twice. */
  waitForTagging(photo: string): Promise<void> | null;
  whenIdle(): Promise<void>;
  getSettings(): Settings;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Forgets the index and reads every photo's tags back from its sidecar. */
  rebuildIndex(): Promise<void>;
  /** Persists the index now (tagging also saves it every 25 photos, at most once in 10 s, and when it stops). */
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
const MODEL_KEYS: readonly (keyof Settings)[] = ['engine', 'precision', 'weights'];
/** Scans confined as the path guard is: a symlink out of the folder is neither read nor tagged. */
const SCAN = { confineSymlinks: true } as const;

/** Makes the library service (LibraryServiceCore); call init() before anything else. */
export function createLibraryService(options: LibraryServiceOptions): LibraryService {
  return new LibraryServiceCore(options);
}

/**
 * The app's library: its folders, the index, the settings, tagging and taught tags, with the
 * photo library's rules (@xception/photo-library) doing each edit. Every sidecar write goes
 * through `edits`, one photo at a time.
 */
class LibraryServiceCore implements LibraryService {
  readonly library: LibraryModel = createLibraryModel({ threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' });
  readonly guard: PathGuard;
  private readonly indexStore: IndexStore;
  private readonly settingsStore: SettingsStore;
  private readonly taughtStore: TaughtTagsStore;
  private readonly taught = new Map<string, TaughtHeads>();
  private readonly edits = new PhotoEditQueue();
  private readonly queue: TaggingQueue;
  private readonly sync: FolderSync;
  private settings!: Settings;
  /** What the precision setting gave at the last model load (int8 only). */
  private precision: PrecisionStatus | null = null;
  private folders: string[] = [];
  private tagNew = false;

  constructor(private readonly options: LibraryServiceOptions) {
    this.indexStore = options.indexStore ?? createIndexStore(join(options.dataDir, 'library'));
    this.settingsStore = options.settingsStore ?? createSettingsStore(join(options.dataDir, 'settings.json'));
    this.taughtStore = options.taughtTagsStore ?? createTaughtTagsStore(join(options.dataDir, 'taught-tags.json'));
    this.guard = createPathGuard(() => this.folders);
    this.queue = createTaggingQueue({
      classifier: () => classifierWithPrecision(
        this.settings,
        // Sorting a large library's paths is only worth it for int8.
        (settings) => options.createClassifier(settings, { calibrationPhotos: settings.precision === 'int8' ? calibrationPhotosOf(this.library.all()) : [] }),
        (status) => this.reportPrecision(status),
      ),
      topK: () => this.settings.topK,
      onClassified: async (photo, result, modelId) => {
        // The thumbnail first: a grid request waits on this photo (waitForTagging).
        if (result.thumbnail) await options.onThumbnail?.(photo, result.thumbnail);
        await this.edits.run(photo, () => this.storeClassification(photo, result, modelId));
      },
      onRewrite: (photo) => this.edits.run(photo, async () => {
        const record = this.library.get(photo);
        if (record && record.status === 'tagged') await this.writeSidecar(record);
      }),
      onFailed: (photo, error) => {
        const record = this.library.get(photo);
        if (record) this.library.upsert({ ...record, status: 'error', error: error.message });
      },
      onProgress: (p) => options.onProgress?.(this.withPrecision(p)),
      onCheckpoint: () => this.save(),
      ...(options.describeLoadError ? { describeLoadError: options.describeLoadError } : {}),
    });
    this.sync = createFolderSync({
      library: this.library,
      folders: () => this.folders,
      onNewPhotos: (ids) => {
        if (this.tagNew) this.queue.enqueue(ids.map((photo) => ({ photo, kind: 'classify' })));
      },
      onChanged: (change) => options.onLibraryChanged?.(change),
      save: () => this.save(),
    });
  }

  async init(): Promise<void> {
    this.settings = await this.settingsStore.load();
    for (const heads of await this.taughtStore.load()) this.taught.set(heads.tag.toLowerCase(), heads);
    this.library.setRules(rulesOf(this.settings));
    const loaded = await this.indexStore.load(this.library);
    this.folders = loaded.folders;
    if (!loaded.ok) await this.rebuildIndex();
  }

  listFolders(): FolderInfo[] {
    return this.folders.map((folder) => this.folderInfo(folder));
  }

  async addFolder(path: string, { scan = true }: { scan?: boolean } = {}): Promise<FolderInfo> {
    const info = await stat(path).catch(() => null);
    if (!info?.isDirectory()) throw new InvalidArgumentError('addFolder', `'${path}' is not a folder`);
    const folder = await realpath(resolve(path));
    const outer = this.folders.find((f) => isInsideFolder(folder, f));
    if (outer) return this.folderInfo(outer);
    // Adding a parent of added folders replaces them.
    for (const inner of this.folders.filter((f) => isInsideFolder(f, folder))) await this.removeFolder(inner);
    this.folders = [...this.folders, folder];
    if (!scan) return this.folderInfo(folder);
    await this.sync.scanFolder(folder);
    await this.save();
    return this.folderInfo(folder);
  }

  async removeFolder(path: string): Promise<void> {
    const folder = this.folders.find((f) => f === resolve(path));
    if (!folder) return;
    this.folders = this.folders.filter((f) => f !== folder);
    this.sync.forget(folder);
    for (const record of [...this.library.all()]) if (record.folder === folder) this.library.remove(record.id);
    await this.save();
  }

  async scan(): Promise<ScanSummary> {
    const summary = await this.sync.scan();
    await this.save();
    return summary;
  }

  watch({ tagNew }: { tagNew: boolean }): void {
    this.tagNew = tagNew;
    this.sync.watch();
  }

  query(query: LibraryQuery): QueryResult {
    return this.library.query(query);
  }

  tagCounts(): TagCount[] {
    return this.library.tagCounts();
  }

  async similar(photo: string, count: number): Promise<SimilarPhoto[]> {
    const record = await this.recordOf(photo);
    return this.library.similar(record.id, count);
  }

  async addTag(photo: string, raw: string): Promise<PhotoSummary> {
    const { id } = await this.recordOf(photo);
    const tag = usableTag(raw);
    return this.editTags(id, (record) => addPhotoTag(record, tag, this.settings));
  }

  async removeTag(photo: string, tag: string): Promise<PhotoSummary> {
    const { id } = await this.recordOf(photo);
    return this.editTags(id, (record) => removePhotoTag(record, tag, this.settings));
  }

  async teachTag(raw: string, { autoApply = false }: TeachTagOptions = {}): Promise<TeachTagResult> {
    const tag = usableTag(raw);
    // The current weights' photos only (a half-finished re-tag after a change of weights leaves others).
    const current = this.options.currentModelId ? await this.options.currentModelId(this.settings).catch(() => null) : null;
    const heads = { ...(await teachTagFromLibrary(this.library, tag, 0, current)), autoApply };
    this.taught.set(tag.toLowerCase(), heads);
    await this.taughtStore.save(this.taught.values());
    const applied = autoApply ? await this.applyTaught(tag, heads.scores) : 0;
    return { tag, positives: heads.positives, negatives: heads.negatives, suggestions: this.suggestionsFor(tag, heads.scores), applied };
  }

  async acceptSuggestion(photo: string, tag: string): Promise<PhotoSummary> {
    const summary = await this.addTag(photo, tag);
    const heads = this.taught.get(tag.toLowerCase());
    if (heads) heads.scores = heads.scores.filter((s) => s.id !== summary.id);
    return summary;
  }

  taughtTags(): ReadonlyMap<string, TaughtHeads> {
    return this.taught;
  }

  async startTagging({ scope }: StartTaggingOptions): Promise<void> {
    // Unreadable weights: the queue's load says so in one sentence (describeLoadError); tagged photos wait.
    const current = scope === 'new' && this.options.currentModelId ? await this.options.currentModelId(this.settings).catch(() => null) : null;
    const jobs: TaggingJob[] = [];
    for (const record of this.library.all()) {
      const otherModel = current !== null && record.model !== current;
      if (scope === 'all' || record.status !== 'tagged' || otherModel || !this.library.features(record.id)) jobs.push({ photo: record.id, kind: 'classify' });
    }
    jobs.sort((a, b) => (a.photo < b.photo ? -1 : 1));
    this.queue.enqueue(jobs);
  }

  pauseTagging(): void { this.queue.pause(); }
  resumeTagging(): void { this.queue.resume(); }
  cancelTagging(): void { this.queue.cancel(); }
  progress(): TaggingProgress { return this.withPrecision(this.queue.progress()); }
  waitForTagging(photo: string): Promise<void> | null { return this.queue.prioritize(photo); }
  showThumbnails(photos: readonly string[]): void { this.queue.showThumbnails(photos.filter((photo) => this.library.get(photo))); }
  whenIdle(): Promise<void> { return this.queue.whenIdle(); }
  getSettings(): Settings { return { ...this.settings }; }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const before = this.settings;
    this.settings = { ...before, ...patch };
    await this.settingsStore.save(this.settings);
    const changed = (keys: readonly (keyof Settings)[]): boolean => keys.some((k) => JSON.stringify(before[k]) !== JSON.stringify(this.settings[k]));
    if (changed(MODEL_KEYS)) {
      this.precision = null;
      await this.queue.resetClassifier();
    }
    if (changed(RULE_KEYS)) {
      this.library.setRules(rulesOf(this.settings));
      // Rules need no inference: rewrite the sidecars from the stored predictions.
      const jobs: TaggingJob[] = [];
      for (const record of this.library.all()) if (record.status === 'tagged') jobs.push({ photo: record.id, kind: 'rewrite' });
      if (jobs.length > 0) this.queue.enqueue(jobs);
    }
    return { ...this.settings };
  }

  rebuildIndex(): Promise<void> {
    return rebuildIndex(this.library, this.folders, this.indexStore, SCAN);
  }

  flush(): Promise<void> {
    return this.save();
  }

  async dispose(): Promise<void> {
    this.sync.close();
    this.queue.cancel();
    await this.queue.whenIdle();
    await this.queue.resetClassifier();
    await this.save();
  }

  /** The precision setting's outcome, carried by every progress report from the load on. */
  private reportPrecision(status: PrecisionStatus): void {
    this.precision = status;
    this.options.log?.(status.error?.message ?? status.note);
  }

  private withPrecision(progress: TaggingProgress): TaggingProgress {
    return this.precision ? { ...progress, precision: this.precision } : progress;
  }

  private save(): Promise<void> {
    return this.indexStore.save(this.library, this.folders);
  }

  private folderInfo(folder: string): FolderInfo {
    let photoCount = 0;
    for (const record of this.library.all()) if (record.folder === folder) photoCount++;
    return { path: folder, photoCount };
  }

  /** The photo's record, by a path the page sent (checked by the path guard first). */
  private async recordOf(photo: string): Promise<PhotoRecord> {
    const path = await this.guard.check(photo);
    const record = this.library.get(path);
    if (!record) throw new DesktopError('ERR_INVALID_ARGUMENT', `The photo '${photo}' is not in the library; scan its folder first.`);
    return record;
  }

  /** The record as the photo's previous edit left it (its folder may have gone meanwhile). */
  private currentRecord(id: string): PhotoRecord {
    const record = this.library.get(id);
    if (!record) throw new DesktopError('ERR_INVALID_ARGUMENT', `The photo '${id}' is no longer in the library; scan its folder again.`);
    return record;
  }

  /** Writes what the index knows about a photo into its sidecar (writeRecordSidecar); called inside an edit. */
  private async writeSidecar(record: PhotoRecord): Promise<PhotoRecord> {
    const written = await writeRecordSidecar(record, this.settings);
    if (written !== record) this.library.upsert(written);
    return written;
  }

  /** One hand edit of the photo library (addPhotoTag, removePhotoTag) on the current record; stored and saved when it changed something. */
  private editTags(id: string, edit: (record: PhotoRecord) => Promise<PhotoRecord>): Promise<PhotoSummary> {
    return this.edits.run(id, async () => {
      const record = this.currentRecord(id);
      const updated = await edit(record);
      if (updated !== record) {
        this.library.upsert(updated);
        await this.save();
      }
      return this.library.summaryOf(updated);
    });
  }

  /** One photo's classification into the index and its sidecar; runs inside the photo's edit. */
  private async storeClassification(photo: string, result: Classification, modelId: string): Promise<void> {
    const record = this.library.get(photo);
    if (!record) return; // its folder was removed meanwhile
    this.library.setFeatures(photo, result.features);
    // Auto-applied taught tags are predictions too: scored again here (on the features as the
    // library keeps them, which the heads learnt from), so re-tagging keeps them and new photos get them.
    const fromTaught = taughtPredictionsFor(this.taught.values(), record, this.library.features(photo)!, modelId, this.settings.threshold);
    const updated: PhotoRecord = { ...record, predictions: [...result.predictions, ...fromTaught], model: modelId, status: 'tagged' };
    delete updated.error;
    this.library.upsert(updated);
    try {
      await this.writeSidecar(updated);
    } catch (error) {
      this.library.upsert({ ...updated, status: 'error', error: messageOf(error) });
      throw error;
    }
  }

  /** Writes a taught tag onto the photos its heads score (applyTaughtTag decides which); the count written. */
  private async applyTaught(tag: string, scores: ReadonlyArray<{ id: string; score: number }>): Promise<number> {
    let applied = 0;
    for (const { id, score } of scores) {
      const wrote = await this.edits.run(id, async () => {
        const record = this.library.get(id);
        const updated = record ? await applyTaughtTag(record, tag, score, this.settings) : null;
        if (updated) this.library.upsert(updated);
        return updated !== null;
      });
      if (wrote) applied++;
    }
    if (applied > 0) await this.save();
    return applied;
  }

  /** The scored photos that do not carry the tag yet, as the page lists them. */
  private suggestionsFor(tag: string, scores: ReadonlyArray<{ id: string; score: number }>): TeachTagResult['suggestions'] {
    return scores.flatMap(({ id, score }) => {
      const record = this.library.get(id);
      if (!record || this.library.tagsOf(record).some((t) => t.name.toLowerCase() === tag.toLowerCase())) return [];
      return [{ photo: this.library.summaryOf(record), score }];
    });
  }
}
