import { createReadStream, writeFileSync } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { PathSet } from './path-set.js';

/** After this many runs died with an input in flight, it gets an ERR_INPUT_CRASHED row instead of another try. */
export const CRASHES_BEFORE_GIVING_UP = 2;
/** The journal is rewritten (carried counts + what is in flight now) when it grows past this. */
const COMPACT_BYTES = 4 << 20;

/**
 * Which inputs were in flight when a run died (kill -9, OOM killer, a native crash in a decoder
 * or the engine). `<out>.inflight.jsonl` gets a line per input before it is decoded; a clean end,
 * a fatal error or SIGINT/SIGTERM rewrite it to the crash counts carried from earlier runs. So on
 * opening, every start line whose input has no row yet is one more run that died with it in
 * flight. Lines are plain writes, not fsynced: they only need to survive the process, not the
 * machine (the page cache outlives a killed process).
 */
export class InFlightJournal {
  private readonly inFlight = new Set<string>();
  private written = 0;

  private constructor(
    readonly path: string | null,
    private handle: FileHandle | null,
    /** Crash counts carried from earlier runs, for inputs still without a row. */
    readonly crashes: Map<string, number>,
  ) {}

  /** Reads the crash counts left by earlier runs (inputs in `done` are over) and starts a fresh journal. */
  static async open(path: string | null, done: PathSet): Promise<InFlightJournal> {
    const crashes = new Map<string, number>();
    // No path (--out -): nothing to resume, so nothing to journal.
    if (path === null) return new InFlightJournal(null, null, crashes);
    if (await stat(path).catch(() => null)) {
      for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
        let record: { path?: unknown; crashes?: unknown };
        try { record = JSON.parse(line) as typeof record; } catch { continue; } // a torn last line
        if (typeof record.path !== 'string' || done.has(record.path)) continue;
        const carried = typeof record.crashes === 'number' ? record.crashes : 1;
        crashes.set(record.path, (crashes.get(record.path) ?? 0) + carried);
      }
    }
    const journal = new InFlightJournal(path, await open(`${path}.tmp`, 'w'), crashes);
    await journal.rewrite();
    return journal;
  }

  /** Inputs in flight when earlier runs died this many times or more. */
  poisoned(): string[] {
    return [...this.crashes].filter(([, n]) => n >= CRASHES_BEFORE_GIVING_UP).map(([p]) => p);
  }

  /** Inputs in flight once when a run died: retried alone, so that a crash names the one input. */
  suspects(): Set<string> {
    return new Set([...this.crashes].filter(([, n]) => n < CRASHES_BEFORE_GIVING_UP).map(([p]) => p));
  }

  async started(path: string): Promise<void> {
    if (!this.handle) return;
    this.inFlight.add(path);
    const line = `${JSON.stringify({ path })}\n`;
    this.written += Buffer.byteLength(line);
    await this.handle.write(line);
    if (this.written > COMPACT_BYTES) await this.rewrite();
  }

  finished(path: string): void {
    this.inFlight.delete(path);
    this.crashes.delete(path);
  }

  /** An orderly end (success, a fatal error): nothing was in flight when a process died. */
  async close(): Promise<void> {
    if (!this.handle || !this.path) return;
    this.inFlight.clear();
    await this.rewrite();
    await this.handle.close();
    if (this.crashes.size === 0) await rm(this.path, { force: true });
  }

  /** SIGINT / SIGTERM: the same as close, synchronously, from a signal handler. */
  closeSync(): void {
    if (this.path) writeFileSync(this.path, this.carriedText());
  }

  private carriedText(): string {
    return [...this.crashes].map(([path, crashes]) => `${JSON.stringify({ path, crashes })}\n`).join('');
  }

  /** Carried counts, then the starts in flight now, written beside and renamed into place. */
  private async rewrite(): Promise<void> {
    if (!this.path) return;
    const tmp = `${this.path}.tmp`;
    const text = this.carriedText() + [...this.inFlight].map((path) => `${JSON.stringify({ path })}\n`).join('');
    await this.handle?.close().catch(() => undefined);
    this.handle = await open(tmp, 'w');
    await this.handle.write(text);
    await rename(tmp, this.path);
    this.written = Buffer.byteLength(text);
  }
}
