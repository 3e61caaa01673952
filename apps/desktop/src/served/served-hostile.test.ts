import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '../core/test-support/exiftool.js';
import { createStandInClassifier } from '../core/test-support/stand-in-classifier.js';
import { makeTempDir } from '../core/test-support/temp-dir.js';
import { startServedApp, type ServedApp } from './served-app.js';

const python = oraclePython();
const rendererSrc = fileURLToPath(new URL('../renderer/', import.meta.url));

/** One POST with a body of any size; resolves with the status, or rejects with the socket's error (a reset). */
function post(port: number, path: string, headers: Record<string, string>, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw TCP connection that does the WebSocket handshake with the cookie by hand, so that it can then send any bytes. */
async function rawSocket(port: number, headers: Record<string, string>): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const lines = ['GET /events HTTP/1.1', 'upgrade: websocket', 'connection: Upgrade', 'sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const head = await new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/** A client-to-server frame; `mask` false makes the unmasked frame RFC 6455 forbids. */
function frame(opcode: number, payload: Buffer, mask = true): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | length]) : Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | 126, length >> 8, length & 0xff]);
  if (!mask) return Buffer.concat([header, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([header, key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]!))]);
}

describe('the served shell under hostile clients', () => {
  let app: ServedApp;
  let album: string;
  let outside: string;
  let headers: Record<string, string>;
  const classifier = createStandInClassifier();

  beforeAll(async () => {
    const root = makeTempDir('xception-served-hostile-');
    album = join(root, 'album');
    mkdirSync(album);
    const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
    writeFileSync(join(album, 'a.jpg'), jpeg);
    outside = join(root, 'private.jpg');
    writeFileSync(outside, jpeg);
    // A photo in the album that is a symlink to a file outside every served folder.
    symlinkSync(outside, join(album, 'link.jpg'));
    const rendererDir = join(root, 'renderer');
    mkdirSync(rendererDir);
    copyFileSync(join(rendererSrc, 'index.html'), join(rendererDir, 'index.html'));
    app = await startServedApp({ folders: [album], dataDir: join(root, 'data'), rendererDir, createClassifier: async () => classifier });
    await app.ready;
    await app.service.whenIdle();
    const host = `127.0.0.1:${app.port}`;
    headers = { host, origin: `http://${host}`, cookie: `${app.rules.cookieName}=${app.rules.token}` };
  });
  afterAll(() => app?.close());

  const api = (method: string, args: unknown[]) => post(app.port, `/api/${method}`, { ...headers, 'content-type': 'application/json' }, JSON.stringify({ args }));

  it('a symlinked photo that leads out of the library is neither read nor tagged at start', async () => {
    expect(classifier.opened.filter((p) => !p.startsWith(album) || p.endsWith('link.jpg'))).toEqual([]);
    const listed = JSON.parse((await api('listFolders', [])).body);
    expect(listed.value).toEqual([{ path: album, photoCount: 1 }]);
  });

  it('an unmasked frame, an oversize frame and invalid UTF-8 close only that client; the server and other clients go on', async () => {
    const bystander = new WebSocket(`ws://127.0.0.1:${app.port}/events`, { headers } as never);
    await new Promise((r) => bystander.once('message', r));
    const attacks: [string, Buffer][] = [
      ['unmasked', frame(0x1, Buffer.from('hello'), false)],
      ['over maxPayload', frame(0x2, Buffer.alloc(5000, 7))],
      ['invalid UTF-8', frame(0x1, Buffer.from([0x68, 0xff, 0xfe, 0x69]))],
    ];
    for (const [name, bytes] of attacks) {
      const socket = await rawSocket(app.port, headers);
      const closed = new Promise((r) => socket.once('close', r));
      socket.on('error', () => undefined);
      socket.write(bytes);
      await closed;
      expect((await api('listFolders', [])).status, name).toBe(200);
      expect(bystander.readyState, name).toBe(WebSocket.OPEN);
    }
    bystander.close();
  });

  it('a 100 MB request body gets 413, not a connection reset', async () => {
    const reply = await post(app.port, '/api/addTag', { ...headers, 'content-type': 'application/json' }, Buffer.alloc(100 << 20, 0x20));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.message).toBe('The request body is over 1 MiB.');
    expect((await api('listFolders', [])).status).toBe(200);
  });

  it.skipIf(!python)(`a hand tag with a control character or U+FFFF is refused in one sentence; the sidecar stays XML expat reads ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, async () => {
    const photo = join(album, 'a.jpg');
    await api('addTag', [photo, 'fine']);
    for (const bad of ['bad\u0001tag', 'bad\uffff', 'bad\u0000']) {
      const reply = await api('addTag', [photo, bad]);
      expect(reply.status, JSON.stringify(bad)).toBe(400);
      expect(JSON.parse(reply.body).error.message).toBe(`The tag ${JSON.stringify(bad)} cannot be used: a tag has 1–100 characters, none of | / \\ < > and no control character; type it again without them.`);
    }
    // Settings that become keywords (renames, the root) are checked where they enter too.
    for (const patch of [{ renames: { cat: 'bad\u0001' } }, { renames: { 'bad\uffff': 'cat' } }, { hierarchyRoot: 'Root\u0007' }, { ignoreLabels: ['x\n'] }]) {
      const reply = await api('updateSettings', [patch]);
      expect(reply.status, JSON.stringify(patch)).toBe(400);
      expect(JSON.parse(reply.body).error.message, JSON.stringify(patch)).toMatch(/must hold no control character and no character XML cannot hold/);
    }
    const script = 'import sys, xml.parsers.expat as e\np = e.ParserCreate()\np.ParseFile(open(sys.argv[1], "rb"))\nprint("ok")';
    expect(execFileSync(python!, ['-c', script, `${photo}.xmp`], { encoding: 'utf8' }).trim()).toBe('ok');
  });

  it.skipIf(!EXIFTOOL)(`addTag calls on one photo at the same moment all land in its sidecar (exiftool reads them) ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, async () => {
    const photo = join(album, 'a.jpg');
    const expected: string[] = [];
    const race = async (tags: string[]): Promise<void> => {
      const replies = await Promise.all(tags.map((tag) => api('addTag', [photo, tag])));
      expect(replies.map((r) => r.status)).toEqual(tags.map(() => 200));
      expected.push(...tags);
      const [read] = exiftoolRead(`${photo}.xmp`);
      expect(asList(read!['XMP-dc:Subject']).filter((t) => t.startsWith('race'))).toEqual(expect.arrayContaining(expected));
      expect(asList(read!['XMP-dc:Subject']).filter((t) => t.startsWith('race')).length).toBe(expected.length);
    };
    for (let trial = 0; trial < 5; trial++) await race([`race${trial}a`, `race${trial}b`]);
    await race(Array.from({ length: 40 }, (_, i) => `race-many-${i}`));
    expect(readFileSync(`${photo}.xmp`, 'utf8')).toContain('race-many-39');
  });
});
