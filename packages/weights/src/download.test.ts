import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile } from './download.js';
import { WeightsDownloadError } from './errors.js';
import { startStaticServer, type StaticServer } from './test-support/test-imports.js';
import { expectTypedError } from './test-support/expect-typed-error.js';

const payload = randomBytes(300_000);
const md5 = createHash('md5').update(payload).digest('hex');
const expected = { bytes: payload.length, md5 };
let server: StaticServer;
let dir: string;
const ranges: string[] = [];
const env = {};
const quick = { env, manualHint: 'put it there by hand', retryDelayMs: 20, idleTimeoutMs: 2_000 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xception-download-'));
  let cutOnce = new Set<string>();
  server = await startStaticServer({ handler: (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const range = req.headers.range;
    if (range) ranges.push(`${path} ${range}`);
    if (path === '/resumable.h5' || path === '/no-range.h5') {
      const from = path === '/resumable.h5' && range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
      if (from > 0) {
        res.writeHead(206, { 'content-length': payload.length - from, 'content-range': `bytes ${from}-${payload.length - 1}/${payload.length}` });
        res.end(payload.subarray(from));
      } else if (!cutOnce.has(path)) {
        cutOnce.add(path);
        res.writeHead(200, { 'content-length': payload.length });
        res.write(payload.subarray(0, 100_000), () => res.socket?.destroy()); // cut after 100,000 bytes
      } else {
        res.writeHead(200, { 'content-length': payload.length });
        res.end(payload);
      }
    } else if (path === '/endless.h5') {
      // No Content-Length, and more bytes than the file has: a broken or hostile server.
      res.writeHead(200);
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent > 10 * payload.length) { clearInterval(timer); res.end(); return; }
        res.write(payload.subarray(0, 50_000));
        sent += 50_000;
      }, 2);
    } else {
      res.writeHead(404);
      res.end();
    }
  } });
  cutOnce = new Set();
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const files = async (): Promise<string[]> => (await readdir(dir)).sort();

describe('downloadFile against a real server on 127.0.0.1', () => {
  it('a transfer cut after 100,000 bytes are sent is retried and resumed with a Range request', async () => {
    const dest = join(dir, 'resumed.h5');
    const result = await downloadFile({ ...quick, urls: [`${server.url}/resumable.h5`], dest, expected });
    expect(result.md5).toBe(md5);
    // Resumed from what reached the disk (at most what the server sent before the cut).
    const from = ranges.map((r) => /^\/resumable\.h5 bytes=(\d+)-$/.exec(r)?.[1]).filter(Boolean).map(Number);
    expect(from).toHaveLength(1);
    expect(from[0]).toBeGreaterThan(0);
    expect(from[0]).toBeLessThanOrEqual(100_000);
    expect((await readFile(dest)).equals(payload)).toBe(true);
    expect(await files()).toEqual(['resumed.h5']);
  });

  it('a server that ignores Range sends the whole file again, and that is kept', async () => {
    const dest = join(dir, 'again.h5');
    const result = await downloadFile({ ...quick, urls: [`${server.url}/no-range.h5`], dest, expected });
    expect(result.md5).toBe(md5);
    expect((await readFile(dest)).equals(payload)).toBe(true);
    await rm(dest);
  });

  it('a server sending more than the expected size is stopped at the size, and nothing is kept', async () => {
    await rm(join(dir, 'resumed.h5'), { force: true });
    await expectTypedError(downloadFile({ ...quick, urls: [`${server.url}/endless.h5`], dest: join(dir, 'big.h5'), expected }),
      WeightsDownloadError, 'ERR_DOWNLOAD_HASH', /sent more than the 300000 bytes expected/);
    await expectTypedError(downloadFile({ ...quick, urls: [`${server.url}/endless.h5`], dest: join(dir, 'big.h5'), maxBytes: 1_000_000 }),
      WeightsDownloadError, 'ERR_DOWNLOAD_HASH', /sent more than the 1000000 bytes expected/);
    expect(await files()).toEqual([]);
  });

  it('an HTTPS proxy that accepts CONNECT and then says nothing times out instead of hanging', async () => {
    const sockets: net.Socket[] = [];
    const proxy = net.createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => socket.write('HTTP/1.1 200 Connection established\r\n\r\n')); // then silence
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as net.AddressInfo;
    const started = Date.now();
    try {
      await expectTypedError(downloadFile({ ...quick, idleTimeoutMs: 500, urls: ['https://weights.example/x.h5'], dest: join(dir, 'x.h5'), env: { HTTPS_PROXY: `http://127.0.0.1:${port}` } }),
        WeightsDownloadError, 'ERR_DOWNLOAD_OFFLINE', /timed out inside the proxy tunnel/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    expect(await files()).toEqual([]);
  });
});
