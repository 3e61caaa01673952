import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { LibraryChange, Settings, TaggingProgress } from '../shared/api.js';
import type { Classifier } from '../core/classifier.js';
import { createLibraryService, type LibraryService, type LibraryServiceOptions } from '../core/library-service.js';
import { createProgressForwarder } from '../core/progress-forwarder.js';
import { createThumbnailService, type Resizer, type ThumbnailService } from '../core/thumbnails.js';
import { createEventsSocket } from './events-socket.js';
import { createRequestHandler } from './request-handler.js';
import { createRpcDispatch } from './rpc-dispatch.js';
import { createAccessRules, type AccessRules } from './served-security.js';
import { createStaticFiles } from './static-files.js';

export interface ServedAppOptions {
  /** The library's folders (the command line's); the only ones the page ever sees. */
  folders: readonly string[];
  /** Index, settings and thumbnail cache. */
  dataDir: string;
  /** The built renderer (index.html, app.js, styles.css, inference-worker.js). */
  rendererDir: string;
  createClassifier: LibraryServiceOptions['createClassifier'];
  /** One line about the model in use with precision int8 (the terminal). */
  log?(line: string): void;
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
  /**
   * Settled once the folders are scanned (the page shows photos as the scan finds them) and
   * new photos are queued for tagging; the folders are watched from the start.
   */
  readonly ready: Promise<void>;
  readonly port: number;
  readonly rules: AccessRules;
  readonly service: LibraryService;
  /** The origin the page lives at, http://<host>:<port>. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * The served shell: the desktop app's library core behind an HTTP server (static-files.ts,
 * rpc-dispatch.ts, thumbnails by index id; request-handler.ts) and a WebSocket for its events
 * (events-socket.ts). Every request passes the access gate first (access-gate.ts: allowed Host,
 * the token cookie or the one-time ?token= exchange, the page's own Origin). This module is the
 * start-up: listen, open the library on the command line's folders, then answer.
 */
export async function startServedApp(options: ServedAppOptions): Promise<ServedApp> {
  const host = options.host ?? '127.0.0.1';
  const files = createStaticFiles(options.rendererDir);
  const server = await listenFirst(host, options.port ?? 0);
  const rules = createAccessRules({ host, port: server.port, ...(options.token ? { token: options.token } : {}) });
  // The socket asks for progress only once open() lets a page in, when the service exists.
  const events = createEventsSocket(rules, () => service.progress());
  const warm = createWarmStart(options.createClassifier);
  // Thumbnails made by the tagging decode (the classifier's thumbnailSize) go to the grid's cache.
  let thumbnails: ThumbnailService | null = null;
  const onThumbnail = async (photo: string, jpeg: Uint8Array): Promise<void> => thumbnails?.store(photo, jpeg);
  const service = await openLibrary(options, warm, {
    progress: createProgressForwarder((_channel, progress) => events.broadcast({ type: 'progress', progress })),
    library: (change) => events.broadcast({ type: 'library', change }),
  }, onThumbnail).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  thumbnails = createThumbnailService({
    cacheDir: join(options.dataDir, 'thumbnails'),
    guard: service.guard,
    waitForTagging: (photo) => service.waitForTagging(photo),
    ...(options.resize ? { resize: options.resize } : {}),
  });
  server.open(createRequestHandler({ rules, files, service, thumbnails, rpc: createRpcDispatch(service) }), events.upgrade);
  // The page opens on the index as it was saved; the scan then streams what changed into it.
  const ready = (async () => {
    service.watch({ tagNew: options.tagOnStart !== false });
    await service.scan();
    if (options.tagOnStart !== false) {
      await service.startTagging({ scope: 'new' });
      // Nothing new to tag: the model loaded ahead is not kept in memory.
      void warm.discard();
    }
  })();
  ready.catch(() => undefined);
  return {
    ready,
    port: server.port,
    rules,
    service,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    async close() {
      events.close();
      await server.stop();
      await service.dispose();
      await ready.catch(() => undefined);
    },
  };
}

interface ListeningServer {
  readonly port: number;
  /** Starts answering, the requests that waited first. */
  open(onRequest: (request: IncomingMessage, response: ServerResponse) => void, onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): void;
  stop(): Promise<void>;
}

/**
 * Listens first, so that a port in use fails at once, not after scanning a large library;
 * requests wait (unanswered) until open().
 */
async function listenFirst(host: string, port: number): Promise<ListeningServer> {
  let open!: ListeningServer['open'];
  const ready = new Promise<Parameters<ListeningServer['open']>>((r) => (open = (...handlers) => r(handlers)));
  const server = createServer((request, response) => void ready.then(([onRequest]) => onRequest(request, response)));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node gives an upgrading socket no error listener: a reset before ws owns it (or after a refusal) would end the process.
    socket.on('error', () => socket.destroy());
    void ready.then(([, onUpgrade]) => onUpgrade(request, socket, head));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolvePromise());
  });
  return {
    port: (server.address() as { port: number }).port,
    open,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The model loading while the folders are scanned (start-up): the queue's first classifier. */
interface WarmStart {
  /** The library service's createClassifier: the model loaded ahead, once, else a new one. */
  classifier: LibraryServiceOptions['createClassifier'];
  start(settings: Settings): void;
  /** Disposes the model loaded ahead if the queue did not take it. */
  discard(): Promise<void>;
}

function createWarmStart(create: LibraryServiceOptions['createClassifier']): WarmStart {
  let warming: Promise<Classifier> | null = null;
  return {
    classifier(settings, context) {
      const warm = warming;
      warming = null;
      return warm ?? create(settings, context);
    },
    start(settings) {
      // int8 may calibrate on the library's first photos, which the scan has not found yet.
      if (settings.precision === 'int8') return;
      // load() is idempotent; a failure is reported by the queue's own load() call, which tries again.
      warming = create(settings, { calibrationPhotos: [] });
      void warming.then((c) => c.load()).catch(() => undefined);
    },
    async discard() {
      const unused = warming;
      warming = null;
      // A model loading ahead runs in a worker thread, which would keep the process alive.
      await unused?.then((c) => c.dispose()).catch(() => undefined);
    },
  };
}

/**
 * The library service on the command line's settings and folders (an earlier run's folders are
 * forgotten), not scanned yet (startServedApp scans once the page can watch); the model loads
 * meanwhile when there is likely work, as the CLI does: a start-up costs the longer of the two, not their sum.
 */
async function openLibrary(
  options: ServedAppOptions,
  warm: WarmStart,
  forward: { progress(progress: TaggingProgress): void; library(change: LibraryChange): void },
  onThumbnail: (photo: string, jpeg: Uint8Array) => Promise<void>,
): Promise<LibraryService> {
  const service = createLibraryService({
    dataDir: options.dataDir,
    onThumbnail,
    createClassifier: (settings, context) => warm.classifier(settings, context),
    ...(options.log ? { log: options.log } : {}),
    onProgress: (progress) => {
      forward.progress(progress);
      options.onProgress?.(progress);
    },
    onLibraryChanged: forward.library,
    ...(options.describeLoadError ? { describeLoadError: options.describeLoadError } : {}),
    ...(options.currentModelId ? { currentModelId: options.currentModelId } : {}),
  });
  await service.init();
  try {
    if (options.settings) await service.updateSettings(options.settings);
    const wanted = await Promise.all(options.folders.map((f) => realpath(resolve(f)).catch(() => resolve(f))));
    const known = new Set(service.listFolders().map((f) => f.path));
    const likelyWork = wanted.some((f) => !known.has(f)) || [...service.library.all()].some((r) => r.status !== 'tagged');
    if (options.tagOnStart !== false && likelyWork) warm.start(service.getSettings());
    for (const folder of service.listFolders()) if (!wanted.includes(folder.path)) await service.removeFolder(folder.path);
    for (const folder of wanted) await service.addFolder(folder, { scan: false });
  } catch (error) {
    await Promise.all([service.dispose(), warm.discard()]);
    throw error;
  }
  return service;
}
