import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { CLI_ARGS, jsonl, REPO, rowsIn, runCli, until } from '@xception/test-kit/worker-cli';
import { oneUrlPerShard, startHeldUrlServer, type HeldUrlServer } from './held-url-server.js';

/**
 * The README's sbatch array script, run as written on a real one-node Slurm
 * (scripts/services/slurm.sh: Debian's munge, slurmctld and slurmd), with one task requeued by
 * `scontrol requeue` while it runs; then `xception merge` must hold every input exactly once.
 * 36 photos in $PHOTOS, and in each shard one URL held by a loopback server until the requeue is
 * done: every task is still running when it is requeued, however fast the machine.
 */
const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const README = readFileSync(join(REPO, 'apps/worker/README.md'), 'utf8');
/** The fenced sh block that starts with the array script's name: what users copy. */
const ARRAY_SCRIPT = /```sh\n(#!\/bin\/bash\n# xception-array\.sh[\s\S]*?)```/.exec(README)?.[1];
const BUILT = CLI_ARGS.length === 1; // `pnpm xception` runs dist/cli.js: only a fresh build is what the sources say

function startSlurm(): { env: Record<string, string> } | { skip: string } {
  if (!photos) return { skip: SKIP_NO_SHARED };
  if (!BUILT) return { skip: 'the build is older than the sources, and the README script runs `pnpm xception` (dist/cli.js): build first' };
  const started = spawnSync('bash', [join(REPO, 'scripts/services/slurm.sh'), 'start'], { encoding: 'utf8' });
  const conf = /export SLURM_CONF=(\S+)/.exec(started.stdout)?.[1];
  if (started.status !== 0 || !conf) return { skip: `Slurm could not start here: ${started.stderr.trim().split('\n').at(-1) ?? 'no reason given'}` };
  return { env: { SLURM_CONF: conf } };
}
const slurm = startSlurm();
if ('skip' in slurm) console.warn(`skipping the Slurm array test: ${slurm.skip}`);

describe.skipIf('skip' in slurm || !ARRAY_SCRIPT)('the README\'s Slurm array on a real Slurm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-slurm-'));
  let server: HeldUrlServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { ...process.env, ...('env' in slurm ? slurm.env : {}) };
  const slurmCmd = (cmd: string, args: string[]): string => execFileSync(cmd, args, { env, encoding: 'utf8' });
  const tasksOf = (job: string): Map<string, string> => new Map(
    slurmCmd('squeue', ['-h', '-t', 'all', '-r', '-j', job, '-o', '%i %T']).trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]),
  );

  test('sbatch runs it over three shards; one task is requeued while it runs; merge holds every input once', async () => {
    const script = join(dir, 'xception-array.sh');
    writeFileSync(script, ARRAY_SCRIPT!);
    mkdirSync(join(dir, 'logs'));
    const results = join(dir, 'results');
    mkdirSync(results);
    const some = join(dir, 'photos');
    mkdirSync(some);
    const names = readdirSync(photos!).sort().slice(0, 36);
    for (const name of names) copyFileSync(join(photos!, name), join(some, name));
    server = await startHeldUrlServer(photos!);
    const held = oneUrlPerShard(server, names[0]!, 3);
    writeFileSync(join(dir, 'held-urls.txt'), `${held.join('\n')}\n`);
    // As a user would submit it, with sbatch flags for this 2-core node and test settings in the script's documented variables.
    const job = execFileSync('sbatch', ['--parsable', '--array=0-2', '--cpus-per-task=1', '--mem=1G', script], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...env,
        PATH: `${join(REPO, '.tools/node_modules/.bin')}:${env.PATH}`,
        XCEPTION_REPO: REPO,
        PHOTOS: some,
        RESULTS: results,
        XCEPTION_ARGS: `--weights none --image-size 71 --batch-size 2 --input-list ${join(dir, 'held-urls.txt')} --input-timeout 600`,
      },
    }).trim().split(';')[0]!;

    const logOf = (task: string): string => { const f = join(dir, 'logs', `xception-${job}_${task}.log`); return existsSync(f) ? readFileSync(f, 'utf8') : '(no log)'; };
    // Requeue the first task seen running with rows written.
    let requeued: string | null = null;
    const deadline = Date.now() + 240_000;
    while (!requeued && Date.now() < deadline) {
      for (const [id, state] of tasksOf(job)) {
        const task = id.split('_')[1]!;
        if (state === 'RUNNING' && rowsIn(join(results, `tags.shard-${task}-of-3.jsonl`)) > 0) {
          slurmCmd('scontrol', ['requeue', id]);
          requeued = task;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(requeued, 'no task was seen running with rows').not.toBeNull();
    // The task has taken the SIGTERM with a held URL unanswered; then the URLs are answered, and the
    // task, which a requeue otherwise holds back for a while, may start again at once.
    await until('the requeued task to stop', () => logOf(requeued!).includes('SIGTERM: stopping'), 120_000);
    server.release();
    slurmCmd('scontrol', ['update', `JobId=${job}_${requeued}`, 'StartTime=now']);
    while (Date.now() < deadline && [...tasksOf(job).values()].some((s) => s !== 'COMPLETED' && s !== 'FAILED' && s !== 'CANCELLED')) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const states = tasksOf(job);
    expect([...states.values()], ['0', '1', '2'].map(logOf).join('\n')).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(slurmCmd('scontrol', ['show', 'job', `${job}_${requeued}`])).toMatch(/Restarts=1\b/);
    expect(logOf(requeued!)).toContain('resuming'); // the second run resumed the first run's file

    const shards = readdirSync(results).filter((f) => /^tags\.shard-\d-of-3\.jsonl$/.test(f)).sort().map((f) => join(results, f));
    expect(shards).toHaveLength(3);
    const merged = join(results, 'tags.jsonl');
    const merge = await runCli(['merge', merged, ...shards]);
    expect(merge.code, merge.stderr).toBe(0);
    const paths = jsonl<{ path: string }>(readFileSync(merged, 'utf8')).map((r) => r.path).sort();
    expect(paths).toEqual([...names.map((f) => join(some, f)), ...held].sort()); // each once: nothing lost, nothing doubled
  }, 300_000);
});
