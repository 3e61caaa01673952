import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { resolveXceptionConfig } from '@xception/core';
import { SKIP_NO_SHARED } from '@xception/core/testing';
import { writeKerasArchive } from '@xception/weights';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startStaticServer, type StaticServer } from '../test-support/static-server.js';
import { runCli, SIZE, sharedPhotos, writeSeededArtifacts, type CliEmbedRow, type CliTopRow } from '../test-support/fixtures.js';
import { ClassifierError, loadClassifier, type Classification, type Classifier, type ImageInput } from './index.js';

/**
 * loadClassifier() against the `xception` CLI (apps/worker/dist/cli.js, another front door run
 * as a child process) on the same seeded 71x71 weights (tfjs artifacts) and real photos.
 */
const photos = sharedPhotos();
if (!photos) console.warn(SKIP_NO_SHARED);

const expectSameTop = (got: Classification[], want: CliTopRow['top']): void => {
  expect(got.map((c) => [c.index, c.wnid, c.label])).toEqual(want.map((c) => [c.index, c.wnid, c.label]));
  got.forEach((c, i) => expect(Math.abs(c.score - want[i]!.score)).toBeLessThanOrEqual(1e-6));
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.skipIf(!photos)('loadClassifier in Node (seeded 71x71 weights, real photos)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-classifier-'));
  const home = join(dir, 'home');
  let modelJson: string;
  let values: Awaited<ReturnType<typeof writeSeededArtifacts>>['values'];
  let cliTop: Map<string, CliTopRow>;
  let cliEmbed: Map<string, CliEmbedRow>;
  let classifier: Classifier<ImageInput>;
  let server: StaticServer;
  let tensorsBefore = 0;
  const progress: string[] = [];

  beforeAll(async () => {
    ({ modelJson, values } = await writeSeededArtifacts(join(dir, 'web')));
    // The first CLI run exports the ONNX model into XCEPTION_HOME; the others read it from there.
    cliTop = await runCli<CliTopRow>('classify', photos!, modelJson, join(dir, 'top.jsonl'), home);
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
    rmSync(dir, { recursive: true, force: true });
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
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
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
    expect(server.hits.filter((h) => h === `/${basename(photo)}`)).toHaveLength(2);
  });

  test('a .keras archive of the same weights with class names: the CLI\'s ranking, named by the archive', async () => {
    const config = resolveXceptionConfig({ includeTop: true, inputShape: [SIZE, SIZE, 3], weights: 'seeded' });
    const names = Array.from({ length: 1000 }, (_, i) => `name ${i}`);
    await writeKerasArchive(join(dir, 'named.keras'), { config, values, classNames: names });
    const fromKeras = await loadClassifier({ weights: join(dir, 'named.keras'), cacheDir: home });
    try {
      // The same weights and configuration: the ONNX export the CLI cached is used.
      expect(fromKeras.engine).toMatch(/model cached /);
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
