/**
 * The typed surface between the renderer and the main process. The preload exposes exactly
 * `XceptionBridge` as `window.xception`; the main process validates every argument again
 * (the renderer is untrusted), see core/bridge-schemas.ts.
 */

/**
 * Where inference runs. 'onnx', 'tfjs-node' and 'wasm' run in a utility process on
 * @xception/engines; 'webgl' runs in the renderer (a Web Worker with OffscreenCanvas, else the
 * page, yielding between batches). 'auto' takes onnx when onnxruntime-node loads, else
 * tfjs-node when installed, else the wasm pool, with one line saying why each was passed over.
 */
export type EngineChoice = 'auto' | 'onnx' | 'tfjs-node' | 'wasm' | 'webgl';

/** What the renderer found out about WebGL (shown in settings; 'auto' uses realGpu). */
export interface GpuInfo {
  webgl: boolean;
  /** UNMASKED_RENDERER_WEBGL (or RENDERER), e.g. 'ANGLE (NVIDIA ...)'; null without WebGL. */
  renderer: string | null;
  /** A hardware GPU: WebGL is there and the renderer is not a software one (SwiftShader, llvmpipe). */
  realGpu: boolean;
}

/** Weights for the renderer's webgl engine: named float32 arrays (structured-cloned over IPC), or seeded random (tests). */
export interface WebglModelPayload {
  inputShape: [number, number, number] | null;
  weights: { name: string; shape: number[]; values: Float32Array }[] | null;
  seed?: number;
}

/** Main → renderer: one inference request for the webgl engine. */
export type InferenceRequest =
  | { id: number; type: 'load'; model: WebglModelPayload }
  | { id: number; type: 'classify'; pixels: Uint8Array; width: number; height: number }
  | { id: number; type: 'dispose' };

/** Renderer → main: the answer to one request ('classify' gives probabilities and pooled features). */
export type InferenceReply =
  | { id: number; ok: true; result: { backend: string; where: 'worker' | 'page' } | { probabilities: Float32Array; features: Float32Array } | null }
  | { id: number; ok: false; message: string };

/**
 * The arithmetic inference runs in: 'fp32' (the default), or 'int8': onnxruntime's int8 kernels
 * on the CPU, on a model calibrated on the library's first 64 photos (or a cached calibrated one),
 * used only when it agrees with fp32 (top-1 on at least 98% of held-out calibration photos).
 */
export type Precision = 'fp32' | 'int8';

/** What the precision setting gives once the model has loaded. */
export interface PrecisionStatus {
  /** The precision tagging runs in: the setting's, or fp32 when int8 was refused or cannot run. */
  running: Precision;
  /** One line for the toolbar and the log, e.g. "int8: calibrated on the library's first 64 photos …". */
  note: string;
  /** int8 was asked for and not used: one sentence, shown beside the setting (ERR_PRECISION_REFUSED, ERR_PRECISION_UNAVAILABLE). */
  error?: { code: string; message: string };
}

/** Which weights the classifier loads. */
export type WeightsChoice = { kind: 'imagenet' } | { kind: 'file'; path: string };

// The photo library's own types (type-only: the renderer bundle gets no Node code from them).
import type { LibraryQuery, MergeMode, PhotoStatus, PhotoSummary, PhotoTag, Prediction, QueryResult, SimilarPhoto, TagCount } from '@xception/photo-library/rules';
export type { LibraryQuery, MergeMode, PhotoStatus, PhotoSummary, PhotoTag, Prediction, QueryResult, SimilarPhoto, TagCount };

export interface Settings {
  /** Model tags below this confidence are neither shown nor written to sidecars. */
  threshold: number;
  /** How many predictions per photo are kept in the index (the rules pick from these). */
  topK: number;
  engine: EngineChoice;
  precision: Precision;
  weights: WeightsChoice;
  /** First component of lr:hierarchicalSubject / digiKam:TagsList entries the app owns. */
  hierarchyRoot: string;
  /** Labels (Keras label or tag name) that are never tagged. */
  ignoreLabels: string[];
  /** Label or group name to the tag name to write instead (merging when names collide). */
  renames: Record<string, string>;
  mergeMode: MergeMode;
}

export const DEFAULT_SETTINGS: Settings = {
  threshold: 0.3,
  topK: 5,
  engine: 'auto',
  precision: 'fp32',
  weights: { kind: 'imagenet' },
  hierarchyRoot: 'Xception',
  ignoreLabels: [],
  renames: {},
  mergeMode: 'hierarchy',
};


export type TagSource = PhotoTag['source'];


export interface FolderInfo {
  path: string;
  photoCount: number;
}

/** One photo "teach a tag" proposes: it lacks the tag; score is the taught head's probability (0..1). */
export interface TagSuggestion {
  photo: PhotoSummary;
  score: number;
}

export interface TeachTagOptions {
  /** Also write suggestions scoring at least settings.threshold as model tags (default false: only Accept writes). */
  autoApply?: boolean;
}

export interface TeachTagResult {
  tag: string;
  /** Photos tagged by hand with the tag (with features): the examples. */
  positives: number;
  /** Photos with features that lack the tag: the counter-examples. */
  negatives: number;
  /** Photos without the tag, best first. */
  suggestions: TagSuggestion[];
  /** How many suggestions autoApply wrote as model tags (0 without autoApply). */
  applied: number;
}

export interface ScanSummary {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

/** The library changed under a scan or the folder watcher (sent at most a few times a second). */
export interface LibraryChange {
  /** Photos in the library now. */
  photos: number;
  /** A scan is walking the folders (the page shows what it found so far). */
  scanning: boolean;
}

export type TaggingState = 'idle' | 'loading-model' | 'running' | 'paused' | 'cancelled' | 'done' | 'failed';

export interface TaggingProgress {
  state: TaggingState;
  done: number;
  failed: number;
  total: number;
  current?: string;
  /** Weights download, while state is 'loading-model'. */
  download?: { loaded: number; total: number | null };
  /** One sentence for the user when state is 'failed' (e.g. offline and no weights yet). */
  message?: string;
  /** The precision setting's outcome, from the last model load on. */
  precision?: PrecisionStatus;
}

export interface StartTaggingOptions {
  /** 'new': untagged and changed photos; 'all': re-run the model on every photo. */
  scope: 'new' | 'all';
}

export interface XceptionBridge {
  /** Opens the system folder picker (several folders may be picked); [] when the user cancels. */
  addFolders(): Promise<FolderInfo[]>;
  removeFolder(path: string): Promise<void>;
  listFolders(): Promise<FolderInfo[]>;
  scan(): Promise<ScanSummary>;
  query(query: LibraryQuery): Promise<QueryResult>;
  tagCounts(): Promise<TagCount[]>;
  similar(photoId: string, count: number): Promise<SimilarPhoto[]>;
  addTag(photoId: string, tag: string): Promise<PhotoSummary>;
  removeTag(photoId: string, tag: string): Promise<PhotoSummary>;
  /** "Teach a tag": trains a small head on the cached features of the photos tagged `tag` by hand (at least 2) and suggests it for the others. */
  teachTag(tag: string, options?: TeachTagOptions): Promise<TeachTagResult>;
  /** Writes a suggested tag to the photo as a hand tag (the same path as addTag). */
  acceptSuggestion(photoId: string, tag: string): Promise<PhotoSummary>;
  startTagging(options: StartTaggingOptions): Promise<void>;
  pauseTagging(): Promise<void>;
  resumeTagging(): Promise<void>;
  cancelTagging(): Promise<void>;
  getSettings(): Promise<Settings>;
  /** Applies at once to the view; rewrites sidecars in the background when tag rules changed. */
  updateSettings(patch: Partial<Settings>): Promise<Settings>;
  /** Opens the system file picker for a weights file; null when the user cancels. */
  chooseWeightsFile(): Promise<string | null>;
  onProgress(listener: (progress: TaggingProgress) => void): () => void;
  /** Photos found, changed or gone (a scan streaming, the folder watcher): the page queries again. */
  onLibraryChanged(listener: (change: LibraryChange) => void): () => void;
  /**
   * The photos the grid shows now (each call replaces the last): their tagging decodes also make
   * the grid's thumbnails, which other photos never get. A browser asks for a few thumbnails at a
   * time (six connections), so the thumbnail requests alone would name too few, too late.
   */
  showThumbnails(photoIds: string[]): Promise<void>;
  /** A URL the renderer may put in <img src> (the app's thumbnail protocol). */
  thumbnailUrl(photoId: string): string;
  /** The renderer tells main whether a real GPU is there (for 'auto'); main keeps the last report. */
  reportGpu(info: GpuInfo): Promise<void>;
  /** The webgl engine: main sends requests here and gets the replies back through inferenceReply. */
  onInferenceRequest(listener: (request: InferenceRequest) => void): () => void;
  inferenceReply(reply: InferenceReply): Promise<void>;
}

/** IPC channel names, one per bridge method (invoke) plus the progress event. */
export const CHANNELS = {
  addFolders: 'xception:add-folders',
  removeFolder: 'xception:remove-folder',
  listFolders: 'xception:list-folders',
  scan: 'xception:scan',
  query: 'xception:query',
  tagCounts: 'xception:tag-counts',
  similar: 'xception:similar',
  showThumbnails: 'xception:show-thumbnails',
  addTag: 'xception:add-tag',
  removeTag: 'xception:remove-tag',
  teachTag: 'xception:teach-tag',
  acceptSuggestion: 'xception:accept-suggestion',
  startTagging: 'xception:start-tagging',
  pauseTagging: 'xception:pause-tagging',
  resumeTagging: 'xception:resume-tagging',
  cancelTagging: 'xception:cancel-tagging',
  getSettings: 'xception:get-settings',
  updateSettings: 'xception:update-settings',
  chooseWeightsFile: 'xception:choose-weights-file',
  reportGpu: 'xception:report-gpu',
  inferenceReply: 'xception:inference-reply',
  progress: 'xception:progress',
  libraryChanged: 'xception:library-changed',
  inferenceRequest: 'xception:inference-request',
} as const;

export type InvokeChannel = Exclude<keyof typeof CHANNELS, 'progress' | 'libraryChanged' | 'inferenceRequest'>;

/** Scheme of the thumbnail protocol the main process serves (privileged, read-only). */
export const THUMBNAIL_SCHEME = 'xthumb';

export function thumbnailUrlFor(photoId: string): string {
  return `${THUMBNAIL_SCHEME}://photo/${encodeURIComponent(photoId)}`;
}
