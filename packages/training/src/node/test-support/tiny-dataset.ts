import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '@xception/core';

/**
 * A tiny class-folder dataset for tests: `perClass` seeded-noise 71x71 PNGs in each of 'bright'
 * (values 128-255) and 'dark' (0-127), written into `dir`.
 */
export async function writeTinyDataset(dir: string, perClass: number, seed = 1): Promise<void> {
  const random = seededRandom(seed);
  for (const [name, offset] of [['bright', 128], ['dark', 0]] as const) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = Buffer.from(Array.from({ length: 71 * 71 * 3 }, () => offset + Math.floor(random() * 128)));
      await sharp(pixels, { raw: { width: 71, height: 71, channels: 3 } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}
