import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chown, lstat, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';

/** A write target that is a symlink leading out of its own folder (see resolveWriteTarget). */
export class SymlinkOutsideFolderError extends Error {
  readonly code = 'ERR_SYMLINK_OUTSIDE_FOLDER';
  constructor(readonly path: string, readonly target: string) {
    super(`'${path}' is a symlink to '${target}', outside its folder`);
  }
}

const statOrNull = (path: string, follow: boolean): Promise<Stats | null> =>
  (follow ? stat(path) : lstat(path)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });

/**
 * The file a write to `path` lands in: `path` itself, or, when it is a symlink, the file it
 * leads to, which must be inside the link's own folder (a link to `../other.xmp` or `/etc/x` is
 * refused with SymlinkOutsideFolderError). The link itself is never replaced by a copy.
 */
export async function resolveWriteTarget(path: string): Promise<string> {
  const link = await statOrNull(path, false);
  if (!link?.isSymbolicLink()) return path;
  const folder = await realpath(dirname(path));
  const target = await realpath(path).catch(() => null);
  const rel = target === null ? '..' : relative(folder, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new SymlinkOutsideFolderError(path, target ?? '(a missing file)');
  return target!;
}

/**
 * Writes a file so that readers see either the old or the new content, never half of it:
 * a temp file in the same folder (same filesystem, so rename is atomic), fsync, rename.
 * The temp name starts with a dot so that photo tools scanning the folder skip it.
 * The file keeps what its owner set: its mode (0444, 0600), its owner where we may set it,
 * the file a symlink leads to (resolveWriteTarget), and a hard link's inode (see overwriteInPlace).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const target = await resolveWriteTarget(path);
  const before = await statOrNull(target, true);
  if (before && before.nlink > 1) return overwriteInPlace(target, data);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = before ? before.mode & 0o7777 : 0o644;
  const handle = await open(temp, 'wx', mode);
  try {
    // open's mode passes through the umask; the old file's mode is set exactly.
    if (before) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  // Only root (or the owner, for the group) may give the file back its owner; others keep theirs.
  if (before && (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())) await chown(temp, before.uid, before.gid).catch(() => undefined);
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * A file with several hard links: a rename would give this name a new inode and leave the other
 * names on the old content. It is written through its own inode instead (all names see the new
 * content); a crash mid-write can leave it half written, the price of keeping the links.
 */
async function overwriteInPlace(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.truncate(bytes.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** writeFileAtomic's temp names: `.<name>.<pid>.<8 hex>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** A temp file younger than this may belong to a write in progress on another machine (a shared folder). */
const STALE_AFTER_MS = 60_000;

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the temp files writeFileAtomic left in a folder when its process was killed mid-write
 * (kill -9, power loss): only files with its temp name whose process is gone and that are older
 * than a minute. Returns how many were removed; an unreadable folder removes nothing.
 */
export async function removeStaleTempFiles(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const match = TEMP_NAME.exec(name);
    if (!match || !processIsGone(Number(match[1]))) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || now - info.mtimeMs < STALE_AFTER_MS) continue;
    if (await unlink(path).then(() => true, () => false)) removed++;
  }
  return removed;
}
