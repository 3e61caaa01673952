import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { decodeOnnxModel } from '@xception/onnx';
import { writeTfjsArtifacts } from '@xception/weights';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const dir = mkdtempSync(join(tmpdir(), 'xception-onnx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Small inputs, random weights: the pipeline and the engine are the same at 299.
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '3', '--threads', '2'];
// Exported models go to a throwaway cache, never the user's.
const ENV = { XCEPTION_HOME: join(dir, 'home') };

describe.skipIf(!photos)('xception classify with onnxruntime', () => {
  const few = () => readdirSync(photos!).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 5).map((f) => join(photos!, f));

  // Three starts: 'auto' (which picks onnx), the same with onnx hidden (the fallback engine, whose
  // results the onnx results must match), and --engine onnx with onnx hidden (refused).
  test("'auto' classifies photos with onnx; hidden by XCEPTION_DISABLE_ONNX=1, it falls back in one line and the results match", async () => {
    const inputs = few();
    const outOnnx = join(dir, 'onnx.jsonl');
    const outOff = join(dir, 'off.jsonl');
    const auto = await runCli(['classify', ...inputs, '--out', outOnnx, ...FAST], ENV);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/engine: onnx \(onnxruntime-node 1\.30\.0, cpu, 2 threads; model exported, cached at \S+\.onnx\), in a worker thread; batch size 3/);
    expect(auto.stderr).toMatch(/classified 5 inputs: 5 ok, 0 failed/);
    const off = await runCli(['classify', ...inputs, '--out', outOff, ...FAST], { ...ENV, XCEPTION_DISABLE_ONNX: '1' });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr.split('\n').filter((l) => l.startsWith('engine:') && l.includes('onnx'))).toEqual(['engine: onnx not used (XCEPTION_DISABLE_ONNX=1 is set); trying tfjs-node']);
    expect(off.stderr).toMatch(/engine: wasm, 2 worker threads|engine: tfjs-node/);
    type Row = { path: string; top: Array<{ index: number; score: number }> };
    const byPath = (rows: Row[]) => new Map(rows.map((r) => [r.path, r]));
    const onnx = byPath(jsonl<Row>(readFileSync(outOnnx, 'utf8')));
    const tfjs = byPath(jsonl<Row>(readFileSync(outOff, 'utf8')));
    expect([...onnx.keys()].sort()).toEqual([...inputs].sort());
    for (const [path, row] of onnx) {
      expect(row.top).toHaveLength(5);
      expect(row.top[0]!.index).toBe(tfjs.get(path)!.top[0]!.index);
      expect(Math.abs(row.top[0]!.score - tfjs.get(path)!.top[0]!.score)).toBeLessThan(1e-4);
    }
    const forced = await runCli(['classify', ...inputs.slice(0, 2), '--out', join(dir, 'forced.jsonl'), '--engine', 'onnx', ...FAST], { ...ENV, XCEPTION_DISABLE_ONNX: '1' });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('xception: --engine onnx cannot load: XCEPTION_DISABLE_ONNX=1 is set; install onnxruntime-node');
  });
});

describe('xception weights convert --to onnx', () => {
  test("'none' (random weights) writes xception.onnx, checked against the tfjs core", async () => {
    const out = join(dir, 'random-onnx');
    const run = await runCli(['weights', 'convert', 'none', out, '--to', 'onnx', '--no-top'], ENV);
    expect(run.code, run.stderr).toBe(0);
    const summary = decodeOnnxModel(readFileSync(join(out, 'xception.onnx')));
    expect(summary.opset).toBe(13);
    expect(summary.inputs[0]!.dims).toEqual(['N', 'height', 'width', 3]);
    expect(run.stderr).toMatch(/wrote .*xception\.onnx \(\d+\.\d MB, opset 13, /);
    expect(run.stderr).toMatch(/largest difference from the tfjs core on a 299x299 test image: output \d\.\d\de-\d+, pooled features/);
  });

  test('a tfjs model.json converts to ONNX and, as before, to tfjs artifacts', async () => {
    // 71x71: the converters keep the size a model.json says, so the output checks run at 71x71.
    const config = resolveXceptionConfig({ includeTop: false, weights: null, inputShape: [71, 71, 3] });
    const source = join(dir, 'source-model');
    await writeTfjsArtifacts({ outDir: source, config, values: saneRandomWeights(expectedWeights(config), 4) });
    const toOnnx = await runCli(['weights', 'convert', join(source, 'model.json'), join(dir, 'from-json'), '--to', 'onnx'], ENV);
    expect(toOnnx.code, toOnnx.stderr).toBe(0);
    const measured = /largest difference from the tfjs core on a 71x71 test image: output (\S+), pooled features (\S+)/.exec(toOnnx.stderr);
    expect(measured, toOnnx.stderr).not.toBeNull();
    expect(Number(measured![1])).toBeLessThanOrEqual(1e-4);
    expect(Number(measured![2])).toBeLessThanOrEqual(1e-4);
    const summary = decodeOnnxModel(readFileSync(join(dir, 'from-json', 'xception.onnx')));
    expect(summary.outputs.map((o) => o.name)).toEqual(['output', 'features']);
    expect(summary.ops).not.toContain('BatchNormalization');
    const toTfjs = await runCli(['weights', 'convert', join(source, 'model.json'), join(dir, 'from-json-tfjs'), '--no-top'], ENV);
    expect(toTfjs.code, toTfjs.stderr).toBe(0);
    expect(existsSync(join(dir, 'from-json-tfjs', 'model.json'))).toBe(true);
    const misuse = await runCli(['weights', 'convert', 'none', join(dir, 'x')], ENV);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain("'none' (random weights) converts only with --to onnx");
  });
});
