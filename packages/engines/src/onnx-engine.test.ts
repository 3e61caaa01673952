import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig, type CreateXceptionOptions } from '@xception/core';
import { randomImages, saneRandomWeights } from '@xception/core/testing';
import type { EngineOptions } from './engine.js';
import { createOnnxEngine, onnxCacheKey, onnxModelBytes } from './onnx-engine.js';
import { probeOnnxRuntime } from './onnx-probe.js';
import { selectEngine } from './select-engine.js';
import { createWasmPoolEngine } from './thread-pool-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-onnx-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Small inputs keep this fast; the graph is the same at 299 (packages/onnx checks 299 with a top).
const model: CreateXceptionOptions = { includeTop: true, inputShape: [71, 71, 3], weights: null };
const weights = saneRandomWeights(expectedWeights(resolveXceptionConfig(model)), 21);
const options: EngineOptions = { model, weights, threads: 2, onnxCacheDir: null };

describe('the onnx engine', () => {
  test('agrees with the wasm pool on the same weights, for uint8 pixels and float input', async () => {
    const onnx = await createOnnxEngine(options);
    const wasm = await createWasmPoolEngine({ ...options, threads: 1 });
    try {
      expect(onnx.name).toBe('onnx');
      expect(onnx.parallelism).toBe(1);
      expect(onnx.detail).toMatch(/^onnx \(onnxruntime-node 1\.30\.0, cpu, 2 threads; model exported in memory\)$/);
      const pixels = new Uint8Array(3 * 71 * 71 * 3).map((_, i) => (i * 7919) % 256);
      const floats = randomImages([2, 71, 71, 3], 5);
      for (const batch of [{ pixels, count: 3, height: 71, width: 71 }, { pixels: floats, count: 2, height: 71, width: 71 }]) {
        const [a, b] = await Promise.all([onnx.run(batch), wasm.run(batch)]);
        expect(a.outputShape).toEqual([batch.count, 1000]);
        expect(a.outputShape).toEqual(b.outputShape);
        expect(a.features.length).toBe(batch.count * 2048);
        let dOut = 0; let dFeat = 0;
        a.output.forEach((v, i) => { dOut = Math.max(dOut, Math.abs(v - b.output[i]!)); });
        a.features.forEach((v, i) => { dFeat = Math.max(dFeat, Math.abs(v - b.features[i]!)); });
        console.log(`onnx engine vs wasm pool (${batch.pixels instanceof Uint8Array ? 'uint8' : 'float32'} batch of ${batch.count}, 71x71): output ${dOut.toExponential(2)}, features ${dFeat.toExponential(2)}`);
        expect(dOut).toBeLessThanOrEqual(1e-4);
        expect(dFeat).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await Promise.all([onnx.dispose(), wasm.dispose()]);
    }
  });

  test('real weights are exported once and cached by a hash of config and weights; random ones never', () => {
    const cache = join(dir, 'cache');
    const first = onnxModelBytes(model, weights, cache);
    expect(first.source).toMatch(/^exported, cached at .*xception-[0-9a-f]{24}\.onnx$/);
    const second = onnxModelBytes(model, weights, cache);
    expect(second.source).toMatch(/^cached /);
    expect(Buffer.compare(Buffer.from(first.bytes), Buffer.from(second.bytes))).toBe(0);
    const changed = new Map(weights);
    const bias = changed.get('predictions/bias')!;
    changed.set('predictions/bias', { shape: bias.shape, values: bias.values.map((v, i) => (i === 0 ? v + 1e-3 : v)) });
    expect(onnxCacheKey(model, changed)).not.toBe(onnxCacheKey(model, weights));
    expect(onnxCacheKey({ ...model, classifierActivation: null }, weights)).not.toBe(onnxCacheKey(model, weights));
    expect(onnxModelBytes(model, null, cache).source).toBe('exported in memory');
    expect(readdirSync(cache).filter((f) => f.endsWith('.onnx'))).toHaveLength(1);
    expect(readdirSync(cache).filter((f) => f.endsWith('.partial'))).toHaveLength(0);
  });
});

describe('engine selection', () => {
  test("'auto' picks onnx when onnxruntime-node loads", async () => {
    const lines: string[] = [];
    const engine = await selectEngine('auto', options, (l) => lines.push(l));
    expect(engine.name).toBe('onnx');
    expect(lines).toEqual([]);
    await engine.dispose();
  });

  test("'auto' falls back with one line when onnxruntime-node cannot be imported; --engine onnx is an error", async () => {
    const failing = async (): Promise<never> => { throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: 'ERR_MODULE_NOT_FOUND' }); };
    const lines: string[] = [];
    const engine = await selectEngine('auto', { ...options, threads: 1 }, (l) => lines.push(l), { onnxLoader: failing });
    expect(engine.name).not.toBe('onnx'); // wasm here; tfjs-node where it is installed
    expect(lines[0]).toBe('engine: onnx not used (onnxruntime-node is not installed); trying tfjs-node');
    expect(lines.filter((l) => l.includes('onnx'))).toHaveLength(1);
    await engine.dispose();
    await expect(selectEngine('onnx', options, () => undefined, { onnxLoader: failing })).rejects.toThrow("engine: 'onnx' cannot load: onnxruntime-node is not installed; install onnxruntime-node (its CPU build needs no download), or use engine: 'wasm'.");
    const broken = async (): Promise<never> => { throw new Error('libonnxruntime.so.1: cannot open shared object file\nmore'); };
    const probe = await probeOnnxRuntime(broken);
    expect(probe).toMatchObject({ available: false, detail: 'onnxruntime-node failed to load (libonnxruntime.so.1: cannot open shared object file)' });
  });

  test('the probe names the execution providers', async () => {
    const probe = await probeOnnxRuntime();
    expect(probe.available).toBe(true);
    expect(probe.providers).toContain('cpu');
    expect(probe.providers.at(-1)).toBe('cpu');
    if (!existsSync('/dev/nvidia0')) expect(probe.providers).toEqual(['cpu']);
    console.log(`onnx probe: ${probe.detail}`);
  });
});
