import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readmeExamples, runNodeExample, SKIP_NO_SHARED, sharedPath, substitute } from '@xception/test-kit';
import { asList, EXIFTOOL, exiftoolReadAll, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';

const photos = sharedPath('images', 'imagenet-samples');

describe.skipIf(!photos || !EXIFTOOL)(`the README's example ${photos ? '' : SKIP_NO_SHARED} ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it('runs as written (on a temp folder) and exiftool reads the keywords it says; then the operations, and exiftool reads their edits', () => {
    const examples = readmeExamples(fileURLToPath(new URL('../README.md', import.meta.url)));
    expect(examples.map((e) => e.where)).toEqual(['node', 'node']);
    const dir = makeTempDir('xception-readme-');
    const name = readdirSync(photos!).sort()[0]!;
    copyFileSync(join(photos!, name), join(dir, name));
    // A plain Node script on the built package; the photo folder is a temp copy.
    runNodeExample(substitute(examples[0]!, [["'/photos'", JSON.stringify(dir)]]), { cwd: dir });
    expect(asList(exiftoolReadAll(join(dir, `${name}.xmp`))['XMP-dc:Subject'])).toEqual(['dog', 'golden retriever']);

    const printed = runNodeExample(substitute(examples[1]!, [["'/photos'", JSON.stringify(dir)]]), { cwd: dir });
    expect(printed).toMatch(/^\{ added: 1, changed: 0, removed: 0, unchanged: 0 \}\n$/);
    const fields = exiftoolReadAll(join(dir, `${name}.xmp`));
    expect(asList(fields['XMP-dc:Subject'])).toEqual(['golden retriever', 'beach']);
    expect(asList(fields['XMP-xcp:UserTags'])).toEqual(['beach']);
    expect(asList(fields['XMP-xcp:RemovedTags'])).toEqual(['dog']);
    expect(readdirSync(join(dir, 'library-index')).sort()).toEqual(expect.arrayContaining(['folders.json', 'index.json']));
  });
});
