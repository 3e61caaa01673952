import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { asList, EXIFTOOL, exiftoolReadAll, exiftoolWrite, makeTempDir, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
import type { Prediction } from '../src/shared/api.js';
import { createLibraryService } from '../src/core/library-service.js';
import { createStandInClassifier } from '../src/core/test-support/stand-in-classifier.js';
import { runCli } from '@xception/test-kit/worker-cli';

/**
 * The desktop app's tagging path (library service, tagging queue, sidecar writes) and
 * `xception tag` write the same sidecar bytes for the same predictions: the CLI classifies
 * (seeded random weights), exiftool reads its predictions back, the app's service is given
 * those predictions by a stand-in classifier, over a copy of the same folder.
 */
const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);

describe.skipIf(!photos || !EXIFTOOL)(`desktop and xception tag write identical sidecars ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it('same predictions, same sidecar bytes (with a foreign sidecar to merge into)', async () => {
    const root = makeTempDir('xception-parity-');
    const names = readdirSync(photos!).sort().slice(0, 4);
    const [cli, app] = ['cli', 'app'].map((side) => {
      const dir = join(root, side, 'album');
      mkdirSync(dir, { recursive: true });
      for (const name of names) copyFileSync(join(photos!, name), join(dir, name));
      exiftoolWrite(['-o', join(dir, `${names[0]}.xmp`), "-XMP-dc:Title=Mom's birthday", "-XMP-dc:Subject=Mom's", '-XMP-xmp:Rating=4']);
      return dir;
    }) as [string, string];
    const run = await runCli(['tag', cli, '--threshold', '0.002', '--weights', 'none', '--image-size', '71', '--batch-size', '4', '--threads', '2']);
    expect(run.code, run.stderr).toBe(0);

    const written = names.map((name) => exiftoolReadAll(join(cli, `${name}.xmp`)));
    // The threshold lets some tags through (group sums of the random weights' flat scores), so there is something to compare.
    expect(written.some((fields) => asList(fields['XMP-xcp:ModelTags']).length > 0)).toBe(true);
    const answers = new Map<string, Prediction[]>(names.map((name, i) => [name, asList(written[i]!['XMP-xcp:Predictions']).map((entry) => {
      const [index, label, score] = entry.split('|');
      return { index: Number(index), label: label!, score: Number(score) };
    })]));
    const service = createLibraryService({
      dataDir: makeTempDir('xception-parity-data-'),
      createClassifier: async () => createStandInClassifier({ answers, modelId: 'random' }),
    });
    await service.init();
    await service.updateSettings({ threshold: 0.002 });
    await service.addFolder(app);
    await service.startTagging({ scope: 'all' });
    await service.whenIdle();
    await service.dispose();

    expect(readdirSync(app).filter((n) => n.endsWith('.xmp')).sort()).toEqual(names.map((n) => `${n}.xmp`));
    for (const name of names) expect(readFileSync(join(app, `${name}.xmp`), 'utf8'), name).toBe(readFileSync(join(cli, `${name}.xmp`), 'utf8'));
  });
});
