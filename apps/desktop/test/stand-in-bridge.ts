/**
 * A stand-in for the preload's `window.xception`, for driving the renderer in Chromium
 * without Electron. It keeps the library in the app's real LibraryModel (so queries, filters,
 * the threshold and similarity are the real code) and fakes only the main process around it:
 * the folder picker, the model (answers and features come from the test's data) and sidecars.
 */
import { DEFAULT_SETTINGS, type PhotoSummary, type PrecisionStatus, type Settings, type TaggingProgress, type XceptionBridge } from '../src/shared/api.js';
import { createLibraryModel, type PhotoRecord } from '@xception/photo-library/rules';

export interface StandInPhoto {
  name: string;
  index: number;
  label: string;
  score: number;
  features: number[];
}

export interface StandInData {
  folder: string;
  photos: StandInPhoto[];
  /** Repeat the photos to this many entries (the virtual-grid test). */
  bulk?: number;
  /** Photos tagged per 20 ms tick. */
  perTick?: number;
  /** What the main process reports when tagging starts with the precision setting at int8 (calibrated, cached, or refused). */
  int8?: PrecisionStatus;
}

declare global {
  interface Window {
    __standIn: StandInData;
  }
}

const data = window.__standIn;
let settings: Settings = { ...DEFAULT_SETTINGS };
const library = createLibraryModel(settings);
const listeners = new Set<(p: TaggingProgress) => void>();
const byId = new Map<string, StandInPhoto>();
let folderAdded = false;
let progress: TaggingProgress = { state: 'idle', done: 0, failed: 0, total: 0 };
let paused = false;
let cancelled = false;

const emit = (patch: Partial<TaggingProgress>): void => {
  progress = { ...progress, ...patch };
  for (const listener of listeners) listener({ ...progress });
};
const record = (id: string): PhotoRecord => {
  const found = library.get(id);
  if (!found) throw new Error(`The path '${id}' is not inside a folder added to the library; add its folder first.`);
  return found;
};
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

const bridge: XceptionBridge = {
  async addFolders() {
    if (!folderAdded) {
      folderAdded = true;
      const count = data.bulk ?? data.photos.length;
      for (let i = 0; i < count; i++) {
        const photo = data.photos[i % data.photos.length]!;
        const name = data.bulk ? `${String(i).padStart(5, '0')}-${photo.name}` : photo.name;
        const id = `${data.folder}/${name}`;
        byId.set(id, photo);
        library.upsert({ id, folder: data.folder, name, size: 1, mtimeMs: 0, status: 'new', predictions: [], added: [], removed: [] });
      }
    }
    return [{ path: data.folder, photoCount: library.size }];
  },
  async removeFolder() {},
  async listFolders() {
    return folderAdded ? [{ path: data.folder, photoCount: library.size }] : [];
  },
  async scan() {
    return { added: 0, changed: 0, removed: 0, unchanged: library.size };
  },
  async query(query) {
    return library.query(query);
  },
  async tagCounts() {
    return library.tagCounts();
  },
  async similar(id, count) {
    return library.similar(record(id).id, count);
  },
  async showThumbnails(ids) {
    (window as unknown as { shownThumbnails?: string[][] }).shownThumbnails ??= [];
    (window as unknown as { shownThumbnails: string[][] }).shownThumbnails.push(ids);
  },
  async addTag(id, tag) {
    const r = record(id);
    const updated = { ...r, added: [...r.added.filter((t) => t !== tag), tag], removed: r.removed.filter((t) => t !== tag) };
    library.upsert(updated);
    return library.summaryOf(updated);
  },
  async removeTag(id, tag) {
    const r = record(id);
    const isUser = r.added.includes(tag);
    const updated = { ...r, added: r.added.filter((t) => t !== tag), removed: isUser ? r.removed : [...r.removed, tag] };
    library.upsert(updated);
    return library.summaryOf(updated);
  },
  // Training needs the main process (tfjs, the feature cache): served-app.browser.test.ts drives it on the real server.
  async teachTag() {
    throw new Error('Teaching a tag is not part of the stand-in bridge.');
  },
  async acceptSuggestion(id, tag) {
    return bridge.addTag(id, tag);
  },
  async startTagging({ scope }) {
    const todo = [...library.all()].filter((r) => scope === 'all' || r.status !== 'tagged').map((r) => r.id);
    paused = false;
    cancelled = false;
    // As the library service does: the model load's outcome rides on every progress report.
    const { precision: _, ...rest } = progress;
    progress = settings.precision === 'int8' && data.int8 ? { ...rest, precision: data.int8 } : rest;
    emit({ state: 'running', done: 0, failed: 0, total: todo.length });
    void (async () => {
      for (let i = 0; i < todo.length; ) {
        await tick();
        if (cancelled) return emit({ state: 'cancelled' });
        if (paused) continue;
        for (const id of todo.slice(i, i + (data.perTick ?? 25))) {
          const photo = byId.get(id)!;
          library.upsert({ ...record(id), status: 'tagged', model: 'stand-in', predictions: [{ index: photo.index, label: photo.label, score: photo.score }] });
          library.setFeatures(id, Float32Array.from(photo.features));
        }
        i += data.perTick ?? 25;
        emit({ state: 'running', done: Math.min(i, todo.length), current: id(todo, i) });
      }
      emit({ state: 'done', current: undefined });
    })();
  },
  async pauseTagging() {
    paused = true;
    emit({ state: 'paused' });
  },
  async resumeTagging() {
    paused = false;
    emit({ state: 'running' });
  },
  async cancelTagging() {
    cancelled = true;
  },
  async getSettings() {
    return { ...settings };
  },
  async updateSettings(patch) {
    // A model setting changed: the next load says how it went.
    if (patch.precision !== undefined || patch.engine !== undefined) delete progress.precision;
    settings = { ...settings, ...patch };
    library.setRules(settings);
    return { ...settings };
  },
  async chooseWeightsFile() {
    return null;
  },
  async reportGpu(info) {
    (window as unknown as { reportedGpu?: unknown }).reportedGpu = info;
  },
  onInferenceRequest() {
    return () => undefined;
  },
  async inferenceReply() {},
  onProgress(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  onLibraryChanged() {
    return () => undefined;
  },
  thumbnailUrl(id) {
    // Served from ../shared in place by the test's http server.
    return `/photos/${encodeURIComponent(byId.get(id)?.name ?? '')}`;
  },
};

function id(list: string[], i: number): string | undefined {
  return list[Math.min(i, list.length - 1)];
}

window.xception = bridge;
export type { PhotoSummary };
