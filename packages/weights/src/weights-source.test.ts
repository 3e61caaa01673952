import { mkdir, mkdtemp, rm, writeFile, copyFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { WeightsFileError } from './errors.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
import { writeTfjsArtifacts } from './tfjs-artifacts-writer.js';
import { readWeights, resolveWeightsSource } from './weights-source.js';
import { sameBits, saneRandomWeights, startStaticServer, type StaticServer, useBackend } from './test-support/test-imports.js';
import { writeKerasH5 } from './test-support/write-keras-h5.js';

const config = resolveXceptionConfig({ weights: null, includeTop: false });
const values = saneRandomWeights(expectedWeights(config), 21);
let dir: string;
let server: StaticServer;

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'xception-source-'));
  await writeTfjsArtifacts({ outDir: join(dir, 'site', 'model'), config, values });
  await mkdir(join(dir, 'h5dir'));
  await writeKerasH5(join(dir, 'h5dir', 'notop.h5'), { config, values });
  server = await startStaticServer({ root: join(dir, 'site') });
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('resolveWeightsSource', () => {
  it('finds model.json or the one .h5 in a directory, and tells a path by its name', async () => {
    expect(await resolveWeightsSource(join(dir, 'site', 'model'))).toEqual({ format: 'tfjs-layers', location: join(dir, 'site', 'model', 'model.json') });
    expect(await resolveWeightsSource(join(dir, 'h5dir'))).toEqual({ format: 'keras-h5', location: join(dir, 'h5dir', 'notop.h5') });
    expect(await resolveWeightsSource(join(dir, 'h5dir', 'notop.h5'))).toEqual({ format: 'keras-h5', location: join(dir, 'h5dir', 'notop.h5') });
    expect(await resolveWeightsSource(`${server.url}/model/model.json`)).toEqual({ format: 'tfjs-layers', location: `${server.url}/model/model.json` });
    // Keras 3 archives are told apart by their extension, as Keras itself does.
    await copyFile(join(dir, 'h5dir', 'notop.h5'), join(dir, 'model.keras'));
    expect(await resolveWeightsSource(join(dir, 'model.keras'))).toEqual({ format: 'keras', location: join(dir, 'model.keras') });
    await rm(join(dir, 'model.keras'));
  });

  it('says what to pass when the path is wrong or ambiguous', async () => {
    await expect(resolveWeightsSource(join(dir, 'nowhere.h5'))).rejects.toThrow(/The weights file .*nowhere\.h5 does not exist; pass 'imagenet', null, or the path of a Keras \.keras or \.h5 file or a tfjs model\.json/);
    await copyFile(join(dir, 'h5dir', 'notop.h5'), join(dir, 'h5dir', 'second.h5'));
    const error = await resolveWeightsSource(join(dir, 'h5dir')).catch((e: WeightsFileError) => e);
    expect(error).toMatchObject({ code: 'ERR_WEIGHTS_NOT_FOUND', message: expect.stringMatching(/holds 2 weights files \(notop\.h5, second\.h5\); pass the one to load/) });
    await rm(join(dir, 'h5dir', 'second.h5'));
  });
});

describe('readWeights from URLs', () => {
  it('reads tfjs artifacts over http', async () => {
    const reading = await readWeights(`${server.url}/model/model.json`);
    expect(reading.format).toBe('tfjs-layers');
    for (const [name, w] of values) expect(sameBits(reading.values.get(name)!.values, w.values), name).toBe(true);
  });

  it('refuses remote shard paths that leave the model directory, before fetching them', async () => {
    const json = JSON.parse(await readFile(join(dir, 'site', 'model', 'model.json'), 'utf8'));
    json.weightsManifest[0].paths[0] = '../secret.bin';
    await writeFile(join(dir, 'site', 'model', 'escape.json'), JSON.stringify(json));
    json.weightsManifest[0].paths[0] = 'http://evil.example/shard.bin';
    await writeFile(join(dir, 'site', 'model', 'remote.json'), JSON.stringify(json));
    const hits = server.hits.length;
    const a = await readTfjsArtifacts(`${server.url}/model/escape.json`).catch((e: WeightsFileError) => e);
    expect(a).toMatchObject({ code: 'ERR_WEIGHTS_SHARD_PATH', url: `${server.url}/secret.bin`, message: expect.stringContaining(`shard path '../secret.bin' leaves the model's directory ${server.url}/model/`) });
    const b = await readTfjsArtifacts(`${server.url}/model/remote.json`).catch((e: WeightsFileError) => e);
    expect(b).toMatchObject({ code: 'ERR_WEIGHTS_SHARD_PATH', message: expect.stringContaining("shard path 'http://evil.example/shard.bin' leaves") });
    expect(server.hits.length).toBe(hits + 2); // only the two model.json files were fetched
  });

  it('names a remote shard that is missing', async () => {
    const json = JSON.parse(await readFile(join(dir, 'site', 'model', 'model.json'), 'utf8'));
    json.weightsManifest[0].paths[1] = 'gone.bin';
    await writeFile(join(dir, 'site', 'model', 'gone.json'), JSON.stringify(json));
    const error = await readTfjsArtifacts(`${server.url}/model/gone.json`, { env: {} }).catch((e: WeightsFileError) => e);
    expect(error).toMatchObject({ code: 'ERR_WEIGHTS_NOT_FOUND', url: `${server.url}/model/gone.bin`, message: expect.stringMatching(/gone\.bin could not be fetched: the server answered HTTP 404.*; check the address/) });
  });

  it('downloads an .h5 URL into the cache and reads it', async () => {
    await copyFile(join(dir, 'h5dir', 'notop.h5'), join(dir, 'site', 'weights.h5'));
    const cacheDir = join(dir, 'cache');
    const reading = await readWeights(`${server.url}/weights.h5`, { cacheDir, env: {} });
    expect(reading.format).toBe('keras-h5');
    expect(reading.source.startsWith(join(cacheDir, 'downloads'))).toBe(true);
    expect(reading.values.size).toBe(values.size);
  });
});
