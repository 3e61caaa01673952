import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { runCli, type CliRun } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
const dir = mkdtempSync(join(tmpdir(), 'xception-output-errors-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});
const FAST = ['--weights', 'none', '--image-size', '71', '--threads', '1'];

/** A real tmpfs of `kib` KiB (read-only with `ro`), or null with the reason where mounting is not permitted. */
function tmpfs(name: string, kib: number, ro = false): string | null {
  const at = join(dir, name);
  mkdirSync(at);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${ro ? 'ro,' : ''}size=${kib}k`, 'tmpfs', at], { stdio: 'pipe' });
  } catch (error) {
    console.warn(`skipped: mount -t tmpfs is not permitted here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`);
    return null;
  }
  mounts.push(at);
  return at;
}

/** One line on stderr, `xception: ...`, naming the flag; no stack trace. */
function expectOneSentence(run: CliRun, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.split('\n').filter((l) => l.startsWith('xception:'));
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
}

describe.skipIf(!photos)(`output errors in the words of --out ${photos ? '' : SKIP_NO_SHARED}`, () => {
  const images = photos ? readdirSync(photos).sort().slice(0, 4).map((f) => join(photos, f)) : [];

  test('classify --out naming a folder: one sentence, and no stray <out>.model.json', async () => {
    const folder = join(dir, 'results');
    mkdirSync(folder);
    const run = await runCli(['classify', images[0]!, '--out', folder, ...FAST, '--quiet']);
    expectOneSentence(run, /^xception: --out .*results is a folder, EISDIR; name a file inside it as --out, then run again\.$/);
    expect(existsSync(`${folder}.model.json`)).toBe(false);
  }, 60_000);

  test('classify and train --out on a read-only file system', async () => {
    const ro = tmpfs('ro', 64, true);
    if (!ro) return;
    const classify = await runCli(['classify', images[0]!, '--out', join(ro, 'r.jsonl'), ...FAST, '--quiet']);
    expectOneSentence(classify, /r\.jsonl.*(read-only|EROFS).*choose a writable --out/);
    const data = join(dir, 'data-ro');
    for (const [i, image] of images.entries()) {
      mkdirSync(join(data, i < 2 ? 'a' : 'b'), { recursive: true });
      copyFileSync(image, join(data, i < 2 ? 'a' : 'b', `${i}.jpg`));
    }
    const train = await runCli(['train', '--data', data, '--out', join(ro, 'model.keras'), ...FAST, '--epochs', '1', '--quiet']);
    expectOneSentence(train, /^xception: --out .*model\.keras is on a read-only file system \(writing .*model\.keras\.training\), EROFS; choose a writable --out, then run again\.$/);
  }, 120_000);

  test('classify on a full disk: the in-flight journal, the rows; each one sentence naming --out', async () => {
    // 64 KiB of tmpfs is 16 pages; all but `free` of them filled before the run. With one page
    // free the model record fails, with two the in-flight journal, with three the rows.
    const expected = [/--out .*r\.jsonl is on a full disk, ENOSPC/, /--out .*r\.jsonl is on a full disk, ENOSPC/, /Cannot write rows to .*r\.jsonl \(ENOSPC: the disk is full\)/];
    for (const free of [1, 2, 3]) {
      const disk = tmpfs(`full-${free}`, 64);
      if (!disk) return;
      writeFileSync(join(disk, 'fill'), Buffer.alloc((16 - free) * 4096));
      const run = await runCli(['classify', ...images.slice(0, 2), '--out', join(disk, 'r.jsonl'), ...FAST, '--quiet']);
      expectOneSentence(run, expected[free - 1]!);
      expect(readdirSync(disk).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  }, 180_000);

  test('train: progress during the feature pass, and a full disk at its final write kept the features', async () => {
    const disk = tmpfs('train-full', 8 * 1024);
    if (!disk) return;
    const data = join(dir, 'data');
    for (const [i, image] of images.entries()) {
      mkdirSync(join(data, i < 2 ? 'a' : 'b'), { recursive: true });
      copyFileSync(image, join(data, i < 2 ? 'a' : 'b', `${i}.jpg`));
    }
    const out = join(disk, 'model.keras');
    // A progress line per batch (XCEPTION_PROGRESS_INTERVAL=0), as a log collector sees them.
    const run = await runCli(['train', '--data', data, '--out', out, ...FAST, '--epochs', '1', '--batch-size', '2', '--val-split', '0'], { XCEPTION_PROGRESS_INTERVAL: '0' });
    expect(run.stderr).toMatch(/progress: 2\/4 images/);
    expect(run.stderr).toMatch(/progress: 4\/4 images/);
    // Xception's 83 MB of weights do not fit in 8 MiB.
    expectOneSentence(run, /^xception: --out .*model\.keras is on a full disk.*ENOSPC; free some space or choose another --out, then run again\.$/);
    expect(existsSync(join(`${out}.training`, 'features.f32'))).toBe(true);
    expect(readdirSync(disk)).not.toContain('model.keras');
  }, 240_000);
});

describe.skipIf(!photos)(`tag on a photo whose file name is not UTF-8 ${photos ? '' : SKIP_NO_SHARED}`, () => {
  test('says so, with what to do, instead of ENOENT on a mangled path', async () => {
    const folder = join(dir, 'latin1');
    mkdirSync(folder);
    const name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.jpg')]); // "café.jpg" in Latin-1
    copyFileSync(join(photos!, readdirSync(photos!).sort()[0]!), Buffer.concat([Buffer.from(`${folder}/`), name]));
    const run = await runCli(['tag', folder, ...FAST, '--threshold', '0']);
    expect(run.stderr).toMatch(/failed: .*caf\uFFFD\.jpg: the file name is not valid UTF-8 .*rename it to UTF-8/);
    expect(run.stderr).not.toMatch(/ENOENT|\n\s+at /);
  }, 60_000);
});
