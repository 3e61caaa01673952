import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolveXceptionConfig } from '@xception/core';
import { HAVE_CHROMIUM, launchChromium, SKIP_NO_CHROMIUM, SKIP_NO_SHARED, startStaticServer, type StaticServer } from '@xception/test-kit';
import { writeKerasArchive } from '@xception/weights';
import * as esbuild from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CACHE_NAME } from './browser/cache-storage-store.js';
import { CACHE_DB_NAME, CACHE_DB_STORE } from './browser/indexed-db-store.js';
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
const skipBrowser = !HAVE_CHROMIUM ? `${SKIP_NO_CHROMIUM}; it runs the browser classifier` : null;
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
import { fetchModelArtifacts } from './cached-artifacts.ts';
${readme.imports}

// The store alone, without building a model (a build costs seconds): the shards' bytes one read of a model folder gives.
window.readModelFolder = async (modelJson) => (await fetchModelArtifacts(new URL(modelJson, location.href), true)).weightData.byteLength;

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
  let webFiles: string[];
  let modelJsonHead: string;
  let shardBytes: number;
  const modelHits = (): number => server.hits.filter((h) => h.startsWith('/web/')).length;
  const pageErrors: string[] = [];
  const TINY_MODEL_JSON = JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }] });

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
    // The model folder's files: model.json and the shards its manifest names (the folder holds other files too).
    const modelJsonText = readFileSync(join(dir, 'web', 'model.json'), 'utf8');
    modelJsonHead = modelJsonText.slice(0, 20);
    const manifest = JSON.parse(modelJsonText) as { weightsManifest: Array<{ paths: string[] }> };
    const shards = manifest.weightsManifest.flatMap((g) => g.paths);
    webFiles = ['model.json', ...shards].map((f) => `/web/${f}`).sort();
    shardBytes = shards.reduce((n, f) => n + statSync(join(dir, 'web', f)).size, 0);
    for (const f of readdirSync(join(dir, 'web'))) server.files.set(`/web/${f}`, { body: readFileSync(join(dir, 'web', f)), type: f.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    // A model folder of one 8-byte shard, for what the store does with a damaged model.json (reading the 88 MB one again would cost seconds).
    server.files.set('/tiny/model.json', { body: TINY_MODEL_JSON, type: 'application/json' });
    server.files.set('/tiny/w.bin', { body: new Uint8Array(8), type: 'application/octet-stream' });
    const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) server.files.set(`/wasm/${f}`, { body: readFileSync(join(wasmDir, f)), type: 'application/wasm' });
    context = await launchChromium(join(dir, 'chromium', 'profile'), { gpu: 'swiftshader', args: ['--host-resolver-rules=MAP nas.test 127.0.0.1'] });
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

  /** A fresh page of the same profile at `origin`, its script loaded. */
  const openPage = async (origin: string): Promise<Page> => {
    const visit = await context.newPage();
    visit.on('pageerror', (e) => pageErrors.push(String(e)));
    await visit.goto(`${origin}/`);
    await visit.waitForFunction(() => typeof (window as unknown as { runReadme?: unknown }).runReadme === 'function');
    return visit;
  };
  /** What `act` returned, and the model files the server sent meanwhile. */
  const downloadsDuring = async <T>(act: () => Promise<T>): Promise<{ result: T; downloaded: string[] }> => {
    const before = server.hits.length;
    const result = await act();
    return { result, downloaded: server.hits.slice(before).filter((h) => /^\/(web|tiny)\//.test(h)).sort() };
  };
  /** The README's example in `visit`: its top-5, and the model files it downloaded. */
  const runReadme = (visit: Page): Promise<{ result: CliTopRow['top']; downloaded: string[] }> =>
    downloadsDuring(() => visit.evaluate(() => (window as unknown as { runReadme: () => Promise<CliTopRow['top']> }).runReadme()));

  test("second visit, the README's browser example: the model folder comes from Cache Storage, nothing is downloaded", async () => {
    const visit = await openPage(server.url);
    const { result: top5, downloaded } = await runReadme(visit);
    expect(downloaded).toEqual([]);
    expectCliTop(top5, 1e-5);
    // From Cache Storage (every file of the folder, by URL), not from the IndexedDB fallback.
    const kept = await visit.evaluate(async (cacheName) => ({
      cached: (await (await caches.open(cacheName)).keys()).map((r) => new URL(r.url).pathname).sort(),
      databases: (await indexedDB.databases()).map((d) => d.name),
      emptied: await caches.delete(cacheName) && !(await caches.keys()).includes(cacheName),
    }), CACHE_NAME);
    expect(kept).toEqual({ cached: webFiles, databases: [], emptied: true });
    expect(pageErrors).toEqual([]);
    await visit.close();
  });

  test('plain http on a host that is not localhost (no Cache Storage): the model folder is kept in IndexedDB; a damaged model.json there is fetched again', async () => {
    const origin = `http://nas.test:${server.port}`; // --host-resolver-rules sends nas.test to 127.0.0.1
    /** The IndexedDB store's keys and `key`'s entry, read with IndexedDB's own API; `damage` first overwrites that entry with text that is not JSON. */
    const readStore = (visit: Page, key: string, damage = false): Promise<{ keys: string[]; entry: string }> => visit.evaluate(async ([dbName, storeName, key, damage]) => {
      const done = <T>(r: IDBRequest<T>): Promise<T> => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
      const db = await done(indexedDB.open(dbName));
      if (damage) await done(db.transaction(storeName, 'readwrite').objectStore(storeName).put({ bytes: new TextEncoder().encode('{"weightsManifest": [garbage').buffer, type: 'application/json' }, key));
      const store = db.transaction(storeName).objectStore(storeName);
      const [keys, entry] = await Promise.all([done(store.getAllKeys()), done(store.get(key) as IDBRequest<{ bytes: ArrayBuffer; type: string } | undefined>)]);
      db.close();
      return { keys: keys.map(String).sort(), entry: entry ? `${entry.type} ${new TextDecoder().decode(entry.bytes).slice(0, 20)}` : 'absent' };
    }, [CACHE_DB_NAME, CACHE_DB_STORE, key, damage] as const);
    /** The store alone (loadClassifier's first step) in `visit`: the shards' bytes it read, and the model files it downloaded. */
    const readFolder = (visit: Page, modelJson: string): Promise<{ result: number; downloaded: string[] }> =>
      downloadsDuring(() => visit.evaluate((url) => (window as unknown as { readModelFolder: (url: string) => Promise<number> }).readModelFolder(url), modelJson));

    const first = await openPage(origin);
    // The premise: this origin has no Cache Storage (else this test would not test the fallback).
    expect(await first.evaluate(() => ({ secure: window.isSecureContext, caches: typeof caches }))).toEqual({ secure: false, caches: 'undefined' });
    // The first visit downloads the folder and keeps every file under its URL (read without a model build, which the second visit does).
    expect(await readFolder(first, '/web/model.json')).toEqual({ result: shardBytes, downloaded: webFiles });
    const kept = await readStore(first, `${origin}/web/model.json`);
    expect(kept).toEqual({ keys: webFiles.map((f) => `${origin}${f}`), entry: `application/json ${modelJsonHead}` });

    // A store that cannot be written (every put's transaction aborts, as a full quota does) keeps nothing and costs a download, not an error.
    const tiny = ['/tiny/model.json', '/tiny/w.bin'];
    await first.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      (window as unknown as { restorePut: () => void }).restorePut = () => { IDBObjectStore.prototype.put = put; };
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) { const request = put.apply(this, args); this.transaction.abort(); return request; };
    });
    expect(await readFolder(first, '/tiny/model.json')).toEqual({ result: 8, downloaded: tiny });
    expect(await readFolder(first, '/tiny/model.json')).toEqual({ result: 8, downloaded: tiny });
    await first.evaluate(() => (window as unknown as { restorePut: () => void }).restorePut());
    expect(await readFolder(first, '/tiny/model.json')).toEqual({ result: 8, downloaded: tiny });

    // A damaged model.json in the store is removed and downloaded again (its shard stays kept); the folder reads whole.
    expect((await readStore(first, `${origin}/tiny/model.json`, true)).entry).toBe('application/json {"weightsManifest": ');
    expect(await readFolder(first, '/tiny/model.json')).toEqual({ result: 8, downloaded: ['/tiny/model.json'] });
    expect((await readStore(first, `${origin}/tiny/model.json`)).entry).toBe(`application/json ${TINY_MODEL_JSON.slice(0, 20)}`);

    // A store that cannot be opened (private mode, a sandboxed frame) costs a download, not an error.
    await first.evaluate(() => { IDBFactory.prototype.open = () => { throw new DOMException('IndexedDB is disabled here.', 'SecurityError'); }; });
    expect(await readFolder(first, '/tiny/model.json')).toEqual({ result: 8, downloaded: tiny });
    await first.close();

    // The second visit, the README's example: nothing downloaded, and the top-5 of the downloaded folder (`xception classify`'s, as on 127.0.0.1).
    const second = await openPage(origin);
    const secondRun = await runReadme(second);
    expect(secondRun.downloaded).toEqual([]);
    expectCliTop(secondRun.result, 1e-5);
    // The README's way to empty the store, in a page that has used it.
    expect(await second.evaluate(async (dbName) => {
      await new Promise((resolve, reject) => { const r = indexedDB.deleteDatabase(dbName); r.onsuccess = resolve; r.onerror = () => reject(r.error); r.onblocked = () => reject(new Error('blocked')); });
      return (await indexedDB.databases()).map((d) => d.name);
    }, CACHE_DB_NAME)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await second.close();
  });
});
