import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, REPO, runCli, startCliVia } from '@xception/test-kit/worker-cli';

/**
 * The README's Kubernetes Indexed Job, as far as it can run here (no kind or k3s: their images
 * come from outside): each pod's command and env taken from the README's YAML, run once per
 * JOB_COMPLETION_INDEX with the volumes' mount paths mapped to folders; one pod is killed -9 and
 * retried under another hostname on the same files (`unshare --uts`), as a retried pod on a
 * shared volume is. `xception merge` must then hold every input exactly once.
 */
const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const README = readFileSync(join(REPO, 'apps/worker/README.md'), 'utf8');
const YAML = /```yaml\n(# xception-job\.yaml[\s\S]*?)```/.exec(README)?.[1] ?? '';
const COMMAND = /command: \[([^\]]*)\]/.exec(YAML)?.[1]?.split(',').map((s) => s.trim()) ?? [];
const SHARD_COUNT = /name: XCEPTION_SHARD_COUNT, value: "(\d+)"/.exec(YAML)?.[1];
const canUnshare = spawnSync('unshare', ['--uts', 'true']).status === 0;
if (!canUnshare) console.warn('skipping the Kubernetes Job test: a retried pod is imitated with `unshare --uts`, which needs root');
// --lock-stale 6 (default 20): the retried pod waits on it.
const TEST_FLAGS = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--lock-stale', '6'];

describe.skipIf(!photos || !canUnshare)('the README\'s Kubernetes Indexed Job, pod by pod', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-k8s-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every index runs its shard from JOB_COMPLETION_INDEX; a pod killed -9 and retried on another host resumes; merge holds every input once', async () => {
    expect(COMMAND.slice(0, 3)).toEqual(['pnpm', 'xception', 'classify']);
    expect(SHARD_COUNT).toBeDefined();
    const count = Number(SHARD_COUNT);
    // The pod's view of its volumes (/data/photos, /results) mapped to folders here.
    const args = COMMAND.slice(2).map((a) => a.replace(/^\/data\/photos/, photos!).replace(/^\/results/, dir));
    const podEnv = (index: number): NodeJS.ProcessEnv => ({ JOB_COMPLETION_INDEX: String(index), XCEPTION_SHARD_COUNT: SHARD_COUNT! });
    const shardFile = (index: number): string => join(dir, `tags.shard-${index}-of-${count}.jsonl`);

    // Pod 0's first try dies (kill -9) after its first rows; its retry runs on another host at once.
    const doomed = startCliVia(['env'], [...args, ...TEST_FLAGS], podEnv(0));
    const died = new Promise((resolve) => doomed.on('close', resolve));
    const deadline = Date.now() + 120_000;
    while (!(existsSync(shardFile(0)) && readFileSync(shardFile(0), 'utf8').split('\n').length > 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    doomed.kill('SIGKILL');
    await died;
    const retry = await runCli([...args, ...TEST_FLAGS], podEnv(0), ['unshare', '--uts', 'sh', '-c', 'hostname retried-pod && exec "$0" "$@"']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).toContain('to go stale');
    expect(retry.stderr).toContain('resuming');

    for (let index = 1; index < count; index++) {
      const pod = await runCli([...args, ...TEST_FLAGS], podEnv(index));
      expect(pod.code, pod.stderr).toBe(0);
      expect(pod.stderr).toContain(`shard ${index}/${count} (from Kubernetes Indexed Job)`);
    }
    const merged = join(dir, 'tags.jsonl');
    const merge = await runCli(['merge', merged, ...Array.from({ length: count }, (_, i) => shardFile(i))]);
    expect(merge.code, merge.stderr).toBe(0);
    const paths = jsonl<{ path: string }>(readFileSync(merged, 'utf8')).map((r) => r.path).sort();
    expect(paths).toEqual(readdirSync(photos!).map((f) => join(photos!, f)).sort());
  }, 300_000);
});
