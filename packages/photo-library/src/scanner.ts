import type { Dirent } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, isAbsolute } from 'node:path';

/** Extensions the decoder (sharp) reads; matched case-insensitively. */
export const PHOTO_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.avif'];

export interface ScannedPhoto {
  path: string;
  folder: string;
  name: string;
  size: number;
  mtimeMs: number;
}

export interface ScanOptions {
  /** Called for a folder or file that could not be read; the scan goes on. */
  onProblem?: (path: string, error: unknown) => void;
  signal?: AbortSignal;
  /**
   * Skip (and report) a symlinked photo that leads out of the folder. The desktop app sets it:
   * its path guard refuses such a path on every route, so the scan must not read it either.
   * `xception tag` follows a user's links as they are.
   */
  confineSymlinks?: boolean;
}

/** A photo whose file name is not valid UTF-8, which cannot be opened by the name Node gives it. */
export class PhotoNameNotUtf8Error extends Error {
  readonly code = 'ERR_PHOTO_NAME_NOT_UTF8';
  constructor() {
    super("the file name is not valid UTF-8 (\uFFFD marks the bytes that are not), so the photo cannot be opened by its name; rename it to UTF-8, e.g. with 'convmv -f latin1 -t utf8 --notest'");
    this.name = 'PhotoNameNotUtf8Error';
  }
}

/**
 * Lists the photos under a folder. Hidden files and folders (dot-names: caches, our own temp
 * files) are skipped, and symlinked folders are not followed, so loops cannot hang the scan.
 * Unreadable entries are reported and skipped: one bad folder never fails the whole library.
 */
export async function scanFolder(folder: string, options: ScanOptions = {}): Promise<ScannedPhoto[]> {
  const photos: ScannedPhoto[] = [];
  const pending = [folder];
  let realFolder: string | undefined;
  while (pending.length > 0) {
    if (options.signal?.aborted) break;
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      const handle = await opendir(dir);
      entries = [];
      for await (const entry of handle) entries.push(entry);
    } catch (error) {
      options.onProblem?.(dir, error);
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if ((entry.isFile() || entry.isSymbolicLink()) && PHOTO_EXTENSIONS.includes(extname(entry.name).toLowerCase())) {
        try {
          if (options.confineSymlinks && entry.isSymbolicLink() && !isWithin(await realpath(path), realFolder ??= await realpath(folder))) {
            options.onProblem?.(path, new Error('a symlink to a file outside the folder; not read'));
            continue;
          }
          const info = await stat(path);
          if (info.isFile()) photos.push({ path, folder, name: entry.name, size: info.size, mtimeMs: info.mtimeMs });
        } catch (error) {
          // Node decodes names as UTF-8: a name in another encoding comes back with U+FFFD and
          // names no file. Said plainly, rather than as ENOENT for a path that looks mangled.
          const mangled = entry.name.includes('\uFFFD') && (error as NodeJS.ErrnoException).code === 'ENOENT';
          options.onProblem?.(path, mangled ? new PhotoNameNotUtf8Error() : error);
        }
      }
    }
  }
  return photos.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isWithin(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export interface KnownPhoto {
  size: number;
  mtimeMs: number;
}

export interface ScanDiff {
  added: ScannedPhoto[];
  changed: ScannedPhoto[];
  removed: string[];
  unchanged: ScannedPhoto[];
}

/** Compares a scan with what the index knew: size or mtime differing means changed. */
export function diffScan(scanned: readonly ScannedPhoto[], known: ReadonlyMap<string, KnownPhoto>): ScanDiff {
  const diff: ScanDiff = { added: [], changed: [], removed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const photo of scanned) {
    seen.add(photo.path);
    const before = known.get(photo.path);
    if (!before) diff.added.push(photo);
    else if (before.size !== photo.size || Math.abs(before.mtimeMs - photo.mtimeMs) > 1) diff.changed.push(photo);
    else diff.unchanged.push(photo);
  }
  for (const path of known.keys()) if (!seen.has(path)) diff.removed.push(path);
  return diff;
}
