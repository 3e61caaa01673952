import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { realpath } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { InvokeChannel, Settings, TaggingProgress } from '../shared/api.js';
import { createBridgeMethods } from '../core/bridge-methods.js';
import type { Classifier } from '../core/classifier.js';
import { DesktopError, messageOf } from '../core/errors.js';
import { createProgressForwarder } from '../electron/ipc-handlers.js';
import { createLibraryService, type LibraryService } from '../core/library-service.js';
import { createThumbnailService, type Resizer } from '../core/thumbnails.js';
import { SERVED_API_PREFIX, SERVED_EVENTS_PATH, SERVED_THUMBNAIL_PATH, type ServedEvent } from '../shared/served-protocol.js';
import { createAccessRules, type AccessRules } from './served-security.js';

/**
 * The page's Content-Security-Policy in the served shell: the Electron one (window-security.ts)
 * with the app's own origin for thumbnails and for its calls (fetch, WebSocket) instead of the
 * app's protocols, and no framing (clickjacking). Sent as a header; the page's meta tag, which
 * says connect-src 'none' for Electron, is taken out of the served index.html.
 */
export const SERVED_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "media-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const META_CSP = /<meta\s+http-equiv="Content-Security-Policy"[^>]*\/>\s*/;
const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };
/** What the page may not do in the served shell: its folders are the command line's. */
const REFUSED: Partial<Record<InvokeChannel, string>> = {
  addFolders: 'Folders are given on the command line (pnpm tagger serve <folders…>); the page cannot add folders.',
  removeFolder: 'Folders are given on the command line (pnpm tagger serve <folders…>); the page cannot remove folders.',
  chooseWeightsFile: 'Weights are given on the command line (--weights); the page cannot pick files.',
};
const MAX_BODY = 1 << 20;
/** How much of a body over MAX_BODY is read and thrown away so that its sender gets the 413 (see readJson). */
const MAX_DRAINED = 256 << 20;

export interface ServedAppOptions {
  /** The library's folders (the command line's); the only ones the page ever sees. */
  folders: readonly string[];
  /** Index, settings and thumbnail cache. */
  dataDir: string;
  /** The built renderer (index.html, app.js, styles.css, inference-worker.js). */
  rendererDir: string;
  createClassifier(settings: Settings): Promise<Classifier>;
  /** The id of the weights the settings name (see LibraryServiceOptions.currentModelId): photos other weights tagged are tagged again. */
  currentModelId?(settings: Settings): Promise<string>;
  describeLoadError?(error: unknown): string;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Settings the command line sets (threshold, engine, weights). */
  settings?: Partial<Settings>;
  /** Tag new and changed photos once the folders are scanned (default true). */
  tagOnStart?: boolean;
  onProgress?(progress: TaggingProgress): void;
  /** Thumbnails' resizer (sharp; tests spy on it). */
  resize?: Resizer;
  token?: string;
}

export interface ServedApp {
  readonly port: number;
  readonly rules: AccessRules;
  readonly service: LibraryService;
  /** The origin the page lives at, http://<host>:<port>. */
  readonly origin: string;
  close(): Promise<void>;
}

class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Reads a JSON body of at most 1 MiB. A longer body is read to its end and thrown away before
 * the 413 goes out: a socket closed on unread bytes sends the client a TCP reset, which it
 * reports instead of the answer.
 */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
    // Past this, the sender is not a page: its connection is cut rather than read on without end.
    else if (size > MAX_DRAINED) throw new HttpRefusal(413, 'The request body is over 1 MiB.');
  }
  if (size > MAX_BODY) throw new HttpRefusal(413, 'The request body is over 1 MiB.');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpRefusal(400, 'The request body is not JSON.');
  }
}

/**
 * The served shell: the library service and tagging queue of the desktop app behind an HTTP
 * server (the renderer bundle, the bridge's methods as POST /api/<method>, thumbnails by index
 * id) and a WebSocket for its events. Every request passes the access rules first: allowed
 * Host, then the token cookie (or the one-time ?token= exchange), then, for anything but GET
 * and HEAD and for the WebSocket, the page's own Origin.
 */
export async function startServedApp(options: ServedAppOptions): Promise<ServedApp> {
  const host = options.host ?? '127.0.0.1';
  const files = new Map<string, string>(readdirSync(options.rendererDir).filter((n) => MIME[extname(n)]).map((n) => [`/${n}`, join(options.rendererDir, n)]));
  const html = readFileSync(join(options.rendererDir, 'index.html'), 'utf8');
  if (!META_CSP.test(html)) throw new Error('index.html has no Content-Security-Policy meta tag to replace; the served shell would serve a page without its policy.');
  const servedHtml = html.replace(META_CSP, '');

  // Listen first, so that a port in use fails at once, not after scanning a large library;
  // requests wait (unanswered) until the library is ready.
  let onRequest: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  let onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void = () => undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const server = createServer((request, response) => void ready.then(() => onRequest(request, response)));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node gives an upgrading socket no error listener: a reset before ws owns it (or after a refusal) would end the process.
    socket.on('error', () => socket.destroy());
    void ready.then(() => onUpgrade(request, socket, head));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  const port = (server.address() as { port: number }).port;
  const rules = createAccessRules({ host, port, ...(options.token ? { token: options.token } : {}) });
  const stopListening = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };

  const sockets = new Set<WebSocket>();
  const broadcast = (event: ServedEvent): void => {
    const text = JSON.stringify(event);
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(text);
  };
  const forward = createProgressForwarder((_channel, progress) => broadcast({ type: 'progress', progress }));
  /** The model loading while the folders are scanned (start-up): the queue's first classifier. */
  let warming: Promise<Classifier> | null = null;
  const service = createLibraryService({
    dataDir: options.dataDir,
    createClassifier: (settings) => {
      const warm = warming;
      warming = null;
      return warm ?? options.createClassifier(settings);
    },
    onProgress: (progress) => {
      forward(progress);
      options.onProgress?.(progress);
    },
    ...(options.describeLoadError ? { describeLoadError: options.describeLoadError } : {}),
    ...(options.currentModelId ? { currentModelId: options.currentModelId } : {}),
  });
  try {
    await service.init();
  } catch (error) {
    await stopListening();
    throw error;
  }
  if (options.settings) await service.updateSettings(options.settings);
  const wanted = await Promise.all(options.folders.map((f) => realpath(resolve(f)).catch(() => resolve(f))));
  const known = new Set(service.listFolders().map((f) => f.path));
  const likelyWork = wanted.some((f) => !known.has(f)) || [...service.library.all()].some((r) => r.status !== 'tagged');
  if (options.tagOnStart !== false && likelyWork) {
    // As the CLI does, the model loads while the photos are found (new folders, or photos left
    // untagged last time): a start-up costs the longer of the two, not their sum. load() is
    // idempotent; a failure is reported by the queue's own load() call, which tries again.
    warming = options.createClassifier(service.getSettings());
    void warming.then((c) => c.load()).catch(() => undefined);
  }
  // The folders are the command line's: forget the ones an earlier run served, add these.
  for (const folder of service.listFolders()) if (!wanted.includes(folder.path)) await service.removeFolder(folder.path);
  try {
    for (const folder of wanted) await service.addFolder(folder);
    await service.scan();
  } catch (error) {
    // A model loading ahead runs in a worker thread, which would keep the process alive.
    await Promise.all([stopListening(), service.dispose(), warming?.then((c) => c.dispose()).catch(() => undefined)]);
    throw error;
  }

  const methods = createBridgeMethods({
    service,
    nameOf: (name) => `${SERVED_API_PREFIX}${name}`,
    pickers: {
      pickFolders: () => Promise.reject(new DesktopError('invalid-argument', REFUSED.addFolders!)),
      pickWeightsFile: () => Promise.reject(new DesktopError('invalid-argument', REFUSED.chooseWeightsFile!)),
    },
  });
  const thumbnails = createThumbnailService({ cacheDir: join(options.dataDir, 'thumbnails'), guard: service.guard, ...(options.resize ? { resize: options.resize } : {}) });

  const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
  const send = (response: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { ...securityHeaders, 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
  };
  const sendJson = (response: ServerResponse, status: number, value: unknown): void => send(response, status, JSON.stringify(value ?? null), { 'content-type': 'application/json' });

  /** The access rules for one request; null when it may go on. */
  const refusal = (request: IncomingMessage): HttpRefusal | null => {
    if (!rules.hostAllowed(request.headers.host)) return new HttpRefusal(403, `Host '${request.headers.host ?? ''}' is not served here; open the address printed by pnpm tagger serve.`);
    if (!rules.cookieMatches(request.headers.cookie)) return new HttpRefusal(403, 'Not signed in: open the address printed by pnpm tagger serve (it carries ?token=…).');
    if (request.method !== 'GET' && request.method !== 'HEAD' && !rules.originAllowed(request.headers.origin, request.headers.host)) {
      return new HttpRefusal(403, `Origin '${request.headers.origin ?? '(none)'}' may not change anything here.`);
    }
    return null;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://served.invalid');
    if (!rules.hostAllowed(request.headers.host)) throw refusal(request)!;
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!rules.tokenMatches(given)) throw new HttpRefusal(403, 'Wrong token: open the address printed by pnpm tagger serve.');
      // The token becomes a cookie, and the address loses it (history, screen shares, Referer).
      url.searchParams.delete('token');
      send(response, 303, '', { location: `${url.pathname}${url.search}`, 'set-cookie': rules.setCookie() });
      return;
    }
    const refused = refusal(request);
    if (refused) throw refused;

    if (request.method === 'POST' && url.pathname.startsWith(SERVED_API_PREFIX)) {
      const name = url.pathname.slice(SERVED_API_PREFIX.length);
      if (!methods.has(name)) throw new HttpRefusal(404, `No method '${name}'.`);
      if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) throw new HttpRefusal(415, 'Calls must be JSON (content-type: application/json).');
      const body = (await readJson(request)) as { args?: unknown } | null;
      if (!body || !Array.isArray(body.args)) throw new HttpRefusal(400, 'The body must be {"args": [...]}.');
      if (REFUSED[name]) throw new DesktopError('invalid-argument', REFUSED[name]);
      sendJson(response, 200, { ok: true, value: await methods.call(name, body.args) });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpRefusal(405, 'Only GET here.');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      send(response, 200, servedHtml, { 'content-type': MIME['.html']!, 'content-security-policy': SERVED_CONTENT_SECURITY_POLICY });
      return;
    }
    if (url.pathname === SERVED_THUMBNAIL_PATH) {
      // By index id: a photo the index does not hold is refused before any file is touched.
      const id = url.searchParams.get('id') ?? '';
      if (!service.library.get(id)) throw new HttpRefusal(404, 'No such photo in the library.');
      const thumbnail = await thumbnails.handle(`xthumb://photo/${encodeURIComponent(id)}`);
      send(response, thumbnail.status, new Uint8Array(await thumbnail.arrayBuffer()), { 'content-type': thumbnail.headers.get('content-type') ?? 'text/plain', 'cache-control': 'private, max-age=3600' });
      return;
    }
    // The renderer's files, by exact name from the list made at start: nothing is joined from the URL.
    const file = files.get(url.pathname);
    if (!file) throw new HttpRefusal(404, 'Not found.');
    send(response, 200, readFileSync(file), { 'content-type': MIME[extname(file)]!, 'cache-control': 'no-cache' });
  };

  onRequest = (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      const status = error instanceof HttpRefusal ? error.status : error instanceof DesktopError ? 400 : 500;
      if (request.url?.startsWith(SERVED_API_PREFIX)) sendJson(response, status, { ok: false, error: { code: (error as { code?: string }).code ?? 'http', message: messageOf(error) } });
      else send(response, status, messageOf(error));
    });
  };

  const events = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  onUpgrade = (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://served.invalid');
    const refused = url.pathname === SERVED_EVENTS_PATH ? (refusal(request) ?? (rules.originAllowed(request.headers.origin, request.headers.host) ? null : new HttpRefusal(403, 'foreign origin'))) : new HttpRefusal(404, 'not found');
    if (refused) {
      socket.end(`HTTP/1.1 ${refused.status} ${refused.status === 404 ? 'Not Found' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    events.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      // A bad frame (unmasked, over maxPayload, invalid UTF-8) or a socket error is this
      // client's: ws emits it here, and an 'error' with no listener would end the process.
      ws.on('error', () => {
        sockets.delete(ws);
        ws.terminate();
      });
      // The page only listens; it never sends anything that changes state over this socket.
      ws.on('message', () => ws.close(1003, 'this socket only sends'));
      ws.send(JSON.stringify({ type: 'progress', progress: service.progress() } satisfies ServedEvent));
    });
  };
  markReady();
  if (options.tagOnStart !== false) {
    await service.startTagging({ scope: 'new' });
    // Nothing new to tag: the model loaded ahead is not kept in memory.
    const unused = warming;
    warming = null;
    if (unused) void unused.then((c) => c.dispose()).catch(() => undefined);
  }

  return {
    port,
    rules,
    service,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      for (const socket of sockets) socket.terminate();
      events.close();
      await stopListening();
      await service.dispose();
    },
  };
}
