import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BatchError } from './batch-error.js';

/** What a file-system error code means for an output the user named, and what to do about it. */
const MEANINGS: Record<string, { what: string; advice: string }> = {
  EISDIR: { what: 'is a folder', advice: 'name a file inside it as' },
  ENOTDIR: { what: 'lies under a path that is not a folder', advice: 'choose another' },
  EROFS: { what: 'is on a read-only file system', advice: 'choose a writable' },
  EACCES: { what: 'is not writable (permission denied)', advice: 'choose a writable' },
  EPERM: { what: 'is not writable (operation not permitted)', advice: 'choose a writable' },
  ENOSPC: { what: 'is on a full disk', advice: 'free some space or choose another' },
  EDQUOT: { what: 'is over its disk quota', advice: 'free some space or choose another' },
  EFBIG: { what: 'grew past the largest file its file system allows', advice: 'choose another' },
  ENAMETOOLONG: { what: 'has too long a name', advice: 'choose a shorter' },
};

/**
 * The one place where a file-system error while writing an output becomes a typed error
 * (ERR_OUTPUT_UNWRITABLE) that names the output option in the caller's words. It applies to errors about the output, its siblings
 * (`<out>.model.json`, `<out>.journal.jsonl`, `<out>.training/`...) or its folder, and to those
 * with no path at all (a write on an open handle: a full disk); any other error passes unchanged.
 */
export function asOutputError(error: unknown, out: string): unknown {
  const e = error as NodeJS.ErrnoException | null;
  const meaning = typeof e?.code === 'string' ? MEANINGS[e.code] : undefined;
  if (!meaning || error instanceof BatchError) return error;
  const path = e!.path;
  if (path !== undefined && !path.startsWith(out) && !dirname(out).startsWith(path)) return error;
  const where = path !== undefined && path !== out ? ` (writing ${path})` : '';
  const code = e!.code;
  return new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `${w.option('out', out)} ${meaning.what}${where}, ${code}; ${meaning.advice} ${w.option('out')}, then run again.`, { cause: error });
}

/**
 * mkdir -p for an output's folder. Node's recursive mkdir reports ENOENT where the file system is
 * read-only (it stats the path after EROFS and returns that error); a plain mkdir says why.
 */
export async function makeOutputFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await mkdir(path); // throws the real reason; succeeds where the folder appeared meanwhile
  });
}
