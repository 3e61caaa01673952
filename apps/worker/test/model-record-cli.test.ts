import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { writeTfjsArtifacts } from '@xception/weights';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const FAST = ['--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];

describe.skipIf(!photos)('every output records its model; resuming with another one is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-model-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 3).map((f) => join(photos, f)) : [];
  const out = join(dir, 'tags.jsonl');

  test('the record beside the output, and its id in every row', async () => {
    const run = await runCli(['classify', ...images, '--out', out, ...FAST, '--weights', 'none']);
    expect(run.code, run.stderr).toBe(0);
    const record = JSON.parse(readFileSync(`${out}.model.json`, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ kind: 'classify', weights: 'none', weightsSha256: 'random', top: true, inputSize: 71, resize: 'squash', topK: 5 });
    expect(jsonl<{ model: string }>(readFileSync(out, 'utf8')).map((r) => r.model)).toEqual(images.map(() => record.id));
  }, 120_000);

  test('other weights, --top-k or --resize: refused with what differs, the output untouched', async () => {
    const before = readFileSync(out, 'utf8');
    const config = resolveXceptionConfig({ weights: null });
    const artifacts = join(dir, 'artifacts');
    await writeTfjsArtifacts({ outDir: artifacts, config, values: saneRandomWeights(expectedWeights(config), 4), quantize: null });
    const otherWeights = await runCli(['classify', ...images, '--out', out, ...FAST, '--weights', join(artifacts, 'model.json')]);
    expect(otherWeights.code).toBe(1);
    expect(otherWeights.stderr).toMatch(new RegExp(`was written by another model or settings: --weights ${join(artifacts, 'model.json')} \\(sha256 [0-9a-f]{12}…\\) instead of none \\(sha256 none: random\\); rerun with the options`));
    const otherSettings = await runCli(['classify', ...images, '--out', out, ...FAST, '--weights', 'none', '--top-k', '3', '--resize', 'center-crop']);
    expect(otherSettings.code).toBe(1);
    expect(otherSettings.stderr).toContain('--resize center-crop instead of squash; --top-k 3 instead of 5');
    for (const r of [otherWeights, otherSettings]) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(out, 'utf8')).toBe(before);
  }, 180_000);
});
