import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect, test } from 'vitest';
import { readmeExamples, runNodeExample, substitute } from '@xception/test-kit';
import { IMAGENET_CLASSES, tagName } from './index.js';

/**
 * The README's Node example as a plain Node script on the built packages. Offline, Keras'
 * ImageNet file cannot be downloaded, so the test builds the model with Keras' random
 * initialisation (weights: null) and checks the plumbing (decode, preprocess, predict, decode
 * predictions, tag names), not which animal it is. The browser example runs in Chromium in
 * src/browser/load-image-in-browser.browser.test.ts.
 */
test("the README's Node example runs in plain Node and prints three ImageNet tag names", async () => {
  const examples = readmeExamples(fileURLToPath(new URL('../README.md', import.meta.url)));
  expect(examples.map((e) => e.where)).toEqual(['node', 'browser']);
  const dir = mkdtempSync(join(tmpdir(), 'xception-vision-readme-'));
  try {
    // A 320x240 JPEG made by sharp: a grey gradient stands in for the photo.
    const gradient = Buffer.alloc(320 * 240 * 3, 0).map((_, i) => Math.floor(i / 3) % 320 * 0.8);
    await sharp(gradient, { raw: { width: 320, height: 240, channels: 3 } }).jpeg().toFile(join(dir, 'elephant.jpg'));
    const stdout = runNodeExample(substitute(examples[0]!, [["{ weights: 'imagenet' }", '{ weights: null }']]), { cwd: dir });
    const printed = JSON.parse(stdout.trim().replace(/'/g, '"')) as string[];
    const names = new Set(IMAGENET_CLASSES.map((c) => tagName(c.label)));
    expect(printed).toHaveLength(3);
    for (const name of printed) expect(names.has(name), name).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
