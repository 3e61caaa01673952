import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticFile { body: Uint8Array | string; type: string }

export interface StaticServer {
  url: string;
  /** Request paths, in order, so that tests can count downloads. */
  hits: string[];
  files: Map<string, StaticFile>;
  close(): Promise<void>;
}

/**
 * A static HTTP server on 127.0.0.1 (port chosen by the OS) for the files in `files`, by path;
 * 404 for anything else. Tests add files after it starts.
 */
export async function startStaticServer(headers: Record<string, string> = {}): Promise<StaticServer> {
  const hits: string[] = [];
  const files = new Map<string, StaticFile>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    hits.push(path);
    const file = files.get(path);
    if (!file) { res.writeHead(404, headers).end(); return; }
    res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': Buffer.byteLength(file.body) }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    files,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
