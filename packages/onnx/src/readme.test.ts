import { expect, test } from 'vitest';
import { runOnlyNodeExample } from '@xception/test-kit';

// The README's example as a plain Node script on the built package; 71x71 instead of 299x299.
test("the README's example runs in plain Node: onnxruntime gives the shapes it says", () => {
  expect(runOnlyNodeExample(new URL('../README.md', import.meta.url), [['299', '71']]).trim()).toBe('[ 2, 1000 ] [ 2, 2048 ]');
});
