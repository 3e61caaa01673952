import { existsSync } from 'node:fs';
import { access, copyFile, open, readFile, rename, rm } from 'node:fs/promises';
import { BatchError, type BatchWords } from './batch-error.js';
import { encodePathLine, FEATURE_WIDTH, fixedNpyHeader, pathsFileOf, readEmbeddingRows } from './embedding-journal.js';
// Types only: the Parquet reader and writer load when Parquet parts are merged (the package's /parquet entry).
import type { ParquetHeader, ParquetRecord } from './parquet.js';
import { csvRows } from './part-rows.js';
import { PathSet } from './path-set.js';
import { formatFor, linesOf, numberedLinesOf, parseCsvRecord, ResultsFile } from './results-file.js';

export interface MergeOptions {
  /** Merge without the rows or parts that cannot be read (listed in the summary) instead of refusing. */
  skipBadRows?: boolean;
  /** Told each row or part that cannot be read (`<part> line <n> (<why>)`), before a refusal. */
  onBadRow?(row: string): void;
}

export interface MergeSummary {
  parts: number;
  rows: number;
  /** Rows dropped because an earlier part had their path (overlapping reruns). */
  duplicates: number;
  /** The rows or parts left out with skipBadRows. */
  skipped: string[];
}

/**
 * Concatenates per-shard results into one new file, keeping the first row of any path (shards
 * are disjoint, so duplicates only come from overlapping reruns). Parts must agree (format,
 * columns, model); the output is written beside and renamed into place, so a refused or failed
 * merge leaves no output at all. Streams: no file is held whole.
 */
export async function mergeResults(out: string, parts: readonly string[], options: MergeOptions = {}): Promise<MergeSummary> {
  const format = await checkParts(out, parts);
  // A Parquet part says itself what wrote it: checked first, so a torn or foreign part is named as such.
  const parquetHeader = format === 'parquet' ? await checkParquetParts(parts) : null;
  const model = await sameModel(parts);
  const tmp = `${out}.merge-${process.pid}.tmp.${format}`;
  const bad: BadRows = [];
  try {
    const { rows, duplicates } = format === 'npy' ? await mergeNpy(tmp, parts, bad)
      : parquetHeader ? await mergeParquet(tmp, parts, parquetHeader, bad)
        : await mergeRows(tmp, parts, format as 'csv' | 'jsonl', bad);
    if (bad.length > 0 && !options.skipBadRows) {
      for (const row of bad) options.onBadRow?.(row);
      throw new BatchError('ERR_MERGE_BAD_ROWS', (w) => `${bad.length} ${bad.length === 1 ? 'row or part' : 'rows or parts'} of the parts could not be read (listed above, first ${bad[0]}), so merge would write a short file; repair or rerun those shards, or pass ${w.option('skipBadRows')} to merge without them (nothing was written).`);
    }
    if (model) await copyFile(`${parts[0]}.model.json`, `${out}.model.json`);
    if (format === 'npy') await rename(pathsFileOf(tmp), pathsFileOf(out));
    if (existsSync(`${tmp}.errors.jsonl`)) await rename(`${tmp}.errors.jsonl`, `${out}.errors.jsonl`);
    await rename(tmp, out);
    return { parts: parts.length, rows, duplicates, skipped: bad };
  } catch (error) {
    await rm(tmp, { force: true });
    await rm(pathsFileOf(tmp), { force: true });
    await rm(`${tmp}.errors.jsonl`, { force: true });
    throw error;
  }
}

/** The merge's format (the output's, which every part must share); refuses an existing output or a missing part. */
async function checkParts(out: string, parts: readonly string[]): Promise<string> {
  if (parts.length === 0) throw new BatchError('ERR_MERGE_INVALID', (w) => `Nothing to merge: give ${w.option('parts')}.`);
  const formatOf = (p: string): string => (/\.npy$/i.test(p) ? 'npy' : /\.parquet$/i.test(p) ? 'parquet' : formatFor(p));
  const format = formatOf(out);
  if (parts.some((p) => formatOf(p) !== format)) throw new BatchError('ERR_MERGE_INVALID', () => `Merge files of one format: ${out} is ${format}, so every part must be too.`);
  if (existsSync(out)) throw new BatchError('ERR_MERGE_INVALID', () => `${out} exists already; merge writes a new file: remove it or choose another name.`);
  for (const part of parts) {
    await access(part).catch((error: NodeJS.ErrnoException) => {
      throw new BatchError('ERR_MERGE_PART_MISSING', () => `Cannot read the part ${part} (${error.code}); check the shard file names (nothing was written).`);
    });
  }
  return format;
}

/** The parts' model records (`<part>.model.json`) must be one and the same. */
async function sameModel(parts: readonly string[]): Promise<boolean> {
  const records = await Promise.all(parts.map(async (p) => [p, await readFile(`${p}.model.json`, 'utf8').catch(() => null)] as const));
  const present = records.filter(([, r]) => r !== null);
  if (present.length === 0) return false;
  const ids = new Set(present.map(([, r]) => (JSON.parse(r!) as { id?: string }).id));
  if (ids.size > 1 || present.length < parts.length) {
    throw new BatchError('ERR_MERGE_MISMATCH', (w) => `The parts were written by different models or settings (${records.map(([p, r]) => `${p}: ${r ? modelSummary(JSON.parse(r) as Record<string, unknown>, w) : 'no model record'}`).join('; ')}); merge only the shards of one run (nothing was written).`);
  }
  return true;
}

const modelSummary = (r: Record<string, unknown>, w: BatchWords): string =>
  `${w.option('weights', String(r.weights))} sha256 ${String(r.weightsSha256).slice(0, 12)}, ${w.option('inputSize', String(r.inputSize))}, ${w.option('resize', String(r.resize))}, ${w.option('topK', String(r.topK))}`;

/** Rows or parts merge could not read, named `<part> line <n> (<why>)` or `<part> (<why>)`. */
type BadRows = string[];

async function mergeRows(tmp: string, parts: readonly string[], format: 'csv' | 'jsonl', bad: BadRows): Promise<{ rows: number; duplicates: number }> {
  const headers = await Promise.all(parts.map(firstLine));
  if (format === 'csv' && new Set(headers).size > 1) {
    const topKs = (w: BatchWords): string => parts.map((p, i) => `${p}: ${w.option('topK', String(topKOfCsv(headers[i]!)))}`).join(', ');
    throw new BatchError('ERR_MERGE_MISMATCH', (w) => `The CSV parts have different columns (${topKs(w)}); merge only the shards of one run (nothing was written).`);
  }
  const { file, done } = await ResultsFile.open(tmp, { topK: format === 'csv' ? topKOfCsv(headers[0]!) : 5, format });
  let rows = 0;
  let duplicates = 0;
  let topLength: number | null = null;
  try {
    for (const part of parts) {
      const batch: string[] = [];
      const keep = (path: string, text: string): void => {
        if (done.has(path)) { duplicates++; return; }
        done.add(path);
        batch.push(text);
      };
      if (format === 'csv') {
        for await (const row of csvRows(numberedLinesOf(part), parseCsvRecord(headers[0]!).length)) {
          if ('bad' in row) bad.push(`${part} line ${row.line} (${row.bad})`);
          else if (row.line > 1) keep(row.fields[0]!, row.text);
          if (batch.length >= 1000) { await file.appendRaw(batch); rows += batch.length; batch.length = 0; }
        }
      } else {
        for await (const { text, line, terminated } of numberedLinesOf(part)) {
          if (text.trim() === '') continue;
          const row = jsonRow(text);
          // A torn last line is a row the worker never finished: a rerun redoes it, so it is no loss.
          if (row === null) { if (terminated) bad.push(`${part} line ${line} (not a JSON row with a path)`); continue; }
          if (row.top) {
            topLength ??= row.top.length;
            if (row.top.length !== topLength) {
              const [found, expected] = [row.top.length, topLength];
              throw new BatchError('ERR_MERGE_MISMATCH', (w) => `${part} has rows with ${found} classes where earlier parts have ${expected} (different ${w.option('topK')}); merge only the shards of one run (nothing was written).`);
            }
          }
          keep(row.path, text);
          if (batch.length >= 1000) { await file.appendRaw(batch); rows += batch.length; batch.length = 0; }
        }
      }
      await file.appendRaw(batch);
      rows += batch.length;
    }
  } finally {
    await file.close();
  }
  return { rows, duplicates };
}

function jsonRow(text: string): { path: string; top?: unknown[] } | null {
  try {
    const row = JSON.parse(text) as { path?: unknown; top?: unknown };
    return row !== null && typeof row === 'object' && typeof row.path === 'string' && (row.top === undefined || Array.isArray(row.top)) ? (row as { path: string; top?: unknown[] }) : null;
  } catch {
    return null;
  }
}

/** .npy shards (with their .paths.txt and .errors.jsonl): rows concatenated, the first of a path kept. */
async function mergeNpy(tmp: string, parts: readonly string[], bad: BadRows): Promise<{ rows: number; duplicates: number }> {
  // Every part is checked (shape, paths file) before anything is written.
  for (const part of parts) for await (const _ of readEmbeddingRows(part, 1)) break;
  const npy = await open(tmp, 'w');
  const paths = await open(pathsFileOf(tmp), 'w');
  const done = new PathSet();
  let rows = 0;
  let duplicates = 0;
  try {
    await npy.write(fixedNpyHeader(0, FEATURE_WIDTH));
    for (const part of parts) {
      for await (const batch of readEmbeddingRows(part)) {
        for (const { path, features } of batch) {
          if (done.has(path)) { duplicates++; continue; }
          done.add(path);
          await npy.write(new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
          await paths.write(`${encodePathLine(path)}\n`);
          rows++;
        }
      }
    }
    await npy.write(fixedNpyHeader(rows, FEATURE_WIDTH), 0, 128, 0);
    await npy.datasync();
    await paths.datasync();
  } finally {
    await npy.close();
    await paths.close();
  }
  await mergeErrorRows(tmp, parts, bad);
  return { rows, duplicates };
}

/** The error rows of the parts (`<part>.errors.jsonl`), merged like any JSONL into `<tmp>.errors.jsonl`. */
async function mergeErrorRows(tmp: string, parts: readonly string[], bad: BadRows): Promise<void> {
  const errorParts = parts.map((p) => `${p}.errors.jsonl`).filter((p) => existsSync(p));
  if (errorParts.length > 0) await mergeRows(`${tmp}.errors.jsonl`, errorParts, 'jsonl', bad);
}

/**
 * .parquet shards: each part says in its metadata what wrote it (classify or embed, --top-k,
 * the model record); parts that disagree are refused before anything is written. Rows are read
 * and written a row group at a time, the first of a path kept.
 */
async function checkParquetParts(parts: readonly string[]): Promise<ParquetHeader> {
  const { readParquetHeader } = await import('./parquet.js');
  const headers = await Promise.all(parts.map(async (p) => (await readParquetHeader(p)).header));
  const describe = (h: ParquetHeader, w: BatchWords): string => `${h.kind}${h.topK === null ? '' : ` ${w.option('topK', String(h.topK))}`}${h.model ? `, ${modelSummary(JSON.parse(h.model) as Record<string, unknown>, w)}` : ''}`;
  const first = headers[0]!;
  const idOf = (h: ParquetHeader): string | null => (h.model ? String((JSON.parse(h.model) as { id?: string }).id) : null);
  if (headers.some((h) => h.kind !== first.kind || h.topK !== first.topK || idOf(h) !== idOf(first))) {
    const all = (w: BatchWords): string => parts.map((p, i) => `${p}: ${describe(headers[i]!, w)}`).join('; ');
    throw new BatchError('ERR_MERGE_MISMATCH', (w) => `The Parquet parts were written by different commands, models or settings (${all(w)}); merge only the shards of one run (nothing was written).`);
  }
  return first;
}

async function mergeParquet(tmp: string, parts: readonly string[], header: ParquetHeader, bad: BadRows): Promise<{ rows: number; duplicates: number }> {
  const { readParquetRecords, writeParquet } = await import('./parquet.js');
  const done = new PathSet();
  let duplicates = 0;
  async function* unique(): AsyncGenerator<ParquetRecord[]> {
    for (const part of parts) {
      let read = 0;
      try {
        for await (const group of readParquetRecords(part)) {
          read += group.length;
          yield group.filter((r) => {
            if (done.has(r.path)) { duplicates++; return false; }
            done.add(r.path);
            return true;
          });
        }
      } catch (error) {
        // A damaged data page: the part is named, and the rows after it are counted as lost.
        bad.push(`${part} (unreadable after ${read} rows: ${String((error as Error).message ?? error).split('\n')[0]})`);
      }
    }
  }
  const rows = await writeParquet(tmp, header, unique());
  await mergeErrorRows(tmp, parts, bad);
  return { rows, duplicates };
}

async function firstLine(path: string): Promise<string> {
  for await (const line of linesOf(path)) return line;
  return '';
}

function topKOfCsv(header: string): number {
  return header.split(',').filter((c) => /^top\d+_index$/.test(c)).length;
}
