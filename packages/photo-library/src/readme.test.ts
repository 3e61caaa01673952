import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/core/testing';
import { asList, EXIFTOOL, exiftoolReadAll, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';

const photos = sharedPath('images', 'imagenet-samples');

describe.skipIf(!photos || !EXIFTOOL)(`the README's example ${photos ? '' : SKIP_NO_SHARED} ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it('runs as written (on a temp folder) and exiftool reads the keywords it says', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const dir = makeTempDir('xception-readme-');
    const name = readdirSync(photos!).sort()[0]!;
    copyFileSync(join(photos!, name), join(dir, name));
    const script = join(dir, 'example.mts');
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    writeFileSync(script, example.replace("'@xception/photo-library'", JSON.stringify(index)).replace("'/photos'", JSON.stringify(dir)));
    execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(asList(exiftoolReadAll(join(dir, `${name}.xmp`))['XMP-dc:Subject'])).toEqual(['dog', 'golden retriever']);
  });
});
