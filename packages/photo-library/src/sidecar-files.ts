import { open, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { resolveWriteTarget, SymlinkOutsideFolderError, writeFileAtomic } from './atomic-write.js';
import { SidecarSymlinkError, SidecarTooLargeError, SidecarWriteError } from './errors.js';
import { mergeSidecar, readSidecarState, type SidecarState, type SidecarTags } from './xmp-sidecar.js';

/**
 * Sidecar naming. The app writes `<file>.<ext>.xmp` (`IMG_0001.jpg.xmp`), the digiKam,
 * darktable and Immich convention: it cannot collide when `IMG_0001.jpg` and `IMG_0001.cr2`
 * share a folder. Lightroom's `<basename>.xmp` (`IMG_0001.xmp`) is read and updated in place
 * when it is the only sidecar the photo has and no other photo in the folder shares the
 * basename (otherwise it is not clear which photo it belongs to, and a new `.jpg.xmp` is made).
 */
export function fullSidecarPath(photo: string): string {
  return `${photo}.xmp`;
}

export function basenameSidecarPath(photo: string): string {
  return join(dirname(photo), `${basename(photo, extname(photo))}.xmp`);
}

/**
 * The largest sidecar read or written. Lightroom's and darktable's sidecars with long edit
 * histories stay well under 1 MiB; a sidecar many times that is damage or an attack, and
 * parsing one costs time and memory in proportion (61 MB: over a minute and ~3 GB).
 */
export const MAX_SIDECAR_BYTES = 8 * 2 ** 20;

/** A sidecar's text, or null when there is none; its size is checked before any byte is read. */
async function readIfExists(path: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_SIDECAR_BYTES) throw new SidecarTooLargeError(path, size, MAX_SIDECAR_BYTES);
    // Read at most one byte over the bound: a file that grows meanwhile is caught too.
    const buffer = Buffer.alloc(Math.min(size, MAX_SIDECAR_BYTES) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead;
    if (length > MAX_SIDECAR_BYTES) throw new SidecarTooLargeError(path, length, MAX_SIDECAR_BYTES);
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/** The file a sidecar write lands in; a symlink out of the photo's folder is refused in the library's words. */
async function sidecarTarget(path: string): Promise<string> {
  try {
    return await resolveWriteTarget(path);
  } catch (error) {
    if (error instanceof SymlinkOutsideFolderError) throw new SidecarSymlinkError(path, error.target);
    throw error;
  }
}

/** The sidecar the app reads and writes for a photo, and its current content (null if none). */
export async function locateSidecar(photo: string): Promise<{ path: string; content: string | null }> {
  const full = fullSidecarPath(photo);
  const fullContent = await readIfExists(full);
  if (fullContent !== null) return { path: full, content: fullContent };
  const short = basenameSidecarPath(photo);
  const shortContent = await readIfExists(short);
  if (shortContent !== null) {
    const stem = basename(photo, extname(photo));
    const siblings = await readdir(dirname(photo)).catch(() => [] as string[]);
    const shared = siblings.filter((name) => name !== basename(photo) && basename(name, extname(name)) === stem && extname(name).toLowerCase() !== '.xmp');
    if (shared.length === 0) return { path: short, content: shortContent };
  }
  return { path: full, content: null };
}

/** Reads a photo's sidecar state; null when there is none. Throws SidecarUnreadableError for broken XML. */
export async function readPhotoSidecar(photo: string): Promise<(SidecarState & { path: string }) | null> {
  const { path, content } = await locateSidecar(photo);
  return content === null ? null : { ...readSidecarState(content, path), path };
}

/**
 * Merges the app's tags into the photo's sidecar and writes it atomically. The photo itself
 * is never opened for writing. Returns the sidecar path; skips the write when nothing changed
 * (so other tools' mtime-based sync does not see spurious edits).
 */
export async function writePhotoSidecar(photo: string, tags: SidecarTags): Promise<string> {
  return (await writePhotoSidecarWithState(photo, tags)).path;
}

/** What writing a photo's sidecar would do, worked out without writing anything. */
export interface SidecarPlan {
  path: string;
  /** The sidecar's content now; null when there is none. */
  before: string | null;
  after: string;
  /** False when the merge leaves every byte as it is: nothing to write. */
  changed: boolean;
  /** The hand-removed tags as the sidecar would record them (other tools' deletions included). */
  removedTags: string[];
}

/** Merges the tags into the photo's sidecar in memory (`--dry-run`, and the first half of a write). */
export async function planPhotoSidecar(photo: string, tags: SidecarTags): Promise<SidecarPlan> {
  const { path, content } = await locateSidecar(photo);
  if (path === photo || !path.toLowerCase().endsWith('.xmp')) throw new SidecarWriteError(path, new Error('refusing to write anything but an .xmp sidecar'));
  await sidecarTarget(path);
  const after = mergeSidecar(content, tags, path);
  if (Buffer.byteLength(after) > MAX_SIDECAR_BYTES) throw new SidecarTooLargeError(path, Buffer.byteLength(after), MAX_SIDECAR_BYTES);
  const removedTags = readSidecarState(after, path).app?.removedTags ?? [...tags.removedTags];
  return { path, before: content, after, changed: after !== content, removedTags: [...removedTags] };
}

/** The same, also returning the hand-removed tags as the sidecar now records them (other tools' deletions included). */
export async function writePhotoSidecarWithState(photo: string, tags: SidecarTags): Promise<{ path: string; removedTags: string[]; written: boolean }> {
  const plan = await planPhotoSidecar(photo, tags);
  if (plan.changed) {
    try {
      await writeFileAtomic(plan.path, plan.after);
    } catch (error) {
      if (error instanceof SymlinkOutsideFolderError) throw new SidecarSymlinkError(plan.path, error.target);
      throw new SidecarWriteError(plan.path, error);
    }
  }
  return { path: plan.path, removedTags: plan.removedTags, written: plan.changed };
}
