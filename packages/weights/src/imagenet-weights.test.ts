import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultCacheDir, imagenetWeightsPath } from './cache-dir.js';
import { WeightsDownloadError } from './errors.js';
import { IMAGENET_REGISTRY, type WeightsRegistry } from './imagenet-registry.js';
import { fetchImagenetWeights, verifyWeightsFile } from './imagenet-weights.js';
import type { ProgressEvent } from './progress.js';
import { deadPort, startStaticServer, type StaticServer } from './test-support/test-imports.js';
import { expectTypedError } from './test-support/expect-typed-error.js';

// A small stand-in for the ImageNet file, served from 127.0.0.1 only.
const payload = randomBytes(300_000);
const md5 = createHash('md5').update(payload).digest('hex');
const sha256 = createHash('sha256').update(payload).digest('hex');
const FILE = 'xception_weights_tf_dim_ordering_tf_kernels.h5';
let server: StaticServer;
let cacheDir: string;

const registryFor = (urls: string[], override: Partial<{ md5: string; bytes: number }> = {}): WeightsRegistry => ({
  version: 1,
  files: IMAGENET_REGISTRY.files.map((f) => (f.includeTop ? { ...f, urls, bytes: payload.length, md5, ...override } : f)),
});
const env = {}; // no proxy unless a test sets one

beforeAll(async () => {
  server = await startStaticServer({ handler: (req, res) => {
    const [path] = (req.url ?? '').split('?');
    if (path === '/ok.h5' || path === '/slow.h5' || path === '/slower.h5') {
      res.writeHead(200, { 'content-length': payload.length });
      if (path === '/ok.h5') { res.end(payload); return; }
      // Dripped in pieces so that concurrent downloads overlap.
      let offset = 0;
      const timer = setInterval(() => {
        res.write(payload.subarray(offset, offset + 30_000));
        offset += 30_000;
        if (offset >= payload.length) { clearInterval(timer); res.end(); }
      }, path === '/slower.h5' ? 100 : 10);
    } else if (path === '/cut.h5') {
      res.writeHead(200, { 'content-length': payload.length });
      res.write(payload.subarray(0, 100_000), () => res.socket?.destroy());
    } else if (path === '/moved.h5') {
      res.writeHead(302, { location: '/ok.h5' });
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
    }
  } });
});
afterAll(async () => {
  await server?.close();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});
beforeEach(async () => {
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  cacheDir = await mkdtemp(join(tmpdir(), 'xception-cache-'));
});

const expectDownloadError = (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<WeightsDownloadError> =>
  expectTypedError(promise, WeightsDownloadError, code, pattern);
/** Nothing but the finished file (and its record) may ever sit in the cache. */
const cacheFiles = async (): Promise<string[]> => (await readdir(cacheDir)).sort();
const dest = (): string => join(cacheDir, FILE);
const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('fetchImagenetWeights against a local server', () => {
  it('downloads, checks md5 and size, records sha256, reports progress, and reuses the cache', async () => {
    const events: ProgressEvent[] = [];
    const registry = registryFor([`${server.url}/ok.h5`]);
    const path = await fetchImagenetWeights({ cacheDir, registry, env, onProgress: (e) => events.push(e) });
    expect(path).toBe(dest());
    expect((await readFile(path)).equals(payload)).toBe(true);
    expect(await cacheFiles()).toEqual([FILE, `${FILE}.json`]);
    const record = JSON.parse(await readFile(`${path}.json`, 'utf8'));
    expect(record).toMatchObject({ bytes: payload.length, md5, sha256, url: `${server.url}/ok.h5` });
    const downloads = events.filter((e) => e.phase === 'download');
    expect(downloads.at(-1)).toMatchObject({ bytes: payload.length, totalBytes: payload.length });
    const hits = server.hits.length;
    expect(await fetchImagenetWeights({ cacheDir, registry, env })).toBe(path);
    expect(server.hits.length).toBe(hits);
  });

  it('follows redirects and falls back to a mirror', async () => {
    await fetchImagenetWeights({ cacheDir, registry: registryFor([`${server.url}/gone.h5`, `${server.url}/moved.h5`]), env });
    expect((await readFile(dest())).equals(payload)).toBe(true);
  });

  it('keeps nothing when the md5 does not match', async () => {
    const error = await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry: registryFor([`${server.url}/ok.h5`], { md5: '0'.repeat(32) }), env }),
      'ERR_DOWNLOAD_HASH', new RegExp(`the file's md5 is ${md5} but should be 0{32}; the file was not kept`),
    );
    expect(error.path).toBe(dest());
    expect(await cacheFiles()).toEqual([]);
  });

  it('keeps nothing from a truncated transfer', async () => {
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry: registryFor([`${server.url}/cut.h5`]), env }),
      'ERR_DOWNLOAD_TRUNCATED', /cut\.h5: (the connection (closed|failed) after \d+ of 300000 bytes|received \d+ bytes, expected 300000)/,
    );
    expect(await cacheFiles()).toEqual([]);
  });

  it('says where to put the file by hand after a 404', async () => {
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry: registryFor([`${server.url}/missing.h5`]), env }),
      'ERR_DOWNLOAD_HTTP',
      new RegExp(`^Could not download ${escaped(FILE)} \\(${escaped(server.url)}/missing\\.h5: the server answered HTTP 404 Not Found\\); to work offline, download ${escaped(server.url)}/missing\\.h5 \\(300000 bytes, md5 ${md5}\\) elsewhere and copy it to ${escaped(dest())}, or pass weights: '/path/to/${escaped(FILE)}'`),
    );
    expect(await cacheFiles()).toEqual([]);
  });

  it('says the same when offline (connection refused)', async () => {
    const port = await deadPort();
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry: registryFor([`http://127.0.0.1:${port}/x.h5`]), env }),
      'ERR_DOWNLOAD_OFFLINE', new RegExp(`the server could not be reached \\(ECONNREFUSED\\).*copy it to ${escaped(dest())}`),
    );
  });

  it('honours HTTP_PROXY and NO_PROXY, and names a dead or failing proxy', async () => {
    const registry = registryFor([`${server.url}/ok.h5`]);
    const port = await deadPort();
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry, env: { HTTP_PROXY: `http://127.0.0.1:${port}` } }),
      'ERR_DOWNLOAD_OFFLINE', new RegExp(`the proxy http://127\\.0\\.0\\.1:${port}/ could not be reached \\(ECONNREFUSED\\); check HTTPS_PROXY/HTTP_PROXY`),
    );
    const proxy = await startStaticServer({ handler: (_req, res) => { res.writeHead(502, 'Bad Gateway'); res.end(); } });
    try {
      await expectDownloadError(
        fetchImagenetWeights({ cacheDir, registry, env: { http_proxy: proxy.url } }),
        'ERR_DOWNLOAD_HTTP', /the server answered HTTP 502 Bad Gateway from the proxy http:\/\/127\.0\.0\.1:\d+\/.*copy it to/,
      );
      // The proxy saw the absolute URL, as proxies expect.
      expect(proxy.hits.at(-1)).toBe(`${server.url}/ok.h5`);
      expect(await fetchImagenetWeights({ cacheDir, registry, env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } })).toBe(dest());
    } finally {
      await proxy.close();
    }
  });

  it('tunnels https through HTTPS_PROXY with CONNECT, and names a proxy that refuses or is down', async () => {
    // The target is never contacted: the loopback proxy answers the CONNECT itself.
    const registry = registryFor(['https://127.0.0.1:9/x.h5']);
    const connects: string[] = [];
    const proxy = await startStaticServer({ handler: () => undefined });
    proxy.server.on('connect', (req, socket) => {
      connects.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    try {
      await expectDownloadError(
        fetchImagenetWeights({ cacheDir, registry, env: { HTTPS_PROXY: proxy.url } }),
        'ERR_DOWNLOAD_HTTP', new RegExp(`the proxy ${escaped(proxy.url)}/ refused the connection with HTTP 403; check HTTPS_PROXY`),
      );
      expect(connects).toEqual(['127.0.0.1:9']);
    } finally {
      await proxy.close();
    }
    const port = await deadPort();
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry, env: { https_proxy: `127.0.0.1:${port}` } }),
      'ERR_DOWNLOAD_OFFLINE', new RegExp(`the proxy http://127\\.0\\.0\\.1:${port}/ could not be reached \\(ECONNREFUSED\\).*copy it to ${escaped(dest())}`),
    );
    expect(await cacheFiles()).toEqual([]);
  });

  it('two concurrent downloads to one cache both succeed and leave one intact file', async () => {
    const registry = registryFor([`${server.url}/slow.h5`]);
    const [a, b] = await Promise.all([fetchImagenetWeights({ cacheDir, registry, env }), fetchImagenetWeights({ cacheDir, registry, env })]);
    expect(a).toBe(dest());
    expect(b).toBe(dest());
    expect((await readFile(dest())).equals(payload)).toBe(true);
    expect(await cacheFiles()).toEqual([FILE, `${FILE}.json`]);
    expect(server.hits.filter((h) => h === '/slow.h5').length).toBe(2);
  });

  it('two processes downloading into one cache at once both succeed and leave one intact file', async () => {
    // Each transfer takes about a second, much longer than the processes' start-up skew.
    const registry = registryFor([`${server.url}/slower.h5`]);
    const child = fileURLToPath(new URL('./test-support/download-child.ts', import.meta.url));
    const run = (): Promise<{ pid: number; path?: string; error?: string }> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', child, JSON.stringify({ cacheDir, registry })], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 }, (error, stdout, stderr) => {
          try { resolve(JSON.parse(stdout)); } catch { reject(error ?? new Error(stderr)); }
        });
      });
    const before = server.hits.filter((h) => h === '/slower.h5').length;
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.pid).not.toBe(b.pid);
    expect([a.path, b.path]).toEqual([dest(), dest()]);
    expect((await readFile(dest())).equals(payload)).toBe(true);
    expect(await cacheFiles()).toEqual([FILE, `${FILE}.json`]);
    // Both really downloaded: neither found a finished file to reuse.
    expect(server.hits.filter((h) => h === '/slower.h5').length - before).toBe(2);
  });

  it('replaces a damaged cached file instead of trusting it', async () => {
    await writeFile(dest(), payload.subarray(0, 1000));
    const registry = registryFor([`${server.url}/ok.h5`]);
    expect((await verifyWeightsFile(dest(), { registry })).problems).toEqual([`size is 1000 bytes, expected ${payload.length}`, expect.stringMatching(/^md5 is [0-9a-f]{32}, expected /)]);
    await expectDownloadError(
      fetchImagenetWeights({ cacheDir, registry: registryFor([`${server.url}/missing.h5`]), env }),
      'ERR_DOWNLOAD_HTTP', new RegExp(`copy it to ${escaped(dest())}, .*\\(the file already there does not match: size is 1000 bytes, expected 300000, md5 is [0-9a-f]{32}, expected ${md5}\\)$`),
    );
    await fetchImagenetWeights({ cacheDir, registry, env });
    const check = await verifyWeightsFile(dest(), { registry });
    expect(check).toMatchObject({ ok: true, bytes: payload.length, md5, sha256, problems: [] });
  });
});

describe('cache location and registry', () => {
  it('uses XCEPTION_HOME, else the user cache directory', () => {
    expect(defaultCacheDir({ XCEPTION_HOME: '/data/xc' })).toBe('/data/xc');
    if (process.platform === 'linux') {
      expect(defaultCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/xception');
    }
    expect(imagenetWeightsPath({ includeTop: false, cacheDir: '/data/xc' })).toBe('/data/xc/xception_weights_tf_dim_ordering_tf_kernels_notop.h5');
  });

  it('carries the same entries as weights/registry.json, with the md5s and sizes Keras publishes', async () => {
    const root = JSON.parse(await readFile(new URL('../../../weights/registry.json', import.meta.url), 'utf8'));
    expect(root.files).toEqual(IMAGENET_REGISTRY.files);
    // Keras' applications/xception.py and the issue's figures.
    expect(IMAGENET_REGISTRY.files.map((f) => [f.fileName, f.md5, f.bytes])).toEqual([
      ['xception_weights_tf_dim_ordering_tf_kernels.h5', '0a58e3b7378bc2990ea3b43d5981f1f6', 91_884_032],
      ['xception_weights_tf_dim_ordering_tf_kernels_notop.h5', 'b0042744bf5b25fce3cb969f33bebb97', 83_683_744],
    ]);
    expect(IMAGENET_REGISTRY.files.every((f) => f.urls[0]!.startsWith('https://storage.googleapis.com/tensorflow/keras-applications/xception/'))).toBe(true);
    expect(existsSync(new URL('../../../weights/registry.json', import.meta.url))).toBe(true);
  });
});
