import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/core/testing';
import { jsonl, runCli, startCli } from './run-cli.js';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];

/** A run reading paths from its standard input: it holds the output's lock until stdin closes. */
function startStdinRun(out: string, extra: string[] = []): ChildProcess & { done: Promise<{ code: number | null; stderr: string }> } {
  const child = startCli(['classify', '-', '--out', out, ...FAST, ...extra], {}, ['pipe', 'pipe', 'pipe']);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return Object.assign(child, { done });
}

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rowsIn = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length : 0);

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
