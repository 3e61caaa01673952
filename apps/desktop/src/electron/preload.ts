/**
 * The preload: exposes exactly the typed XceptionBridge as `window.xception`, nothing else.
 * It runs sandboxed (bundled to CommonJS by scripts/build.mjs), so it may only import
 * electron's renderer modules; every argument is validated again in the main process.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, thumbnailUrlFor, type InferenceRequest, type LibraryChange, type TaggingProgress, type XceptionBridge } from '../shared/api.js';

const invoke =
  (channel: string) =>
  (...args: unknown[]): Promise<never> =>
    ipcRenderer.invoke(channel, ...args) as Promise<never>;

const bridge: XceptionBridge = {
  addFolders: invoke(CHANNELS.addFolders),
  removeFolder: invoke(CHANNELS.removeFolder),
  listFolders: invoke(CHANNELS.listFolders),
  scan: invoke(CHANNELS.scan),
  query: invoke(CHANNELS.query),
  tagCounts: invoke(CHANNELS.tagCounts),
  similar: invoke(CHANNELS.similar),
  showThumbnails: invoke(CHANNELS.showThumbnails),
  addTag: invoke(CHANNELS.addTag),
  removeTag: invoke(CHANNELS.removeTag),
  teachTag: invoke(CHANNELS.teachTag),
  acceptSuggestion: invoke(CHANNELS.acceptSuggestion),
  startTagging: invoke(CHANNELS.startTagging),
  pauseTagging: invoke(CHANNELS.pauseTagging),
  resumeTagging: invoke(CHANNELS.resumeTagging),
  cancelTagging: invoke(CHANNELS.cancelTagging),
  getSettings: invoke(CHANNELS.getSettings),
  updateSettings: invoke(CHANNELS.updateSettings),
  chooseWeightsFile: invoke(CHANNELS.chooseWeightsFile),
  onProgress(listener) {
    // The event object (with its sender) never reaches the page.
    const wrapped = (_event: unknown, progress: TaggingProgress): void => listener(progress);
    ipcRenderer.on(CHANNELS.progress, wrapped);
    return () => ipcRenderer.removeListener(CHANNELS.progress, wrapped);
  },
  onLibraryChanged(listener) {
    const wrapped = (_event: unknown, change: LibraryChange): void => listener(change);
    ipcRenderer.on(CHANNELS.libraryChanged, wrapped);
    return () => ipcRenderer.removeListener(CHANNELS.libraryChanged, wrapped);
  },
  thumbnailUrl: thumbnailUrlFor,
  reportGpu: invoke(CHANNELS.reportGpu),
  inferenceReply: invoke(CHANNELS.inferenceReply),
  onInferenceRequest(listener) {
    const wrapped = (_event: unknown, request: InferenceRequest): void => listener(request);
    ipcRenderer.on(CHANNELS.inferenceRequest, wrapped);
    return () => ipcRenderer.removeListener(CHANNELS.inferenceRequest, wrapped);
  },
};

contextBridge.exposeInMainWorld('xception', bridge);
