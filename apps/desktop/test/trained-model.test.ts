import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
import { writeKerasArchive } from '@xception/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webglWeightsFrom } from '../src/core/renderer-classifier.js';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';
import type { ServedApp } from '../src/served/served-app.js';
import { buildProgram } from '../src/served/tagger-cli.js';
import { runCli } from '@xception/test-kit/worker-cli';

const samples = sharedPath('images', 'imagenet-samples');
const skip = !EXIFTOOL ? SKIP_NO_EXIFTOOL : !samples ? SKIP_NO_SHARED : null;
const CLASS_NAMES = ['cat', 'garden', 'sky'];
/**
 * The head decides alone: its kernel is zeros, so the logits are its bias [0, 10, 0] whatever the
 * photo, and softmax gives "garden" exp(10) / (exp(10) + 2) on every photo (computed here, not by
 * the code under test).
 */
const GARDEN = Math.exp(10) / (Math.exp(10) + 2);

interface Reply { status: number; body: string }

/**
 * A model from `xception train` (a Keras 3 .keras with its class names, saved at 71x71) as the
 * weights of the served app, `tagger serve --weights model.keras`, run in this process on the
 * onnx engine over a copy of real photos. Checked: the sidecars as exiftool reads them, the
 * bridge's answers over HTTP, and the pooled features against `xception embed` (the built CLI)
 * at 71x71. (Photos other weights tagged are tagged again: library-service.test.ts.)
 */
describe.skipIf(skip)(`tagger serve --weights model.keras (a trained model's own classes) ${skip ?? ''}`, () => {
  let root: string;
  let album: string;
  let keras: string;
  let app: ServedApp | null = null;
  const names: string[] = [];
  const said: string[] = [];

  const serve = async (args: string[]): Promise<ServedApp> => {
    const served: { app?: ServedApp } = {};
    const out = { print: (l: string) => said.push(l), say: (l: string) => said.push(l) };
    await buildProgram(out, (a) => (served.app = a)).parseAsync(['node', 'tagger', 'serve', album, '--port', '0', '--engine', 'onnx', '--threads', '2', '--data-dir', join(root, 'data'), ...args]);
    await served.app!.ready; // the scan runs after the page can open
    await served.app!.service.whenIdle();
    expect(served.app!.service.progress(), said.join('\n')).toMatchObject({ state: 'done', failed: 0 });
    return served.app!;
  };

  beforeAll(async () => {
    root = makeTempDir('xception-trained-served-');
    album = join(root, 'album');
    mkdirSync(album);
    for (const name of readdirSync(samples!).sort().slice(0, 4)) {
      copyFileSync(join(samples!, name), join(album, name));
      names.push(name);
    }
    const config = resolveXceptionConfig({ includeTop: true, classes: 3, inputShape: [71, 71, 3], weights: 'seeded' });
    const values = saneRandomWeights(expectedWeights(config), 5);
    values.get('predictions/kernel')!.values.fill(0);
    values.get('predictions/bias')!.values.set([0, 10, 0]);
    keras = join(root, 'model.keras');
    await writeKerasArchive(keras, { config, values, classNames: CLASS_NAMES });

    app = await serve(['--weights', keras, '--threshold', '0.3']);
  });

  afterAll(async () => {
    await app?.close();
  });

  it("the sidecars (exiftool) carry the class name under the hierarchy root with its score, no ImageNet group, and the model's name and hash", () => {
    const sha256 = createHash('sha256').update(readFileSync(keras)).digest('hex');
    for (const fields of exiftoolRead(...names.map((n) => join(album, `${n}.xmp`)))) {
      const name = String(fields.SourceFile);
      expect(fields['XMP-xcp:Model'], name).toBe(`file:model.keras#${sha256.slice(0, 12)}`);
      expect(asList(fields['XMP-dc:Subject']), name).toEqual(['garden']);
      expect(asList(fields['XMP-lr:HierarchicalSubject']), name).toEqual(['Xception|garden']);
      expect(asList(fields['XMP-digiKam:TagsList']), name).toEqual(['Xception/garden']);
      const predictions = asList(fields['XMP-xcp:Predictions']).map((e) => e.split('|'));
      // Every class of the three, best first; -1: a class of the model's own, in no ImageNet group.
      expect(predictions.map(([index, label]) => `${index}|${label}`), name).toEqual(['-1|garden', '-1|cat', '-1|sky']);
      expect(Math.abs(Number(predictions[0]![2]) - GARDEN), name).toBeLessThan(1e-6);
    }
  });

  it('the bridge (POST /api/query over HTTP, what the page shows) names the class with its score', async () => {
    const cookie = `${app!.rules.cookieName}=${app!.rules.token}`;
    const api = (method: string, args: unknown[]): Promise<Reply> => new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app!.port, method: 'POST', path: `/api/${method}`, headers: { cookie, origin: app!.origin, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ args }));
    });
    const query = JSON.parse((await api('query', [{}])).body) as { ok: true; value: { photos: { name: string; tags: { name: string; path: string[]; score: number; source: string }[] }[] } };
    expect(query.value.photos.map((p) => p.name).sort()).toEqual([...names].sort());
    for (const photo of query.value.photos) {
      expect(photo.tags.map(({ name, path, source }) => ({ name, path, source })), photo.name).toEqual([{ name: 'garden', path: ['garden'], source: 'model' }]);
      expect(Math.abs(photo.tags[0]!.score - GARDEN)).toBeLessThan(1e-6);
    }
    expect(JSON.parse((await api('tagCounts', [])).body)).toEqual({ ok: true, value: [{ name: 'garden', count: 4 }] });
  });

  it("runs at the model's saved 71x71 with its base weights: features = `xception embed --weights model.keras --image-size 71`", async () => {
    const out = join(root, 'embed.jsonl');
    const run = await runCli(['embed', album, '--weights', keras, '--image-size', '71', '--engine', 'onnx', '--threads', '2', '--out', out, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; features: number[] });
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      // The library keeps features at unit length (for cosine similarity).
      const norm = Math.hypot(...row.features);
      const mine = app!.service.library.features(row.path)!;
      let diff = 0;
      row.features.forEach((v, i) => (diff = Math.max(diff, Math.abs(v / norm - mine[i]!))));
      expect(diff, row.path).toBeLessThan(1e-5);
    }
  });

  it("the desktop's webgl engine refuses the trained model in settings' words rather than name it by ImageNet's classes", async () => {
    await expect(webglWeightsFrom(keras)).rejects.toMatchObject({
      code: 'ERR_ENGINE_UNAVAILABLE',
      message: "The 'webgl' engine runs ImageNet's 1000 classes at 299x299 only, and model.keras has its own 3 classes at 71x71; choose auto, onnx or wasm as the engine in settings.",
    });
  });
});
