import { expect, test } from 'vitest';
import { EngineError, selectEngine } from './index.js';

// The README's example, at 71x71 so that it runs in seconds.
test("the README's example runs: auto selection, one batch of uint8 pixels, dispose", async () => {
  const pixels = new Uint8Array(8 * 71 * 71 * 3).map((_, i) => (i * 31) % 256);
  const lines: string[] = [];
  const engine = await selectEngine('auto', { model: { includeTop: true, inputShape: [71, 71, 3], weights: null }, weights: null }, (l) => lines.push(l));
  const { output, outputShape, features } = await engine.run({ pixels, count: 8, height: 71, width: 71 });
  expect(outputShape).toEqual([8, 1000]);
  expect(output.length).toBe(8000);
  expect(features.length).toBe(8 * 2048);
  // Softmax rows sum to 1: an independent property of a classifier's output.
  for (let r = 0; r < 8; r++) expect(output.subarray(r * 1000, (r + 1) * 1000).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  expect(engine.detail).toMatch(/^onnx \(onnxruntime-node 1\.30\.0, cpu, \d+ threads?; model exported \(not cached\)\), in a worker thread$/);
  expect(lines).toEqual([]);
  await engine.dispose();
});

test('EngineError speaks the library\'s words, and a front end re-words it', () => {
  const error = new EngineError('ERR_ENGINE_UNAVAILABLE', 'tfjs-node', 'cannot load: @tensorflow/tfjs-node is not installed', 'install @tensorflow/tfjs-node');
  expect(error.message).toBe("engine: 'tfjs-node' cannot load: @tensorflow/tfjs-node is not installed; install @tensorflow/tfjs-node, or use engine: 'wasm'.");
  expect(error.describe((e) => `--engine ${e}`)).toBe('--engine tfjs-node cannot load: @tensorflow/tfjs-node is not installed; install @tensorflow/tfjs-node, or use --engine wasm.');
  expect(new EngineError('ERR_ENGINE_UNAVAILABLE', 'wasm', 'cannot start: out of memory', '', null).message).toBe("engine: 'wasm' cannot start: out of memory.");
});
