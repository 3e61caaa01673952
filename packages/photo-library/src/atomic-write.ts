import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file so that readers see either the old or the new content, never half of it:
 * a temp file in the same folder (same filesystem, so rename is atomic), fsync, rename.
 * The temp name starts with a dot so that photo tools scanning the folder skip it.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
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
