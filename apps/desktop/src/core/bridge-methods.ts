import type { FolderInfo, GpuInfo, InferenceReply, InvokeChannel, Settings, TeachTagOptions } from '../shared/api.js';
import { InvalidArgumentError } from './errors.js';
import { ARGUMENT_SCHEMAS } from './bridge-schemas.js';
import type { LibraryService } from './library-service.js';

/** The system pickers (Electron's dialog in the app; the served shell has none and refuses). */
export interface Pickers {
  /** Every folder the user picked (the dialog allows several); [] when cancelled. */
  pickFolders(): Promise<string[]>;
  pickWeightsFile(): Promise<string | null>;
}

export interface BridgeMethodsOptions {
  service: LibraryService;
  pickers: Pickers;
  /** The webgl engine's traffic from the renderer (GPU report, inference replies). */
  inference?: { onGpu(info: GpuInfo): void; onReply(reply: InferenceReply): void };
  /** How a method is named in errors: its IPC channel in Electron, its URL in the served shell. */
  nameOf?(method: InvokeChannel): string;
}

/** Calls one bridge method with arguments that came from the (untrusted) page. */
export interface BridgeMethods {
  readonly names: readonly InvokeChannel[];
  has(name: string): name is InvokeChannel;
  /** Parses `args` with the method's schema, then calls the service; throws InvalidArgumentError on bad input. */
  call(name: InvokeChannel, args: readonly unknown[]): Promise<unknown>;
}

/**
 * Every `XceptionBridge` request method, validated and dispatched to the library service: the
 * one implementation both shells share. Electron's IPC (ipc-handlers.ts) and the served
 * HTTP shell (served/rpc-dispatch.ts) differ only in how a call arrives and who may make it.
 */
export function createBridgeMethods({ service, pickers, inference, nameOf = (m) => m }: BridgeMethodsOptions): BridgeMethods {
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
    showThumbnails: (photos: string[]) => service.showThumbnails(photos),
    addTag: (photo: string, tag: string) => service.addTag(photo, tag),
    removeTag: (photo: string, tag: string) => service.removeTag(photo, tag),
    teachTag: (tag: string, options?: TeachTagOptions) => service.teachTag(tag, options),
    acceptSuggestion: (photo: string, tag: string) => service.acceptSuggestion(photo, tag),
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
  const names = Object.keys(methods) as InvokeChannel[];

  return {
    names,
    has: (name): name is InvokeChannel => Object.hasOwn(methods, name),
    async call(name, args) {
      const parsed = ARGUMENT_SCHEMAS[name].safeParse(args);
      if (!parsed.success) throw new InvalidArgumentError(nameOf(name), parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; '));
      return (methods[name] as (...a: unknown[]) => unknown)(...(parsed.data as unknown[]));
    },
  };
}
