import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { readmeExamples, runNodeExample, substitute } from '@xception/core/testing';

// The README's example as a plain Node script on the built package; 71x71 instead of 299x299.
test("the README's example runs in plain Node: onnxruntime gives the shapes it says", () => {
  const examples = readmeExamples(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(examples.map((e) => e.where)).toEqual(['node']);
  const dir = mkdtempSync(join(tmpdir(), 'xception-onnx-readme-'));
  try {
    expect(runNodeExample(substitute(examples[0]!, [['299', '71']]), { cwd: dir }).trim()).toBe('[ 2, 1000 ] [ 2, 2048 ]');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
