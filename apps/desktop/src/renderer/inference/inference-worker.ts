/** The webgl engine's Web Worker (built to inference-worker.js beside app.js): one request at a time, in order. */
import type { InferenceRequest } from '../../shared/api.js';
import { createWebglRunner, detectGpu } from './webgl-runner.js';

const scope = self as unknown as { onmessage: ((event: MessageEvent<InferenceRequest | { type: 'probe' }>) => void) | null; postMessage(message: unknown, transfer?: Transferable[]): void };
const runner = createWebglRunner('worker');
let chain: Promise<unknown> = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'probe') {
    scope.postMessage({ type: 'probe', gpu: detectGpu() });
    return;
  }
  chain = chain.then(async () => {
    const reply = await runner.handle(request);
    const result = reply.ok ? reply.result : null;
    const transfer = result && 'features' in result ? [result.probabilities.buffer, result.features.buffer] : [];
    scope.postMessage(reply, transfer as Transferable[]);
  });
};
