import { existsSync } from 'node:fs';
import { access, copyFile, open, readFile, rename, rm } from 'node:fs/promises';
import { CliError, EXIT } from '../cli-error.js';
import { encodePathLine, FEATURE_WIDTH, fixedNpyHeader, pathsFileOf, readEmbeddingRows } from '../output/embedding-journal.js';
import { readParquetHeader, readParquetRecords, writeParquet, type ParquetHeader, type ParquetRecord } from '../output/parquet-output.js';
import { linesOf, ResultsFile, formatFor, parseCsvRecord } from '../output/results-file.js';
import { PathSet } from '../pipeline/path-set.js';

/**
 * Concatenates per-shard results into one new file, keeping the first row of any path (shards
 * are disjoint, so duplicates only come from overlapping reruns). Parts must agree (format,
 * columns, model); the output is written beside and renamed into place, so a refused or failed
 * merge leaves no output at all. Streams: no file is held whole.
 */
export async function mergeCommand(out: string, parts: readonly string[], log: (line: string) => void): Promise<number> {
  if (parts.length === 0) throw new CliError('ERR_USAGE', 'Nothing to merge: give the shard result files after the output file.', EXIT.usage);
  const formatOf = (p: string): string => (/\.npy$/i.test(p) ? 'npy' : /\.parquet$/i.test(p) ? 'parquet' : formatFor(p));
  const format = formatOf(out);
  if (parts.some((p) => formatOf(p) !== format)) throw new CliError('ERR_USAGE', `Merge files of one format: ${out} is ${format}, so every part must be too.`, EXIT.usage);
  if (existsSync(out)) throw new CliError('ERR_USAGE', `${out} exists already; merge writes a new file: remove it or choose another name.`, EXIT.usage);
  for (const part of parts) {
    await access(part).catch((error: NodeJS.ErrnoException) => {
      throw new CliError('ERR_MERGE_PART_MISSING', `Cannot read the part ${part} (${error.code}); check the shard file names (nothing was written).`);
    });
  }
  // A Parquet part says itself what wrote it: checked first, so a torn or foreign part is named as such.
  const parquetHeader = format === 'parquet' ? await checkParquetParts(parts) : null;
  const model = await sameModel(parts);
  const tmp = `${out}.merge-${process.pid}.tmp.${format}`;
  try {
    const { rows, duplicates } = format === 'npy' ? await mergeNpy(tmp, parts)
      : parquetHeader ? await mergeParquet(tmp, parts, parquetHeader)
        : await mergeRows(tmp, parts, format as 'csv' | 'jsonl');
    if (model) await copyFile(`${parts[0]}.model.json`, `${out}.model.json`);
    if (format === 'npy') await rename(pathsFileOf(tmp), pathsFileOf(out));
    if (existsSync(`${tmp}.errors.jsonl`)) await rename(`${tmp}.errors.jsonl`, `${out}.errors.jsonl`);
    await rename(tmp, out);
    log(`merged ${parts.length} files into ${out}: ${rows} rows${duplicates ? `, ${duplicates} duplicate paths dropped` : ''}`);
    return EXIT.ok;
  } catch (error) {
    await rm(tmp, { force: true });
    await rm(pathsFileOf(tmp), { force: true });
    await rm(`${tmp}.errors.jsonl`, { force: true });
    throw error;
  }
}

/** The parts' model records (`<part>.model.json`) must be one and the same. */
async function sameModel(parts: readonly string[]): Promise<boolean> {
  const records = await Promise.all(parts.map(async (p) => [p, await readFile(`${p}.model.json`, 'utf8').catch(() => null)] as const));
  const present = records.filter(([, r]) => r !== null);
  if (present.length === 0) return false;
  const ids = new Set(present.map(([, r]) => (JSON.parse(r!) as { id?: string }).id));
  if (ids.size > 1 || present.length < parts.length) {
    const describe = records.map(([p, r]) => `${p}: ${r ? modelSummary(JSON.parse(r) as Record<string, unknown>) : 'no model record'}`).join('; ');
    throw new CliError('ERR_MERGE_MISMATCH', `The parts were written by different models or settings (${describe}); merge only the shards of one run (nothing was written).`);
  }
  return true;
}

const modelSummary = (r: Record<string, unknown>): string =>
  `--weights ${String(r.weights)} sha256 ${String(r.weightsSha256).slice(0, 12)}, --image-size ${String(r.inputSize)}, --resize ${String(r.resize)}, --top-k ${String(r.topK)}`;

async function mergeRows(tmp: string, parts: readonly string[], format: 'csv' | 'jsonl'): Promise<{ rows: number; duplicates: number }> {
  const headers = await Promise.all(parts.map(firstLine));
  if (format === 'csv' && new Set(headers).size > 1) {
    const topKs = parts.map((p, i) => `${p}: --top-k ${topKOfCsv(headers[i]!)}`).join(', ');
    throw new CliError('ERR_MERGE_MISMATCH', `The CSV parts have different columns (${topKs}); merge only the shards of one run (nothing was written).`);
  }
  const { file, done } = await ResultsFile.open(tmp, { topK: format === 'csv' ? topKOfCsv(headers[0]!) : 5, format });
  let rows = 0;
  let duplicates = 0;
  let topLength: number | null = null;
  try {
    for (const part of parts) {
      let header = true;
      const batch: string[] = [];
      const lines = linesOf(part);
      let pending = '';
      for await (const line of lines) {
        if (format === 'csv') {
          pending = pending === '' ? line : `${pending}\n${line}`;
          if ((pending.match(/"/g)?.length ?? 0) % 2 === 1) continue;
          const record = pending;
          pending = '';
          if (header) { header = false; continue; }
          const path = parseCsvRecord(record)[0]!;
          if (done.has(path)) { duplicates++; continue; }
          done.add(path);
          batch.push(record);
        } else {
          if (line.trim() === '') continue;
          let row: { path: string; top?: unknown[] };
          try { row = JSON.parse(line) as typeof row; } catch { continue; } // a torn last line
          if (row.top) {
            topLength ??= row.top.length;
            if (row.top.length !== topLength) {
              throw new CliError('ERR_MERGE_MISMATCH', `${part} has rows with ${row.top.length} classes where earlier parts have ${topLength} (different --top-k); merge only the shards of one run (nothing was written).`);
            }
          }
          if (done.has(row.path)) { duplicates++; continue; }
          done.add(row.path);
          batch.push(line);
        }
        if (batch.length >= 1000) { await file.appendRaw(batch); rows += batch.length; batch.length = 0; }
      }
      await file.appendRaw(batch);
      rows += batch.length;
    }
  } finally {
    await file.close();
  }
  return { rows, duplicates };
}

/** .npy shards (with their .paths.txt and .errors.jsonl): rows concatenated, the first of a path kept. */
async function mergeNpy(tmp: string, parts: readonly string[]): Promise<{ rows: number; duplicates: number }> {
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
  await mergeErrorRows(tmp, parts);
  return { rows, duplicates };
}

/** The error rows of the parts (`<part>.errors.jsonl`), merged like any JSONL into `<tmp>.errors.jsonl`. */
async function mergeErrorRows(tmp: string, parts: readonly string[]): Promise<void> {
  const errorParts = parts.map((p) => `${p}.errors.jsonl`).filter((p) => existsSync(p));
  if (errorParts.length > 0) await mergeRows(`${tmp}.errors.jsonl`, errorParts, 'jsonl');
}

/**
 * .parquet shards: each part says in its metadata what wrote it (classify or embed, --top-k,
 * the model record); parts that disagree are refused before anything is written. Rows are read
 * and written a row group at a time, the first of a path kept.
 */
async function checkParquetParts(parts: readonly string[]): Promise<ParquetHeader> {
  const headers = await Promise.all(parts.map(async (p) => (await readParquetHeader(p)).header));
  const describe = (h: ParquetHeader): string => `${h.kind}${h.topK === null ? '' : ` --top-k ${h.topK}`}${h.model ? `, ${modelSummary(JSON.parse(h.model) as Record<string, unknown>)}` : ''}`;
  const first = headers[0]!;
  const idOf = (h: ParquetHeader): string | null => (h.model ? String((JSON.parse(h.model) as { id?: string }).id) : null);
  if (headers.some((h) => h.kind !== first.kind || h.topK !== first.topK || idOf(h) !== idOf(first))) {
    const all = parts.map((p, i) => `${p}: ${describe(headers[i]!)}`).join('; ');
    throw new CliError('ERR_MERGE_MISMATCH', `The Parquet parts were written by different commands, models or settings (${all}); merge only the shards of one run (nothing was written).`);
  }
  return first;
}

async function mergeParquet(tmp: string, parts: readonly string[], header: ParquetHeader): Promise<{ rows: number; duplicates: number }> {
  const done = new PathSet();
  let duplicates = 0;
  async function* unique(): AsyncGenerator<ParquetRecord[]> {
    for (const part of parts) {
      for await (const group of readParquetRecords(part)) {
        yield group.filter((r) => {
          if (done.has(r.path)) { duplicates++; return false; }
          done.add(r.path);
          return true;
        });
      }
    }
  }
  const rows = await writeParquet(tmp, header, unique());
  await mergeErrorRows(tmp, parts);
  return { rows, duplicates };
}

async function firstLine(path: string): Promise<string> {
  for await (const line of linesOf(path)) return line;
  return '';
}

function topKOfCsv(header: string): number {
  return header.split(',').filter((c) => /^top\d+_index$/.test(c)).length;
}
