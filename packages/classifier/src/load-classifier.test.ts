import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolveXceptionConfig } from '@xception/core';
import { SKIP_NO_SHARED, startStaticServer, type StaticServer } from '@xception/core/testing';
import { writeKerasArchive } from '@xception/weights';
import * as esbuild from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { haveChromium, launchChromium, SKIP_NO_CHROMIUM } from './test-support/chromium.js';
import { classifierFixture as fixture, removeClassifierFixture, runCli, SIZE, sharedPhotos, type CliEmbedRow, type CliTopRow, type Fixture } from './test-support/fixtures.js';
import { ClassifierError, loadClassifier, type Classification, type Classifier, type ImageInput } from './node/index.js';

/**
 * @xception/classifier against the `xception` CLI (apps/worker/dist/cli.js, another front door
 * run as a child process) on the same seeded 71x71 weights (a tfjs model folder) and real
 * photos (../shared): the Node entry, then the browser entry in Debian Chromium. One file, so
 * that both share the weights and the CLI's run (each CLI start reads ~90 MB of weights).
 */
const photos = sharedPhotos();
if (!photos) console.warn(SKIP_NO_SHARED);
const skipBrowser = !haveChromium ? SKIP_NO_CHROMIUM : null;
if (skipBrowser) console.warn(skipBrowser);

const expectSameTop = (got: Classification[], want: CliTopRow['top']): void => {
  expect(got.map((c) => [c.index, c.wnid, c.label])).toEqual(want.map((c) => [c.index, c.wnid, c.label]));
  got.forEach((c, i) => expect(Math.abs(c.score - want[i]!.score)).toBeLessThanOrEqual(1e-6));
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

afterAll(removeClassifierFixture);

describe.skipIf(!photos)('loadClassifier in Node (seeded 71x71 weights, real photos)', () => {
  let dir: string;
  let home: string;
  let modelJson: string;
  let values: Fixture['values'];
  let cliTop: Map<string, CliTopRow>;
  let cliEmbed: Map<string, CliEmbedRow>;
  let classifier: Classifier<ImageInput>;
  let server: StaticServer;
  let tensorsBefore = 0;
  const progress: string[] = [];

  beforeAll(async () => {
    ({ dir, home, modelJson, values, cliTop } = await fixture());
    tensorsBefore = tf.engine().state.numTensors;
    [cliEmbed, classifier] = await Promise.all([
      runCli<CliEmbedRow>('embed', photos!.slice(0, 2), modelJson, join(dir, 'features.jsonl'), home),
      loadClassifier({ weights: modelJson, imageSize: SIZE, batchSize: 2, cacheDir: home, onProgress: (e) => progress.push(`${e.phase} ${e.target}`) }),
    ]);
    server = await startStaticServer();
    for (const p of photos!) server.files.set(`/${basename(p)}`, { body: readFileSync(p), type: 'image/jpeg' });
  });
  /** The ONNX model the CLI exported into its cache for these weights. */
  const cliOnnx = (): string => join(home, 'onnx', readdirSync(join(home, 'onnx')).find((f) => f.endsWith('.onnx'))!);

  afterAll(async () => {
    await classifier?.dispose();
    await server?.close();
  });

  test('classify: the same top-5 as `xception classify` on every photo (an array, run in batches of 2)', async () => {
    expect(classifier.engine).toMatch(/^onnx .*model cached .*\.onnx\), in a worker thread$/);
    // Reading model.json decodes its shards with tfjs here: those tensors are gone.
    expect(tf.engine().state.numTensors).toBe(tensorsBefore);
    expect(progress).toEqual([`read ${modelJson}`]);
    const tops = await classifier.classify(photos!, { topK: 5 });
    expect(tops).toHaveLength(photos!.length);
    tops.forEach((top, i) => expectSameTop(top, cliTop.get(photos![i]!)!.top));
    // A spread distribution, so that the order means something.
    expect(tops[0]![0]!.score).toBeLessThan(0.9);
  });

  test("the README's five lines run (the .onnx file the CLI exported in place of 'imagenet'): the CLI's top-5 and features", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
    const importLine = "import { loadClassifier } from '@xception/classifier';";
    expect(block.startsWith(importLine)).toBe(true);
    expect(block.split('\n').filter(Boolean)).toHaveLength(5);
    const body = block.replace(importLine, '')
      .replace("{ weights: 'imagenet' }", `{ weights: ${JSON.stringify(cliOnnx())} }`)
      .replaceAll("'cat.jpg'", JSON.stringify(photos![1]));
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (load: typeof loadClassifier) => Promise<{ top5: Classification[]; features: Float32Array; classifier: Classifier<ImageInput> }>;
    const { top5, features, classifier: used } = await new AsyncFunction('loadClassifier', `${body}\nreturn { top5, features, classifier };`)(loadClassifier);
    expect(used.engine).toMatch(/^onnx \(onnxruntime-node .*; model .*\.onnx\)$/);
    expectSameTop(top5, cliTop.get(photos![1]!)!.top);
    expect(maxDiff(features, cliEmbed.get(photos![1]!)!.features)).toBeLessThanOrEqual(1e-5);
    const disposed = await used.classify(photos![0]!).then(() => null, (e: unknown) => e as ClassifierError);
    expect(disposed?.code).toBe('ERR_CLASSIFIER_DISPOSED');
    expect(disposed?.message).toBe('classifier.classify: this classifier was disposed; call loadClassifier() again.');
  });

  test('embed: the same 2048 features as `xception embed`', async () => {
    const [one, two] = await classifier.embed(photos!.slice(0, 2));
    const single = await classifier.embed(photos![0]!);
    expect(single).toBeInstanceOf(Float32Array);
    expect(single.length).toBe(2048);
    expect(maxDiff(one!, cliEmbed.get(photos![0]!)!.features)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(two!, cliEmbed.get(photos![1]!)!.features)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(single, one!)).toBeLessThanOrEqual(1e-5);
  });

  test('every input kind gives the path\'s result: file URL, http URL (127.0.0.1), Buffer, Uint8Array, ArrayBuffer, Blob', async () => {
    const photo = photos![2]!;
    const bytes = readFileSync(photo);
    const inputs: ImageInput[] = [
      pathToFileURL(photo),
      `${server.url}/${basename(photo)}`,
      new URL(`${server.url}/${basename(photo)}`),
      bytes,
      new Uint8Array(bytes),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      new Blob([bytes]),
    ];
    const tops = await classifier.classify(inputs, { topK: 3 });
    for (const top of tops) expectSameTop(top, cliTop.get(photo)!.top.slice(0, 3));
    expect(server.hitCount(`/${basename(photo)}`)).toBe(2);
  });

  test('a .keras archive of the same weights with class names: the CLI\'s ranking, named by the archive', async () => {
    const config = resolveXceptionConfig({ includeTop: true, inputShape: [SIZE, SIZE, 3], weights: 'seeded' });
    const names = Array.from({ length: 1000 }, (_, i) => `name ${i}`);
    await writeKerasArchive(join(dir, 'named.keras'), { config, values, classNames: names });
    const fromKeras = await loadClassifier({ weights: join(dir, 'named.keras'), cacheDir: home });
    try {
      // Another file of the same weights: the ONNX cache keys a file by its SHA-256 (so that a
      // cache hit need not decode it), so this archive gets its own export.
      expect(fromKeras.engine).toMatch(/model exported, cached at /);
      expect([fromKeras.imageSize, fromKeras.classes]).toEqual([SIZE, 1000]);
      const top = await fromKeras.classify(photos![3]!);
      const want = cliTop.get(photos![3]!)!.top;
      expect(top.map((c) => [c.index, c.wnid, c.label])).toEqual(want.map((c) => [c.index, null, names[c.index]]));
      expect(maxDiff(top.map((c) => c.score), want.map((c) => c.score))).toBeLessThanOrEqual(1e-6);
    } finally {
      await fromKeras.dispose();
    }
  });

  test('typed errors in the options\' words', async () => {
    const error = async (p: Promise<unknown>): Promise<ClassifierError> => {
      const e = await p.then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(ClassifierError);
      return e as ClassifierError;
    };
    const notFound = await error(loadClassifier({ weights: join(dir, 'nowhere.h5') }));
    expect(notFound.code).toBe('ERR_CLASSIFIER_WEIGHTS');
    expect(notFound.message).toMatch(/^weights: .*nowhere\.h5 does not exist; pass 'imagenet', null, or the path/);
    expect((await error(loadClassifier({ weights: 42 as unknown as string }))).message)
      .toBe("loadClassifier: weights must be 'imagenet', null, or the path or URL of a .keras, .h5, model.json or .onnx file; got 42.");
    expect((await error(loadClassifier({ imageSize: 128 }))).message).toMatch(/^loadClassifier: imageSize 128 needs other weights than 'imagenet'/);
    expect((await error(loadClassifier({ weights: null, engine: 'gpu' as 'cpu' }))).code).toBe('ERR_CLASSIFIER_OPTIONS');
    expect((await error(loadClassifier({ weights: null, batchSize: 0 }))).message).toBe('loadClassifier: batchSize must be a positive integer; got 0.');
    const badOnnx = join(dir, 'bad.onnx');
    writeFileSync(badOnnx, 'not a model');
    expect((await error(loadClassifier({ weights: badOnnx }))).message).toMatch(/^weights: .*bad\.onnx is not an ONNX model/);

    expect((await error(classifier.classify(photos![0]!, { topK: 0 }))).message).toBe('classify: topK must be an integer from 1 to 1000 (the classes of these weights); got 0.');
    const text = Buffer.from('hello, not a photo');
    const bad = await error(classifier.classify([photos![0]!, text]));
    expect(bad.code).toBe('ERR_CLASSIFIER_INPUT');
    expect(bad.message).toMatch(/^input 2 of 2 \(a Buffer of 18 bytes\): /);
    expect((await error(classifier.classify(join(dir, 'missing.jpg')))).message).toMatch(/^input \(.*missing\.jpg\): .*no such file/);
    expect((await error(classifier.embed([]))).code).toBe('ERR_CLASSIFIER_INPUT');

  });
});

/** The README's browser example, made to run here: this server's paths, and wasm (webgl on SwiftShader takes minutes). */
function readmeBrowserExample(): { imports: string; body: string } {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)][1]![1]!;
  const [imports, ...rest] = block.split('\n');
  const body = rest.join('\n')
    .replace("weights: '/models/xception/model.json', wasmPaths: '/tfjs-wasm/'", "weights: '/web/model.json', wasmPaths: '/wasm/', backend: 'wasm'");
  if (!imports!.startsWith("import { loadClassifier } from '@xception/classifier';") || !body.includes("backend: 'wasm'")) throw new Error('the README\'s browser example changed; update this test');
  return { imports: imports!, body };
}
const readme = readmeBrowserExample();

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import { ClassifierError } from '@xception/classifier';
${readme.imports}

window.runReadme = async () => {
  await document.querySelector('img').decode();
  ${readme.body}
  return top5;
};

window.runClassifier = async (backend) => {
  const before = tf.engine().state.numTensors;
  const progress = [];
  const classifier = await loadClassifier({ weights: '/web/model.json', backend, wasmPaths: '/wasm/', onProgress: (e) => progress.push(e.phase) });
  const img = new Image();
  img.src = '/photo.png';
  await img.decode();
  const blob = await (await fetch('/photo.png')).blob();
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  const imageData = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const tops = await classifier.classify(['/photo.png', img, bitmap, canvas, imageData, blob, await blob.arrayBuffer()], { topK: 5 });
  const features = await classifier.embed(img);
  let inputError = null;
  await classifier.classify(new Blob(['not a photo'])).catch((e) => { inputError = e instanceof ClassifierError ? e.code : String(e); });
  const engine = classifier.engine;
  await classifier.dispose();
  const leaked = tf.engine().state.numTensors - before;
  const failure = (options) => loadClassifier(options).then(() => 'loaded', (e) => (e instanceof ClassifierError ? e.code + ': ' + e.message : String(e)));
  const loadErrors = [
    // backend 'auto' is set up before the weights are fetched: webgl comes first.
    await failure({ weights: '/nowhere/model.json' }),
    await failure({ weights: 'imagenet' }),
  ];
  return { tops, features: features.length, engine, leaked, progress: [...new Set(progress)], inputError, loadErrors, autoBackend: tf.getBackend() };
};
`;

describe.skipIf(!photos || skipBrowser !== null)('loadClassifier in Chromium (bundled page, model folder on 127.0.0.1)', () => {
  let server: StaticServer;
  let context: BrowserContext;
  let page: Page;
  let cli: CliTopRow['top'];
  const modelHits = (): number => server.hits.filter((h) => h.startsWith('/web/')).length;

  beforeAll(async () => {
    const [{ dir, png, cliTop }, bundle] = await Promise.all([
      fixture(),
      esbuild.build({
        stdin: { contents: PAGE_SCRIPT, resolveDir: fileURLToPath(new URL('./browser/', import.meta.url)), loader: 'js' },
        bundle: true, format: 'esm', platform: 'browser', conditions: ['source'], write: false, logLevel: 'silent', metafile: true,
      }),
      startStaticServer({ headers: { 'cache-control': 'no-store' } }).then((s) => { server = s; }),
    ]);
    cli = cliTop.get(png)!.top;
    const inputs = Object.keys(bundle.metafile!.inputs);
    // What a bundler gets through the "browser" condition: the browser entry, and no Node decoder or runtime.
    expect(inputs.some((i) => i.includes('classifier/src/browser/load-classifier.ts'))).toBe(true);
    expect(inputs.filter((i) => /classifier\/src\/node\/|sharp|onnxruntime|h5wasm|@xception\/engines|engines\/src/.test(i))).toEqual([]);
    server.files.set('/', { body: '<!doctype html><title>xception classifier</title><script type="module" src="/bundle.js"></script><img src="/photo.png">', type: 'text/html' });
    server.files.set('/bundle.js', { body: bundle.outputFiles[0]!.text, type: 'text/javascript' });
    server.files.set('/photo.png', { body: readFileSync(png), type: 'image/png' });
    for (const f of readdirSync(join(dir, 'web'))) server.files.set(`/web/${f}`, { body: readFileSync(join(dir, 'web', f)), type: f.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) server.files.set(`/wasm/${f}`, { body: readFileSync(join(wasmDir, f)), type: 'application/wasm' });
    context = await launchChromium(join(dir, 'chromium'));
    page = context.pages()[0] ?? (await context.newPage());
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  const run = async (backend: string): Promise<{ tops: CliTopRow['top'][]; features: number; engine: string; leaked: number; progress: string[]; inputError: string | null; loadErrors: string[]; autoBackend: string }> => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.warn(`page: ${m.text()}`); });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof (window as unknown as { runClassifier?: unknown }).runClassifier === 'function');
    const r = await page.evaluate((b) => (window as unknown as { runClassifier: (b: string) => Promise<never> }).runClassifier(b), backend);
    expect(errors).toEqual([]);
    return r;
  };

  const expectCliTop = (top: CliTopRow['top'], tolerance: number): void => {
    expect(top.map((c) => [c.index, c.wnid, c.label])).toEqual(cli.map((c) => [c.index, c.wnid, c.label]));
    top.forEach((c, i) => expect(Math.abs(c.score - cli[i]!.score)).toBeLessThanOrEqual(tolerance));
  };

  test('first visit (wasm): the same top-5 as `xception classify` for a URL, <img>, ImageBitmap, canvas, ImageData, Blob and ArrayBuffer; no leak; typed load errors; backend auto starts webgl', async () => {
    const r = await run('wasm');
    expect(r.engine).toBe('tfjs wasm');
    expect(r.tops).toHaveLength(7);
    for (const top of r.tops) expectCliTop(top, 1e-5);
    expect(r.features).toBe(2048);
    expect(r.leaked).toBe(0);
    expect(r.inputError).toBe('ERR_CLASSIFIER_INPUT');
    expect(r.progress).toEqual(['download', 'done']);
    expect(r.loadErrors[0]).toBe(`ERR_CLASSIFIER_WEIGHTS: weights: ${server.url}/nowhere/model.json answered HTTP 404; check the address of the model folder.`);
    expect(r.autoBackend).toBe('webgl');
    expect(r.loadErrors[1]).toMatch(/^ERR_CLASSIFIER_OPTIONS: loadClassifier: weights: 'imagenet' is downloaded and converted in Node only; run `xception weights convert imagenet --to web <folder>`/);
    expect(modelHits()).toBeGreaterThanOrEqual(2); // model.json and its shards
  });

  test("second visit, the README's browser example: the model folder comes from Cache Storage, nothing is downloaded", async () => {
    const before = modelHits();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof (window as unknown as { runReadme?: unknown }).runReadme === 'function');
    const top5 = await page.evaluate(() => (window as unknown as { runReadme: () => Promise<CliTopRow['top']> }).runReadme());
    expect(modelHits() - before).toBe(0);
    expectCliTop(top5, 1e-5);
  });
});
