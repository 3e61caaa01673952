/**
 * The renderer's side of the webgl engine: detects the GPU (reported to main and shown in
 * settings), then answers main's inference requests in a Web Worker when OffscreenCanvas can
 * give it a WebGL context, else in the page, yielding to the UI between requests.
 */
import type { GpuInfo, InferenceReply, InferenceRequest, XceptionBridge } from '../../shared/api.js';
import { createWebglRunner, detectGpu } from './webgl-runner.js';

type InferenceBridge = Pick<XceptionBridge, 'reportGpu' | 'onInferenceRequest' | 'inferenceReply'>;

export interface RendererInference {
  gpu: GpuInfo;
  where: 'worker' | 'page';
  stop(): void;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Starts a worker and asks it whether it has WebGL; null when it cannot (no OffscreenCanvas, CSP, ...). */
async function startWorker(workerUrl: URL): Promise<{ worker: Worker; gpu: GpuInfo } | null> {
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return null;
  let worker: Worker;
  try {
    worker = new Worker(workerUrl, { type: 'module', name: 'xception-webgl' });
  } catch {
    return null;
  }
  const gpu = await new Promise<GpuInfo | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 10_000);
    worker.onerror = () => {
      clearTimeout(timer);
      resolve(null);
    };
    worker.onmessage = (event: MessageEvent<{ type?: string; gpu?: GpuInfo }>) => {
      if (event.data?.type !== 'probe') return;
      clearTimeout(timer);
      resolve(event.data.gpu ?? null);
    };
    worker.postMessage({ type: 'probe' });
  });
  if (!gpu?.webgl) {
    worker.terminate();
    return null;
  }
  return { worker, gpu };
}

export async function startRendererInference(api: InferenceBridge, workerUrl: URL): Promise<RendererInference> {
  const started = await startWorker(workerUrl);
  let stopListening: () => void;
  let result: RendererInference;
  if (started) {
    const { worker, gpu } = started;
    worker.onmessage = (event: MessageEvent<InferenceReply>) => void api.inferenceReply(event.data);
    stopListening = api.onInferenceRequest((request) => worker.postMessage(request));
    result = { gpu, where: 'worker', stop: () => (stopListening(), worker.terminate()) };
  } else {
    const runner = createWebglRunner('page');
    let chain: Promise<unknown> = Promise.resolve();
    stopListening = api.onInferenceRequest((request: InferenceRequest) => {
      chain = chain.then(async () => {
        await nextTask(); // let the UI paint and handle input between photos
        await api.inferenceReply(await runner.handle(request));
      });
    });
    result = { gpu: detectGpu(), where: 'page', stop: () => stopListening() };
  }
  await api.reportGpu(result.gpu);
  return result;
}
