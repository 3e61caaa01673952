import { readFileSync, statSync, utimesSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { CliError } from '../cli-error.js';

/** Who holds an output, as written beside the lock (`<out>.lock.holder.json`). */
export interface LockHolder {
  host: string;
  pid: number;
  since: string;
  /** The inode of the lock folder this holder created: a holder file left from an older lock never speaks for a newer one. */
  lockInode: number;
}

export interface OutputLock {
  readonly holderFile: string;
  /** Rejects once the lock was lost (its refreshes stalled past the stale time, or it was taken over). */
  readonly compromised: Promise<never>;
  release(): Promise<void>;
}

export interface OutputLockOptions {
  /** Seconds to wait for another run to finish; 0 refuses at once. */
  waitSeconds?: number;
  /** Called once when the lock is held by another live run and we wait. */
  onWait?: (holder: LockHolder | null) => void;
}

/**
 * One writer per output. proper-lockfile holds `<out>.lock` (an atomic mkdir, its mtime refreshed
 * every few seconds; a lock not refreshed for STALE_MS is taken over, which covers a kill -9 on
 * any host sharing the file system). We add who holds it (host, pid, since) beside it, for the
 * refusal message, and one shortcut: a lock whose holder is on this host and no longer running is
 * marked stale at once, so that a rerun after kill -9 does not wait for the refreshes to age out.
 */
export const STALE_MS = 20_000;

export async function lockOutput(out: string, options: OutputLockOptions = {}): Promise<OutputLock> {
  const lockPath = `${out}.lock`;
  const holderFile = `${lockPath}.holder.json`;
  const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
  let waited = false;
  let onCompromised: (error: Error) => void = () => undefined;
  const compromised = new Promise<never>((_, reject) => { onCompromised = reject; });
  compromised.catch(() => undefined); // observed by the run; never an unhandled rejection
  for (;;) {
    markStaleIfHolderDied(lockPath, holderFile);
    try {
      const release = await lockfile.lock(out, {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_MS,
        update: STALE_MS / 4,
        onCompromised: (error) => onCompromised(new CliError('ERR_OUTPUT_LOCK_LOST',
          `Lost the lock on ${out} (${error.message}); another run may be writing it: stop, check, then rerun to resume.`)),
      });
      const holder: LockHolder = { host: hostname(), pid: process.pid, since: new Date().toISOString(), lockInode: statSync(lockPath).ino };
      await writeFile(holderFile, `${JSON.stringify(holder)}\n`);
      return {
        holderFile,
        compromised,
        async release() {
          await rm(holderFile, { force: true });
          await release().catch(() => undefined); // already released or taken over: nothing of ours to undo
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new CliError('ERR_OUTPUT_UNWRITABLE', `Cannot lock ${out} (${(error as Error).message}); choose a writable --out.`);
      }
      const holder = readHolder(lockPath, holderFile);
      if (Date.now() >= deadline) {
        throw new CliError('ERR_OUTPUT_LOCKED', `${out} is being written by another run (${describeHolder(holder)}); wait for it, pass --wait-lock <seconds>, or choose another --out.`);
      }
      if (!waited) { waited = true; options.onWait?.(holder); }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(50, deadline - Date.now()))));
    }
  }
}

export function describeHolder(holder: LockHolder | null): string {
  return holder ? `pid ${holder.pid} on ${holder.host}, since ${holder.since}` : 'holder unknown';
}

function readHolder(lockPath: string, holderFile: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(holderFile, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' && h.lockInode === statSync(lockPath).ino ? h : null;
  } catch {
    return null; // not written yet, or being replaced
  }
}

function markStaleIfHolderDied(lockPath: string, holderFile: string): void {
  const holder = readHolder(lockPath, holderFile);
  if (!holder || holder.host !== hostname() || holder.pid === process.pid || isAlive(holder.pid)) return;
  // Backdating the lock lets proper-lockfile's own stale takeover (atomic rmdir + mkdir) do the rest.
  try { utimesSync(lockPath, new Date(0), new Date(0)); } catch { /* gone already */ }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
