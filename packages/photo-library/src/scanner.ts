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

/** One folder's listing during a walk: its photos and every entry's name (sidecars included). */
export interface ScannedDirectory {
  dir: string;
  photos: ScannedPhoto[];
  /** Every entry's name, lower-cased: a photo without a sidecar beside it needs no sidecar read. */
  names: ReadonlySet<string>;
  /** Its subfolders (not hidden, not symlinks). */
  subfolders: string[];
}

export interface WalkOptions extends ScanOptions {
  /** Where the walk starts (default the folder itself); photos still belong to `folder`. */
  from?: string;
  /** Only `from`'s own entries, not its subfolders. */
  shallow?: boolean;
}

/** How many photos of one folder are stat'ed at once (the thread pool does 4; more queue there). */
const STAT_CHUNK = 64;

/**
 * Lists the photos under a folder. Hidden files and folders (dot-names: caches, our own temp
 * files) are skipped, and symlinked folders are not followed, so loops cannot hang the scan.
 * Unreadable entries are reported and skipped: one bad folder never fails the whole library.
 */
export async function scanFolder(folder: string, options: ScanOptions = {}): Promise<ScannedPhoto[]> {
  const photos: ScannedPhoto[] = [];
  for await (const directory of walkFolder(folder, options)) photos.push(...directory.photos);
  return photos.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * scanFolder one folder at a time, as it goes: a large library shows its first photos before
 * the walk ends. Within a folder the photos are stat'ed in parallel chunks: one await per
 * photo, one after the other, left a 100,000-photo walk waiting on the thread pool for seconds.
 */
export async function* walkFolder(folder: string, options: WalkOptions = {}): AsyncGenerator<ScannedDirectory> {
  const pending = [options.from ?? folder];
  const realFolder = options.confineSymlinks ? lazy(() => realpath(folder)) : null;
  while (pending.length > 0) {
    if (options.signal?.aborted) return;
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      const handle = await opendir(dir, { bufferSize: 256 });
      entries = [];
      for await (const entry of handle) entries.push(entry);
    } catch (error) {
      options.onProblem?.(dir, error);
      continue;
    }
    const subfolders: string[] = [];
    const candidates: Dirent[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) subfolders.push(join(dir, entry.name));
      else if ((entry.isFile() || entry.isSymbolicLink()) && PHOTO_EXTENSIONS.includes(extname(entry.name).toLowerCase())) candidates.push(entry);
    }
    if (!options.shallow) pending.push(...subfolders);
    const photos: ScannedPhoto[] = [];
    for (let i = 0; i < candidates.length; i += STAT_CHUNK) {
      const found = await Promise.all(candidates.slice(i, i + STAT_CHUNK).map((entry) => statPhoto(folder, dir, entry, realFolder, options)));
      for (const photo of found) if (photo) photos.push(photo);
    }
    yield { dir, photos, names: new Set(entries.map((e) => e.name.toLowerCase())), subfolders };
  }
}

async function statPhoto(folder: string, dir: string, entry: Dirent, realFolder: (() => Promise<string>) | null, options: ScanOptions): Promise<ScannedPhoto | null> {
  const path = join(dir, entry.name);
  try {
    if (realFolder && entry.isSymbolicLink() && !isWithin(await realpath(path), await realFolder())) {
      options.onProblem?.(path, new Error('a symlink to a file outside the folder; not read'));
      return null;
    }
    const info = await stat(path);
    return info.isFile() ? { path, folder, name: entry.name, size: info.size, mtimeMs: info.mtimeMs } : null;
  } catch (error) {
    // Node decodes names as UTF-8: a name in another encoding comes back with U+FFFD and
    // names no file. Said plainly, rather than as ENOENT for a path that looks mangled.
    const mangled = entry.name.includes('\uFFFD') && (error as NodeJS.ErrnoException).code === 'ENOENT';
    options.onProblem?.(path, mangled ? new PhotoNameNotUtf8Error() : error);
    return null;
  }
}

/** A promise made on first use and kept (the folder's real path, asked only when a symlink needs it). */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
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
  const seen = new Set<string>();
  for (const photo of scanned) seen.add(photo.path);
  const removed: string[] = [];
  for (const path of known.keys()) if (!seen.has(path)) removed.push(path);
  return { ...diffPhotos(scanned, known), removed };
}

/**
 * diffScan without the removals: a walk compares folder by folder, and a pass over every
 * known photo per folder made a second scan of 1,000 folders 100 million look-ups.
 */
export function diffPhotos(scanned: readonly ScannedPhoto[], known: ReadonlyMap<string, KnownPhoto>): Omit<ScanDiff, 'removed'> {
  const diff: Omit<ScanDiff, 'removed'> = { added: [], changed: [], unchanged: [] };
  for (const photo of scanned) {
    const before = known.get(photo.path);
    if (!before) diff.added.push(photo);
    else if (before.size !== photo.size || Math.abs(before.mtimeMs - photo.mtimeMs) > 1) diff.changed.push(photo);
    else diff.unchanged.push(photo);
  }
  return diff;
}
