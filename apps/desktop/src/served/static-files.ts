import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { send, SERVED_CONTENT_SECURITY_POLICY, withoutMetaCsp } from './security-headers.js';

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

export interface StaticFiles {
  /** Answers the page or one of the renderer's files; false when `pathname` names neither. */
  serve(pathname: string, response: ServerResponse): boolean;
}

/**
 * The built renderer (index.html, app.js, styles.css, inference-worker.js), listed once at start:
 * a file is served by its exact name from that list, and nothing is joined from the URL.
 */
export function createStaticFiles(rendererDir: string): StaticFiles {
  const files = new Map<string, string>(readdirSync(rendererDir).filter((n) => MIME[extname(n)]).map((n) => [`/${n}`, join(rendererDir, n)]));
  const page = withoutMetaCsp(readFileSync(join(rendererDir, 'index.html'), 'utf8'));
  return {
    serve(pathname, response) {
      if (pathname === '/' || pathname === '/index.html') {
        send(response, 200, page, { 'content-type': MIME['.html']!, 'content-security-policy': SERVED_CONTENT_SECURITY_POLICY });
        return true;
      }
      const file = files.get(pathname);
      if (!file) return false;
      send(response, 200, readFileSync(file), { 'content-type': MIME[extname(file)]!, 'cache-control': 'no-cache' });
      return true;
    },
  };
}
