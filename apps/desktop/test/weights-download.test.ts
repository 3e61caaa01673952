/**
 * The ImageNet download, end to end through the app: library service → tagging queue → engine
 * adapter (createEngineClassifier) → @xception/weights' readWeights with an injected registry
 * that points at a server on 127.0.0.1 (port 0), and back out through the progress forwarder
 * onto the renderer-facing channel. No test touches the internet.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGENET_REGISTRY, type WeightsRegistry } from '@xception/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadPort, startStaticServer, type StaticServer } from '@xception/test-kit';
import { CHANNELS, type TaggingProgress } from '../src/shared/api.js';
import { createProgressForwarder } from '../src/core/progress-forwarder.js';
import { createLibraryService } from '../src/core/library-service.js';
import { createEngineClassifier, describeLoadError } from '../src/core/engine-classifier.js';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';

// A small fake weights file: not an HDF5 file, so reading fails after a complete, verified download.
const payload = Buffer.alloc(200_000, 7);
const md5 = createHash('md5').update(payload).digest('hex');
const FILE = IMAGENET_REGISTRY.files.find((f) => f.includeTop)!.fileName;
const registryFor = (urls: string[]): WeightsRegistry => ({
  version: 1,
  files: IMAGENET_REGISTRY.files.map((f) => (f.includeTop ? { ...f, urls, bytes: payload.length, md5 } : f)),
});

let server: StaticServer;
beforeAll(async () => {
  server = await startStaticServer({ handler: (req, res) => {
    if (req.url !== '/xception.h5') {
      res.writeHead(404);
      res.end();
      return;
    }
    // In pieces, so that several progress events are sent.
    res.writeHead(200, { 'content-length': payload.length });
    let offset = 0;
    const timer = setInterval(() => {
      res.write(payload.subarray(offset, offset + 25_000));
      offset += 25_000;
      if (offset >= payload.length) {
        clearInterval(timer);
        res.end();
      }
    }, 5);
  } });
});
afterAll(() => server?.close());

/** The app's wiring with the real engine adapter, and what reached the renderer's channel. */
async function appWith(registry: WeightsRegistry) {
  const photos = makeTempDir('xception-dl-photos-');
  writeFileSync(join(photos, 'a.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  const cacheDir = makeTempDir('xception-dl-cache-');
  mkdirSync(cacheDir, { recursive: true });
  const sent: { channel: string; progress: TaggingProgress }[] = [];
  const forward = createProgressForwarder((channel, progress) => sent.push({ channel, progress }), 0);
  const service = createLibraryService({
    dataDir: makeTempDir('xception-dl-data-'),
    createClassifier: async (settings) => createEngineClassifier({ engine: 'wasm', weights: settings.weights, download: { registry, cacheDir, env: {} } }),
    onProgress: forward,
    describeLoadError,
  });
  await service.init();
  await service.addFolder(photos);
  await service.startTagging({ scope: 'new' });
  await service.whenIdle();
  const failed = sent.find((s) => s.progress.state === 'failed');
  await service.dispose();
  return { sent, failed, cacheDir };
}

describe('ImageNet weights download through the app', () => {
  it('sends download progress on the progress channel, then a clear message when the file is not usable weights', async () => {
    const { sent, failed, cacheDir } = await appWith(registryFor([`${server.url}/xception.h5`]));
    expect(server.hits).toContain('/xception.h5');
    expect(new Set(sent.map((s) => s.channel))).toEqual(new Set([CHANNELS.progress]));
    const downloads = sent.filter((s) => s.progress.state === 'loading-model' && s.progress.download).map((s) => s.progress.download!);
    expect(downloads.length).toBeGreaterThan(1);
    expect(downloads.every((d) => d.total === payload.length)).toBe(true);
    expect(downloads.at(-1)!.loaded).toBe(payload.length);
    expect(downloads.map((d) => d.loaded)).toEqual([...downloads.map((d) => d.loaded)].sort((a, b) => a - b));
    // Downloaded and verified into the cache; the fake bytes then fail to read as weights.
    expect(existsSync(join(cacheDir, FILE))).toBe(true);
    expect(failed?.progress.message).toBeTruthy();
    expect(failed!.progress.message).not.toMatch(/offline/);
    console.log(`download then read failure, as the toolbar shows it: ${failed!.progress.message}`);
  }, 120_000);

  it('a refused connection gives the offline message on the progress channel', async () => {
    const port = await deadPort();
    const { failed } = await appWith(registryFor([`http://127.0.0.1:${port}/xception.h5`]));
    expect(failed?.channel).toBe(CHANNELS.progress);
    expect(failed!.progress.message).toBe('You are offline and the ImageNet weights are not downloaded yet: connect once to download them (about 88 MB), or choose a weights file in settings.');
  }, 120_000);
});
