import {
  addScanCounts,
  createFolderWatcher,
  reconcileFolder,
  type FolderWatcher,
  type LibraryModel,
  type ReconcileOptions,
  type ScanCounts,
} from '@xception/photo-library';
import type { LibraryChange } from '../shared/api.js';
import { isInsideFolder } from './path-guard.js';

export interface FolderSyncOptions {
  library: LibraryModel;
  folders(): readonly string[];
  /** Photos the watcher found added or changed (the service tags them when asked to). */
  onNewPhotos(ids: string[]): void;
  /** The library changed (throttled here: at most one call per `notifyMs`, the last always sent). */
  onChanged(change: LibraryChange): void;
  /** Persists the index (after the watcher's changes, once they settle). */
  save(): Promise<void>;
  notifyMs?: number;
  /** The watcher's quiet time per folder (folder-watcher.ts). */
  debounceMs?: number;
  /** A full rescan this often while some folder could not be watched. Default 60 s. */
  pollMs?: number;
}

/** Keeps the library's records in step with its folders: scans (streamed) and the folder watcher. */
export interface FolderSync {
  /** Walks every folder, updating the records folder by folder and telling the page as it goes. */
  scan(): Promise<ScanCounts>;
  /** Walks one folder (a folder just added). */
  scanFolder(folder: string): Promise<ScanCounts>;
  /** From now on every folder a scan walks is watched; new, changed and deleted photos are picked up by themselves. */
  watch(): void;
  /** Stops watching a removed folder. */
  forget(folder: string): void;
  close(): void;
}

/** Scans confined as the path guard is: a symlink out of the folder is neither read nor tagged. */
const CONFINED = { confineSymlinks: true } as const;

export function createFolderSync(options: FolderSyncOptions): FolderSync {
  const closing = new AbortController();
  let notified = options.library.size;
  const notify = createChangeNotifier(() => {
    notified = options.library.size;
    return { photos: notified, scanning: scans > 0 };
  }, options.onChanged, options.notifyMs ?? 250);
  let watcher: FolderWatcher | null = null;
  let poll: ReturnType<typeof setInterval> | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let scans = 0;
  // One reconcile at a time (a scan, a watcher's folder): two would compare against each other's half-done records.
  let work: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = work.then(task);
    work = run.catch(() => undefined);
    return run;
  };
  const walkOptions = (extra: ReconcileOptions = {}): ReconcileOptions => ({
    ...CONFINED,
    signal: closing.signal,
    ...extra,
    onDirectory(directory) {
      watcher?.add(directory.dir);
      extra.onDirectory?.(directory);
      // Photos found: the page shows them as the walk goes. A walk that finds what the index
      // had (a second start) sends nothing until its end: the page has nothing new to query.
      if (options.library.size !== notified) notify(false);
    },
  });
  const scanOne = async (folder: string): Promise<ScanCounts> => {
    scans++;
    try {
      return await reconcileFolder(options.library, folder, walkOptions());
    } finally {
      scans--;
      notify(true);
    }
  };
  const saveSoon = (): void => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void options.save().catch(() => undefined), 1000);
  };

  /** A watched folder changed: its own entries compared again, and any new subfolder walked (and watched). */
  const folderChanged = (dir: string): Promise<void> => serial(async () => {
    const folder = options.folders().find((f) => f === dir || isInsideFolder(dir, f));
    if (!folder || closing.signal.aborted) return;
    const found: string[] = [];
    let subfolders: string[] = [];
    const onNewPhotos = (ids: string[]): void => void found.push(...ids);
    let counts = await reconcileFolder(options.library, folder, walkOptions({ from: dir, shallow: true, onNewPhotos, onDirectory: (d) => void (subfolders = d.subfolders) }));
    for (const sub of subfolders.filter((s) => !watcher?.has(s))) counts = addScanCounts(counts, await reconcileFolder(options.library, folder, walkOptions({ from: sub, onNewPhotos })));
    if (counts.added + counts.changed + counts.removed === 0) return;
    notify(true);
    saveSoon();
    if (found.length > 0) options.onNewPhotos(found.sort());
  });

  return {
    async scan() {
      let total: ScanCounts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
      for (const folder of options.folders()) total = addScanCounts(total, await serial(() => scanOne(folder)));
      if (watcher?.incomplete && !poll) poll = setInterval(() => void this.scan().catch(() => undefined), options.pollMs ?? 60_000).unref();
      return total;
    },
    scanFolder: (folder) => serial(() => scanOne(folder)),
    watch() {
      watcher ??= createFolderWatcher((dir) => void folderChanged(dir).catch(() => undefined), { ...(options.debounceMs ? { debounceMs: options.debounceMs } : {}) });
    },
    forget: (folder) => watcher?.removeUnder(folder),
    close() {
      closing.abort();
      watcher?.close();
      if (poll) clearInterval(poll);
      if (saveTimer) clearTimeout(saveTimer);
    },
  };
}

/** At most one change message per `intervalMs` while a scan streams; the final one (`now`) at once. */
function createChangeNotifier(current: () => LibraryChange, send: (change: LibraryChange) => void, intervalMs: number): (now: boolean) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    last = Date.now();
    send(current());
  };
  return (now) => {
    if (now || Date.now() - last >= intervalMs) flush();
    else timer ??= setTimeout(flush, intervalMs);
  };
}
