import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../shared/api.js';
import type { HostRequest, HostResponse } from './inference-protocol.js';
import { createUtilityClassifier, type UtilityProcessLike } from './utility-classifier.js';

/** A stand-in for Electron's utilityProcess child that answers like inference-host.ts. */
function fakeChild(answer: (r: HostRequest, reply: (m: HostResponse) => void) => void) {
  const events = new EventEmitter();
  const sent: HostRequest[] = [];
  const child: UtilityProcessLike & { crash(code: number): void } = {
    postMessage(message) {
      sent.push(message);
      queueMicrotask(() => answer(message, (m) => events.emit('message', m)));
    },
    on: ((event: string, listener: (...a: unknown[]) => void) => events.on(event, listener)) as unknown as UtilityProcessLike["on"],
    kill: () => true,
    crash: (code) => events.emit('exit', code),
  };
  return { child, sent };
}

describe('utility-process classifier', () => {
  it('loads with progress, classifies and turns features back into a Float32Array', async () => {
    const { child, sent } = fakeChild((r, reply) => {
      if (r.type === 'load') {
        reply({ id: r.id, progress: { loaded: 50, total: 100 } });
        reply({ id: r.id, ok: true, result: { backend: 'wasm, 2 worker threads', notes: [] } });
      } else if (r.type === 'classify') reply({ id: r.id, ok: true, result: { items: r.photos.map(() => ({ predictions: [{ index: 1, label: 'goldfish', score: 0.5 }], features: [1, 2] })) } });
      else reply({ id: r.id, ok: true, result: null });
    });
    const forks: number[] = [];
    const classifier = createUtilityClassifier(() => (forks.push(1), child), DEFAULT_SETTINGS);
    const progress: number[] = [];
    await classifier.load((p) => progress.push(p.loaded));
    const result = await classifier.classify('/p/a.jpg', 5);
    expect(progress).toEqual([50]);
    expect(result.predictions[0]!.label).toBe('goldfish');
    expect(result.features).toEqual(Float32Array.from([1, 2]));
    expect(sent.map((s) => s.type)).toEqual(['load', 'classify']);
    expect(sent[0]).toMatchObject({ engine: 'auto', weights: { kind: 'imagenet' } });
    expect(classifier.backend()).toBe('wasm, 2 worker threads');
    await classifier.classifyBatch!(['/p/a.jpg', '/p/b.jpg'], 5, ['/p/c.jpg']);
    expect(sent[2]).toMatchObject({ type: 'classify', photos: ['/p/a.jpg', '/p/b.jpg'], topK: 5, next: ['/p/c.jpg'] });
    expect(classifier.modelId).toBe('imagenet');
    expect(forks.length).toBe(1);
  });

  it('a failed photo rejects that photo only; a crash rejects the pending ones with a clear message', async () => {
    const { child } = fakeChild((r, reply) => {
      if (r.type === 'classify' && r.photos.some((p) => p.endsWith('hang.jpg'))) return;
      if (r.type === 'classify') reply({ id: r.id, ok: true, result: { items: r.photos.map((p) => (p.endsWith('bad.jpg') ? { error: 'Input buffer contains unsupported image format' } : { predictions: [], features: [] })) } });
      else reply({ id: r.id, ok: true, result: null });
    });
    const classifier = createUtilityClassifier(() => child, DEFAULT_SETTINGS);
    await expect(classifier.classify('/p/bad.jpg', 5)).rejects.toThrow('unsupported image format');
    await expect(classifier.classify('/p/good.jpg', 5)).resolves.toBeTruthy();
    const batch = await classifier.classifyBatch!(['/p/a.jpg', '/p/bad.jpg', '/p/c.jpg'], 5, ['/p/d.jpg']);
    expect(batch.map((r) => (r instanceof Error ? r.message : 'ok'))).toEqual(['ok', 'Input buffer contains unsupported image format', 'ok']);
    const hanging = classifier.classify('/p/hang.jpg', 5);
    await new Promise((r) => setTimeout(r, 5));
    child.crash(9);
    await expect(hanging).rejects.toThrow(/inference process stopped \(exit code 9\)/);
  });
});
