import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { HAVE_CHROMIUM, launchChromium, SKIP_NO_CHROMIUM } from '@xception/test-kit';
import type { BrowserContext } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';

/**
 * The same core, unchanged, on tfjs' webgl backend in a real browser (Debian Chromium; its
 * software GL, SwiftShader, stands in for a GPU here), checked against the cpu backend in the
 * same page on the same seeded weights.
 */
if (!HAVE_CHROMIUM) console.warn(`${SKIP_NO_CHROMIUM}; it runs the webgl backend`);

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import { createXceptionFromValues, expectedWeights } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};
import { saneRandomWeights, randomImages } from ${JSON.stringify(fileURLToPath(new URL('./testing/sane-random-weights.ts', import.meta.url)))};

window.runXception = async () => {
  const options = { weights: 'test', classes: 10 };
  const weights = saneRandomWeights(expectedWeights(options), 5);
  const shape = [2, 71, 80, 3];
  const run = async (backend) => {
    await tf.setBackend(backend);
    await tf.ready();
    const model = createXceptionFromValues({ ...options, inputShape: [71, 80, 3] }, weights);
    const x = tf.tensor4d(randomImages(shape, 9), shape);
    const before = tf.memory().numTensors;
    const { output, features } = model.predictWithFeatures(x);
    const result = { output: Array.from(await output.data()), features: Array.from(await features.data()), shape: output.shape };
    tf.dispose([output, features]);
    const leaked = tf.memory().numTensors - before;
    x.dispose();
    model.dispose();
    return { ...result, leaked, float32: backend === 'webgl' ? tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') : true };
  };
  const webgl = await run('webgl');
  const cpu = await run('cpu');
  const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  return { backend: 'webgl', shape: webgl.shape, float32: webgl.float32, leaked: [webgl.leaked, cpu.leaked],
    outputDiff: maxDiff(webgl.output, cpu.output), featureDiff: maxDiff(webgl.features, cpu.features),
    topOutput: Math.max(...cpu.output) };
};
`;

describe.skipIf(!HAVE_CHROMIUM)('webgl backend in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-webgl-'));
  let context: BrowserContext | undefined;
  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('predictions and pooled features match the cpu backend; no tensor leaks', async () => {
    const bundle = await esbuild.build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
      bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
    });
    context = await launchChromium(join(dir, 'profile'), { gpu: 'swiftshader' });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setContent('<!doctype html><title>xception webgl</title>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text, type: 'module' });
    await page.waitForFunction(() => typeof (window as unknown as { runXception?: unknown }).runXception === 'function');
    const r = await page.evaluate(() => (window as unknown as { runXception: () => Promise<Record<string, unknown>> }).runXception());
    console.log(`webgl vs cpu (2x71x80, 10 classes): max |diff| ${Number(r.outputDiff).toExponential(2)} on probabilities, ${Number(r.featureDiff).toExponential(2)} on pooled features; float32 textures: ${r.float32}`);
    expect(errors).toEqual([]);
    expect(r.shape).toEqual([2, 10]);
    expect(r.float32).toBe(true);
    expect(r.leaked).toEqual([0, 0]);
    expect(Number(r.topOutput)).toBeLessThan(0.99); // a spread distribution, not a one-hot
    expect(Number(r.outputDiff)).toBeLessThanOrEqual(1e-5);
    expect(Number(r.featureDiff)).toBeLessThanOrEqual(1e-4);
  });
});
