import { sep } from 'node:path';
import type { LibraryRecords } from './library-records.js';
import { recordFromScan } from './record-sidecar.js';
import { diffPhotos, walkFolder, type ScannedDirectory, type WalkOptions } from './scanner.js';
import type { PhotoRecord } from './types.js';

/** How a scan changed one folder's records. */
export interface ScanCounts {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

export interface ReconcileOptions extends WalkOptions {
  /** After each folder of the walk is in the library (a page can show the photos found so far). */
  onDirectory?(directory: ScannedDirectory): void;
  /** The ids of the photos added or changed (to tag them), as they are found. */
  onNewPhotos?(ids: string[]): void;
}

/** How many new photos' sidecars are read at once. */
const SIDECAR_CHUNK = 32;

/**
 * Brings the library's records of one added folder in step with the disk: new photos become
 * records (with what their sidecars record), photos whose bytes changed become 'changed' (their
 * predictions are stale, their hand edits stay), photos gone are removed. Unchanged photos are
 * not read again. The records change folder by folder as the walk goes (walkFolder); with
 * `from` (and `shallow`) only that part of the folder is compared, as a watcher's event needs.
 */
export async function reconcileFolder(library: LibraryRecords, folder: string, options: ReconcileOptions = {}): Promise<ScanCounts> {
  const known = knownRecords(library, folder, options);
  const counts: ScanCounts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  const seen = new Set<string>();
  const subfolders = new Set<string>();
  for await (const directory of walkFolder(folder, options)) {
    for (const sub of directory.subfolders) subfolders.add(sub + sep);
    const diff = diffPhotos(directory.photos, known);
    for (const photo of directory.photos) seen.add(photo.path);
    for (let i = 0; i < diff.added.length; i += SIDECAR_CHUNK) {
      for (const record of await Promise.all(diff.added.slice(i, i + SIDECAR_CHUNK).map((photo) => recordFromScan(photo, directory.names)))) library.upsert(record);
    }
    for (const photo of diff.changed) library.upsert({ ...known.get(photo.path)!, size: photo.size, mtimeMs: photo.mtimeMs, status: 'changed' });
    counts.added += diff.added.length;
    counts.changed += diff.changed.length;
    counts.unchanged += diff.unchanged.length;
    if (diff.added.length + diff.changed.length > 0) options.onNewPhotos?.([...diff.added, ...diff.changed].map((p) => p.path));
    options.onDirectory?.(directory);
  }
  // A walk cut short saw only part of the folder: what it did not reach is not gone.
  if (options.signal?.aborted) return counts;
  for (const path of known.keys()) {
    if (seen.has(path) || (options.shallow && subfolders.has(subfolderOf(path, options.from ?? folder)))) continue;
    library.remove(path);
    counts.removed++;
  }
  return counts;
}

/**
 * The folder's records the walk will compare: all of them, or those under `from`. With `shallow`
 * the records in `from`'s subfolders are kept unless their subfolder is gone (subfolderOf).
 */
function knownRecords(library: LibraryRecords, folder: string, options: WalkOptions): Map<string, PhotoRecord> {
  const prefix = withSep(options.from ?? folder);
  const known = new Map<string, PhotoRecord>();
  for (const record of library.all()) if (record.folder === folder && record.id.startsWith(prefix)) known.set(record.id, record);
  return known;
}

const withSep = (dir: string): string => (dir.endsWith(sep) ? dir : dir + sep);

/** `from`'s subfolder a photo lies in, with a trailing separator ('' for a photo directly in `from`). */
function subfolderOf(path: string, from: string): string {
  const prefix = withSep(from);
  const end = path.indexOf(sep, prefix.length);
  return end === -1 ? '' : path.slice(0, end + 1);
}

/** Adds one folder's counts to a running total (a scan of several folders). */
export function addScanCounts(total: ScanCounts, counts: ScanCounts): ScanCounts {
  return { added: total.added + counts.added, changed: total.changed + counts.changed, removed: total.removed + counts.removed, unchanged: total.unchanged + counts.unchanged };
}
