import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseCsvRecord, ResultsFile } from './results-file.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a torn last line is cut and every complete row counts as done', async () => {
  const path = join(dir, 'r.jsonl');
  writeFileSync(path, '{"path":"/a.jpg","top":[]}\n{"path":"/b.jpg","error":{"code":"E","message":"m"}}\n{"path":"/c.jp');
  const { file, done, resumed } = await ResultsFile.open(path, { topK: 5 });
  expect(resumed).toEqual({ rows: 2, failures: 1, droppedTornBytes: '{"path":"/c.jp'.length });
  expect([done.has('/a.jpg'), done.has('/b.jpg'), done.has('/c.jpg')]).toEqual([true, true, false]);
  await file.append([{ path: '/c.jpg', top: [] }]);
  await file.close();
  expect(readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).path)).toEqual(['/a.jpg', '/b.jpg', '/c.jpg']);
});

test('a file that is one torn line is emptied', async () => {
  const path = join(dir, 'torn.jsonl');
  writeFileSync(path, '{"path":"/x');
  const { file, resumed } = await ResultsFile.open(path, { topK: 5 });
  await file.close();
  expect(resumed.droppedTornBytes).toBe(11);
  expect(readFileSync(path, 'utf8')).toBe('');
});

test('CSV: paths with commas, quotes and newlines survive a round trip and resume', async () => {
  const path = join(dir, 'r.csv');
  const odd = '/photos/a "b", c\nd.jpg';
  const first = await ResultsFile.open(path, { topK: 1 });
  await first.file.append([{ path: odd, size: 3, mtime: 't', top: [{ index: 1, wnid: 'n1', label: 'x,y', score: 0.5 }] }]);
  await first.file.close();
  const text = readFileSync(path, 'utf8');
  expect(parseCsvRecord(text.slice(text.indexOf('\n') + 1, -1))[0]).toBe(odd);
  const again = await ResultsFile.open(path, { topK: 1 });
  await again.file.close();
  expect(again.done.has(odd)).toBe(true);
  expect(again.resumed.rows).toBe(1);
});

test('CSV written with another --top-k is refused with what to do', async () => {
  const path = join(dir, 'k.csv');
  (await ResultsFile.open(path, { topK: 5 })).file.close();
  await expect(ResultsFile.open(path, { topK: 3 })).rejects.toThrow(`${path} was written with other columns than --top-k 3 gives; rerun with the options it was started with, or choose another --out.`);
});
