import { createRequire } from 'node:module';
import { WeightsDownloadError } from '@xception/weights';
import { describe, expect, it } from 'vitest';
import { createXceptionEngine, describeLoadError } from './xception-engine.js';

describe('xception engine adapter', () => {
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
  it.skipIf(hasTfjsNode)("refuses the 'tfjs-node' engine with a clear message when it is not installed", async () => {
    const engine = createXceptionEngine({ engine: 'tfjs-node', weights: null });
    await expect(engine.load()).rejects.toThrow(/'tfjs-node' engine is not installed/);
  });

  it('names the model by its weights', () => {
    expect(createXceptionEngine({ engine: 'wasm', weights: { kind: 'imagenet' } }).modelId).toBe('imagenet');
    expect(createXceptionEngine({ engine: 'wasm', weights: { kind: 'file', path: '/m/xception.h5' } }).modelId).toBe('file:xception.h5');
  });
});

describe('engine choice', () => {
  it("'webgl' always runs in the renderer; 'auto' only with a real GPU", async () => {
    const { resolveEngine } = await import('./renderer-classifier.js');
    const swiftshader = { webgl: true, renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)', realGpu: false };
    const nvidia = { webgl: true, renderer: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4070 Direct3D11 vs_5_0 ps_5_0)', realGpu: true };
    expect(resolveEngine('webgl', null)).toBe('webgl');
    expect(resolveEngine('auto', nvidia)).toBe('webgl');
    expect(resolveEngine('auto', swiftshader)).toBe('utility');
    expect(resolveEngine('auto', null)).toBe('utility');
    expect(resolveEngine('wasm', nvidia)).toBe('utility');
  });
});
