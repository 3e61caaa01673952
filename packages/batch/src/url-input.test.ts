import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deadPort } from '@xception/test-kit';
import { BatchError, libraryWords } from './batch-error.js';
import { listInputs, type InputEntry } from './list-inputs.js';
import { readUrl, type UrlReadOptions } from './url-input.js';

const BODY = randomBytes(700);
const hits = new Map<string, number>();
let flakyCalls = 0;
// A real HTTP server on loopback, answering each way a server can fail.
const server = http.createServer((req, res) => {
  const path = req.url ?? '';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  if (path === '/ok.bin') res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
  else if (path === '/flaky.bin') (++flakyCalls <= 2 ? res.writeHead(503).end() : res.writeHead(200).end(BODY));
  else if (path === '/down.bin') res.writeHead(503).end();
  else if (path === '/declared-big.bin') res.writeHead(200, { 'content-length': 5000 }).end(Buffer.alloc(5000));
  else if (path === '/chunked-big.bin') {
    res.writeHead(200); // no length: counted while streaming
    for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
    res.end();
  } else if (path === '/stalls.bin') res.writeHead(200, { 'content-length': 100 }).write(Buffer.alloc(10)); // the body never ends
  else res.writeHead(404).end();
});
let base = '';
const options: UrlReadOptions = { maxBytes: 1000, timeoutMs: 400, tries: 3, backoffMs: 10, words: libraryWords };
const dir = mkdtempSync(join(tmpdir(), 'xception-url-input-'));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function failure(url: string, o: UrlReadOptions = options): Promise<BatchError> {
  const error = await readUrl(url, o).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BatchError);
  return error as BatchError;
}

describe('readUrl: timeouts, retries with backoff, a size cap', () => {
  test('reads a body as the server sent it', async () => {
    expect(Buffer.from(await readUrl(`${base}/ok.bin`, options)).equals(BODY)).toBe(true);
  });

  test('retries 5xx answers, and reads the body once the server recovers', async () => {
    expect(Buffer.from(await readUrl(`${base}/flaky.bin`, options)).equals(BODY)).toBe(true);
    expect(hits.get('/flaky.bin')).toBe(3);
  });

  test('a 404 is not retried: ERR_INPUT_HTTP_STATUS naming the URL', async () => {
    const error = await failure(`${base}/missing.jpg`);
    expect([error.code, hits.get('/missing.jpg')]).toEqual(['ERR_INPUT_HTTP_STATUS', 1]);
    expect(error.message).toBe(`${base}/missing.jpg answered HTTP 404 Not Found; check the URL (a 4xx answer is not retried).`);
  });

  test('a server that keeps failing: three tries, then ERR_INPUT_HTTP_STATUS', async () => {
    const error = await failure(`${base}/down.bin`);
    expect([error.code, hits.get('/down.bin')]).toEqual(['ERR_INPUT_HTTP_STATUS', 3]);
    expect(error.message).toContain('503 Service Unavailable 3 times');
  });

  test('a body over the cap, declared or streamed: ERR_INPUT_TOO_LARGE, in the caller\'s words', async () => {
    const declared = await failure(`${base}/declared-big.bin`);
    expect(declared.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(declared.message).toBe(`${base}/declared-big.bin declares 5000 bytes, over the cap of 1000 bytes; raise urls.maxBytes to read it.`);
    const flagWords = { ...libraryWords, option: (o: string) => (o === 'maxInputBytes' ? '--max-input-bytes' : o) } as typeof libraryWords;
    const streamed = await failure(`${base}/chunked-big.bin`, { ...options, words: flagWords });
    expect(streamed.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(streamed.message).toContain('sent more than 1000 bytes, over the cap of 1000 bytes; raise --max-input-bytes');
  });

  test('a body that stalls times out on every try: ERR_INPUT_TIMEOUT', async () => {
    const error = await failure(`${base}/stalls.bin`);
    expect([error.code, hits.get('/stalls.bin')]).toEqual(['ERR_INPUT_TIMEOUT', 3]);
    expect(error.message).toContain('did not answer in full within 0.4 s, 3 times');
  });

  test('nothing listening: ERR_INPUT_NETWORK after the tries', async () => {
    const url = `http://127.0.0.1:${await deadPort()}/x.jpg`;
    const error = await failure(url);
    expect(error.code).toBe('ERR_INPUT_NETWORK');
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('URLs in listInputs', () => {
  test('an input list (blank lines and # comments skipped) and URL arguments: the URL is the row path, fetched only when read', async () => {
    const list = join(dir, 'inputs.txt');
    writeFileSync(list, `# photos\n${base}/ok.bin\n\n  ${base}/list-404.jpg  \n`);
    const before = hits.get('/ok.bin') ?? 0;
    const entries: InputEntry[] = [];
    for await (const entry of listInputs([`${base}/arg.jpg`], { recursive: false, inputLists: [list], urls: options })) entries.push(entry);
    expect(entries.map((e) => e.path)).toEqual([`${base}/arg.jpg`, `${base}/ok.bin`, `${base}/list-404.jpg`]);
    expect(hits.get('/ok.bin') ?? 0).toBe(before); // listing fetched nothing
    const ok = entries[1]!;
    expect(ok.ok && ok.read && Buffer.from(await ok.read()).equals(BODY)).toBe(true);
  });

  test("URLs on standard input ('-') are inputs too, their paths the URLs", async () => {
    const stdin = Readable.from([`${base}/a.jpg\n\n`, `${base}/b.jpg\n`]);
    const entries: InputEntry[] = [];
    for await (const entry of listInputs(['-'], { recursive: false, stdin })) entries.push(entry);
    expect(entries.map((e) => [e.path, e.ok && typeof e.read])).toEqual([[`${base}/a.jpg`, 'function'], [`${base}/b.jpg`, 'function']]);
  });

  test('an input list that does not exist is an error row, and the listing goes on', async () => {
    const entries: InputEntry[] = [];
    for await (const entry of listInputs([], { recursive: false, inputLists: [join(dir, 'nope.txt')] })) entries.push(entry);
    expect(entries).toEqual([{ path: join(dir, 'nope.txt'), ok: false, code: 'ERR_INPUT_NOT_FOUND', message: `${join(dir, 'nope.txt')} does not exist (or is a dangling symlink).` }]);
  });
});
