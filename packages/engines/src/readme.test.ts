import { expect, test } from 'vitest';
import { runOnlyNodeExample } from '@xception/test-kit';
import { EngineError } from './index.js';

// The README's example as a plain Node script on the built package; 71x71 instead of 299x299.
test("the README's example runs in plain Node: auto selection, one batch of uint8 pixels, dispose", () => {
  const lines = runOnlyNodeExample(new URL('../README.md', import.meta.url), [['299', '71']]).trim().split('\n');
  expect(lines.slice(-2)).toEqual([
    '[ 8, 1000 ] 16384',
    expect.stringMatching(/^onnx \(onnxruntime-node 1\.30\.0, cpu, \d+ threads?; model (exported, cached at |cached )\S+\.onnx\), in a worker thread$/),
  ]);
});

test('EngineError speaks the library\'s words, and a front end re-words it', () => {
  const error = new EngineError('ERR_ENGINE_UNAVAILABLE', 'tfjs-node', 'cannot load: @tensorflow/tfjs-node is not installed', 'install @tensorflow/tfjs-node');
  expect(error.message).toBe("engine: 'tfjs-node' cannot load: @tensorflow/tfjs-node is not installed; install @tensorflow/tfjs-node, or use engine: 'wasm'.");
  expect(error.describe((e) => `--engine ${e}`)).toBe('--engine tfjs-node cannot load: @tensorflow/tfjs-node is not installed; install @tensorflow/tfjs-node, or use --engine wasm.');
  expect(new EngineError('ERR_ENGINE_UNAVAILABLE', 'wasm', 'cannot start: out of memory', '', null).message).toBe("engine: 'wasm' cannot start: out of memory.");
});
