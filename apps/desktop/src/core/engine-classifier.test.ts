import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { WeightsDownloadError } from '@xception/weights';
import { describe, expect, it } from 'vitest';
import { createEngineClassifier, describeLoadError } from './engine-classifier.js';
import { makeTempDir } from './test-support/temp-dir.js';

describe('engine classifier (the utility process on @xception/engines)', () => {
  it("turns the weights package's typed download errors into one sentence for the toolbar", () => {
    const offline = new WeightsDownloadError('ERR_DOWNLOAD_OFFLINE', 'getaddrinfo ENOTFOUND storage.googleapis.com');
    expect(describeLoadError(offline)).toMatch(/^You are offline and the ImageNet weights are not downloaded yet/);
    const http = new WeightsDownloadError('ERR_DOWNLOAD_HTTP', 'HTTP 503 from storage.googleapis.com');
    expect(describeLoadError(http)).toBe('The ImageNet weights download failed (HTTP 503 from storage.googleapis.com); try again later or choose a weights file in settings.');
  });

  const hasTfjsNode = (() => {
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(hasTfjsNode)("refuses the 'tfjs-node' engine in the settings' words when it is not installed", async () => {
    const engine = createEngineClassifier({ engine: 'tfjs-node', weights: null, imageSize: 71 });
    const error = (await engine.load().then(() => null, (e: unknown) => e)) as Error & { code: string };
    expect(error).toMatchObject({ code: 'ERR_ENGINE_UNAVAILABLE' });
    expect(error.message).toMatch(/^The 'tfjs-node' engine cannot load: @tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed; install @tensorflow\/tfjs-node \(or -node-gpu\) where libtensorflow can be downloaded, or use the 'wasm' engine\. Choose another engine in settings\.$/);
  });

  it('names the model by its weights', () => {
    expect(createEngineClassifier({ engine: 'wasm', weights: { kind: 'imagenet' } }).modelId).toBe('imagenet');
    expect(createEngineClassifier({ engine: 'wasm', weights: { kind: 'file', path: '/m/xception.h5' } }).modelId).toBe('file:xception.h5');
  });

  it("'auto' runs onnx; a batch (next one decoded ahead) agrees with photo-by-photo on the wasm pool, a bad photo fails in its place, and only the photos named in `thumbnails` get one", async () => {
    const dir = makeTempDir('xception-engine-classifier-');
    const photos: string[] = [];
    for (let i = 0; i < 5; i++) {
      const raw = Buffer.alloc(40 * 30 * 3).map((_, j) => (j * (7 + i * 13)) % 256);
      const file = join(dir, `p${i}.png`);
      await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(file);
      photos.push(file);
    }
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');

    const lines: string[] = [];
    const onnx = createEngineClassifier({ engine: 'auto', weights: null, imageSize: 71, random: { seed: 3 }, log: (l) => lines.push(l), thumbnailSize: 16 });
    const wasm = createEngineClassifier({ engine: 'wasm', weights: null, imageSize: 71, random: { seed: 3 }, threads: 1 });
    try {
      await Promise.all([onnx.load(), wasm.load()]);
      expect(onnx.backend()).toMatch(/^onnx \(onnxruntime-node 1\.30\.0, cpu, \d+ threads?; model (exported, cached at |cached )\S+\.onnx\), in a worker thread$/);
      expect(lines).toEqual([]);
      // photos[1] in this batch and photos[3], decoded ahead in the next, are the grid's.
      const first = await onnx.classifyBatch!([photos[0]!, bad, photos[1]!], 5, photos.slice(2), [photos[1]!, photos[3]!]);
      const second = await onnx.classifyBatch!(photos.slice(2), 5, []);
      const batched = [first[0], first[2], ...second];
      const thumbnailSides = await Promise.all(batched.map(async (r) => {
        const thumbnail = r instanceof Error ? undefined : r?.thumbnail;
        if (!thumbnail) return null;
        const meta = await sharp(thumbnail).metadata();
        return `${meta.format} ${meta.width}x${meta.height}`;
      }));
      expect(thumbnailSides).toEqual([null, 'jpeg 16x16', null, 'jpeg 16x16', null]);
      expect(first[1]).toBeInstanceOf(Error);
      expect((first[1] as Error).message).toMatch(/bad\.jpg/);
      for (const [i, photo] of photos.entries()) {
        const got = batched[i]!;
        if (got instanceof Error) throw got;
        const want = await wasm.classify(photo, 5);
        expect(got.features.length).toBe(2048);
        expect(got.predictions.map((p) => p.index)).toEqual(want.predictions.map((p) => p.index));
        got.predictions.forEach((p, k) => expect(Math.abs(p.score - want.predictions[k]!.score)).toBeLessThan(1e-4));
        let d = 0;
        got.features.forEach((v, k) => (d = Math.max(d, Math.abs(v - want.features[k]!))));
        expect(d).toBeLessThan(1e-4);
      }
    } finally {
      await Promise.all([onnx.dispose(), wasm.dispose()]);
    }
  });
});

describe('engine choice', () => {
  it("'webgl' runs in the renderer when chosen; 'auto' and the rest in the utility process, GPU or not", async () => {
    const { resolveEngine } = await import('./renderer-classifier.js');
    const swiftshader = { webgl: true, renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)', realGpu: false };
    const nvidia = { webgl: true, renderer: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4070 Direct3D11 vs_5_0 ps_5_0)', realGpu: true };
    expect(resolveEngine('webgl', null)).toBe('webgl');
    expect(resolveEngine('auto', nvidia)).toBe('utility');
    expect(resolveEngine('auto', swiftshader)).toBe('utility');
    expect(resolveEngine('onnx', nvidia)).toBe('utility');
    expect(resolveEngine('wasm', nvidia)).toBe('utility');
  });
});
