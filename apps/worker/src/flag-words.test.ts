import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { asOutputError, resolveShard, ResultsFile } from '@xception/batch';
import { CliError } from './cli-error.js';
import { inFlagWords } from './flag-words.js';

/** @xception/batch's errors, said through the CLI's one hook: flags, and exit 2 for an options mistake. */
describe("@xception/batch's errors in flag words", () => {
  test.each([
    ['3/3', {}, "--shard must be i/n with 0 <= i < n, such as 0/4; received '3/3'."],
    ['a/b', {}, "--shard must be i/n with 0 <= i < n, such as 0/4; received 'a/b'."],
    [undefined, { JOB_COMPLETION_INDEX: '1' }, "JOB_COMPLETION_INDEX is set but the shard count is not: set XCEPTION_SHARD_COUNT (the Job's completions) in the Job's env, or pass --shard i/n."],
    [undefined, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '3' }, 'The Slurm array gives shard 5 of 3, which is not a valid split; check the array or Job settings.'],
  ])('%s %j is a usage error', (flag, env, message) => {
    let caught: unknown;
    try { resolveShard(flag, env); } catch (error) { caught = inFlagWords(error); }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toBe(message);
    expect((caught as CliError).exitCode).toBe(2);
  });

  test('an unwritable output names --out and exits 1', () => {
    const error = inFlagWords(asOutputError(Object.assign(new Error('x'), { code: 'EISDIR', path: '/data/out' }), '/data/out'));
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('--out /data/out is a folder, EISDIR; name a file inside it as --out, then run again.');
    expect((error as CliError).code).toBe('ERR_OUTPUT_UNWRITABLE');
    expect((error as CliError).exitCode).toBe(1);
  });

  const dir = mkdtempSync(join(tmpdir(), 'xception-flag-words-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cliErrorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, inFlagWords);

  test('a CSV written with another --top-k is refused naming --top-k and --out', async () => {
    const path = join(dir, 'k.csv');
    await (await ResultsFile.open(path, { topK: 5 })).file.close();
    const error = await cliErrorOf(ResultsFile.open(path, { topK: 3 }));
    expect((error as CliError).message).toBe(`${path} was written with other columns than --top-k 3 gives; rerun with the options it was started with, or choose another --out.`);
  });

  test.skipIf(!existsSync('/dev/full'))('a write the disk refuses (/dev/full: ENOSPC) says to rerun the same command', async () => {
    const { file } = await ResultsFile.open('/dev/full', { topK: 5, format: 'jsonl' });
    const error = await cliErrorOf(file.append([{ path: '/a.jpg', top: [] }]));
    await file.close();
    expect((error as CliError).message).toBe('Cannot write rows to /dev/full (ENOSPC: the disk is full); fix that, then rerun the same command to resume.');
  });
});
