import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { appendFile, cp, mkdtemp, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countParameters, expectedWeights, resolveXceptionConfig } from '@xception/core';
import { saneRandomWeights, useBackend } from './test-support/test-imports.js';
import { WeightsFileError } from './errors.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
import { writeTfjsArtifacts } from './tfjs-artifacts-writer.js';
import { expectTypedError } from './test-support/expect-typed-error.js';

let dir: string;
const config = resolveXceptionConfig({ weights: null });
const bytes = countParameters(config) * 4; // the one weight group's size
const servers: http.Server[] = [];

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'xception-hostile-shards-'));
  await writeTfjsArtifacts({ outDir: join(dir, 'plain'), config, values: saneRandomWeights(expectedWeights(config), 7) });
});
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const expectError = (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<WeightsFileError> =>
  expectTypedError(promise, WeightsFileError, code, pattern);

/** A copy of the plain artifacts whose shard `name` is replaced by `make(path)`. */
async function withShard(copy: string, name: string, make: (path: string) => Promise<void>): Promise<string> {
  const folder = join(dir, copy);
  await cp(join(dir, 'plain'), folder, { recursive: true });
  await unlink(join(folder, name));
  await make(join(folder, name));
  return folder;
}

/** A real HTTP server on 127.0.0.1; each request is logged and handled by `handle`. */
async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => { requests.push(req.url!); handle(req, res); });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const serveFile = (res: http.ServerResponse, path: string): void => { createReadStream(path).on('error', () => res.writeHead(404).end()).pipe(res); };

describe('hostile shards of local tfjs artifacts', () => {
  it('refuses a shard that is a FIFO instead of waiting for a writer', async () => {
    const folder = await withShard('fifo', 'group1-shard3of22.bin', async (p) => { execFileSync('mkfifo', [p]); });
    const error = await expectError(readTfjsArtifacts(folder), 'ERR_WEIGHTS_NOT_FOUND', /group1-shard3of22\.bin is a FIFO \(named pipe\), not a regular file, so it is not read; copy the real shard there\./);
    expect(error.path).toBe(join(folder, 'group1-shard3of22.bin'));
  }, 60_000);

  it('refuses a shard that is a symlink to /dev/zero instead of reading without end', async () => {
    const folder = await withShard('zero', 'group1-shard4of22.bin', (p) => symlink('/dev/zero', p));
    await expectError(readTfjsArtifacts(folder), 'ERR_WEIGHTS_NOT_FOUND', /group1-shard4of22\.bin is a device, not a regular file/);
  }, 60_000);

  it('refuses a shard larger than its whole group before reading it', async () => {
    const folder = await withShard('huge', 'group1-shard5of22.bin', async (p) => { await writeFile(p, ''); await truncate(p, bytes + 1); });
    await expectError(readTfjsArtifacts(folder), 'ERR_WEIGHTS_SHARD_SIZE', new RegExp(`group1-shard5of22\\.bin holds ${bytes + 1} bytes, more than the ${bytes} its whole weight group needs`));
  }, 60_000);
});

describe('ERR_WEIGHTS_SHARD_SIZE names the shard that is wrong', () => {
  // Shards are 4 MiB but the last: a short first shard once made the second look odd.
  it('the first shard, cut short', async () => {
    const folder = await withShard('short-first', 'group1-shard1of22.bin', async (p) => { await cp(join(dir, 'plain', 'group1-shard1of22.bin'), p); await truncate(p, 1000); });
    const error = await expectError(readTfjsArtifacts(folder), 'ERR_WEIGHTS_SHARD_SIZE', /\(check shard group1-shard1of22\.bin, 1000 bytes\)/);
    expect(error.path).toBe(join(folder, 'group1-shard1of22.bin'));
  }, 60_000);

  it('the last shard, grown', async () => {
    const folder = await withShard('long-last', 'group1-shard22of22.bin', async (p) => { await cp(join(dir, 'plain', 'group1-shard22of22.bin'), p); await appendFile(p, 'xyz'); });
    await expectError(readTfjsArtifacts(folder), 'ERR_WEIGHTS_SHARD_SIZE', /\(check shard group1-shard22of22\.bin, \d+ bytes\)/);
  }, 60_000);
});

describe('hostile servers of remote tfjs artifacts', () => {
  it('stops a shard that streams forever at the group size, with a clear error', async () => {
    const { base } = await serve((req, res) => {
      if (!req.url!.endsWith('group1-shard2of22.bin')) return serveFile(res, join(dir, 'plain', req.url!.replace('/m/', '')));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(1 << 20);
      const pump = (): void => { while (!res.destroyed && res.write(chunk)); if (!res.destroyed) res.once('drain', pump); };
      pump();
    });
    const before = process.memoryUsage().rss;
    await expectError(readTfjsArtifacts(`${base}/m/model.json`), 'ERR_WEIGHTS_NOT_FOUND', new RegExp(`group1-shard2of22\\.bin could not be fetched: the server sent more than the ${bytes} bytes this file can need`));
    // Bounded by the group's size (88 MB for every shard together), not by the endless stream.
    expect(process.memoryUsage().rss - before).toBeLessThan(1024 * 2 ** 20);
  }, 120_000);

  it("refuses a shard's redirect to another host, which gets no request, and follows one inside the model's directory", async () => {
    const other = await serve((_req, res) => res.writeHead(200).end('x'));
    const { base } = await serve((req, res) => {
      if (req.url!.endsWith('group1-shard6of22.bin')) return void res.writeHead(302, { location: `${other.base}/m/group1-shard6of22.bin` }).end();
      serveFile(res, join(dir, 'plain', req.url!.replace('/m/', '')));
    });
    await expectError(readTfjsArtifacts(`${base}/m/model.json`), 'ERR_WEIGHTS_SHARD_PATH', new RegExp(`/m/group1-shard6of22\\.bin redirects to ${other.base}/m/group1-shard6of22\\.bin, outside the model's directory ${base}/m/, so the redirect is refused`));
    expect(other.requests).toEqual([]);
    const inside = await serve((req, res) => {
      if (req.url!.endsWith('group1-shard7of22.bin') && !req.url!.includes('moved')) return void res.writeHead(302, { location: '/m/moved/group1-shard7of22.bin' }).end();
      serveFile(res, join(dir, 'plain', req.url!.replace(/^\/m\/(moved\/)?/, '')));
    });
    const reading = await readTfjsArtifacts(`${inside.base}/m/model.json`);
    expect(inside.requests).toContain('/m/moved/group1-shard7of22.bin');
    expect(reading.values.size).toBe(236);
  }, 120_000);
});
