import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

interface Row { path: string; top?: unknown[]; error?: { code: string; message: string } }

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];

describe.skipIf(!photos)('an input that kills the process (a poison pill)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-poison-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 8).map((f) => join(photos, f)) : [];
  const pill = images[3]!;
  // The test-only hook: the process SIGKILLs itself once this input is in flight.
  const crashOnPill = { XCEPTION_TEST_CRASH_ON: basename(pill) };

  test('dies twice with it in flight, then gets ERR_INPUT_CRASHED and the run moves on; --retry-failed runs it again', async () => {
    const out = join(dir, 'tags.jsonl');
    const first = await runCli(['classify', ...images, '--out', out, ...FAST], crashOnPill);
    expect(first.code).toBeNull(); // killed by a signal
    const second = await runCli(['classify', ...images, '--out', out, ...FAST], crashOnPill);
    expect(second.code).toBeNull();
    // Its neighbours in flight during the first crash were retried alone and finished.
    const afterTwo = jsonl<Row>(readFileSync(out, 'utf8'));
    expect(afterTwo.map((r) => r.path).sort()).toEqual(images.filter((p) => p !== pill));
    expect(afterTwo.every((r) => !r.error)).toBe(true);

    const third = await runCli(['classify', ...images, '--out', out, ...FAST], crashOnPill);
    expect(third.code, third.stderr).toBe(3);
    const rows = jsonl<Row>(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.path).sort()).toEqual(images);
    const failed = rows.filter((r) => r.error);
    expect(failed.map((r) => [r.path, r.error!.code])).toEqual([[pill, 'ERR_INPUT_CRASHED']]);
    expect(failed[0]!.error!.message).toContain('--retry-failed');

    const retried = await runCli(['classify', ...images, '--out', out, ...FAST, '--retry-failed']);
    expect(retried.code, retried.stderr).toBe(0);
    const final = jsonl<Row>(readFileSync(out, 'utf8'));
    expect(final.map((r) => r.path).sort()).toEqual(images); // one row per input: the error row was replaced
    expect(final.every((r) => r.top && !r.error)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['tags.jsonl', 'tags.jsonl.model.json']); // no journal or lock left after a clean end
  }, 300_000);
});
