import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { makeTempDir } from '@xception/photo-library/testing';
import { runCli } from '@xception/test-kit/worker-cli';

/**
 * The photo library's typed errors (ERR_SIDECAR_*) as `xception tag` meets them for real: a
 * sidecar over the size bound (refused when read) and a sidecar symlinked out of the photo's
 * folder (refused when written). Each reaches the user as one line in the photo library's own
 * sentence, never as "unexpected error" with a stack trace, and neither file is changed.
 */
const photos = sharedPath('images', 'imagenet-samples');
/** The README's bound on a sidecar's size (8 MiB), one byte over. */
const OVER_THE_BOUND = 8 * 2 ** 20 + 1;
const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!photos)(`xception tag on hostile sidecars ${photos ? '' : SKIP_NO_SHARED}`, () => {
  test('each refusal is one sentence on its own line, no stack trace; exit 3; the files keep their bytes', async () => {
    const root = makeTempDir('xception-tag-hostile-');
    const album = join(root, 'album');
    mkdirSync(album);
    const [big, linked, plain] = readdirSync(photos!).sort().slice(0, 3);
    for (const name of [big!, linked!, plain!]) copyFileSync(join(photos!, name), join(album, name));
    // Spaces are valid XMP padding: only its size is wrong.
    writeFileSync(join(album, `${big}.xmp`), ' '.repeat(OVER_THE_BOUND));
    const outside = join(root, 'elsewhere.xmp');
    // Another tool's well-formed sidecar outside the folder: readable, but never written through the link.
    const theirs = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>\n';
    writeFileSync(outside, theirs);
    symlinkSync(outside, join(album, `${linked}.xmp`));

    const run = await runCli(['tag', album, '--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '2']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
    const failed = run.stderr.split('\n').filter((line) => line.includes('failed: '));
    expect(failed).toEqual([
      expect.stringMatching(new RegExp(`failed: ${literally(join(album, big!))}: The sidecar '${literally(join(album, `${big}.xmp`))}' is 8\\.0 MiB, over the 8 MiB a sidecar may have; it was left untouched: .*then re-tag\\.$`)),
      expect.stringMatching(new RegExp(`failed: ${literally(join(album, linked!))}: The sidecar '${literally(join(album, `${linked}.xmp`))}' is a symlink to '${literally(outside)}', outside the photo's folder; it was left untouched: .*then re-tag\\.$`)),
    ]);
    expect(run.stderr).toMatch(/tagged 3 photos: 2 classified, 0 from their sidecars; wrote 1 sidecars, 0 unchanged, 2 failed/);
    expect(readFileSync(outside, 'utf8')).toBe(theirs);
    expect(readFileSync(join(album, `${big}.xmp`)).length).toBe(OVER_THE_BOUND);
  });
});
