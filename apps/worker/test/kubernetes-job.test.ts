import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { inShard } from '@xception/batch';
import { jsonl, REPO, runCli, startCliVia } from '@xception/test-kit/worker-cli';
import { oneUrlPerShard, startHeldUrlServer, type HeldUrlServer } from './held-url-server.js';

/**
 * The README's Kubernetes Indexed Job, as far as it can run here (no kind or k3s: their images
 * come from outside): each pod's command and env taken from the README's YAML, run once per
 * JOB_COMPLETION_INDEX with the volumes' mount paths mapped to folders; one pod is killed -9 and
 * retried under another hostname on the same files (`unshare --uts`), as a retried pod on a
 * shared volume is. `xception merge` must then hold every input exactly once. The photos volume
 * holds 4 photos per shard, and each shard also has one URL held by a loopback server until the
 * first pod is killed: the kill always lands mid-run, however fast the machine.
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
  let server: HeldUrlServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every index runs its shard from JOB_COMPLETION_INDEX; a pod killed -9 and retried on another host resumes; merge holds every input once', async () => {
    expect(COMMAND.slice(0, 3)).toEqual(['pnpm', 'xception', 'classify']);
    expect(SHARD_COUNT).toBeDefined();
    const count = Number(SHARD_COUNT);
    // The photos volume: 4 photos for each shard (by the worker's own shard rule).
    const volume = join(dir, 'photos');
    mkdirSync(volume);
    const names = readdirSync(photos!).sort();
    const some = Array.from({ length: count }, (_, index) => names.filter((n) => inShard(join(volume, n), { index, count, source: '--shard' })).slice(0, 4)).flat();
    for (const name of some) copyFileSync(join(photos!, name), join(volume, name));
    server = await startHeldUrlServer(photos!);
    const held = oneUrlPerShard(server, names[0]!, count);
    writeFileSync(join(dir, 'held-urls.txt'), `${held.join('\n')}\n`);
    const flags = [...TEST_FLAGS, '--input-list', join(dir, 'held-urls.txt'), '--input-timeout', '600'];
    // The pod's view of its volumes (/data/photos, /results) mapped to folders here.
    const args = COMMAND.slice(2).map((a) => a.replace(/^\/data\/photos/, volume).replace(/^\/results/, dir));
    const podEnv = (index: number): NodeJS.ProcessEnv => ({ JOB_COMPLETION_INDEX: String(index), XCEPTION_SHARD_COUNT: SHARD_COUNT! });
    const shardFile = (index: number): string => join(dir, `tags.shard-${index}-of-${count}.jsonl`);

    // Pod 0's first try dies (kill -9) after its first rows; its retry runs on another host at once.
    const doomed = startCliVia(['env'], [...args, ...flags], podEnv(0));
    const died = new Promise((resolve) => doomed.on('close', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 120_000;
    while (!(existsSync(shardFile(0)) && readFileSync(shardFile(0), 'utf8').split('\n').length > 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    doomed.kill('SIGKILL');
    expect(await died).toBe('SIGKILL'); // it was still running: its held URL had no answer yet
    server.release();
    const retry = await runCli([...args, ...flags], podEnv(0), ['unshare', '--uts', 'sh', '-c', 'hostname retried-pod && exec "$0" "$@"']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).toContain('to go stale');
    expect(retry.stderr).toContain('resuming');

    for (let index = 1; index < count; index++) {
      const pod = await runCli([...args, ...flags], podEnv(index));
      expect(pod.code, pod.stderr).toBe(0);
      expect(pod.stderr).toContain(`shard ${index}/${count} (from Kubernetes Indexed Job)`);
    }
    const merged = join(dir, 'tags.jsonl');
    const merge = await runCli(['merge', merged, ...Array.from({ length: count }, (_, i) => shardFile(i))]);
    expect(merge.code, merge.stderr).toBe(0);
    const paths = jsonl<{ path: string }>(readFileSync(merged, 'utf8')).map((r) => r.path).sort();
    expect(paths).toEqual([...some.map((n) => join(volume, n)), ...held].sort());
  }, 300_000);
});
