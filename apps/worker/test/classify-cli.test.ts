import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { writeTfjsArtifacts } from '@xception/weights';
import { makeHostileFolder } from './hostile-files.js';
import { readNpy } from '@xception/batch';
import { jsonl, rowsIn, runCli, startCli, until } from '@xception/test-kit/worker-cli';

interface Row { path: string; top?: Array<{ index: number; wnid: string; label: string; score: number }>; error?: { code: string; message: string } }

const photos = sharedPath('images', 'imagenet-samples');
const labels = sharedPath('images', 'labels.tsv');
if (!photos) console.warn(SKIP_NO_SHARED);

// Small inputs keep the suite fast; the pipeline is the same at 299. Random (seeded) weights.
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '4', '--threads', '2', '--recursive'];

describe.skipIf(!photos || !labels)('xception classify over real photos and hostile files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-classify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The 186 photos, from labels.tsv (not from our listing code), plus the hostile folder.
  const photoPaths = readFileSync(labels!, 'utf8').trim().split('\n').slice(1).map((l) => join(photos!, '..', l.split('\t')[0]!));
  const hostile = makeHostileFolder(join(dir, 'hostile'), photoPaths[0]!);
  const everyInput = [...photoPaths, ...hostile.expectOk, ...hostile.expectFailed].sort();
  const inputs = [photos!, join(dir, 'hostile')];
  let oneRun: Row[] = [];
  // Killing, resuming and sharding need no more than a quarter of the photos (and the hostile folder).
  const somePhotos = photoPaths.slice(0, 47);
  const someInputs = [...somePhotos, ...hostile.expectOk, ...hostile.expectFailed].sort();
  const someArgs = [join(dir, 'hostile'), ...somePhotos];

  test('every input is accounted for exactly once; failures get a code and a message; exit 3', async () => {
    const out = join(dir, 'all.jsonl');
    const run = await runCli(['classify', ...inputs, '--out', out, ...FAST]);
    expect(run.code, run.stderr).toBe(3);
    const rows = jsonl<Row>(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.path).sort()).toEqual(everyInput);
    const failed = rows.filter((r) => r.error);
    expect(failed.map((r) => r.path).sort()).toEqual([...hostile.expectFailed].sort());
    const codes = Object.fromEntries(failed.map((r) => [r.path.split('/').pop(), r.error!.code]));
    expect(codes).toEqual({
      'zero-bytes.jpg': 'ERR_IMAGE_EMPTY', 'truncated.jpg': 'ERR_IMAGE_TRUNCATED', 'text.jpg': 'ERR_IMAGE_NOT_AN_IMAGE',
      'bomb.png': 'ERR_IMAGE_TOO_LARGE', 'unreadable.jpg': process.getuid?.() === 0 ? 'ERR_INPUT_NOT_FOUND' : 'ERR_INPUT_UNREADABLE',
      'loop.jpg': 'ERR_INPUT_UNREADABLE', 'pipe.jpg': 'ERR_INPUT_NOT_A_FILE',
    });
    for (const r of failed) expect(r.error!.message).toContain(r.path);
    for (const r of rows.filter((x) => !x.error)) {
      expect(r.top).toHaveLength(5);
      expect(r.top!.map((p) => p.score)).toEqual([...r.top!.map((p) => p.score)].sort((a, b) => b - a));
    }
    expect(run.stderr).toMatch(/classified 195 inputs: 188 ok, 7 failed, 0 already done/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    oneRun = rows;
  });

  test('rerunning with the same --out does nothing more', async () => {
    const out = join(dir, 'all.jsonl');
    const before = readFileSync(out, 'utf8');
    const run = await runCli(['classify', ...inputs, '--out', out, ...FAST]);
    expect(run.stderr).toMatch(/classified 0 inputs: 0 ok, 0 failed, 195 already done/);
    expect(run.code).toBe(3); // the earlier failures are still in the results
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  test('kill -9 in the middle, then the same inputs: rows equal inputs, no duplicates', async () => {
    const out = join(dir, 'killed.jsonl');
    // The first paths come on standard input, which stays open: the run cannot end before the kill.
    const child = startCli(['classify', '-', '--out', out, ...FAST, '--batch-size', '2'], {}, ['pipe', 'ignore', 'ignore']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, signal) => resolve(signal)));
    child.stdin!.on('error', () => {}); // the kill closes the pipe under a pending write
    child.stdin!.write(`${someArgs.slice(0, 12).join('\n')}\n`);
    await until('rows on disk', () => rowsIn(out) >= 6);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const partial = readFileSync(out, 'utf8');
    const partialRows = partial.split('\n').filter((l) => l.trim() !== '').length;
    expect(partialRows).toBeGreaterThan(0);
    expect(partialRows).toBeLessThan(someInputs.length);
    // Simulate the worst moment too: a row cut in half by the kill.
    writeFileSync(out, partial + '{"path":"/torn/row.jpg","top":[{"ind');
    const run = await runCli(['classify', ...someArgs, '--out', out, ...FAST]);
    expect(run.stderr).toMatch(/torn last line/);
    const rows = jsonl<Row>(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.path).sort()).toEqual(someInputs);
    expect(new Set(rows.map((r) => r.path)).size).toBe(rows.length);
  });

  test('three shards cover the inputs exactly once, and merge gives what one run gives', async () => {
    const out = join(dir, 'sharded.jsonl');
    const runs = await Promise.all([0, 1, 2].map((i) => runCli(['classify', ...someArgs, '--out', out, ...FAST, '--threads', '1', '--shard', `${i}/3`])));
    const parts = [0, 1, 2].map((i) => join(dir, `sharded.shard-${i}-of-3.jsonl`));
    const perShard = parts.map((p) => jsonl<Row>(readFileSync(p, 'utf8')).map((r) => r.path));
    for (const run of runs) expect([0, 3]).toContain(run.code);
    expect(perShard.every((s) => s.length > 0)).toBe(true);
    expect(perShard.flat().sort()).toEqual(someInputs);
    // The same through the schedulers' variables: Slurm array task 1 of 3 is shard 1/3.
    const slurm = await runCli(['classify', ...someArgs, '--out', join(dir, 'slurm.jsonl'), ...FAST], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' });
    expect(jsonl<Row>(readFileSync(join(dir, 'slurm.shard-1-of-3.jsonl'), 'utf8')).map((r) => r.path).sort()).toEqual([...perShard[1]!].sort());
    expect(slurm.stderr).toMatch(/shard 1\/3 \(from Slurm array\)/);

    const merged = join(dir, 'merged.jsonl');
    const merge = await runCli(['merge', merged, ...parts]);
    expect(merge.code, merge.stderr).toBe(0);
    const mergedRows = jsonl<Row>(readFileSync(merged, 'utf8'));
    const key = (r: Row): string => JSON.stringify([r.path, r.error?.code ?? null, r.top?.map((p) => p.index) ?? null]);
    expect(mergedRows.map(key).sort()).toEqual(oneRun.filter((r) => someInputs.includes(r.path)).map(key).sort());
    const scores = new Map(oneRun.map((r) => [r.path, r.top?.map((p) => p.score)]));
    for (const r of mergedRows.filter((x) => x.top)) {
      r.top!.forEach((p, i) => expect(Math.abs(p.score - scores.get(r.path)![i]!)).toBeLessThan(1e-6));
    }
  });

  test('embed --out x.npy: float32 [N, 2048] that NumPy reads, row i the features of line i of x.paths.txt', async () => {
    const out = join(dir, 'features.npy');
    const run = await runCli(['embed', join(dir, 'hostile'), '--out', out, ...FAST]);
    expect(run.code, run.stderr).toBe(3);
    const paths = readFileSync(join(dir, 'features.paths.txt'), 'utf8').trim().split('\n');
    expect([...paths].sort()).toEqual([...hostile.expectOk].sort());
    const errors = jsonl<Row>(readFileSync(`${out}.errors.jsonl`, 'utf8'));
    expect(errors.map((r) => r.path).sort()).toEqual([...hostile.expectFailed].sort());
    const x = await readNpy(out);
    expect(x.shape).toEqual([paths.length, 2048]);
    const asJsonl = join(dir, 'features.jsonl');
    expect((await runCli(['embed', join(dir, 'hostile'), '--out', asJsonl, ...FAST])).code).toBe(3);
    const rows = jsonl<Row & { features?: number[] }>(readFileSync(asJsonl, 'utf8'));
    paths.forEach((p, i) => expect(Array.from(x.data.subarray(i * 2048, (i + 1) * 2048))).toEqual(rows.find((r) => r.path === p)!.features));
    try {
      const numpy = execFileSync('python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(out)}); print(a.dtype, a.shape)`], { encoding: 'utf8' });
      expect(numpy.trim()).toBe(`float32 (${paths.length}, 2048)`);
    } catch (error) {
      if (!String(error).includes('No module named')) throw error;
    }
  });

  // One run for both: the tfjs artifacts as --weights, the results as CSV.
  test('--weights model.json (tfjs artifacts) works without a tfjs backend chosen beforehand; CSV output: a header, a row per input', async () => {
    const config = resolveXceptionConfig({ weights: null });
    const artifacts = join(dir, 'artifacts');
    await writeTfjsArtifacts({ outDir: artifacts, config, values: saneRandomWeights(expectedWeights(config), 4), quantize: null });
    const out = join(dir, 'tags.csv');
    const run = await runCli(['classify', join(dir, 'hostile'), '--out', out, ...FAST, '--weights', join(artifacts, 'model.json'), '--top-k', '2']);
    expect(run.code, run.stderr).toBe(3);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('path,size,mtime,status,error_code,error_message,top1_index,top1_wnid,top1_label,top1_score,top2_index,top2_wnid,top2_label,top2_score,decode_ms,infer_ms');
    expect(lines).toHaveLength(1 + hostile.expectOk.length + hostile.expectFailed.length);
    // The photos' rows (no commas in their fields) carry the model's top-2.
    const ok = lines.filter((l) => hostile.expectOk.some((p) => l.startsWith(`${p},`))).map((l) => l.split(','));
    expect(ok.map((f) => [f[3], f.slice(6, 14).every((v) => v !== '')])).toEqual([['ok', true], ['ok', true]]);
  });
});

describe('clear usage errors, never a stack trace', () => {
  // Child processes at once (each is mostly start-up time); a concurrent test asserts through its own expect.
  test.concurrent.for([
    [['classify', 'x.jpg'], 2, "required option '-o, --out <file>' not specified"],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--batch-size', '0'], 2, '--batch-size must be a positive integer'],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--engine', 'gpu'], 2, "argument 'gpu' is invalid. Allowed choices are auto, tfjs-node, wasm, cpu"],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--shard', '3/3'], 2, '--shard must be i/n with 0 <= i < n'],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--image-size', '71'], 2, '--image-size 71 needs other weights than imagenet'],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--weights', '/no/such/weights.h5'], 1, '/no/such/weights.h5 does not exist'],
    [['classify', 'x.jpg', '--out', '/tmp/x.jsonl', '--engine', 'tfjs-node', '--weights', 'none'], 1, '--engine tfjs-node cannot load'],
    [['frobnicate'], 2, "unknown command 'frobnicate'"],
  ] as Array<[string[], number, string]>)('%j', async ([args, code, message], { expect }) => {
    // A run that fails before its first row leaves no results file behind.
    const scratch = mkdtempSync(join(tmpdir(), 'xception-usage-'));
    const out = join(scratch, 'x.jsonl');
    const run = await runCli(args.map((a) => (a === '/tmp/x.jsonl' ? out : a)));
    expect(existsSync(out)).toBe(false);
    rmSync(scratch, { recursive: true, force: true });
    expect(run.stderr).toContain(message);
    expect(run.stderr).toMatch(/^xception: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(code);
  });
});
