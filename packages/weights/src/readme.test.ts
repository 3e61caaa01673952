import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import {
  bundleForBrowser, HAVE_CHROMIUM, openChromium, readmeExamples, repoRoot, runNodeExample, SKIP_NO_CHROMIUM, substitute,
} from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { imagenetWeightsPath } from './cache-dir.js';
import { writeKeras3Weights, writeKerasArchive } from './keras3-writer.js';
import { writeTfjsArtifacts } from './tfjs-artifacts-writer.js';

/**
 * Every example of this package's README, run as written against the built package: Node
 * examples as plain `node` scripts, the browser one bundled by esbuild for browsers and run in
 * Debian Chromium from a page on 127.0.0.1. Test-only substitutions: 71x71 images instead of
 * 299x299 (seconds, not minutes). The files they name are written here with seeded weights.
 */
const examples = readmeExamples(fileURLToPath(new URL('../README.md', import.meta.url)));
const [ownFiles, imagenet, browser] = examples;
const dir = mkdtempSync(join(tmpdir(), 'xception-weights-readme-'));
const SMALL = [['299, 299', '71, 71']] as const;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One seeded set of weights: the 10-class top serves both files, the body the served artifacts.
const tenClasses = resolveXceptionConfig({ weights: null, classes: 10, inputShape: [71, 71, 3] });
let values: ReturnType<typeof saneRandomWeights>;
beforeAll(() => {
  values = saneRandomWeights(expectedWeights(tenClasses), 21);
});

test('the README has the three examples this test knows: own files, ImageNet, browser', () => {
  expect(examples.map((e) => e.where)).toEqual(['node', 'node', 'browser']);
});

test("the README's own-files example runs in plain Node (the backend is ready before weights decode)", async () => {
  await writeKeras3Weights(join(dir, 'my_xception.weights.h5'), { config: tenClasses, values });
  renameSync(join(dir, 'my_xception.weights.h5'), join(dir, 'my_xception.h5'));
  await writeKerasArchive(join(dir, 'fine_tuned.keras'), { config: tenClasses, values });
  expect(runNodeExample(substitute(ownFiles!, SMALL), { cwd: dir }).trim()).toBe('[ 1, 10 ]');
});

const haveImagenet = [true, false].every((includeTop) => existsSync(imagenetWeightsPath({ includeTop })));
test.skipIf(!haveImagenet)(`the README's ImageNet example runs${haveImagenet ? '' : ' (skipped: the ImageNet files are not in the cache; `xception weights fetch` and `xception weights fetch --no-top` fill it)'}`, () => {
  runNodeExample(imagenet!.code, { cwd: dir });
});

describe.skipIf(!HAVE_CHROMIUM)(`the README's browser example ${HAVE_CHROMIUM ? '' : SKIP_NO_CHROMIUM}`, () => {
  test('bundles for browsers with no Node built-in, loads served artifacts in Chromium, and says what is wrong with typed errors', async () => {
    const thousand = resolveXceptionConfig({ weights: null });
    const withTop = saneRandomWeights(expectedWeights(thousand), 22);
    mkdirSync(join(dir, 'site'));
    await writeTfjsArtifacts({ outDir: join(dir, 'site', 'xception'), config: thousand, values: withTop, quantize: 'uint8' });
    // Imports resolve from the worker app, a project that depends on the built packages.
    const bundle = await bundleForBrowser(substitute(browser!, SMALL), join(repoRoot()!, 'apps', 'worker'));
    expect(bundle.externals).toEqual([]);
    expect(bundle.text).not.toMatch(/["']node:|require\(["'](fs|path|crypto|http|https|os)["']\)|h5wasm/);
    const chromium = await openChromium(join(dir, 'site'));
    try {
      const result = await chromium.runModule(bundle.text);
      expect(result).toEqual({ ok: true });
      expect(chromium.errors).toEqual([]);
      expect(chromium.logs).toEqual(['1x1000']);
      expect(chromium.server.hits).toContain('/xception/model.json');

      // What a page gets wrong, in the browser build's words: a missing URL, Keras' HDF5.
      const mistakes = await bundleForBrowser(`
        import { loadXception } from '@xception/weights';
        for (const weights of ['/missing/model.json', 'imagenet']) {
          await loadXception({ weights }).then(() => console.log('loaded'), (e) => console.log(e.name + ' ' + e.code + ': ' + e.message));
        }`, join(repoRoot()!, 'apps', 'worker'));
      expect(await chromium.runModule(mistakes.text)).toEqual({ ok: true });
      // (A second bundle brings a second tfjs-core, which warns that it re-registers the platform.)
      expect(chromium.logs.slice(-2)).toEqual([
        `WeightsFileError ERR_WEIGHTS_NOT_FOUND: ${chromium.server.url}/missing/model.json answered HTTP 404; check the address (every shard named in model.json must be served beside it).`,
        "WeightsFileError ERR_WEIGHTS_FORMAT: weights: 'imagenet' names Keras' ImageNet HDF5 file, which browsers do not read here; convert it once with 'xception weights convert imagenet <dir> --to web', serve <dir>, and pass its model.json URL as weights.",
      ]);
    } finally {
      await chromium.close();
    }
  });
});
