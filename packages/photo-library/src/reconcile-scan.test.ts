import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reconcileFolder } from './reconcile-scan.js';
import { writePhotoSidecar } from './sidecar-files.js';
import { asList, createMemoryLibrary, EXIFTOOL, exiftoolReadAll, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';

const BROKEN = '<x:xmpmeta><not closed';

/** A folder of three photos: a.jpg bare, b.jpg with a sidecar an earlier run wrote, c.jpg with a broken sidecar. */
async function folder(): Promise<string> {
  const dir = makeTempDir('xception-reconcile-');
  for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) writeFileSync(join(dir, name), `photo ${name}`);
  await writePhotoSidecar(join(dir, 'b.jpg'), {
    root: 'AI', model: 'imagenet', userTags: ['beach'], removedTags: ['dog'],
    modelTags: [{ name: 'golden retriever', path: ['golden retriever'], score: 0.8, source: 'model' }],
    predictions: [{ index: 207, label: 'golden_retriever', score: 0.8 }, { index: 208, label: 'Labrador_retriever', score: 0.1 }],
  });
  writeFileSync(join(dir, 'c.jpg.xmp'), BROKEN);
  return dir;
}

describe.skipIf(!EXIFTOOL)(`reconciling a scan with the library ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it('new photos become records with what their sidecars hold (as exiftool reads them); a broken sidecar makes an error record and stays', async () => {
    const dir = await folder();
    const library = createMemoryLibrary();
    expect(await reconcileFolder(library, dir)).toEqual({ added: 3, changed: 0, removed: 0, unchanged: 0 });
    expect(library.get(join(dir, 'a.jpg'))).toMatchObject({ status: 'new', folder: dir, name: 'a.jpg', size: 11, predictions: [], added: [], removed: [] });
    const fields = exiftoolReadAll(join(dir, 'b.jpg.xmp'));
    const b = library.get(join(dir, 'b.jpg'))!;
    expect(b.status).toBe('tagged');
    expect(b.model).toBe(fields['XMP-xcp:Model']);
    expect(b.added).toEqual(asList(fields['XMP-xcp:UserTags']));
    expect(b.removed).toEqual(asList(fields['XMP-xcp:RemovedTags']));
    expect(b.predictions.map((p) => `${p.index}|${p.label}|${p.score.toFixed(6)}`)).toEqual(asList(fields['XMP-xcp:Predictions']));
    const c = library.get(join(dir, 'c.jpg'))!;
    expect(c.status).toBe('error');
    expect(c.error).toMatch(/^The sidecar '.*c\.jpg\.xmp' is not readable XMP .*left untouched/);
    expect(readFileSync(join(dir, 'c.jpg.xmp'), 'utf8')).toBe(BROKEN);
  });

  it('a rescan: changed bytes make a changed record that keeps its hand edits, gone photos leave, new ones come, the rest stay as they are', async () => {
    const dir = await folder();
    const library = createMemoryLibrary();
    await reconcileFolder(library, dir);
    const a = library.get(join(dir, 'a.jpg'))!;
    library.upsert({ ...a, added: ['kept'] });
    const b = library.get(join(dir, 'b.jpg'))!;
    appendFileSync(join(dir, 'a.jpg'), ' edited');
    rmSync(join(dir, 'c.jpg'));
    writeFileSync(join(dir, 'd.png'), 'photo d');
    writeFileSync(join(dir, 'notes.txt'), 'not a photo');
    expect(await reconcileFolder(library, dir)).toEqual({ added: 1, changed: 1, removed: 1, unchanged: 1 });
    expect(library.get(join(dir, 'a.jpg'))).toMatchObject({ status: 'changed', size: 18, added: ['kept'] });
    expect(library.get(join(dir, 'b.jpg'))).toBe(b);
    expect(library.get(join(dir, 'c.jpg'))).toBeUndefined();
    expect(library.get(join(dir, 'd.png'))).toMatchObject({ status: 'new' });
    expect([...library.all()].map((r) => r.name).sort()).toEqual(['a.jpg', 'b.jpg', 'd.png']);
  });
});
