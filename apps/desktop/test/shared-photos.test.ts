import { createHash } from 'node:crypto';
import { cpSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Prediction } from '../src/shared/api.js';
import { createLibraryService } from '../src/core/library-service.js';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '../src/core/test-support/exiftool.js';
import { createStandInClassifier } from '../src/core/test-support/stand-in-classifier.js';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';

const samples = sharedPath('images', 'imagenet-samples');
const labelsTsv = sharedPath('images', 'labels.tsv');

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const hashAll = (dir: string, names: string[]): Map<string, string> => new Map(names.map((n) => [n, sha256(join(dir, n))]));

describe('tagging the real photos of ../shared/images', () => {
  it.skipIf(!samples || !labelsTsv)(
    `tags all 186 photos (copies in /tmp: shared/ is never written), every photo byte unchanged, sidecars read back by exiftool ${samples ? '' : SKIP_NO_SHARED} ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`,
    async () => {
      // labels.tsv is the independent truth: the stand-in answers with each photo's true class.
      const rows = readFileSync(labelsTsv!, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
      const answers = new Map<string, Prediction[]>(rows.map(([file, index, , label]) => [file!.split('/').pop()!, [{ index: Number(index), label: label!, score: 0.9 }]]));
      const names = readdirSync(samples!).sort();
      expect(names.length).toBe(186);
      const originalHashes = hashAll(samples!, names);

      const copy = makeTempDir('xception-shared-copy-');
      onTestFinished(() => rmSync(copy, { recursive: true, force: true }));
      cpSync(samples!, copy, { recursive: true, preserveTimestamps: true });
      const before = hashAll(copy, names);
      expect(before).toEqual(originalHashes);
      const mtimes = new Map(names.map((n) => [n, statSync(join(copy, n)).mtimeMs]));

      const classifier = createStandInClassifier({ answers, modelId: 'imagenet' });
      const service = createLibraryService({ dataDir: makeTempDir('xception-data-'), createClassifier: async () => classifier });
      await service.init();
      await service.addFolder(copy);
      await service.startTagging({ scope: 'new' });
      await service.whenIdle();
      expect(service.progress()).toMatchObject({ state: 'done', done: 186, failed: 0 });
      expect(classifier.opened.length).toBe(186);

      // Not one byte of any photo changed, nor its mtime; shared/ itself is untouched too.
      expect(hashAll(copy, names)).toEqual(before);
      for (const n of names) expect(statSync(join(copy, n)).mtimeMs, n).toBe(mtimes.get(n));
      expect(hashAll(samples!, names)).toEqual(originalHashes);
      // The folder now holds the photos and one `<file>.<ext>.xmp` each, no temp leftovers.
      expect(readdirSync(copy).sort()).toEqual([...names, ...names.map((n) => `${n}.xmp`)].sort());

      const dogs = rows.filter(([, index]) => Number(index) >= 151 && Number(index) <= 268).length;
      expect(service.query({ tags: ['dog'] }).total).toBe(dogs);

      if (!EXIFTOOL) return;
      const read = exiftoolRead(...names.map((n) => join(copy, `${n}.xmp`)));
      for (const [i, n] of names.entries()) {
        const row = rows.find(([file]) => file!.endsWith(`/${n}`))!;
        const subjects = asList(read[i]!['XMP-dc:Subject']);
        expect(subjects, n).toContain(row[3]!.replace(/_/g, ' ').trim());
        expect(asList(read[i]!['XMP-lr:HierarchicalSubject']).every((h) => h.startsWith('Xception|')), n).toBe(true);
        if (Number(row[1]) >= 151 && Number(row[1]) <= 268) expect(asList(read[i]!['XMP-digiKam:TagsList']), n).toContain('Xception/animal/dog');
      }
    },
  );
});
