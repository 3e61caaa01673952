import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedImage } from '../decoded-image.js';
import { loadImage } from './load-image.js';
import { loadImageBatch } from './load-image-tensor.js';

const labels = sharedPath('images', 'labels.tsv');

interface Row {
  file: string;
  channels: number;
}

describe.skipIf(!labels)(`the 186 ImageNet photos in shared/images ${labels ? '' : SKIP_NO_SHARED}`, () => {
  let rows: Row[] = [];
  const decoded = new Map<string, DecodedImage>();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    rows = readFileSync(labels!, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [file, , , , channels] = line.split('\t');
        return { file: join(dirname(labels!), file!), channels: Number(channels) };
      });
    // Four at a time, as the batch worker would.
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < rows.length) {
          const row = rows[next++]!;
          decoded.set(row.file, await loadImage(row.file));
        }
      }),
    );
  });

  it('all decode to 299×299×3', () => {
    expect(rows).toHaveLength(186);
    for (const row of rows) {
      const image = decoded.get(row.file)!;
      expect([image.width, image.height, image.pixels.length], row.file).toEqual([299, 299, 299 * 299 * 3]);
      expect(image.format).toBe('jpeg');
      expect(image.originalWidth * image.originalHeight).toBeGreaterThan(299);
    }
  });

  it('the 23 greyscale photos give three equal channels; the colour ones do not', () => {
    const grey = rows.filter((r) => r.channels === 1);
    expect(grey).toHaveLength(23);
    for (const row of rows) {
      const { pixels } = decoded.get(row.file)!;
      let differing = 0;
      for (let i = 0; i < pixels.length; i += 3) if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2]) differing++;
      if (row.channels === 1) expect(differing, row.file).toBe(0);
      else expect(differing, row.file).toBeGreaterThan(0);
    }
  });

  it('a batch of them is a preprocessed tensor with values in [-1, 1], and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const batch = await loadImageBatch(rows.slice(0, 4).map((r) => r.file));
    expect(batch.shape).toEqual([4, 299, 299, 3]);
    const [min, max] = tf.tidy(() => [tf.min(batch).dataSync()[0]!, tf.max(batch).dataSync()[0]!]);
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(max - min).toBeGreaterThan(1); // real photos span most of the range
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
