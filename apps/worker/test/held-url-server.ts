import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inShard } from '@xception/batch';

/**
 * Photos served over HTTP on 127.0.0.1, each answer held until `release()`: a run (or a shard of
 * one) with such a URL among its inputs cannot finish before the test lets it, so a kill or a
 * requeue lands mid-run however fast or slow the machine is.
 */
export interface HeldUrlServer {
  /** The URL of `name` in the folder; `copy` makes a distinct input (and row) of the same photo. */
  url(name: string, copy?: number): string;
  /** Answers the requests held so far and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startHeldUrlServer(folder: string): Promise<HeldUrlServer> {
  let released = false;
  const held: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.slice(1));
    const answer = (): void => {
      let body: Buffer;
      try {
        body = readFileSync(join(folder, name.replace(/[/\\]/g, '')));
      } catch {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(body);
    };
    if (released) answer();
    else held.push(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (name, copy) => `${base}/${encodeURIComponent(name)}${copy === undefined ? '' : `?copy=${copy}`}`,
    release: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * One URL of `name` in each of `count` shards (copies of the same photo, chosen by the worker's
 * own shard rule): with them in the inputs, no shard can finish before the server releases them.
 */
export function oneUrlPerShard(server: HeldUrlServer, name: string, count: number): string[] {
  const urls: string[] = [];
  for (let index = 0; index < count; index++) {
    let copy = 0;
    while (!inShard(server.url(name, copy), { index, count, source: '--shard' })) copy++;
    urls.push(server.url(name, copy));
  }
  return urls;
}
