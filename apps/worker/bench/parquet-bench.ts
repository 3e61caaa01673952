/**
 * What writing `--out x.parquet` costs at the end of a run: classify rows/s and embed rows/s of
 * writeParquet (the same code the run uses, after the engine is released), its peak RSS, and the
 * bytes per embedded image; the file is read back with hyparquet to check the row count.
 * Synthetic rows (the journal's shape), so that it needs no model or photos.
 * Usage: pnpm --filter @xception/worker bench:parquet [-- --embed 4096 --classify 20000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readParquetHeader, toRecord, writeParquet, type ParquetRecord } from '@xception/batch/parquet';

const { values: args } = parseArgs({ options: { embed: { type: 'string', default: '4096' }, classify: { type: 'string', default: '20000' } } });
const dir = mkdtempSync(join(tmpdir(), 'xception-parquet-bench-'));

async function* batches(count: number, make: (i: number) => ParquetRecord): AsyncGenerator<ParquetRecord[]> {
  for (let start = 0; start < count; start += 500) yield Array.from({ length: Math.min(500, count - start) }, (_, i) => make(start + i));
}

async function measure(kind: 'classify' | 'embed', count: number): Promise<void> {
  const file = join(dir, `${kind}.parquet`);
  const top = Array.from({ length: 5 }, (_, k) => ({ index: k * 97, wnid: `n0${1440764 + k}`, label: `label_${k}`, score: 0.5 / (k + 1) }));
  const make = (i: number): ParquetRecord => (kind === 'embed'
    ? { path: `/data/photos/${i}.jpg`, embedding: Array.from({ length: 2048 }, (_, j) => Math.fround(Math.sin(i + j))) }
    : toRecord({ path: `/data/photos/${i}.jpg`, model: '0123456789abcdef', size: 100_000 + i, mtime: '2026-05-01T10:00:00.000Z', top, timing: { decodeMs: 31.2, inferMs: 52 } }));
  const start = performance.now();
  const rows = await writeParquet(file, { kind, topK: kind === 'classify' ? 5 : null, model: null }, batches(count, make));
  const seconds = (performance.now() - start) / 1000;
  const { metadata } = await readParquetHeader(file);
  if (Number(metadata.num_rows) !== rows || rows !== count) throw new Error(`${file}: ${metadata.num_rows} rows read back, ${count} written`);
  console.log(`${kind}: ${count} rows in ${seconds.toFixed(2)} s, ${(count / seconds).toFixed(0)} rows/s, ${(statSync(file).size / count).toFixed(0)} bytes/row, ` +
    `peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (includes making the rows)`);
}

try {
  await measure('classify', Number(args.classify));
  await measure('embed', Number(args.embed));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
