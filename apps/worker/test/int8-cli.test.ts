import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readNpy, writeNpy } from '@xception/batch';
import { cosineOf } from '@xception/onnx';
import { decodeCalibrationPhotos } from '@xception/runtime';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

interface Row { path: string; top?: Array<{ index: number; score: number }> }

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);

// Seeded random weights at 71x71: the pipeline and the int8 model are the same at 299.
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '4', '--threads', '2', '--recursive'];

describe.skipIf(!photos)('--precision int8 end to end (71x71, seeded weights, shared photos)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-int8-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { XCEPTION_HOME: join(dir, 'home') };
  const folder = (name: string, from: number, count: number): string => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const f of readdirSync(photos!).sort().slice(from, from + count)) symlinkSync(join(photos!, f), join(d, f));
    return d;
  };
  const first24 = folder('first24', 0, 24);

  test('classify calibrates on its first inputs once, says so in one line, and agrees with fp32; a rerun and tag take the cached model', async () => {
    const int8 = await runCli(['classify', first24, '--out', join(dir, 'int8.jsonl'), ...FAST, '--precision', 'int8'], env);
    expect(int8.code, int8.stderr).toBe(0);
    expect(int8.stderr.match(/^calibrating int8 on the first 24 inputs/gm)).toHaveLength(1);
    expect(int8.stderr).toMatch(/engine: onnx \(.*model int8, calibrated on 18 photos \(minmax\)/);
    const fp32 = await runCli(['classify', first24, '--out', join(dir, 'fp32.jsonl'), ...FAST], env);
    expect(fp32.code, fp32.stderr).toBe(0);
    const top1 = (file: string) => new Map(jsonl<Row>(readFileSync(join(dir, file), 'utf8')).map((r) => [r.path, r.top![0]!.index]));
    const a = top1('int8.jsonl'), b = top1('fp32.jsonl');
    const agree = [...a].filter(([path, index]) => b.get(path) === index).length;
    console.log(`classify --precision int8 vs fp32 on 24 photos: top-1 agrees on ${agree}`);
    expect(a.size).toBe(24);
    expect(agree).toBeGreaterThanOrEqual(20); // seeded weights score the classes nearly alike: 22 of 24 here

    // Resuming the fp32 output with int8 would mix two models' rows: refused, naming the flag.
    const mixed = await runCli(['classify', first24, '--out', join(dir, 'fp32.jsonl'), ...FAST, '--precision', 'int8'], env);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(`xception: ${join(dir, 'fp32.jsonl')} was written by another model or settings: --precision int8 instead of fp32; rerun with the options it was started with, or choose another --out.`);

    const again = await runCli(['classify', first24, '--out', join(dir, 'again.jsonl'), ...FAST, '--precision', 'int8'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/calibrating/);
    expect(again.stderr).toMatch(/model int8 cached /);
    // tag takes the same cached model (it would calibrate on the photos it classifies otherwise).
    const tag = await runCli(['tag', first24, '--weights', 'none', '--image-size', '71', '--threads', '2', '--dry-run', '--precision', 'int8'], env);
    expect(tag.code, tag.stderr).toBe(0);
    expect(tag.stderr).not.toMatch(/calibrating/);
    expect(tag.stderr).toMatch(/model int8 cached /);
  }, 240_000);

  test('xception quantize refuses too few photos, and --precision int8 with another engine, as usage errors in flag words', async () => {
    const few = await runCli(['quantize', '--weights', 'none', '--image-size', '71', '--calibrate', first24], env);
    expect(few.code).toBe(2);
    expect(few.stderr).toBe(`xception: --calibrate ${first24} holds 24 photos; int8 calibration takes 64 to 256 typical ones (a quarter of them held out to check agreement with fp32).\n`);
    const wasm = await runCli(['embed', first24, '--out', join(dir, 'e.npy'), ...FAST, '--precision', 'int8', '--engine', 'wasm'], env);
    expect(wasm.code).toBe(2);
    expect(wasm.stderr).toContain('xception: --precision int8 runs on --engine onnx only; leave --engine wasm out, or use --precision fp32.');
  }, 120_000);

  test('xception quantize --calibrate DIR makes the model that classify --precision int8 then takes from the cache', async () => {
    const home = { XCEPTION_HOME: join(dir, 'home-quantize') };
    const calibrate = folder('calibrate', 100, 64);
    const q = await runCli(['quantize', '--weights', 'none', '--image-size', '71', '--threads', '2', '--calibrate', calibrate], home);
    console.log(q.stderr);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/^int8: int8, calibrated on 48 photos \(minmax\).*agreement with fp32 on 16 held-out photos: top-1 1\.000/m);
    const run = await runCli(['classify', first24, '--out', join(dir, 'q.jsonl'), ...FAST, '--precision', 'int8'], home);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/calibrating/);
    expect(run.stderr).toMatch(/model int8 cached /);
  }, 240_000);

  test('predict --precision int8 calibrates on the input tensor\'s images, and its features agree with fp32\'s', async () => {
    const home = { XCEPTION_HOME: join(dir, 'home-predict') };
    const images = await decodeCalibrationPhotos(readdirSync(photos!).sort().slice(40, 56).map((f) => join(photos!, f)), [71, 71]);
    const x = join(dir, 'x.npy');
    await writeNpy(x, { data: images.pixels, shape: [16, 71, 71, 3] });
    const features = (precision: string) => join(dir, `f-${precision}.npy`);
    for (const precision of ['fp32', 'int8']) {
      const run = await runCli(['predict', '--weights', 'none', '--input', x, '--output', join(dir, `y-${precision}.npy`), '--features', features(precision), '--precision', precision], home);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr.includes('calibrating int8 on the first 16 inputs')).toBe(precision === 'int8');
    }
    const [a, b] = [await readNpy(features('fp32')), await readNpy(features('int8'))];
    expect(b.shape).toEqual([16, 2048]);
    const cosines = Array.from({ length: 16 }, (_, i) => cosineOf(a.data.subarray(i * 2048, (i + 1) * 2048) as Float32Array, b.data.subarray(i * 2048, (i + 1) * 2048) as Float32Array));
    console.log(`predict int8 vs fp32 features, 16 photos: min cosine ${Math.min(...cosines)}`);
    expect(Math.min(...cosines)).toBeGreaterThan(0.99);
  }, 240_000);
});
