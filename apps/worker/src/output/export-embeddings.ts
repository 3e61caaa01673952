import { createReadStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { npyHeader } from './npy.js';
import type { ResultRow } from './results-file.js';

/**
 * Turns an embed journal (JSONL, one row per input, resumable) into what similarity search
 * wants: `<name>.npy`, float32 [N, 2048] in journal order, and `<name>.paths.txt`, the path of
 * row i on line i. Two streaming passes (count, then write): nothing is held in memory. Both
 * files are written beside, then renamed into place.
 */
export async function exportEmbeddings(journal: string, npyPath: string): Promise<{ rows: number; pathsFile: string }> {
  const pathsFile = npyPath.replace(/\.npy$/i, '') + '.paths.txt';
  let rows = 0;
  let width = 2048;
  for await (const row of rowsOf(journal)) {
    if (row.features) { rows++; width = row.features.length; }
  }
  const tmpNpy = `${npyPath}.${process.pid}.tmp`;
  const tmpPaths = `${pathsFile}.${process.pid}.tmp`;
  const npy = await open(tmpNpy, 'w');
  const paths = await open(tmpPaths, 'w');
  try {
    await npy.write(npyHeader([rows, width]));
    for await (const row of rowsOf(journal)) {
      if (!row.features) continue;
      await npy.write(Buffer.from(Float32Array.from(row.features).buffer));
      // JSON string escaping keeps a path with a newline on one line.
      await paths.write(`${/[\n\r"\\]/.test(row.path) ? JSON.stringify(row.path) : row.path}\n`);
    }
    await npy.datasync();
    await paths.datasync();
  } finally {
    await npy.close();
    await paths.close();
  }
  await rename(tmpNpy, npyPath);
  await rename(tmpPaths, pathsFile);
  return { rows, pathsFile };
}

async function* rowsOf(journal: string): AsyncGenerator<ResultRow> {
  for await (const line of createInterface({ input: createReadStream(journal, 'utf8'), crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    try { yield JSON.parse(line) as ResultRow; } catch { /* a torn last line: that input is redone next run */ }
  }
}
