import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig, type CreateXceptionOptions } from '@xception/core';
import { randomImages, saneRandomWeights } from '@xception/core/testing';
import type { DeferredWeights, EngineOptions } from './engine.js';
import { ONNX_IO } from '@xception/onnx';
import { createOnnxEngine, createOnnxSession } from './onnx-engine.js';
import { exporterFingerprint, exporterFolders, onnxCacheKey, prepareOnnxModel, pruneOnnxCache } from './onnx-model-file.js';
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
    // onnxCacheDir null: the temporary file onnxruntime loaded is gone once the session holds the model.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`xception-${process.pid}-`) && f.endsWith('.onnx'))).toEqual([]);
    const wasm = await createWasmPoolEngine({ ...options, threads: 1 });
    try {
      expect(onnx.name).toBe('onnx');
      expect(onnx.parallelism).toBe(1);
      expect(onnx.detail).toMatch(/^onnx \(onnxruntime-node 1\.30\.0, cpu, 2 threads; model exported \(not cached\)\)$/);
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

  test('real weights are exported once, cached by a hash of exporter, config and weights, and verified by SHA-256 when read back', async () => {
    const cache = join(dir, 'cache');
    const first = await prepareOnnxModel(model, weights, cache);
    expect(first.source).toMatch(/^exported, cached at .*xception-[0-9a-f]{24}\.onnx$/);
    const bytes = readFileSync(first.path);
    // The sidecar holds the SHA-256 of the bytes (checked here with an independent hash of the file).
    expect(readFileSync(`${first.path}.sha256`, 'utf8').trim()).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await prepareOnnxModel(model, weights, cache)).source).toBe(`cached ${first.path}`);
    // A cached file with one byte changed (its size intact): discarded and exported again, never
    // loaded. A file cut short fails the same check.
    writeFileSync(first.path, Buffer.from(bytes).fill(bytes[5000]! ^ 0xff, 5000, 5001));
    const again = await prepareOnnxModel(model, weights, cache);
    expect(again.source).toBe(`exported, cached at ${first.path} (the cached copy did not match its SHA-256 and was replaced)`);
    expect(Buffer.compare(readFileSync(first.path), bytes)).toBe(0);
    const engine = await createOnnxEngine({ ...options, onnxCacheDir: cache });
    expect(engine.detail).toContain(`model cached ${first.path}`);
    await engine.dispose();
    const changed = new Map(weights);
    const bias = changed.get('predictions/bias')!;
    changed.set('predictions/bias', { shape: bias.shape, values: bias.values.map((v, i) => (i === 0 ? v + 1e-3 : v)) });
    expect(onnxCacheKey(model, changed)).not.toBe(onnxCacheKey(model, weights));
    expect(onnxCacheKey({ ...model, classifierActivation: null }, weights)).not.toBe(onnxCacheKey(model, weights));
    // Beside the model: its hash, and onnxruntime's optimised graph of it (the engine made one).
    expect(readdirSync(cache).sort()).toEqual([basename(first.path), `${basename(first.path)}.sha256`, expect.stringMatching(/^xception-[0-9a-f]{24}\.opt-[0-9a-f]{16}$/)]);
  });

  test("onnxruntime's optimised graph is cached beside the model: the next session loads it, with outputs bit-identical; a corrupt or refused one is replaced", async () => {
    const cache = join(dir, 'with-graphs');
    const file = await prepareOnnxModel(model, weights, cache);
    const { ort } = await probeOnnxRuntime();
    const x = new ort!.Tensor('float32', randomImages([2, 71, 71, 3], 9), [2, 71, 71, 3]);
    const session = async (): Promise<{ graph: string; output: Buffer; features: Buffer }> => {
      const made = await createOnnxSession(ort!, file, ['cpu'], 2);
      try {
        const r = await made.session.run({ [ONNX_IO.input]: x });
        const bytes = (name: string): Buffer => Buffer.from((r[name]!.data as Float32Array).slice().buffer);
        return { graph: made.graph, output: bytes(ONNX_IO.output), features: bytes(ONNX_IO.features) };
      } finally {
        await made.session.release();
      }
    };
    const plain = await session();
    expect(plain.graph).toBe('optimised graph written');
    const [folder] = readdirSync(cache).filter((n) => n.includes('.opt-'));
    const optimised = join(cache, folder!);
    expect(readdirSync(optimised).sort()).toEqual(['model.onnx', 'model.onnx.data', 'sha256']);
    // The hashes, checked with an independent hash of each file; the weights are in the .data file.
    const sha = (f: string): string => createHash('sha256').update(readFileSync(join(optimised, f))).digest('hex');
    const hashes = (): string => `${sha('model.onnx')}  model.onnx\n${sha('model.onnx.data')}  model.onnx.data\n`;
    expect(readFileSync(join(optimised, 'sha256'), 'utf8')).toBe(hashes());
    expect(statSync(join(optimised, 'model.onnx.data')).size).toBeGreaterThan(0.9 * statSync(file.path).size);
    const expectSame = (r: { output: Buffer; features: Buffer }): void => {
      expect(r.output.equals(plain.output)).toBe(true);
      expect(r.features.equals(plain.features)).toBe(true);
    };
    const fromCache = await session();
    expect(fromCache.graph).toBe('optimised graph loaded');
    expectSame(fromCache);

    // One weight byte flipped (size intact): the hash check fails, the plain model is loaded and optimised again.
    const data = readFileSync(join(optimised, 'model.onnx.data'));
    writeFileSync(join(optimised, 'model.onnx.data'), Buffer.from(data).fill(data[4096]! ^ 0xff, 4096, 4097));
    const afterFlip = await session();
    expect(afterFlip.graph).toBe('optimised graph written');
    expectSame(afterFlip);
    expect(readFileSync(join(optimised, 'model.onnx.data')).equals(data)).toBe(true);

    // A torn graph whose hashes were made to match (so only onnxruntime can tell): refused, replaced.
    const graph = readFileSync(join(optimised, 'model.onnx'));
    writeFileSync(join(optimised, 'model.onnx'), graph.subarray(0, graph.length >> 1));
    writeFileSync(join(optimised, 'sha256'), hashes());
    const afterTear = await session();
    expect(afterTear.graph).toBe('optimised graph written');
    expectSame(afterTear);
    // Written again whole (onnxruntime's graph bytes vary from one write to the next; the weights do not).
    expect(readFileSync(join(optimised, 'sha256'), 'utf8')).toBe(hashes());
    expect(statSync(join(optimised, 'model.onnx')).size).toBeGreaterThan(graph.length >> 1);
    expect((await session()).graph).toBe('optimised graph loaded');
    // Nothing half-written is left beside them; a temporary (uncached) model gets no optimised graph.
    expect(readdirSync(cache).filter((n) => /partial|removed/.test(n))).toEqual([]);
    expect((await createOnnxSession(ort!, { path: file.path, cached: false }, ['cpu'], 2)).graph).toBe('model optimised');
    // The engine says which model it loaded, as before (its detail does not change with the graph's cache).
    const engine = await createOnnxEngine({ ...options, onnxCacheDir: cache });
    expect(engine.detail).toBe(`onnx (onnxruntime-node 1.30.0, cpu, 2 threads; model cached ${file.path})`);
    await engine.dispose();
  });

  test("the cache key follows the exporter's own code: @xception/onnx, @xception/core and @xception/weights (the file reader) as loaded", () => {
    const folders = exporterFolders();
    expect(folders.map((f) => readdirSync(f).some((n) => /^export-onnx\.(js|ts)$/.test(n)))).toEqual([true, false, false]);
    expect(folders.map((f) => readdirSync(f).some((n) => /^xception-graph\.(js|ts)$/.test(n)))).toEqual([false, true, false]);
    expect(folders.map((f) => readdirSync(f).some((n) => /^keras-h5-file\.(js|ts)$/.test(n)))).toEqual([false, false, true]);
    // A copy of the exporter's folder: changing one byte of its code changes the fingerprint and the key.
    const copy = join(dir, 'exporter-copy');
    cpSync(folders[0]!, copy, { recursive: true });
    const before = exporterFingerprint([copy, ...folders.slice(1)]);
    expect(before).toBe(exporterFingerprint());
    const code = readdirSync(copy).find((n) => /^export-onnx\.(js|ts)$/.test(n))!;
    writeFileSync(join(copy, code), `${readFileSync(join(copy, code), 'utf8')}\n// changed\n`);
    const after = exporterFingerprint([copy, ...folders.slice(1)]);
    expect(after).not.toBe(before);
    expect(onnxCacheKey(model, weights, after)).not.toBe(onnxCacheKey(model, weights, before));
    expect(onnxCacheKey(model, weights, before)).toBe(onnxCacheKey(model, weights));
    // Keras' seeded random weights are keyed by their seed and the exporter's code, never as another model's.
    expect(onnxCacheKey({ ...model, seed: 1 }, null, after)).not.toBe(onnxCacheKey({ ...model, seed: 1 }, null, before));
    expect(onnxCacheKey({ ...model, seed: 1 }, null)).not.toBe(onnxCacheKey({ ...model, seed: 2 }, null));
    expect(onnxCacheKey({ ...model, seed: 0 }, null)).toBe(onnxCacheKey(model, null));
    expect(onnxCacheKey(model, null)).not.toBe(onnxCacheKey(model, weights));
  });
});

describe('weights still in their file (DeferredWeights)', () => {
  // A stand-in for @xception/weights' openClassifierWeights(): an id and a decode() that counts its calls.
  const deferred = (id: string, decode: () => Promise<typeof weights> = async () => weights): DeferredWeights & { decodes: number } => {
    const d = { id, decodes: 0, decode: async () => { d.decodes++; return decode(); } };
    return d;
  };

  test('are keyed by their id, and decoded only to export a model the cache lacks: a cache hit never calls decode()', async () => {
    const cache = join(dir, 'deferred-cache');
    const file = deferred('sha256:0123abcd, top');
    const first = await prepareOnnxModel(model, file, cache);
    expect(first.source).toMatch(/^exported, cached at /);
    expect(file.decodes).toBe(1);
    const again = deferred('sha256:0123abcd, top', async () => { throw new Error('a cache hit decoded the weights'); });
    expect((await prepareOnnxModel(model, again, cache)).source).toBe(`cached ${first.path}`);
    expect(again.decodes).toBe(0);
    // The key changes with the file (its id), the configuration and the exporter's code, and is never a decoded map's.
    expect(onnxCacheKey(model, deferred('sha256:0123abce, top'))).not.toBe(onnxCacheKey(model, file));
    expect(onnxCacheKey({ ...model, inputShape: [72, 72, 3] }, file)).not.toBe(onnxCacheKey(model, file));
    expect(onnxCacheKey(model, file, 'another exporter')).not.toBe(onnxCacheKey(model, file));
    expect(onnxCacheKey(model, file)).not.toBe(onnxCacheKey(model, weights));
  });

  test("a file that fails to decode fails with its own error, not as the engine's; the wasm pool decodes before it starts", async () => {
    class DamagedFile extends Error {}
    const damaged = deferred('sha256:damaged, top', async () => { throw new DamagedFile('model.h5 is damaged'); });
    await expect(selectEngine('onnx', { ...options, weights: damaged, onnxCacheDir: join(dir, 'deferred-cache') }, () => undefined)).rejects.toBeInstanceOf(DamagedFile);
    const pool = deferred('sha256:pool, top');
    const engine = await createWasmPoolEngine({ ...options, weights: pool, threads: 1 });
    expect(pool.decodes).toBe(1);
    await engine.dispose();
  });
});

describe('the onnx cache is pruned', () => {
  test('to the most recently used models, each with its .sha256, int8 record and optimised graphs; other files are left alone', () => {
    const cache = mkdtempSync(join(dir, 'prune-'));
    // Names of fp32 exports (24 hex) and of int8 models (48: the fp32 key, then the calibration's).
    const names = Array.from({ length: 5 }, (_, i) => `xception-${String(i).repeat(i % 2 === 0 ? 24 : 48)}.onnx`);
    names.forEach((name, i) => {
      writeFileSync(join(cache, name), 'model');
      writeFileSync(join(cache, `${name}.sha256`), 'hash\n');
      if (i % 2 === 1) writeFileSync(join(cache, `${name}.int8.json`), '{}\n');
      const used = new Date(Date.UTC(2026, 0, 1 + i)); // names[4] the most recently used
      utimesSync(join(cache, name), used, used);
    });
    writeFileSync(join(cache, 'notes.txt'), 'not ours');
    // onnxruntime's optimised graph of a pruned model and of a kept one, one of a model that is gone, and one a killed process left half-written.
    const optimised = (name: string): string => name.replace('.onnx', '.opt-0123456789abcdef');
    const leftover = `${optimised(names[4]!)}.123-0.partial`;
    for (const folder of [optimised(names[0]!), optimised(names[4]!), optimised(`xception-${'f'.repeat(24)}.onnx`), leftover]) {
      mkdirSync(join(cache, folder));
      writeFileSync(join(cache, folder, 'model.onnx'), 'graph');
    }
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(cache, leftover), old, old);
    expect(pruneOnnxCache(cache, 2).sort()).toEqual(names.slice(0, 3));
    expect(readdirSync(cache).sort()).toEqual(['notes.txt', names[3], `${names[3]}.sha256`, `${names[3]}.int8.json`, names[4], `${names[4]}.sha256`, optimised(names[4]!)].sort());
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
