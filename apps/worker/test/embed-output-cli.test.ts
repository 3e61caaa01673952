import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oraclePython, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, runCli, startCli, until } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
const python = oraclePython();
if (!photos) console.warn(SKIP_NO_SHARED);
if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];

/** NumPy reads the .npy and the JSONL rows and says how they compare, path by path. */
function numpyCompare(npy: string, rowsJsonl: string): { shape: number[]; dtype: string; maxDiff: number; paths: string[] } {
  const script = `
import json, sys, numpy as np
a = np.load(sys.argv[1])
paths = [json.loads(l) if l.startswith('"') else l for l in open(sys.argv[1][:-4] + '.paths.txt', encoding='utf8').read().split('\\n')[:-1]]
rows = {r['path']: r['features'] for r in map(json.loads, open(sys.argv[2], encoding='utf8')) if 'features' in r}
diff = max(float(np.abs(a[i] - np.asarray(rows[p], dtype=np.float32)).max()) for i, p in enumerate(paths))
print(json.dumps({'shape': list(a.shape), 'dtype': str(a.dtype), 'maxDiff': diff, 'paths': paths}))`;
  return JSON.parse(execFileSync(python!, ['-c', script, npy, rowsJsonl], { encoding: 'utf8' })) as ReturnType<typeof numpyCompare>;
}

const duBytes = (dir: string, prefix: string): number =>
  readdirSync(dir).filter((f) => f.startsWith(prefix)).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

describe.skipIf(!photos || !python)('embed --out x.npy: a binary journal; merge of .npy shards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-embed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 10).map((f) => join(photos, f)) : [];
  const reference = join(dir, 'reference.jsonl');

  test('the rows NumPy reads equal the JSONL features; everything embed leaves is under 1.1x the features', async () => {
    expect((await runCli(['embed', ...images, '--out', reference, ...FAST])).code).toBe(0);
    const out = join(dir, 'features.npy');
    const run = await runCli(['embed', ...images, '--out', out, ...FAST]);
    expect(run.code, run.stderr).toBe(0);
    const seen = numpyCompare(out, reference);
    expect(seen).toMatchObject({ shape: [10, 2048], dtype: 'float32', maxDiff: 0 });
    expect([...seen.paths].sort()).toEqual(images);
    expect(readdirSync(dir).filter((f) => f.startsWith('features')).sort()).toEqual(['features.npy', 'features.npy.model.json', 'features.paths.txt']);
    expect(duBytes(dir, 'features')).toBeLessThan(1.1 * 10 * 2048 * 4);
  }, 180_000);

  test('kill -9 mid-run, then the same inputs: every input once, NumPy still reads it', async () => {
    const out = join(dir, 'killed.npy');
    // The first paths come on standard input, which stays open: the run cannot end before the kill.
    const child = startCli(['embed', '-', '--out', out, ...FAST, '--batch-size', '1'], {}, ['pipe', 'ignore', 'ignore']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, signal) => resolve(signal)));
    child.stdin!.on('error', () => {}); // the kill closes the pipe under a pending write
    child.stdin!.write(`${images.slice(0, 6).join('\n')}\n`);
    await until('3 rows in the .npy', () => existsSync(out) && statSync(out).size > 128 + 3 * 8192);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const rerun = await runCli(['embed', ...images, '--out', out, ...FAST]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const seen = numpyCompare(out, reference);
    expect(seen).toMatchObject({ shape: [10, 2048], dtype: 'float32', maxDiff: 0 });
    expect([...seen.paths].sort()).toEqual(images);
  }, 300_000);

  test('merge of .npy shards: NumPy reads the union; a missing part or another model is refused and nothing is written', async () => {
    const parts = [0, 1].map((i) => join(dir, `shard.shard-${i}-of-2.npy`));
    for (const i of [0, 1]) expect((await runCli(['embed', ...images, '--out', join(dir, 'shard.npy'), ...FAST, '--shard', `${i}/2`])).code).toBe(0);
    const merged = join(dir, 'merged.npy');
    const merge = await runCli(['merge', merged, ...parts]);
    expect(merge.code, merge.stderr).toBe(0);
    const seen = numpyCompare(merged, reference);
    expect(seen).toMatchObject({ shape: [10, 2048], maxDiff: 0 });
    expect([...seen.paths].sort()).toEqual(images);

    const missing = await runCli(['merge', join(dir, 'm2.npy'), parts[0]!, join(dir, 'shard.shard-2-of-2.npy')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Cannot read the part');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'm2.npy'))).toBe(false);

    const other = join(dir, 'other.npy');
    expect((await runCli(['embed', images[0]!, '--out', other, ...FAST, '--resize', 'center-crop'])).code).toBe(0);
    const mismatch = await runCli(['merge', join(dir, 'm3.npy'), parts[0]!, other]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/different models or settings .*--resize squash.*--resize center-crop/);
    expect(readdirSync(dir).filter((f) => f.startsWith('m3'))).toEqual([]);
  }, 300_000);

  test('merge refuses CSV parts with different --top-k and JSONL parts without a model record that disagree; embed --out x.csv is refused', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    expect((await runCli(['classify', images[0]!, '--out', a, ...FAST])).code).toBe(0);
    expect((await runCli(['classify', images[1]!, '--out', b, ...FAST, '--top-k', '3'])).code).toBe(0);
    const csv = await runCli(['merge', join(dir, 'ab.csv'), a, b]);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/--top-k 5.*--top-k 3/);
    expect(existsSync(join(dir, 'ab.csv'))).toBe(false);
    // Parts from elsewhere (no model record): the rows themselves are checked.
    writeFileSync(join(dir, 'x.jsonl'), `${JSON.stringify({ path: '/x', top: [1, 2] })}\n`);
    writeFileSync(join(dir, 'y.jsonl'), `${JSON.stringify({ path: '/y', top: [1, 2, 3] })}\n`);
    const rows = await runCli(['merge', join(dir, 'xy.jsonl'), join(dir, 'x.jsonl'), join(dir, 'y.jsonl')]);
    expect(rows.code).toBe(1);
    expect(rows.stderr).toContain('different --top-k');
    expect(existsSync(join(dir, 'xy.jsonl'))).toBe(false);
    const embedCsv = await runCli(['embed', images[0]!, '--out', join(dir, 'e.csv'), ...FAST]);
    expect(embedCsv.code).toBe(2);
    expect(embedCsv.stderr).toContain('use --out features.npy');
    expect(jsonl(readFileSync(reference, 'utf8'))).toHaveLength(10);
  }, 300_000);
});
