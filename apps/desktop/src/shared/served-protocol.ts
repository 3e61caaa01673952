/**
 * The served shell's wire format (see served/rpc-dispatch.ts, served/events-socket.ts and renderer/served-bridge.ts):
 * each XceptionBridge request method is `POST /api/<method>` with body `{"args": [...]}`,
 * answered `{"ok": true, "value": ...}` or `{"ok": false, "error": {"code", "message"}}`;
 * events arrive over one WebSocket at /events.
 */
import type { InferenceRequest, LibraryChange, TaggingProgress } from './api.js';

export const SERVED_API_PREFIX = '/api/';
export const SERVED_EVENTS_PATH = '/events';
/** Thumbnails by index id: `/thumbnail?id=<photo id>`. */
export const SERVED_THUMBNAIL_PATH = '/thumbnail';

export type ServedEvent = { type: 'progress'; progress: TaggingProgress } | { type: 'library'; change: LibraryChange } | { type: 'inference-request'; request: InferenceRequest };

export type ServedReply = { ok: true; value?: unknown } | { ok: false; error: { code: string; message: string } };

export function servedThumbnailUrl(photoId: string): string {
  return `${SERVED_THUMBNAIL_PATH}?id=${encodeURIComponent(photoId)}`;
}
