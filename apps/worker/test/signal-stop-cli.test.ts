import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, rowsIn, runCli, startCli, until } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
// The default batch size (8); tiny images and a seeded model keep it fast.
const FAST = ['--weights', 'none', '--image-size', '71', '--threads', '1'];

const pathsIn = (file: string): string[] => jsonl<{ path: string }>(readFileSync(file, 'utf8')).map((r) => r.path).sort();

describe.skipIf(!photos)('SIGTERM and SIGINT stop a run cleanly; the rerun resumes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-signal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 32).map((f) => join(photos, f)) : [];
  /**
   * A run given its first 24 paths (3 batches) on standard input, which stays open: it cannot
   * finish before the signal, and the last 8 paths are left for the rerun.
   */
  const startHeld = (kind: 'classify' | 'embed', out: string): ReturnType<typeof startCli> => {
    const child = startCli([kind, '-', '--out', out, ...FAST], {}, ['pipe', 'pipe', 'pipe']);
    child.stdin!.on('error', () => {}); // the signal may close the pipe under a pending write
    child.stdin!.write(`${images.slice(0, 24).join('\n')}\n`);
    return child;
  };

  for (const [signal, code, kind] of [['SIGTERM', 143, 'classify'], ['SIGTERM', 143, 'embed'], ['SIGINT', 130, 'classify']] as const) {
    test(`${kind}: ${signal} mid-run exits ${code} with the lock released, then a rerun has every input exactly once`, async () => {
      const out = join(dir, `${kind}-${signal}.jsonl`);
      const child = startHeld(kind, out);
      let stderr = '';
      child.stderr!.on('data', (d) => { stderr += d; });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, died) => resolve(died)));
      await until('the first batch', () => rowsIn(out) >= 8, 120_000);
      const sent = Date.now();
      child.kill(signal);
      const diedOf = await exited;
      console.log(`${kind} ${signal}: ended after ${Date.now() - sent} ms with ${rowsIn(out)} of ${images.length} rows`);
      expect(diedOf, stderr).toBe(signal); // re-raised: a shell's $? is ${code}
      expect(stderr).toContain(`exit status ${code}`);
      expect(stderr).toMatch(new RegExp(`stopped by ${signal} after \\d+ inputs`));
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(rowsIn(out)).toBeLessThan(images.length); // it stopped early: there is something left to resume
      expect(existsSync(`${out}.lock`)).toBe(false);
      expect(existsSync(`${out}.lock.holder.json`)).toBe(false);
      expect(existsSync(`${out}.inflight.jsonl`)).toBe(false); // nothing counted as a crash

      const rerun = await runCli([kind, ...images, '--out', out, ...FAST]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).not.toContain('in flight');
      expect(pathsIn(out)).toEqual(images); // each once: nothing lost, nothing doubled
    }, 300_000);
  }

  test('a second SIGTERM abandons the batches in flight at once: lock released, nothing counted as a crash, the rerun has every input once', async () => {
    const out = join(dir, 'abandoned.jsonl');
    const child = startHeld('classify', out);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, died) => resolve(died)));
    await until('the first batch', () => rowsIn(out) >= 8, 120_000);
    child.kill('SIGTERM');
    await until('the first signal to be taken', () => stderr.includes('SIGTERM: stopping'));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe('SIGTERM');
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(`${out}.lock.holder.json`)).toBe(false);
    const rerun = await runCli(['classify', ...images, '--out', out, ...FAST]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('in flight');
    expect(pathsIn(out)).toEqual(images);
  }, 300_000);

  test('SIGTERM while reading paths from standard input: the pending read does not keep the run alive', async () => {
    const out = join(dir, 'stdin.jsonl');
    const child = startCli(['classify', '-', '--out', out, ...FAST], {}, ['pipe', 'pipe', 'pipe']);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, died) => resolve(died)));
    child.stdin!.write(`${images.slice(0, 8).join('\n')}\n`); // stdin stays open
    await until('the first batch', () => rowsIn(out) >= 8, 120_000);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe('SIGTERM');
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(pathsIn(out)).toEqual(images.slice(0, 8));
  }, 300_000);
});
