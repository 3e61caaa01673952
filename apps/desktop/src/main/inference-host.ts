/**
 * Entry of the Electron utility process that runs Xception, off the main process and the UI.
 * It speaks a tiny message protocol (inference-protocol.ts) over `process.parentPort`.
 */
import type { HostRequest, HostResponse } from './inference-protocol.js';
import { createXceptionEngine, describeLoadError } from './xception-engine.js';
import { messageOf } from './errors.js';

interface ParentPort {
  on(event: 'message', listener: (event: { data: HostRequest }) => void): void;
  postMessage(message: HostResponse): void;
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!port) throw new Error('inference-host must run as an Electron utility process (process.parentPort is missing).');

let engine: ReturnType<typeof createXceptionEngine> | null = null;

port.on('message', ({ data }) => {
  void handle(data).then(
    (result) => port.postMessage({ id: data.id, ok: true, result } as HostResponse),
    (error: unknown) => port.postMessage({ id: data.id, ok: false, message: data.type === 'load' ? describeLoadError(error) : messageOf(error) }),
  );
});

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.type) {
    case 'load':
      await engine?.dispose();
      engine = createXceptionEngine({ engine: request.engine, weights: request.weights });
      await engine.load((p) => port!.postMessage({ id: request.id, progress: p }));
      return { backend: engine.backend() };
    case 'classify': {
      if (!engine) throw new Error('No model is loaded.');
      const { predictions, features } = await engine.classify(request.photo, request.topK);
      return { predictions, features: Array.from(features) };
    }
    case 'dispose':
      await engine?.dispose();
      engine = null;
      return null;
  }
}
