/**
 * `window.xception` when the page is served by `pnpm tagger serve` instead of Electron: the
 * same XceptionBridge over HTTP (each method a POST /api/<method>) and one WebSocket for the
 * events. The token cookie goes along by itself (same origin); the server checks Host, cookie
 * and Origin on every call.
 */
import type { InferenceRequest, LibraryChange, TaggingProgress, XceptionBridge } from '../shared/api.js';
import { SERVED_API_PREFIX, SERVED_EVENTS_PATH, servedThumbnailUrl, type ServedEvent, type ServedReply } from '../shared/served-protocol.js';

/** Reconnect delays after the socket drops (the server restarted, the laptop slept). */
const RETRY_MS = [500, 1000, 2000, 5000];

export function createServedBridge(location: Location = window.location): XceptionBridge {
  const progressListeners = new Set<(p: TaggingProgress) => void>();
  const inferenceListeners = new Set<(r: InferenceRequest) => void>();
  const libraryListeners = new Set<(c: LibraryChange) => void>();
  let failures = 0;

  const connect = (): void => {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SERVED_EVENTS_PATH}`);
    socket.onopen = () => void (failures = 0);
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as ServedEvent;
      if (event.type === 'progress') for (const listener of progressListeners) listener(event.progress);
      else if (event.type === 'library') for (const listener of libraryListeners) listener(event.change);
      else for (const listener of inferenceListeners) listener(event.request);
    };
    socket.onclose = () => void setTimeout(connect, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
  };
  connect();

  const invoke =
    (method: string) =>
    async (...args: unknown[]): Promise<never> => {
      const response = await fetch(`${SERVED_API_PREFIX}${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args }), credentials: 'same-origin' });
      const reply = (await response.json().catch(() => ({ ok: false, error: { code: 'ERR_HTTP', message: `HTTP ${response.status} from ${method}` } }))) as ServedReply;
      if (!reply.ok) throw new Error(reply.error.message);
      return reply.value as never;
    };
  const listen = <T>(set: Set<(value: T) => void>) => (listener: (value: T) => void): (() => void) => {
    set.add(listener);
    return () => void set.delete(listener);
  };

  return {
    addFolders: invoke('addFolders'),
    removeFolder: invoke('removeFolder'),
    listFolders: invoke('listFolders'),
    scan: invoke('scan'),
    query: invoke('query'),
    tagCounts: invoke('tagCounts'),
    similar: invoke('similar'),
    showThumbnails: invoke('showThumbnails'),
    addTag: invoke('addTag'),
    removeTag: invoke('removeTag'),
    teachTag: invoke('teachTag'),
    acceptSuggestion: invoke('acceptSuggestion'),
    startTagging: invoke('startTagging'),
    pauseTagging: invoke('pauseTagging'),
    resumeTagging: invoke('resumeTagging'),
    cancelTagging: invoke('cancelTagging'),
    getSettings: invoke('getSettings'),
    updateSettings: invoke('updateSettings'),
    chooseWeightsFile: invoke('chooseWeightsFile'),
    reportGpu: invoke('reportGpu'),
    inferenceReply: invoke('inferenceReply'),
    onProgress: listen(progressListeners),
    onLibraryChanged: listen(libraryListeners),
    onInferenceRequest: listen(inferenceListeners),
    thumbnailUrl: servedThumbnailUrl,
  };
}
