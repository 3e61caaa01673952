import { sidecarTagsFor } from './hand-edits.js';
import type { ScannedPhoto } from './scanner.js';
import { basenameSidecarPath, fullSidecarPath, readPhotoSidecar, writePhotoSidecarWithState } from './sidecar-files.js';
import type { PhotoRecord, SidecarRules } from './types.js';

/**
 * Writes what the library knows about a photo into its sidecar (merged, atomic, unchanged
 * bytes not rewritten) and returns the record as the sidecar now has it: keywords deleted by
 * hand in another tool come back as hand removals, so the library stays in step with the file.
 */
export async function writeRecordSidecar(record: PhotoRecord, rules: SidecarRules): Promise<PhotoRecord> {
  const tags = sidecarTagsFor({ predictions: record.predictions, model: record.model ?? null, added: record.added, removed: record.removed }, rules, rules.hierarchyRoot);
  const written = await writePhotoSidecarWithState(record.id, tags);
  const same = written.removedTags.length === record.removed.length && written.removedTags.every((t, i) => t === record.removed[i]);
  return same ? record : { ...record, removed: written.removedTags };
}

/**
 * A photo found by a scan as a library record: 'new', or 'tagged' with the predictions and hand
 * edits its sidecar records (a sidecar written earlier, on another machine, or before the index
 * was lost brings them back). An unreadable sidecar makes an 'error' record and stays untouched.
 */
export async function recordFromScan(photo: ScannedPhoto, folderNames?: ReadonlySet<string>): Promise<PhotoRecord> {
  const record: PhotoRecord = { id: photo.path, folder: photo.folder, name: photo.name, size: photo.size, mtimeMs: photo.mtimeMs, status: 'new', predictions: [], added: [], removed: [] };
  if (folderNames && !mayHaveSidecar(photo.name, folderNames)) return record;
  try {
    const app = (await readPhotoSidecar(photo.path))?.app;
    if (app) {
      record.predictions = [...app.predictions];
      record.added = [...app.userTags];
      record.removed = [...app.removedTags];
      if (app.model) {
        record.model = app.model;
        record.status = 'tagged';
      }
    }
  } catch (error) {
    record.status = 'error';
    record.error = error instanceof Error ? error.message : String(error);
  }
  return record;
}

/**
 * Whether either sidecar name (fullSidecarPath, basenameSidecarPath) is among the folder's
 * entries (lower-cased, so a case-insensitive file system is covered too). A new library's
 * photos mostly have none: two failed opens per photo were most of a 100,000-photo first scan.
 */
function mayHaveSidecar(name: string, folderNames: ReadonlySet<string>): boolean {
  return folderNames.has(fullSidecarPath(name).toLowerCase()) || folderNames.has(basenameSidecarPath(name).toLowerCase());
}
