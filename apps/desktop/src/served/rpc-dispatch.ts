import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InvokeChannel } from '../shared/api.js';
import { createBridgeMethods } from '../core/bridge-methods.js';
import { DesktopError } from '../core/errors.js';
import type { LibraryService } from '../core/library-service.js';
import { SERVED_API_PREFIX } from '../shared/served-protocol.js';
import { HttpRefusal } from './http-refusal.js';
import { sendJson } from './security-headers.js';

/** What the page may not do in the served shell: its folders are the command line's. */
const REFUSED: Partial<Record<InvokeChannel, string>> = {
  addFolders: 'Folders are given on the command line (pnpm tagger serve <folders…>); the page cannot add folders.',
  removeFolder: 'Folders are given on the command line (pnpm tagger serve <folders…>); the page cannot remove folders.',
  chooseWeightsFile: 'Weights are given on the command line (--weights); the page cannot pick files.',
};
const MAX_BODY = 1 << 20;
/** How much of a body over MAX_BODY is read and thrown away so that its sender gets the 413 (see readJson). */
const MAX_DRAINED = 256 << 20;

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

/** Answers one `POST /api/<method>` (the access gate passed); throws HttpRefusal or the method's own error. */
export type RpcDispatch = (request: IncomingMessage, url: URL, response: ServerResponse) => Promise<void>;

/**
 * The bridge's methods (core/bridge-methods.ts, the ones Electron's IPC calls) as
 * `POST /api/<method>` with body `{"args": [...]}`, answered `{"ok": true, "value": ...}`
 * (shared/served-protocol.ts). The pickers and the folder methods are refused: the command line
 * chose the folders and the weights.
 */
export function createRpcDispatch(service: LibraryService): RpcDispatch {
  const methods = createBridgeMethods({
    service,
    nameOf: (name) => `${SERVED_API_PREFIX}${name}`,
    pickers: {
      pickFolders: () => Promise.reject(new DesktopError('ERR_INVALID_ARGUMENT', REFUSED.addFolders!)),
      pickWeightsFile: () => Promise.reject(new DesktopError('ERR_INVALID_ARGUMENT', REFUSED.chooseWeightsFile!)),
    },
  });
  return async (request, url, response) => {
    const name = url.pathname.slice(SERVED_API_PREFIX.length);
    if (!methods.has(name)) throw new HttpRefusal(404, `No method '${name}'.`);
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) throw new HttpRefusal(415, 'Calls must be JSON (content-type: application/json).');
    const body = (await readJson(request)) as { args?: unknown } | null;
    if (!body || !Array.isArray(body.args)) throw new HttpRefusal(400, 'The body must be {"args": [...]}.');
    if (REFUSED[name]) throw new DesktopError('ERR_INVALID_ARGUMENT', REFUSED[name]);
    sendJson(response, 200, { ok: true, value: await methods.call(name, body.args) });
  };
}
