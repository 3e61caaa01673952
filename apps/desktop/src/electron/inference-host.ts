/**
 * Entry of the Electron utility process that runs Xception, off the main process and the UI,
 * on @xception/engines (engine-classifier.ts). It speaks a tiny message protocol
 * (inference-protocol.ts) over `process.parentPort`.
 */
import type { ClassifyReply, ClassifyReplyItem, HostRequest, HostResponse, LoadReply } from '../core/inference-protocol.js';
import { createEngineClassifier, describeLoadError } from '../core/engine-classifier.js';
import { DesktopError, messageOf } from '../core/errors.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: HostRequest }) => void): void;
  postMessage(message: HostResponse): void;
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!port) throw new Error('inference-host must run as an Electron utility process (process.parentPort is missing).');

let engine: ReturnType<typeof createEngineClassifier> | null = null;

port.on('message', ({ data }) => {
  void handle(data).then(
    (result) => port.postMessage({ id: data.id, ok: true, result } as HostResponse),
    (error: unknown) => port.postMessage({ id: data.id, ok: false, message: data.type === 'load' ? describeLoadError(error) : messageOf(error), ...codeOf(error) }),
  );
});

/** A DesktopError's code, carried to the main process with its message. */
function codeOf(error: unknown): { code?: string } {
  return error instanceof DesktopError ? { code: error.code } : {};
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.type) {
    case 'load': {
      await engine?.dispose();
      const notes: string[] = [];
      engine = createEngineClassifier({
        engine: request.engine,
        weights: request.weights,
        log: (line) => notes.push(line),
        ...(request.random ? { random: request.random } : {}),
        ...(request.imageSize ? { imageSize: request.imageSize } : {}),
        ...(request.thumbnailSize ? { thumbnailSize: request.thumbnailSize } : {}),
        ...(request.precision ? { precision: request.precision } : {}),
        ...(request.calibrationPhotos ? { calibrationPhotos: request.calibrationPhotos } : {}),
      });
      await engine.load((p) => port!.postMessage({ id: request.id, progress: p }));
      return { modelId: engine.modelId, backend: engine.backend() ?? '', notes, int8Note: engine.int8Note() } satisfies LoadReply;
    }
    case 'classify': {
      if (!engine) throw new Error('No model is loaded.');
      const results = await engine.classifyBatch!(request.photos, request.topK, request.next, request.thumbnails);
      const items = results.map((r): ClassifyReplyItem => (r instanceof Error ? { error: r.message } : { predictions: r.predictions, features: Array.from(r.features), ...(r.thumbnail ? { thumbnail: Array.from(r.thumbnail) } : {}) }));
      return { items } satisfies ClassifyReply;
    }
    case 'dispose':
      await engine?.dispose();
      engine = null;
      return null;
  }
}
