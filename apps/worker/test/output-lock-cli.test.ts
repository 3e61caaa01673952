import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { spawnSync } from 'node:child_process';
import { jsonl, rowsIn, runCli, startCli, startCliVia, until } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
// --lock-stale 6 (default 20): the takeovers below wait on it, and every run here agrees on it.
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--lock-stale', '6', '--quiet'];

/** A run reading paths from its standard input: it holds the output's lock until stdin closes. */
function startStdinRun(out: string, extra: string[] = [], wrapper: string[] = []): ChildProcess & { done: Promise<{ code: number | null; stderr: string }> } {
  const args = ['classify', '-', '--out', out, ...FAST, ...extra];
  const child = wrapper.length > 0 ? startCliVia(wrapper, args, {}, ['pipe', 'pipe', 'pipe']) : startCli(args, {}, ['pipe', 'pipe', 'pipe']);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return Object.assign(child, { done });
}

describe.skipIf(!photos)('one writer per --out: two real processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 12).map((f) => join(photos, f)) : [];

  test('a second run refuses naming the holder; with --wait-lock it waits, then resumes without duplicating a row', async () => {
    const out = join(dir, 'nested', 'folder', 'tags.jsonl'); // the folder is created
    const first = startStdinRun(out);
    first.stdin!.write(`${images.slice(0, 6).join('\n')}\n`);
    await until('the first rows', () => rowsIn(out) >= 6);

    const refused = await runCli(['classify', ...images, '--out', out, ...FAST]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${out} is being written by another run (pid ${first.pid} on ${hostname()}, since 20`);
    expect(refused.stderr).toContain('--wait-lock');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const tooShort = await runCli(['classify', ...images, '--out', out, ...FAST, '--lock-stale', '2']);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr.trim()).toBe('xception: --lock-stale 2 is too short to hold a lock; use at least 4 seconds (the default is 20).');

    const waiting = startCli(['classify', ...images, '--out', out, ...FAST.filter((a) => a !== '--quiet'), '--wait-lock', '120']);
    let waitingErr = '';
    waiting.stderr!.on('data', (d) => { waitingErr += d; });
    const waitingCode = new Promise<number | null>((resolve) => waiting.on('close', resolve));
    await until('the second run to wait', () => waitingErr.includes(`waiting for ${out}: another run is writing it (pid ${first.pid}`));
    await new Promise((r) => setTimeout(r, 500));
    expect(rowsIn(out)).toBe(6); // the waiting run has written nothing
    first.stdin!.end(`${images.slice(6, 9).join('\n')}\n`);
    expect((await first.done).code).toBe(0);
    expect(await waitingCode, waitingErr).toBe(0);
    expect(waitingErr).toMatch(/classified 3 inputs: 3 ok, 0 failed, 9 already done/);
    const paths = jsonl<{ path: string }>(readFileSync(out, 'utf8')).map((r) => r.path).sort();
    expect(paths).toEqual(images);
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(`${out}.lock.holder.json`)).toBe(false);
  }, 240_000);

  test('a lock left by kill -9 is taken over at once by the next run on this host', async () => {
    const out = join(dir, 'killed.jsonl');
    const first = startStdinRun(out);
    first.stdin!.write(`${images.slice(0, 4).join('\n')}\n`);
    await until('the first rows', () => rowsIn(out) >= 4);
    first.kill('SIGKILL');
    await first.done;
    expect(statSync(`${out}.lock`).isDirectory()).toBe(true); // left behind, fresh
    const started = Date.now();
    const second = await runCli(['classify', ...images, '--out', out, ...FAST]);
    expect(second.code, second.stderr).toBe(0);
    const paths = jsonl<{ path: string }>(readFileSync(out, 'utf8')).map((r) => r.path).sort();
    expect(paths).toEqual(images);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 240_000);
});

/** Another host's name on the same files, as a retried Kubernetes pod on a shared volume has (root only). */
const OTHER_HOST = ['unshare', '--uts', 'sh', '-c', 'hostname other-host && exec "$0" "$@"'];
/** A fresh PID namespace: the run is pid 1 there, as in a restarted container. */
const NEW_PID_NAMESPACE = ['unshare', '--pid', '--fork', '--kill-child'];
const canUnshare = spawnSync('unshare', ['--uts', '--pid', '--fork', 'true']).status === 0;
if (!canUnshare) console.warn('skipping the other-host, zombie and own-pid lock tests: `unshare --uts --pid` needs root');
const holderOf = (out: string): { pid: number; host: string } => JSON.parse(readFileSync(`${out}.lock.holder.json`, 'utf8')) as { pid: number; host: string };
const procState = (pid: number): string => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3); };

describe.skipIf(!photos || !canUnshare)('a dead holder is taken over; a live one on another host refuses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-lock-hosts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 8).map((f) => join(photos, f)) : [];
  const LOUD = FAST.filter((a) => a !== '--quiet');

  test('live on another host: refused; after kill -9, a rerun under another hostname at once waits for the lock to go stale and resumes', async () => {
    const out = join(dir, 'hosts.jsonl');
    const first = startStdinRun(out);
    first.stdin!.write(`${images.slice(0, 4).join('\n')}\n`);
    await until('the first rows', () => rowsIn(out) >= 4 && existsSync(`${out}.lock.holder.json`));
    const refused = await runCli(['classify', ...images, '--out', out, ...FAST], {}, OTHER_HOST);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`${out} is being written by another run (pid ${first.pid} on ${hostname()}`);

    first.kill('SIGKILL');
    await first.done;
    expect(statSync(`${out}.lock`).isDirectory()).toBe(true);
    const rerun = await runCli(['classify', ...images, '--out', out, ...LOUD], {}, OTHER_HOST);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('being written by another run');
    expect(rerun.stderr).toMatch(new RegExp(`waiting \\d+ s for the lock on ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} to go stale: its holder \\(pid ${first.pid} on ${hostname()}`));
    expect(rerun.stderr.match(/to go stale/g)).toHaveLength(1);
    expect(jsonl<{ path: string }>(readFileSync(out, 'utf8')).map((r) => r.path).sort()).toEqual(images);
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 240_000);

  test('a holder that is a zombie (killed, not yet reaped by its parent) is dead: the rerun takes over at once', async () => {
    const out = join(dir, 'zombie.jsonl');
    // sh starts the run in the background (its stdin kept through fd 3: a background job's would be
    // /dev/null), prints its pid, then becomes `sleep`, which never reaps it.
    const parent = startCliVia(['sh', '-c', 'exec 3<&0; "$0" "$@" <&3 3<&- & echo $!; exec sleep 600 3<&-'], ['classify', '-', '--out', out, ...FAST], {}, ['pipe', 'pipe', 'pipe']);
    let printed = '';
    parent.stdout!.on('data', (d) => { printed += d; });
    parent.stdin!.write(`${images.slice(0, 4).join('\n')}\n`);
    await until('the first rows', () => rowsIn(out) >= 4 && existsSync(`${out}.lock.holder.json`) && /\d+\n/.test(printed));
    const pid = Number(printed.trim());
    expect(holderOf(out).pid).toBe(pid);
    process.kill(pid, 'SIGKILL');
    await until('the run to be a zombie', () => procState(pid) === 'Z');
    try {
      const rerun = await runCli(['classify', ...images, '--out', out, ...LOUD]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).not.toContain('to go stale'); // taken over at once, not by waiting
      expect(procState(pid)).toBe('Z'); // still unreaped while the rerun ran
      expect(jsonl<{ path: string }>(readFileSync(out, 'utf8')).map((r) => r.path).sort()).toEqual(images);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 240_000);

  test('a holder whose pid is our own (a restarted container) is dead: the rerun takes over at once', async () => {
    const out = join(dir, 'own-pid.jsonl');
    const first = startStdinRun(out, [], NEW_PID_NAMESPACE);
    first.stdin!.write(`${images.slice(0, 4).join('\n')}\n`);
    await until('the first rows', () => rowsIn(out) >= 4 && existsSync(`${out}.lock.holder.json`));
    expect(holderOf(out).pid).toBe(1);
    first.kill('SIGKILL'); // unshare dies; --kill-child takes the run with it
    await first.done;
    const rerun = await runCli(['classify', ...images, '--out', out, ...LOUD], {}, NEW_PID_NAMESPACE);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('to go stale');
    expect(jsonl<{ path: string }>(readFileSync(out, 'utf8')).map((r) => r.path).sort()).toEqual(images);
  }, 240_000);
});
