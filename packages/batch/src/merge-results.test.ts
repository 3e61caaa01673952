import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { BatchError, type BatchWords } from './batch-error.js';
import { mergeResults } from './merge-results.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (path: string, label: string): string => `${JSON.stringify({ path, top: [{ index: 1, wnid: 'n0', label, score: 0.5 }] })}\n`;
const cliWords: BatchWords = { option: (o, v) => (o === 'skipBadRows' ? '--skip-bad-rows' : o === 'parts' ? 'the parts' : `--${o}${v === undefined ? '' : ` ${v}`}`), command: 'command', writer: () => 'x' };

test('JSONL parts: the first row of a path is kept, a torn last line is no loss, and the summary counts them', async () => {
  writeFileSync(join(dir, 'a.jsonl'), row('/p/1.jpg', 'one') + row('/p/2.jpg', 'two'));
  writeFileSync(join(dir, 'b.jsonl'), row('/p/2.jpg', 'again') + row('/p/3.jpg', 'three') + '{"path": "/p/4.jp');
  const summary = await mergeResults(join(dir, 'all.jsonl'), [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')]);
  expect(summary).toEqual({ parts: 2, rows: 3, duplicates: 1, skipped: [] });
  const rows = readFileSync(join(dir, 'all.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; top: Array<{ label: string }> });
  expect(rows.map((r) => [r.path, r.top[0]!.label])).toEqual([['/p/1.jpg', 'one'], ['/p/2.jpg', 'two'], ['/p/3.jpg', 'three']]);
});

test('refusals are typed, worded by the caller, and write nothing', async () => {
  const refused = async (out: string, parts: string[], code: string): Promise<BatchError> => {
    const error = await mergeResults(out, parts).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(BatchError);
    expect((error as BatchError).code).toBe(code);
    return error as BatchError;
  };
  const before = readdirSync(dir).sort();
  const none = await refused(join(dir, 'x.jsonl'), [], 'ERR_MERGE_INVALID');
  expect(none.isOptionsError).toBe(true);
  expect(none.describe(cliWords)).toBe('Nothing to merge: give the parts.');
  expect((await refused(join(dir, 'x.csv'), [join(dir, 'a.jsonl')], 'ERR_MERGE_INVALID')).message).toBe(`Merge files of one format: ${join(dir, 'x.csv')} is csv, so every part must be too.`);
  await refused(join(dir, 'all.jsonl'), [join(dir, 'a.jsonl')], 'ERR_MERGE_INVALID');
  await refused(join(dir, 'x.jsonl'), [join(dir, 'missing.jsonl')], 'ERR_MERGE_PART_MISSING');
  writeFileSync(join(dir, 'bad.jsonl'), `${row('/p/9.jpg', 'nine')}not json\n`);
  const bad = await refused(join(dir, 'x.jsonl'), [join(dir, 'a.jsonl'), join(dir, 'bad.jsonl')], 'ERR_MERGE_BAD_ROWS');
  expect(bad.describe(cliWords)).toMatch(/^1 row or part of the parts could not be read \(listed above, first .*bad\.jsonl line 2 \(not a JSON row with a path\)\).*pass --skip-bad-rows to merge without them/);
  expect(readdirSync(dir).sort()).toEqual(before.concat('bad.jsonl').sort());
  expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
});
