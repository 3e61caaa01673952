import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
import { REPO, runCli } from '@xception/test-kit/worker-cli';

/**
 * Class names are checked once, where they enter: `train`'s class folder names. A name that
 * cannot become a keyword is refused in one sentence; names that are Object.prototype keys
 * train and tag like any other.
 */
const TRAIN = ['--weights', 'none', '--engine', 'wasm', '--image-size', '71', '--epochs', '1', '--batch-size', '4', '--val-split', '0', '--seed', '1'];
const dir = mkdtempSync(join(tmpdir(), 'xception-class-names-'));
const sharp = createRequire(join(REPO, 'packages/vision-utils/package.json'))('sharp') as typeof import('sharp').default;

/** A --data folder with these class folders (a Buffer: a name that is not UTF-8), two tiny photos each. */
async function dataset(name: string, classes: (string | Buffer)[]): Promise<string> {
  const data = join(dir, name);
  for (const [i, cls] of classes.entries()) {
    const folder = Buffer.concat([Buffer.from(`${data}/`), typeof cls === 'string' ? Buffer.from(cls) : cls]);
    mkdirSync(folder, { recursive: true });
    for (const shade of [0, 40]) {
      const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 200 * (i % 2), g: shade, b: 100 } } }).png().toBuffer();
      writeFileSync(Buffer.concat([folder, Buffer.from(`/${shade}.png`)]), png);
    }
  }
  return data;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train: class folder names', () => {
  it.each([
    ['a newline', 'two\nlines', 'holds U+000A, a control character'],
    ['U+0001', 'odd\u0001', 'holds U+0001, a control character'],
  ])('a class folder whose name holds %s is refused in one sentence, exit 2, before anything is computed', async (_, bad, what) => {
    const data = await dataset(`bad-${what.slice(6, 12)}`, ['cat', bad]);
    const run = await runCli(['train', '--data', data, '--out', join(dir, 'never.keras'), ...TRAIN]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`xception: --data class folder ${JSON.stringify(bad)} in ${data} ${what}; rename it (class names become keywords).`);
  });

  it('a class folder whose name is not UTF-8 is refused in one sentence, without a stack', async () => {
    const data = await dataset('latin1', ['cat', Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    const run = await runCli(['train', '--data', data, '--out', join(dir, 'never.keras'), ...TRAIN]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`xception: --data class folder "café" in ${data} has a name that is not UTF-8; rename it (class names become keywords).`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(!EXIFTOOL)(`train and tag with classes named constructor and toString ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  let model: string;
  beforeAll(async () => {
    const data = await dataset('prototype', ['constructor', 'toString']);
    model = join(dir, 'prototype.keras');
    const run = await runCli(['train', '--data', data, '--out', model, ...TRAIN]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('tag writes them as keywords (exiftool reads them) and no photo fails', async () => {
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    for (const [i, colour] of ['#c86', '#06f'].entries()) await sharp({ create: { width: 24, height: 24, channels: 3, background: colour } }).jpeg().toFile(join(photos, `${i}.jpg`));
    const run = await runCli(['tag', photos, '--weights', model, '--engine', 'wasm', '--threshold', '0.01', '-q']);
    expect(run.code, run.stderr).toBe(0);
    const sidecars = readdirSync(photos).filter((f) => f.endsWith('.xmp')).map((f) => join(photos, f));
    expect(sidecars.length).toBe(2);
    for (const read of exiftoolRead(...sidecars)) {
      const subjects = asList(read['XMP-dc:Subject']);
      expect(subjects.length).toBeGreaterThan(0);
      expect(subjects.every((s) => s === 'constructor' || s === 'toString')).toBe(true);
    }
  });
});
