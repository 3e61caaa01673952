/**
 * The inference utility process for real, without Electron: inference-host in a Node child
 * process whose `process.parentPort` is the IPC channel, driven by the main side's
 * utility-classifier. From the TypeScript sources, and from the esbuild bundle the app ships
 * (which must carry @xception/engines' worker thread beside it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../src/shared/api.js';
import type { Classification } from '../src/core/classifier.js';
import { createEngineClassifier } from '../src/core/engine-classifier.js';
import { createUtilityClassifier } from '../src/core/utility-classifier.js';
import { forkNodeUtilityProcess } from '../src/core/test-support/node-utility-process.js';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildAll } from '../scripts/build.mjs';

const SIZE = 71;
const settings = { ...DEFAULT_SETTINGS, engine: 'auto' as const };
const random = { randomWeights: { seed: 7, imageSize: SIZE } };

let photos: string[] = [];
let reference: Classification[] = [];
beforeAll(async () => {
  const dir = makeTempDir('xception-host-photos-');
  for (let i = 0; i < 3; i++) {
    const raw = Buffer.alloc(50 * 40 * 3).map((_, j) => (j * (11 + i * 5)) % 256);
    const file = join(dir, `p${i}.png`);
    await sharp(raw, { raw: { width: 50, height: 40, channels: 3 } }).png().toFile(file);
    photos.push(file);
  }
  // The independent side: the wasm engine in this process, same seed.
  const wasm = createEngineClassifier({ engine: 'wasm', weights: null, imageSize: SIZE, random: { seed: 7 }, threads: 1 });
  await wasm.load();
  reference = [];
  for (const photo of photos) reference.push(await wasm.classify(photo, 5));
  await wasm.dispose();
});

function expectSameAsReference(results: Array<Classification | Error>): void {
  results.forEach((got, i) => {
    if (got instanceof Error) throw got;
    expect(got.predictions.map((p) => p.index)).toEqual(reference[i]!.predictions.map((p) => p.index));
    let d = 0;
    got.features.forEach((v, k) => (d = Math.max(d, Math.abs(v - reference[i]!.features[k]!))));
    expect(d).toBeLessThan(1e-4);
  });
}

describe('the inference host in a child process', () => {
  it("'auto' loads onnx there and classifies batches; a bad photo fails alone; SIGKILL fails the pending batch with a clear message", async () => {
    const bad = join(makeTempDir('xception-host-bad-'), 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');
    const forks: ReturnType<typeof forkNodeUtilityProcess>[] = [];
    const classifier = createUtilityClassifier(() => {
      const child = forkNodeUtilityProcess();
      forks.push(child);
      return child;
    }, settings, random);
    try {
      await classifier.load();
      expect(classifier.backend()).toMatch(/^onnx \(onnxruntime-node 1\.30\.0, cpu, \d+ threads?; model (exported, cached at |cached )\S+\.onnx\), in a worker thread$/);
      const first = await classifier.classifyBatch!([photos[0]!, bad], 5, [photos[1]!, photos[2]!]);
      expect(first[1]).toBeInstanceOf(Error);
      const second = await classifier.classifyBatch!([photos[1]!, photos[2]!], 5, []);
      expectSameAsReference([first[0]!, ...second]);

      const pending = classifier.classifyBatch!(photos, 5, []);
      process.kill(forks[0]!.pid!, 'SIGKILL');
      await expect(pending).rejects.toThrow(/^The inference process stopped \(exit code null\); tagging will restart it\.$/);
    } finally {
      await classifier.dispose();
    }
  });

  describe('from the bundle the app ships', () => {
    // Inside the app folder (dist/ is git-ignored), so that the bundle finds its external packages.
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    mkdirSync(dist, { recursive: true });
    const out = mkdtempSync(join(dist, 'host-test-'));
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    it('runs onnx in the worker thread built beside inference-host.js', async () => {
      await buildAll(out);
      const classifier = createUtilityClassifier(() => forkNodeUtilityProcess(join(out, 'electron', 'inference-host.js')), settings, random);
      try {
        await classifier.load();
        expect(classifier.backend()).toMatch(/^onnx .*, in a worker thread$/);
        expectSameAsReference(await classifier.classifyBatch!(photos, 5, []));
      } finally {
        await classifier.dispose();
      }
    });
  });
});
