import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { oraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { parseCsvRecord, ResultsFile } from './results-file.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a torn last line is cut and every complete row counts as done', async () => {
  const path = join(dir, 'r.jsonl');
  writeFileSync(path, '{"path":"/a.jpg","top":[]}\n{"path":"/b.jpg","error":{"code":"E","message":"m"}}\n{"path":"/c.jp');
  const { file, done, resumed } = await ResultsFile.open(path, { topK: 5 });
  expect(resumed).toEqual({ rows: 2, failures: 1, droppedTornBytes: '{"path":"/c.jp'.length, retried: 0 });
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

test('CSV written with another topK is refused with what to do', async () => {
  const path = join(dir, 'k.csv');
  (await ResultsFile.open(path, { topK: 5 })).file.close();
  await expect(ResultsFile.open(path, { topK: 3 })).rejects.toThrow(`${path} was written with other columns than topK: 3 gives; rerun with the options it was started with, or choose another output path.`);
});

test('CSV: a torn header (kill -9 while it was written) is cut and written again, so the file resumes', async () => {
  const path = join(dir, 'torn-header.csv');
  writeFileSync(path, 'path,size,mt');
  const first = await ResultsFile.open(path, { topK: 1 });
  await first.file.append([{ path: '/a.jpg', top: [{ index: 1, wnid: 'n1', label: 'x', score: 0.5 }] }]);
  await first.file.close();
  const again = await ResultsFile.open(path, { topK: 1 });
  await again.file.close();
  expect(again.resumed.rows).toBe(1);
  expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('path,size,mtime,status,error_code,error_message,top1_index,top1_wnid,top1_label,top1_score,decode_ms,infer_ms');
});

const python = oraclePython();
test.skipIf(!python)('CSV: a path with a lone \\r is done on resume (not redone and duplicated); Python\'s csv module reads it back', async () => {
  if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);
  const path = join(dir, 'cr.csv');
  const odd = '/photos/a\rb.jpg';
  for (let run = 0; run < 3; run++) {
    const { file, done } = await ResultsFile.open(path, { topK: 1 });
    if (!done.has(odd)) await file.append([{ path: odd, top: [{ index: 1, wnid: 'n1', label: 'x', score: 0.5 }] }]);
    await file.close();
  }
  const paths = JSON.parse(execFileSync(python!, ['-c', 'import csv, json, sys; print(json.dumps([r["path"] for r in csv.DictReader(open(sys.argv[1], newline=""))]))', path], { encoding: 'utf8' })) as string[];
  expect(paths).toEqual([odd]);
});

test.skipIf(!existsSync('/dev/full'))('a write the disk refuses (/dev/full: ENOSPC) is a one-sentence error saying to rerun', async () => {
  const { file } = await ResultsFile.open('/dev/full', { topK: 5, format: 'jsonl' });
  await expect(file.append([{ path: '/a.jpg', top: [] }])).rejects.toThrow('Cannot write rows to /dev/full (ENOSPC: the disk is full); fix that, then rerun the same job to resume.');
  await file.close();
});
