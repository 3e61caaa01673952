import type { IncomingMessage, ServerResponse } from 'node:http';
import { DesktopError, messageOf } from '../core/errors.js';
import type { LibraryService } from '../core/library-service.js';
import type { createThumbnailService } from '../core/thumbnails.js';
import { SERVED_API_PREFIX, SERVED_THUMBNAIL_PATH } from '../shared/served-protocol.js';
import { passAccessGate } from './access-gate.js';
import { HttpRefusal } from './http-refusal.js';
import type { RpcDispatch } from './rpc-dispatch.js';
import { send, sendJson } from './security-headers.js';
import type { AccessRules } from './served-security.js';
import type { StaticFiles } from './static-files.js';

export interface ServedRoutes {
  rules: AccessRules;
  rpc: RpcDispatch;
  files: StaticFiles;
  service: LibraryService;
  thumbnails: ReturnType<typeof createThumbnailService>;
}

/**
 * The HTTP server's request listener: the access gate (with the token exchange) first, then
 * `POST /api/<method>`, the thumbnails by index id, and the renderer's files. A refusal or a
 * method's error is answered, never thrown: JSON `{"ok": false, ...}` to an API call, one line of
 * text otherwise.
 */
export function createRequestHandler(routes: ServedRoutes): (request: IncomingMessage, response: ServerResponse) => void {
  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://served.invalid');
    if (passAccessGate(routes.rules, request, url, response)) return;
    if (request.method === 'POST' && url.pathname.startsWith(SERVED_API_PREFIX)) return routes.rpc(request, url, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpRefusal(405, 'Only GET here.');
    if (url.pathname === SERVED_THUMBNAIL_PATH) return sendThumbnail(routes, url.searchParams.get('id') ?? '', response);
    if (!routes.files.serve(url.pathname, response)) throw new HttpRefusal(404, 'Not found.');
  };
  return (request, response) => {
    route(request, response).catch((error: unknown) => answerError(request, response, error));
  };
}

/** By index id: a photo the index does not hold is refused before any file is touched. */
async function sendThumbnail({ service, thumbnails }: ServedRoutes, id: string, response: ServerResponse): Promise<void> {
  if (!service.library.get(id)) throw new HttpRefusal(404, 'No such photo in the library.');
  const thumbnail = await thumbnails.handle(`xthumb://photo/${encodeURIComponent(id)}`);
  send(response, thumbnail.status, new Uint8Array(await thumbnail.arrayBuffer()), { 'content-type': thumbnail.headers.get('content-type') ?? 'text/plain', 'cache-control': 'private, max-age=3600' });
}

function answerError(request: IncomingMessage, response: ServerResponse, error: unknown): void {
  if (response.headersSent) return void response.destroy();
  const status = error instanceof HttpRefusal ? error.status : error instanceof DesktopError ? 400 : 500;
  if (request.url?.startsWith(SERVED_API_PREFIX)) sendJson(response, status, { ok: false, error: { code: (error as { code?: string }).code ?? 'ERR_HTTP', message: messageOf(error) } });
  else send(response, status, messageOf(error));
}
