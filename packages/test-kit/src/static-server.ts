import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.jpg': 'image/jpeg', '.png': 'image/png', '.avif': 'image/avif',
};

export interface StaticFile { body: Uint8Array | string; type: string }

export interface StaticServerOptions {
  /** A folder served as any web host serves one: GET by path, nothing outside it. */
  root?: string;
  /** Paths answered from memory, before `root`; tests may add files to `server.files` after the start. */
  files?: Record<string, StaticFile> | Map<string, StaticFile>;
  /** Headers sent with every answer of `files` and `root` (and their 404s), e.g. cache-control. */
  headers?: Record<string, string>;
  /** Answers whatever `files` and `root` do not (ranges, failures, proxies); without it, 404. */
  handler?: http.RequestListener;
}

export interface StaticServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Request targets as received (req.url: a path, or an absolute URL through a proxy), in order. */
  hits: string[];
  /** How many requests asked for `path` (query strings aside). */
  hitCount(path: string): number;
  /** The in-memory files by path; add or replace files at any time. */
  files: Map<string, StaticFile>;
  /** The node:http server, for tests that answer other events (CONNECT). */
  server: http.Server;
  close(): Promise<void>;
}

/**
 * The one HTTP test server (127.0.0.1, port chosen by the OS; no test talks to anything else):
 * in-memory `files` first, then the `root` folder, then `handler`, else 404.
 */
export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const hits: string[] = [];
  const files = options.files instanceof Map ? options.files : new Map(Object.entries(options.files ?? {}));
  const headers = options.headers ?? {};
  const root = options.root === undefined ? null : normalize(options.root);
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      path = '';
    }
    const own = files.get(path);
    if (own) {
      res.writeHead(200, { ...headers, 'content-type': own.type, 'content-length': Buffer.byteLength(own.body) }).end(own.body);
      return;
    }
    if (root !== null) {
      const file = normalize(join(root, path));
      const found = file.startsWith(root + sep) ? statSync(file, { throwIfNoEntry: false }) : undefined;
      if (found?.isFile()) {
        res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': found.size });
        createReadStream(file).pipe(res);
        return;
      }
    }
    if (options.handler) {
      options.handler(req, res);
      return;
    }
    res.writeHead(404, headers).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    hitCount: (path) => hits.filter((h) => h.split('?')[0] === path).length,
    files,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
