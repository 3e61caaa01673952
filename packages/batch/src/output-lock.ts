import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { BatchError } from './batch-error.js';

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
  /** The same, synchronously: for a run that must end at once (SIGTERM while a batch is in flight). */
  releaseSync(): void;
}

export interface OutputLockOptions {
  /** Seconds to wait for another run to finish; 0 refuses at once. */
  waitSeconds?: number;
  /**
   * Seconds without a refresh after which a lock is taken over (default STALE_SECONDS; at least
   * MIN_STALE_SECONDS). Every run on one output should use the same value: the holder refreshes
   * every quarter of it.
   */
  staleSeconds?: number;
  /** Called once when the lock is held by another live run and we wait. */
  onWait?: (holder: LockHolder | null) => void;
  /** Called once when the lock's refreshes have stopped (its holder died, on any host) and we wait for it to go stale. */
  onStale?: (holder: LockHolder | null, secondsLeft: number) => void;
}

/**
 * One writer per output. proper-lockfile holds `<out>.lock` (an atomic mkdir, its mtime refreshed
 * every few seconds; a lock not refreshed for its stale time is taken over, which covers a kill -9 on
 * any host sharing the file system). We add who holds it (host, pid, since) beside it, for the
 * refusal message, and two shortcuts:
 * - a lock whose holder is on this host and no longer running (gone, a zombie, or our own pid: a
 *   restarted container often gets the pid it had) is marked stale at once;
 * - a lock held from another host (or by an unknown holder) is watched for one refresh period:
 *   when its refreshes have stopped, the holder is dead, and we wait for the lock to go stale
 *   instead of refusing (a retried pod or requeued task on a shared volume).
 */
export const STALE_SECONDS = 20;
/** proper-lockfile refreshes at least once a second, and we refresh four times per stale period. */
export const MIN_STALE_SECONDS = 4;

interface LockTiming {
  staleMs: number;
  updateMs: number;
  /** How long a lock's mtime must stand still to call its refreshes stopped: one period, plus slack for a loaded holder. */
  refreshWatchMs: number;
}

function lockTiming(staleSeconds = STALE_SECONDS): LockTiming {
  if (!(Number.isFinite(staleSeconds) && staleSeconds >= MIN_STALE_SECONDS)) {
    throw new BatchError('ERR_OUTPUT_LOCK_OPTION', (w) => `${w.option('staleSeconds', String(staleSeconds))} is too short to hold a lock; use at least ${MIN_STALE_SECONDS} seconds (the default is ${STALE_SECONDS}).`);
  }
  const staleMs = staleSeconds * 1000;
  return { staleMs, updateMs: staleMs / 4, refreshWatchMs: (staleMs / 4) * 1.6 };
}

export async function lockOutput(out: string, options: OutputLockOptions = {}): Promise<OutputLock> {
  const lockPath = `${out}.lock`;
  const holderFile = `${lockPath}.holder.json`;
  const timing = lockTiming(options.staleSeconds);
  let deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
  let waited = false;
  let staleWait = false;
  let onCompromised: (error: Error) => void = () => undefined;
  const compromised = new Promise<never>((_, reject) => { onCompromised = reject; });
  compromised.catch(() => undefined); // observed by the run; never an unhandled rejection
  for (;;) {
    markStaleIfHolderDied(lockPath, holderFile);
    try {
      const release = await lockfile.lock(out, {
        lockfilePath: lockPath,
        realpath: false,
        stale: timing.staleMs,
        update: timing.updateMs,
        onCompromised: (error) => onCompromised(new BatchError('ERR_OUTPUT_LOCK_LOST',
          () => `Lost the lock on ${out} (${error.message}); another run may be writing it: stop, check, then rerun to resume.`)),
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
        releaseSync() {
          rmSync(holderFile, { force: true });
          try { lockfile.unlockSync(out, { lockfilePath: lockPath, realpath: false }); } catch { /* as in release() */ }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `Cannot lock ${out} (${(error as Error).message}); choose a writable ${w.option('out')}.`);
      }
      const holder = readHolder(lockPath, holderFile);
      if (Date.now() >= deadline && !staleWait && (!holder || holder.host !== hostname()) && await refreshesStopped(lockPath, timing.refreshWatchMs)) {
        staleWait = true;
        const secondsLeft = Math.max(0, Math.ceil((lockMtime(lockPath) + timing.staleMs - Date.now()) / 1000));
        options.onStale?.(holder, secondsLeft);
        deadline = Date.now() + (secondsLeft + 5) * 1000;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new BatchError('ERR_OUTPUT_LOCKED', (w) => `${out} is being written by another run (${describeHolder(holder)}); wait for it, pass ${w.option('waitSeconds', '<seconds>')}, or choose another ${w.option('out')}.`);
      }
      if (!waited && !staleWait) { waited = true; options.onWait?.(holder); }
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
  if (!holder || holder.host !== hostname()) return;
  if (holder.pid !== process.pid && isAlive(holder.pid)) return;
  // Backdating the lock lets proper-lockfile's own stale takeover (atomic rmdir + mkdir) do the rest.
  try { utimesSync(lockPath, new Date(0), new Date(0)); } catch { /* gone already */ }
}

/** Running, and not a zombie (`kill(pid, 0)` succeeds on a zombie until its parent or PID 1 reaps it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/** The state letter of /proc/<pid>/stat (the field after the command's closing parenthesis); null without /proc. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

function lockMtime(lockPath: string): number {
  try { return statSync(lockPath).mtimeMs; } catch { return 0; }
}

/** Watches the lock for one refresh period: true when its mtime stood still (the holder stopped refreshing it) or it is gone. */
async function refreshesStopped(lockPath: string, watchMs: number): Promise<boolean> {
  const before = lockMtime(lockPath);
  const until = Date.now() + watchMs;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = lockMtime(lockPath);
    if (now !== before) return now === 0;
  }
  return true;
}
