import { expect, test } from 'vitest';
import { runOnlyNodeExample } from '@xception/test-kit';
import { BatchError, resolveShard, type BatchWords } from './index.js';

test("the README's example runs in plain Node: a second run resumes after the rows the first one wrote", () => {
  const lines = runOnlyNodeExample(new URL('../README.md', import.meta.url), []).trim().split('\n');
  expect(lines).toEqual(['1 0 4', '2 2 2']);
});

test("an error is one sentence in the library's words, and in a front door's through describe()", () => {
  const error = (() => { try { resolveShard('4/4'); } catch (e) { return e as BatchError; } throw new Error('not refused'); })();
  expect(error).toBeInstanceOf(BatchError);
  expect(error).toMatchObject({ code: 'ERR_SHARD_INVALID', isOptionsError: true });
  expect(error.message).toBe("shard must be i/n with 0 <= i < n, such as 0/4; received '4/4'.");
  const flags: BatchWords = { option: (o, v) => `--${o}${v === undefined ? '' : ` ${v}`}`, command: 'command', writer: () => 'the CLI' };
  expect(error.describe(flags)).toBe("--shard must be i/n with 0 <= i < n, such as 0/4; received '4/4'.");
});
