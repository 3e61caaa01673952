import { CHANNELS, type FolderInfo, type GpuInfo, type InferenceReply, type InvokeChannel, type Settings, type TaggingProgress } from '../shared/api.js';
import { DesktopError, InvalidArgumentError } from './errors.js';
import { ARGUMENT_SCHEMAS } from './ipc-schemas.js';
import type { LibraryService } from './library-service.js';

/** The parts of Electron's ipcMain and IpcMainInvokeEvent used here (injected). */
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The system pickers (Electron's dialog in the app). */
export interface Pickers {
  /** Every folder the user picked (the dialog allows several); [] when cancelled. */
  pickFolders(): Promise<string[]>;
  pickWeightsFile(): Promise<string | null>;
}

export interface IpcHandlerOptions {
  ipcMain: IpcMainLike;
  service: LibraryService;
  pickers: Pickers;
  /** Only the app's own page may call: e.g. url.startsWith('app://renderer/'). */
  isTrustedSender(url: string): boolean;
  /** The webgl engine's traffic from the renderer (GPU report, inference replies). */
  inference?: { onGpu(info: GpuInfo): void; onReply(reply: InferenceReply): void };
}

/**
 * Registers one handler per bridge method. Each checks the sender is the app's own page,
 * parses the arguments with the channel's schema, then calls the service (which checks paths
 * against the added folders). Returns a function that removes the handlers.
 */
export function registerIpcHandlers({ ipcMain, service, pickers, isTrustedSender, inference }: IpcHandlerOptions): () => void {
  // A weights file path is accepted only if the user picked it in the system dialog.
  const pickedWeights = new Set<string>();

  const methods: Record<InvokeChannel, (...args: never[]) => unknown> = {
    addFolders: async () => {
      const added: FolderInfo[] = [];
      // One after the other: adding a parent of an added folder replaces it.
      for (const path of await pickers.pickFolders()) added.push(await service.addFolder(path));
      return added;
    },
    removeFolder: (path: string) => service.removeFolder(path),
    listFolders: () => service.listFolders(),
    scan: () => service.scan(),
    query: (query: Parameters<LibraryService['query']>[0]) => service.query(query),
    tagCounts: () => service.tagCounts(),
    similar: (photo: string, count: number) => service.similar(photo, count),
    addTag: (photo: string, tag: string) => service.addTag(photo, tag),
    removeTag: (photo: string, tag: string) => service.removeTag(photo, tag),
    startTagging: (options: Parameters<LibraryService['startTagging']>[0]) => service.startTagging(options),
    pauseTagging: () => service.pauseTagging(),
    resumeTagging: () => service.resumeTagging(),
    cancelTagging: () => service.cancelTagging(),
    getSettings: () => service.getSettings(),
    updateSettings: (patch: Partial<Settings>) => {
      const current = service.getSettings().weights;
      if (patch.weights?.kind === 'file' && !pickedWeights.has(patch.weights.path) && !(current.kind === 'file' && current.path === patch.weights.path)) {
        throw new InvalidArgumentError('updateSettings', 'a weights file must be chosen with chooseWeightsFile first');
      }
      return service.updateSettings(patch);
    },
    chooseWeightsFile: async () => {
      const path = await pickers.pickWeightsFile();
      if (path !== null) pickedWeights.add(path);
      return path;
    },
    reportGpu: (info: GpuInfo) => void inference?.onGpu(info),
    inferenceReply: (reply: InferenceReply) => void inference?.onReply(reply),
  };

  const channels = Object.keys(methods) as InvokeChannel[];
  for (const name of channels) {
    ipcMain.handle(CHANNELS[name], async (event, ...args) => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedSender(url)) throw new DesktopError('invalid-argument', `IPC from '${url}' refused: only the app's own page may call the main process.`);
      const parsed = ARGUMENT_SCHEMAS[name].safeParse(args);
      if (!parsed.success) throw new InvalidArgumentError(CHANNELS[name], parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; '));
      return (methods[name] as (...a: unknown[]) => unknown)(...(parsed.data as unknown[]));
    });
  }
  return () => channels.forEach((name) => ipcMain.removeHandler(CHANNELS[name]));
}

/** Forwards tagging progress to the window (throttled: at most one message per 100 ms, the last always sent). */
export function createProgressForwarder(send: (channel: string, progress: TaggingProgress) => void, intervalMs = 100): (p: TaggingProgress) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let latest: TaggingProgress | null = null;
  const flush = (): void => {
    timer = null;
    last = Date.now();
    if (latest) send(CHANNELS.progress, latest);
  };
  return (progress) => {
    latest = progress;
    const final = progress.state !== 'running' && progress.state !== 'loading-model';
    if (final || Date.now() - last >= intervalMs) {
      if (timer) clearTimeout(timer);
      flush();
    } else timer ??= setTimeout(flush, intervalMs);
  };
}
