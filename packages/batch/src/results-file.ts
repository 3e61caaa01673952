import { createReadStream } from 'node:fs';
import { open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import { BatchError } from './batch-error.js';
import { PathSet } from './path-set.js';

export type OutputFormat = 'jsonl' | 'csv';

export interface TopPrediction { index: number; wnid: string; label: string; score: number }

/** One output row: an image's result, or why it failed. */
export interface ResultRow {
  path: string;
  /** The id of the model record (`<out>.model.json`) that produced the row. */
  model?: string;
  size?: number;
  mtime?: string;
  top?: TopPrediction[];
  features?: number[];
  timing?: { decodeMs: number; inferMs: number };
  error?: { code: string; message: string };
}

export interface OpenedResults<File = ResultsFile> {
  file: File;
  /** Paths that already have a row (success or failure): skipped on resume. */
  done: PathSet;
  resumed: { rows: number; failures: number; droppedTornBytes: number; retried: number };
}

export function formatFor(path: string): OutputFormat {
  return path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl';
}

/**
 * An append-only results file that survives kill -9: rows are written whole, a batch at a time,
 * and flushed to disk (fdatasync) before the next batch; on reopening, a torn last line (the
 * write a kill interrupted) is cut off and every path with a complete row is reported as done.
 */
export class ResultsFile {
  private constructor(
    private readonly handle: FileHandle | null,
    readonly path: string,
    readonly format: OutputFormat,
    private readonly topK: number,
  ) {}

  /** retryFailed: the error rows are removed (the file is rewritten beside, then renamed) and their inputs are not done. */
  static async open(path: string, options: { topK: number; format?: OutputFormat; retryFailed?: boolean; done?: PathSet }): Promise<OpenedResults> {
    const format = options.format ?? formatFor(path);
    const done = options.done ?? new PathSet();
    const resumed = { rows: 0, failures: 0, droppedTornBytes: 0, retried: 0 };
    const existing = await stat(path).catch(() => null);
    if (existing && existing.size > 0) {
      resumed.droppedTornBytes = await cutTornTail(path, existing.size);
      const header = csvHeader(options.topK);
      let first = true;
      for await (const record of readRecords(path, format)) {
        if (format === 'csv' && first) {
          first = false;
          if (record.line !== header) {
            throw new BatchError('ERR_OUTPUT_MISMATCH', (w) => `${path} was written with other columns than ${w.option('topK', String(options.topK))} gives; rerun with the options it was started with, or choose another ${w.option('out')}.`);
          }
          continue;
        }
        if (record.path === null) continue;
        if (record.failed && options.retryFailed) { resumed.retried++; continue; }
        done.add(record.path);
        resumed.rows++;
        if (record.failed) resumed.failures++;
      }
      if (resumed.retried > 0) await dropFailedRecords(path, format);
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'a');
    } catch (error) {
      throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `Cannot write the results file ${path} (${(error as NodeJS.ErrnoException).code}); choose a writable ${w.option('out')}.`);
    }
    const file = new ResultsFile(handle, path, format, options.topK);
    // A new file, or one whose only line was a torn header (cut above): the header first.
    const sizeNow = (await stat(path)).size;
    if (format === 'csv' && sizeNow === 0) await file.writeText(`${csvHeader(options.topK)}\n`);
    return { file, done, resumed };
  }

  /** `--out -`: JSONL rows on standard output (nothing to resume from). */
  static toStdout(topK: number): OpenedResults {
    return { file: new ResultsFile(null, '-', 'jsonl', topK), done: new PathSet(), resumed: { rows: 0, failures: 0, droppedTornBytes: 0, retried: 0 } };
  }

  /** Appends rows in one write and flushes them to disk. */
  async append(rows: readonly ResultRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.writeText(rows.map((r) => (this.format === 'csv' ? csvLine(r, this.topK) : JSON.stringify(r))).join('\n') + '\n');
  }

  /** Appends lines already in this file's format (merge). */
  async appendRaw(lines: readonly string[]): Promise<void> {
    if (lines.length > 0) await this.writeText(lines.join('\n') + '\n');
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }

  /** Writes every byte (a short write is continued, a write of nothing is an error), then flushes. */
  private async writeText(text: string): Promise<void> {
    if (!this.handle) {
      // Standard output: wait for the pipe to take it (backpressure), no fsync.
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
      return;
    }
    const bytes = Buffer.from(text);
    try {
      for (let offset = 0; offset < bytes.length;) {
        const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
        if (bytesWritten <= 0) throw Object.assign(new Error('a write of 0 bytes'), { code: 'ESHORTWRITE' });
        offset += bytesWritten;
      }
      await this.handle.datasync();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      throw new BatchError('ERR_OUTPUT_WRITE', (w) => `Cannot write rows to ${this.path} (${code}${code === 'ENOSPC' ? ': the disk is full' : ''}); fix that, then rerun the same ${w.command} to resume.`);
    }
  }
}

/** Rewrites a results file without its error rows: beside, flushed, then renamed over it. */
async function dropFailedRecords(path: string, format: OutputFormat): Promise<void> {
  const tmp = `${path}.retry-${process.pid}.tmp`;
  const out = await open(tmp, 'w');
  try {
    let first = true;
    let chunk: string[] = [];
    for await (const record of readRecords(path, format)) {
      const keep = (format === 'csv' && first) || !record.failed;
      first = false;
      if (keep) chunk.push(record.line);
      if (chunk.length >= 1000) { await out.write(`${chunk.join('\n')}\n`); chunk = []; }
    }
    if (chunk.length > 0) await out.write(`${chunk.join('\n')}\n`);
    await out.datasync();
  } finally {
    await out.close();
  }
  await rename(tmp, path);
}

/** Cuts an unterminated last line (a write interrupted by a crash). Returns the bytes dropped. */
async function cutTornTail(path: string, size: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    // Find the last newline, reading backwards a chunk at a time.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep < size) await truncate(path, keep);
        return size - keep;
      }
      end = start;
    }
    await truncate(path, 0);
    return size;
  } finally {
    await handle.close();
  }
}

async function* readRecords(path: string, format: OutputFormat): AsyncGenerator<{ path: string | null; failed: boolean; line: string }> {
  const lines = linesOf(path);
  let pending = '';
  for await (const line of lines) {
    if (format === 'jsonl') {
      if (line.trim() === '') continue;
      try {
        const row = JSON.parse(line) as ResultRow;
        yield { path: typeof row.path === 'string' ? row.path : null, failed: row.error !== undefined, line };
      } catch {
        yield { path: null, failed: false, line }; // a damaged line: that image is simply redone
      }
    } else {
      // A CSV record may span lines when a quoted field holds a newline.
      pending = pending === '' ? line : `${pending}\n${line}`;
      if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
      const fields = parseCsvRecord(pending);
      yield { path: fields[0] ?? null, failed: fields[3] === 'error', line: pending };
      pending = '';
    }
  }
}

/**
 * Lines split on \n only: readline also splits on a lone \r, which a quoted CSV path may hold,
 * and such a path would then never match itself on resume.
 */
/** One line of a file, numbered from 1; `terminated` is false for a last line without its newline (a torn write). */
export interface NumberedLine { text: string; line: number; terminated: boolean }

export async function* numberedLinesOf(path: string): AsyncGenerator<NumberedLine> {
  let rest = '';
  let line = 0;
  for await (const chunk of createReadStream(path, 'utf8')) {
    rest += chunk as string;
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
      yield { text: rest.slice(start, nl), line: ++line, terminated: true };
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  if (rest !== '') yield { text: rest, line: ++line, terminated: false };
}

export async function* linesOf(path: string): AsyncGenerator<string> {
  for await (const { text } of numberedLinesOf(path)) yield text;
}

export function csvHeader(topK: number): string {
  const top = Array.from({ length: topK }, (_, i) => [`top${i + 1}_index`, `top${i + 1}_wnid`, `top${i + 1}_label`, `top${i + 1}_score`]).flat();
  return ['path', 'size', 'mtime', 'status', 'error_code', 'error_message', ...top, 'decode_ms', 'infer_ms'].join(',');
}

function csvLine(row: ResultRow, topK: number): string {
  const top = Array.from({ length: topK }, (_, i) => {
    const p = row.top?.[i];
    return p ? [p.index, p.wnid, p.label, p.score] : ['', '', '', ''];
  }).flat();
  return [
    row.path, row.size ?? '', row.mtime ?? '', row.error ? 'error' : 'ok', row.error?.code ?? '', row.error?.message ?? '',
    ...top, row.timing?.decodeMs ?? '', row.timing?.inferMs ?? '',
  ].map(csvField).join(',');
}

function csvField(value: unknown): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 fields of one record (our own output, so well-formed). */
export function parseCsvRecord(record: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i]!;
    if (quoted) {
      if (c === '"' && record[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(field); field = ''; }
    else field += c;
  }
  fields.push(field);
  return fields;
}
