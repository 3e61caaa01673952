import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CliError, EXIT } from '../cli-error.js';
import { ResultsFile, formatFor, parseCsvRecord } from '../output/results-file.js';
import { PathSet } from '../pipeline/path-set.js';

/**
 * Concatenates per-shard results into one file, keeping the first row of any path (shards are
 * disjoint, so duplicates only come from overlapping reruns). Streams: no file is held whole.
 */
export async function mergeCommand(out: string, parts: readonly string[], log: (line: string) => void): Promise<number> {
  if (parts.length === 0) throw new CliError('ERR_USAGE', 'Nothing to merge: give the shard result files after the output file.', EXIT.usage);
  const format = formatFor(out);
  if (parts.some((p) => formatFor(p) !== format)) throw new CliError('ERR_USAGE', `Merge files of one format: ${out} is ${format}, so every part must be too.`, EXIT.usage);
  const { file, done } = await ResultsFile.open(out, { topK: format === 'csv' ? topKOfCsv(await firstLine(parts[0]!)) : 5 });
  let rows = 0;
  let duplicates = 0;
  try {
    for (const part of parts) {
      let header = true;
      const batch: string[] = [];
      const lines = createInterface({ input: createReadStream(part, 'utf8'), crlfDelay: Infinity });
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
          let path: string;
          try { path = (JSON.parse(line) as { path: string }).path; } catch { continue; } // a torn last line
          if (done.has(path)) { duplicates++; continue; }
          done.add(path);
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
  log(`merged ${parts.length} files into ${out}: ${rows} rows${duplicates ? `, ${duplicates} duplicate paths dropped` : ''}`);
  return EXIT.ok;
}

async function firstLine(path: string): Promise<string> {
  for await (const line of createInterface({ input: createReadStream(path, 'utf8') })) return line;
  return '';
}

function topKOfCsv(header: string): number {
  return header.split(',').filter((c) => /^top\d+_index$/.test(c)).length;
}
