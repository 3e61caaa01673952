import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TaggingProgress } from '../shared/api.js';
import { SERVED_EVENTS_PATH, type ServedEvent } from '../shared/served-protocol.js';
import { accessRefusal } from './access-gate.js';
import { HttpRefusal } from './http-refusal.js';
import type { AccessRules } from './served-security.js';

export interface EventsSocket {
  /** Sends an event to every open page. */
  broadcast(event: ServedEvent): void;
  /** The HTTP server's 'upgrade': the access rules and the page's own origin, then the WebSocket. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * The page's one WebSocket, at /events: the server's events (tagging progress) to the page, the
 * current progress first. The page only listens; a message from it closes the socket.
 */
export function createEventsSocket(rules: AccessRules, progress: () => TaggingProgress): EventsSocket {
  const events = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  const refusalOf = (request: IncomingMessage): HttpRefusal | null => {
    const url = new URL(request.url ?? '/', 'http://served.invalid');
    if (url.pathname !== SERVED_EVENTS_PATH) return new HttpRefusal(404, 'not found');
    // The origin is checked on GET too: a WebSocket is not bound by the same-origin policy.
    return accessRefusal(rules, request) ?? (rules.originAllowed(request.headers.origin, request.headers.host) ? null : new HttpRefusal(403, 'foreign origin'));
  };
  const accept = (ws: WebSocket): void => {
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
    ws.send(JSON.stringify({ type: 'progress', progress: progress() } satisfies ServedEvent));
  };
  return {
    broadcast(event) {
      const text = JSON.stringify(event);
      for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(text);
    },
    upgrade(request, socket, head) {
      const refused = refusalOf(request);
      if (refused) {
        socket.end(`HTTP/1.1 ${refused.status} ${refused.status === 404 ? 'Not Found' : 'Forbidden'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        return;
      }
      events.handleUpgrade(request, socket, head, accept);
    },
    close() {
      for (const socket of sockets) socket.terminate();
      events.close();
    },
  };
}
