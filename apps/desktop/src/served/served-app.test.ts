import { copyFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandInClassifier } from '../core/test-support/stand-in-classifier.js';
import { makeTempDir } from '../core/test-support/temp-dir.js';
import { sharpResizer } from '../core/thumbnails.js';
import { startServedApp, type ServedApp } from './served-app.js';
import { SERVED_CONTENT_SECURITY_POLICY } from './security-headers.js';
import { buildProgram, TaggerError } from './tagger-cli.js';
import { createAccessRules, exposureWarning } from './served-security.js';

const rendererSrc = fileURLToPath(new URL('../renderer/', import.meta.url));

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A raw HTTP request: the path goes out as written (no URL normalising) and Host can be anything. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens the events socket; resolves with the first message, or with the refusal's HTTP status. */
function openSocket(port: number, headers: Record<string, string>): Promise<{ status: number; first?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/events`, { headers, setHost: false } as never);
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode! }));
    ws.on('message', (data) => {
      resolve({ status: 101, first: String(data) });
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

describe('the served shell refuses what Jupyter refuses', () => {
  let app: ServedApp;
  let root: string;
  let album: string;
  let canary: string;
  let cookie: string;
  let origin: string;
  let host: string;
  const resized: string[] = [];
  const classifier = createStandInClassifier();
  const old = new Date('2001-02-03T04:05:06Z');

  beforeAll(async () => {
    root = makeTempDir('xception-served-');
    album = join(root, 'album');
    mkdirSync(album);
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
    writeFileSync(join(album, 'a.jpg'), jpeg);
    writeFileSync(join(album, 'b.jpg'), await sharp({ create: { width: 32, height: 24, channels: 3, background: '#a37' } }).jpeg().toBuffer());
    canary = join(root, 'secret.jpg');
    writeFileSync(canary, jpeg);
    const rendererDir = join(root, 'renderer');
    mkdirSync(rendererDir);
    copyFileSync(join(rendererSrc, 'index.html'), join(rendererDir, 'index.html'));
    writeFileSync(join(rendererDir, 'app.js'), 'export {};\n');
    app = await startServedApp({
      folders: [album],
      dataDir: join(root, 'data'),
      rendererDir,
      createClassifier: async () => classifier,
      resize: async (photo, size) => {
        resized.push(photo);
        return sharpResizer(photo, size);
      },
    });
    await app.ready;
    await app.service.whenIdle();
    host = `127.0.0.1:${app.port}`;
    origin = `http://${host}`;
    cookie = `${app.rules.cookieName}=${app.rules.token}`;
  });
  afterAll(() => app?.close());

  const api = (method: string, args: unknown[], headers: Record<string, string> = {}) =>
    send(app.port, 'POST', `/api/${method}`, { cookie, origin, 'content-type': 'application/json', ...headers }, JSON.stringify({ args }));

  it('tags the folders given at start by itself, and serves them to a signed-in page', async () => {
    expect(classifier.classified.map((p) => p.split('/').pop()).sort()).toEqual(['a.jpg', 'b.jpg']);
    const folders = await api('listFolders', []);
    expect(JSON.parse(folders.body)).toEqual({ ok: true, value: [{ path: album, photoCount: 2 }] });
    const thumbnail = await send(app.port, 'GET', `/thumbnail?id=${encodeURIComponent(join(album, 'a.jpg'))}`, { cookie });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/jpeg');
  });

  it('without the token: the page, the API, thumbnails and the socket are refused', async () => {
    expect((await send(app.port, 'GET', '/')).status).toBe(403);
    expect((await send(app.port, 'GET', '/app.js')).status).toBe(403);
    expect((await api('listFolders', [], { cookie: '' })).status).toBe(403);
    expect((await send(app.port, 'GET', `/thumbnail?id=${encodeURIComponent(join(album, 'a.jpg'))}`)).status).toBe(403);
    expect((await openSocket(app.port, { host, origin })).status).toBe(403);
  });

  it('a wrong token gets no cookie; a wrong cookie is refused', async () => {
    const wrong = await send(app.port, 'GET', '/?token=not-the-token');
    expect(wrong.status).toBe(403);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const almost = app.rules.token.slice(0, -1) + (app.rules.token.endsWith('A') ? 'B' : 'A');
    expect((await send(app.port, 'GET', `/?token=${almost}`)).status).toBe(403);
    expect((await send(app.port, 'GET', '/', { cookie: `${app.rules.cookieName}=${almost}` })).status).toBe(403);
    expect((await api('listFolders', [], { cookie: `${app.rules.cookieName}=${almost}` })).status).toBe(403);
    expect((await openSocket(app.port, { host, origin, cookie: `${app.rules.cookieName}=${almost}` })).status).toBe(403);
  });

  it('the token (at least 128 random bits) becomes an HttpOnly SameSite=Strict cookie, and the address drops it', async () => {
    expect(Buffer.from(app.rules.token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(app.rules.cookieName).toBe(`xception-tagger-${app.port}`);
    const exchange = await send(app.port, 'GET', `/?token=${app.rules.token}`);
    expect(exchange.status).toBe(303);
    expect(exchange.headers.location).toBe('/');
    expect(exchange.headers['set-cookie']).toEqual([`${app.rules.cookieName}=${app.rules.token}; HttpOnly; SameSite=Strict; Path=/`]);
    const page = await send(app.port, 'GET', '/', { cookie });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(SERVED_CONTENT_SECURITY_POLICY);
    expect(page.body).toContain('<script type="module" src="app.js"></script>');
    // The Electron page's own policy (connect-src 'none') is not in the served page.
    expect(page.body).not.toContain('http-equiv="Content-Security-Policy"');
  });

  it('a foreign Host header (DNS rebinding) is refused, even with the token or the cookie', async () => {
    for (const foreign of [`evil.example:${app.port}`, 'evil.example', `127.0.0.1:${app.port + 1}`, `127.0.0.1.evil.example:${app.port}`]) {
      expect((await send(app.port, 'GET', '/', { host: foreign, cookie })).status, foreign).toBe(403);
      const exchange = await send(app.port, 'GET', `/?token=${app.rules.token}`, { host: foreign });
      expect(exchange.status, foreign).toBe(403);
      expect(exchange.headers['set-cookie']).toBeUndefined();
      expect((await api('listFolders', [], { host: foreign, origin: `http://${foreign}` })).status, foreign).toBe(403);
      expect((await openSocket(app.port, { host: foreign, origin: `http://${foreign}`, cookie })).status, foreign).toBe(403);
    }
    // localhost is this machine too.
    expect((await send(app.port, 'GET', '/', { host: `localhost:${app.port}`, cookie })).status).toBe(200);
  });

  it('a foreign or missing Origin may not change anything (CSRF), nor open the socket', async () => {
    const photo = join(album, 'a.jpg');
    const sidecar = `${photo}.xmp`;
    const before = readFileSync(sidecar, 'utf8');
    const foreignOrigins: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: `http://localhost:${app.port}` }, { origin: 'null' }, {}];
    for (const bad of foreignOrigins) {
      const headers: Record<string, string> = { cookie, 'content-type': 'application/json', ...bad };
      const reply = await send(app.port, 'POST', '/api/addTag', headers, JSON.stringify({ args: [photo, 'csrf'] }));
      expect(reply.status, JSON.stringify(bad)).toBe(403);
      expect((await openSocket(app.port, { host, cookie, ...bad })).status, JSON.stringify(bad)).toBe(403);
    }
    // A form post (no preflight) is refused for its content type even from the page's origin.
    expect((await send(app.port, 'POST', '/api/addTag', { cookie, origin, 'content-type': 'text/plain' }, JSON.stringify({ args: [photo, 'csrf'] }))).status).toBe(415);
    expect(readFileSync(sidecar, 'utf8')).toBe(before);
    // The page's own origin can.
    const socket = await openSocket(app.port, { host, origin, cookie });
    expect(socket.status).toBe(101);
    expect(JSON.parse(socket.first!)).toMatchObject({ type: 'progress', progress: { state: 'done', done: 2, total: 2 } });
    const reply = await api('addTag', [photo, 'hand-made']);
    expect(reply.status).toBe(200);
    expect(readFileSync(sidecar, 'utf8')).toContain('hand-made');
  });

  it('path traversal in every route that takes a path is refused and reads nothing', async () => {
    // The witness works here: reading the canary moves its access time off the old date.
    utimesSync(canary, old, old);
    readFileSync(canary);
    const atimeWorks = statSync(canary).atimeMs !== old.getTime();
    utimesSync(canary, old, old);
    const outside = [join(album, '..', 'secret.jpg'), canary, `${album}/./../secret.jpg`, '../secret.jpg', 'secret.jpg', `${album}/%2e%2e/secret.jpg`];
  const raw = ['/../secret.jpg', '/%2e%2e/secret.jpg', '/..%2fsecret.jpg', '/%2e%2e%2fsecret.jpg', '/renderer/../../secret.jpg', `/${encodeURIComponent(canary)}`, '//etc/passwd', '/index.html/../../secret.jpg'];
    for (const path of raw) expect((await send(app.port, 'GET', path, { cookie })).status, path).toBeGreaterThanOrEqual(400);
    for (const id of outside) {
      expect((await send(app.port, 'GET', `/thumbnail?id=${encodeURIComponent(id)}`, { cookie })).status, id).toBe(404);
      for (const [method, args] of [['similar', [id, 3]], ['addTag', [id, 'x']], ['removeTag', [id, 'x']], ['removeFolder', [id]]] as const) {
        const reply = await api(method, [...args]);
        expect(reply.status, `${method} ${id}`).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(reply.body).ok).toBe(false);
      }
    }
    expect(resized).not.toContain(canary);
    expect(classifier.opened.filter((p) => !p.startsWith(album))).toEqual([]);
    expect(existsSync(`${canary}.xmp`)).toBe(false);
    if (atimeWorks) expect(statSync(canary).atimeMs).toBe(old.getTime());
    else console.warn('this filesystem does not update access times: the canary witness is off, the resize and classify spies still hold');
  });

  it('the page cannot add or remove folders (the command line names them)', async () => {
    const add = await api('addFolders', []);
    expect(add.status).toBe(400);
    expect(JSON.parse(add.body).error.message).toMatch(/^Folders are given on the command line/);
    expect((await api('removeFolder', [album])).status).toBe(400);
    expect((await api('chooseWeightsFile', [])).status).toBe(400);
    expect(JSON.parse((await api('listFolders', [])).body).value).toEqual([{ path: album, photoCount: 2 }]);
    // Every argument goes through the IPC schemas.
    expect(JSON.parse((await api('query', [{ tags: 'dog' }])).body).error.message).toMatch(/^Invalid argument to '\/api\/query': 0\.tags/);
    expect((await api('nope', [])).status).toBe(404);
  });
});

describe('the served shell started again over the same library', () => {
  it('tags only what is new, and loads no model when nothing is', async () => {
    const root = makeTempDir('xception-served-again-');
    const album = join(root, 'album');
    mkdirSync(album);
    const rendererDir = join(root, 'renderer');
    mkdirSync(rendererDir);
    copyFileSync(join(rendererSrc, 'index.html'), join(rendererDir, 'index.html'));
    writeFileSync(join(album, 'a.jpg'), await sharp({ create: { width: 16, height: 16, channels: 3, background: '#123' } }).jpeg().toBuffer());
    const start = async () => {
      const classifier = createStandInClassifier();
      let made = 0;
      const app = await startServedApp({ folders: [album], dataDir: join(root, 'data'), rendererDir, createClassifier: async () => (made++, classifier) });
      await app.ready;
      await app.service.whenIdle();
      await app.close();
      return { made, classified: classifier.classified.map((p) => p.split('/').pop()) };
    };
    expect(await start()).toEqual({ made: 1, classified: ['a.jpg'] });
    expect(await start()).toEqual({ made: 0, classified: [] });
    writeFileSync(join(album, 'b.jpg'), await sharp({ create: { width: 16, height: 16, channels: 3, background: '#321' } }).jpeg().toBuffer());
    expect(await start()).toEqual({ made: 1, classified: ['b.jpg'] });
  });

  it('a port in use fails before the library is read or a model made', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const root = makeTempDir('xception-served-port-');
    let made = 0;
    const error = await startServedApp({ folders: [root], dataDir: join(root, 'data'), rendererDir: rendererSrc, port: (taken.address() as { port: number }).port, createClassifier: async () => (made++, createStandInClassifier()) }).catch((e: unknown) => e);
    taken.close();
    expect(error).toMatchObject({ code: 'EADDRINUSE' });
    expect(made).toBe(0);
    expect(existsSync(join(root, 'data'))).toBe(false);
  });
});

describe('tagger serve: listening and the command line', () => {
  it('serves loopback names only on loopback; beyond it, IP literals and this host but never a foreign name', () => {
    const loopback = createAccessRules({ host: '127.0.0.1', port: 8765 });
    expect(['127.0.0.1:8765', 'localhost:8765', '[::1]:8765'].every((h) => loopback.hostAllowed(h))).toBe(true);
    expect(['192.168.1.5:8765', 'evil.example:8765', '127.0.0.1:8766', '127.0.0.1', undefined].some((h) => loopback.hostAllowed(h))).toBe(false);
    const everywhere = createAccessRules({ host: '0.0.0.0', port: 8765 });
    expect(everywhere.hostAllowed('192.168.1.5:8765')).toBe(true);
    expect(everywhere.hostAllowed(`${hostname()}:8765`)).toBe(true);
    expect(everywhere.hostAllowed('evil.example:8765')).toBe(false);
    expect(exposureWarning('127.0.0.1')).toBeNull();
    expect(exposureWarning('::1')).toBeNull();
    expect(exposureWarning('0.0.0.0')).toMatch(/^warning: listening on 0\.0\.0\.0, beyond this machine/);
  });

  it('says what is wrong with a flag in its words, without a stack trace', async () => {
    const lines: string[] = [];
    const out = { print: (l: string) => lines.push(l), say: (l: string) => lines.push(l) };
    const run = (args: string[]) => buildProgram(out, () => undefined).parseAsync(['node', 'tagger', ...args]).then(() => null, (e: unknown) => e);
    expect(await run(['serve', '/tmp', '--port', 'abc'])).toMatchObject({ exitCode: 1 });
    expect(lines.join('\n')).toMatch(/^tagger: option '-p, --port <n>' argument 'abc' is invalid\. --port must be a whole number from 0 to 65535\./);
    lines.length = 0;
    await run(['serve', '/tmp', '--engine', 'gpu']);
    expect(lines[0]).toMatch(/^tagger: option '-e, --engine <engine>' argument 'gpu' is invalid\. Allowed choices are auto, onnx, tfjs-node, wasm\./);
    const missing = await run(['serve', '/no/such/folder']);
    expect(missing).toBeInstanceOf(TaggerError);
    expect((missing as Error).message).toBe("'/no/such/folder' is not a folder; pass folders of photos.");
    expect(await run(['serve', '/tmp', '--image-size', '71'])).toMatchObject({ message: '--image-size 71 needs other weights than imagenet, whose classifier expects 299x299; use --image-size 299.' });
    expect(await run(['serve', '/tmp', '--weights', '/tmp/model.keras', '--image-size', '71'])).toMatchObject({ message: '--image-size applies to --weights none only; a weights file runs at the size it was saved with.' });
    expect(lines.join('\n')).not.toMatch(/\n\s+at /);
  });
});
