import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.jpg': 'image/jpeg', '.png': 'image/png', '.avif': 'image/avif',
};

export interface StaticServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Paths requested, in order. */
  hits: string[];
  close(): Promise<void>;
}

/**
 * A plain static file server for `root` on 127.0.0.1 (port chosen by the OS), as any web host
 * serves a folder: GET by path, 404 for anything else. `extra` answers paths first (a page, a bundle).
 */
export async function serveFolder(root: string, extra: Record<string, { type: string; body: string | Uint8Array }> = {}): Promise<StaticServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.push(path);
    const own = extra[path];
    if (own) {
      res.writeHead(200, { 'content-type': own.type, 'content-length': Buffer.byteLength(own.body) });
      res.end(own.body);
      return;
    }
    const file = normalize(join(root, path));
    const size = file.startsWith(normalize(root) + sep) ? statSync(file, { throwIfNoEntry: false }) : undefined;
    if (!size?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
