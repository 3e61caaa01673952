import type { ServerResponse } from 'node:http';

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

/** On every answer: no MIME sniffing, no Referer to other sites, nothing kept by caches unless the route says so. */
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

const META_CSP = /<meta\s+http-equiv="Content-Security-Policy"[^>]*\/>\s*/;

/** index.html without its Electron meta policy (the header above replaces it); refuses a page that has none. */
export function withoutMetaCsp(html: string): string {
  if (!META_CSP.test(html)) throw new Error('index.html has no Content-Security-Policy meta tag to replace; the served shell would serve a page without its policy.');
  return html.replace(META_CSP, '');
}

/** Every answer of the served shell goes out here, with the security headers (a route's `headers` may override cache-control). */
export function send(response: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, JSON.stringify(value ?? null), { 'content-type': 'application/json' });
}
