import type { LibraryRecords } from './library-records.js';
import { recordFromScan } from './record-sidecar.js';
import { diffScan, scanFolder, type ScanOptions } from './scanner.js';
import type { PhotoRecord } from './types.js';

/** How a scan changed one folder's records. */
export interface ScanCounts {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

/**
 * Brings the library's records of one added folder in step with the disk: new photos become
 * records (with what their sidecars record), photos whose bytes changed become 'changed' (their
 * predictions are stale, their hand edits stay), photos gone are removed. Unchanged photos are
 * not read again.
 */
export async function reconcileFolder(library: LibraryRecords, folder: string, options: ScanOptions = {}): Promise<ScanCounts> {
  const scanned = await scanFolder(folder, options);
  const known = new Map<string, PhotoRecord>();
  for (const record of library.all()) if (record.folder === folder) known.set(record.id, record);
  const diff = diffScan(scanned, known);
  for (const photo of diff.added) library.upsert(await recordFromScan(photo));
  for (const photo of diff.changed) library.upsert({ ...known.get(photo.path)!, size: photo.size, mtimeMs: photo.mtimeMs, status: 'changed' });
  for (const path of diff.removed) library.remove(path);
  return { added: diff.added.length, changed: diff.changed.length, removed: diff.removed.length, unchanged: diff.unchanged.length };
}

/** Adds one folder's counts to a running total (a scan of several folders). */
export function addScanCounts(total: ScanCounts, counts: ScanCounts): ScanCounts {
  return { added: total.added + counts.added, changed: total.changed + counts.changed, removed: total.removed + counts.removed, unchanged: total.unchanged + counts.unchanged };
}
