import { describe, expect, test } from 'vitest';
import { BatchError } from './batch-error.js';
import { inShard, resolveShard, shardOutputPath } from './shard.js';

describe('resolveShard', () => {
  test('--shard i/n wins over the environment', () => {
    expect(resolveShard('2/5', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({ index: 2, count: 5, source: '--shard' });
  });
  test('Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX with the count set in the Job', () => {
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '3', XCEPTION_SHARD_COUNT: '8' })).toMatchObject({ index: 3, count: 8 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' })).toMatchObject({ index: 0, count: 2 });
  });
  test('Slurm arrays, including ones that do not start at 0', () => {
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toMatchObject({ index: 1, count: 3 });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 1, count: 4 });
  });
  test('no flag, no scheduler: no sharding', () => {
    expect(resolveShard(undefined, {})).toBeNull();
  });
  test.each([
    ['3/3', {}, "shard must be i/n with 0 <= i < n, such as 0/4; received '3/3'."],
    ['a/b', {}, "shard must be i/n with 0 <= i < n, such as 0/4; received 'a/b'."],
    [undefined, { JOB_COMPLETION_INDEX: '1' }, "JOB_COMPLETION_INDEX is set but the shard count is not: set XCEPTION_SHARD_COUNT (the Job's completions) in the Job's env, or pass shard: i/n."],
    [undefined, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '3' }, 'The Slurm array gives shard 5 of 3, which is not a valid split; check the array or Job settings.'],
  ])('%s %j is an options error, in the library\'s words', (flag, env, message) => {
    let caught: unknown;
    try { resolveShard(flag, env); } catch (error) { caught = error; }
    expect(caught).toBeInstanceOf(BatchError);
    expect((caught as BatchError).message).toBe(message);
    expect((caught as BatchError).code).toBe('ERR_SHARD_INVALID');
  });
});

test('every path is in exactly one of n shards, whatever the order', () => {
  const paths = Array.from({ length: 3000 }, (_, i) => `/data/${i}.jpg`);
  const count = 3;
  const owners = paths.map((p) => [0, 1, 2].filter((index) => inShard(p, { index, count, source: 't' })));
  expect(owners.every((o) => o.length === 1)).toBe(true);
  const sizes = [0, 1, 2].map((i) => owners.filter((o) => o[0] === i).length);
  for (const s of sizes) expect(s).toBeGreaterThan(900); // roughly even
});

test('shard outputs get their own file names', () => {
  expect(shardOutputPath('out/results.jsonl', { index: 2, count: 8, source: '' })).toBe('out/results.shard-2-of-8.jsonl');
  expect(shardOutputPath('results', { index: 0, count: 2, source: '' })).toBe('results.shard-0-of-2');
  expect(shardOutputPath('results.csv', null)).toBe('results.csv');
});
