import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRecordSidecar } from './record-sidecar.js';
import { addPhotoTag, applyTaughtTag, removePhotoTag } from './tag-edits.js';
import type { PhotoRecord, SidecarRules } from './types.js';
import { asList, EXIFTOOL, exiftoolReadAll, exiftoolWrite, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';

/**
 * The hand edits and the taught tag as the sidecar holds them, read back by exiftool. Flat
 * rules (no ImageNet grouping): a model tag is its label with spaces, so what to expect needs
 * no rule code. The photo starts with a sidecar another tool wrote (a title, a keyword).
 */
const RULES: SidecarRules = { threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'none', hierarchyRoot: 'AI' };

async function taggedPhoto(): Promise<{ record: PhotoRecord; sidecar: string; read: () => Record<string, unknown> }> {
  const dir = makeTempDir('xception-edits-');
  const photo = join(dir, 'rex.jpg');
  writeFileSync(photo, 'photo bytes');
  const sidecar = `${photo}.xmp`;
  exiftoolWrite(['-o', sidecar, "-XMP-dc:Title=Mom's dog", "-XMP-dc:Subject=Mom's"]);
  const record: PhotoRecord = {
    id: photo, folder: dir, name: 'rex.jpg', size: 11, mtimeMs: 0, status: 'tagged', model: 'imagenet',
    predictions: [{ index: 207, label: 'golden_retriever', score: 0.8 }, { index: 281, label: 'tabby', score: 0.1 }], added: [], removed: [],
  };
  return { record: await writeRecordSidecar(record, RULES), sidecar, read: () => exiftoolReadAll(sidecar) };
}
const sorted = (value: unknown): string[] => asList(value).sort();

describe.skipIf(!EXIFTOOL)(`hand edits and taught tags in the sidecar ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it("adds a hand tag once whatever its case; other tools' fields and keywords stay", async () => {
    const { record, read } = await taggedPhoto();
    expect(sorted(read()['XMP-dc:Subject'])).toEqual(["Mom's", 'golden retriever']);
    const added = await addPhotoTag(record, '  beach ', RULES);
    const again = await addPhotoTag(added, 'Beach', RULES);
    expect(again.added).toEqual(['beach']);
    const fields = read();
    expect(sorted(fields['XMP-dc:Subject'])).toEqual(["Mom's", 'beach', 'golden retriever']);
    expect(asList(fields['XMP-xcp:UserTags'])).toEqual(['beach']);
    expect(fields['XMP-dc:Title']).toBe("Mom's dog");
  });

  it('a model tag removed by hand is recorded, stays off through a re-tag, and comes back when added by hand', async () => {
    const { record, read } = await taggedPhoto();
    const removed = await removePhotoTag(record, 'Golden Retriever', RULES);
    expect(sorted(read()['XMP-dc:Subject'])).toEqual(["Mom's"]);
    expect(asList(read()['XMP-xcp:RemovedTags'])).toEqual(['Golden Retriever']);
    // A re-tag: the same predictions written again.
    const retagged = await writeRecordSidecar({ ...removed, predictions: [...record.predictions] }, RULES);
    expect(sorted(read()['XMP-dc:Subject'])).toEqual(["Mom's"]);
    await addPhotoTag(retagged, 'golden retriever', RULES);
    const fields = read();
    expect(sorted(fields['XMP-dc:Subject'])).toEqual(["Mom's", 'golden retriever']);
    expect(asList(fields['XMP-xcp:UserTags'])).toEqual(['golden retriever']);
    expect(asList(fields['XMP-xcp:RemovedTags'])).toEqual([]);
  });

  it('a hand tag removed is simply gone; a tag the photo lacks (below the threshold) writes nothing', async () => {
    const { record, sidecar, read } = await taggedPhoto();
    const withBeach = await addPhotoTag(record, 'beach', RULES);
    await removePhotoTag(withBeach, 'beach', RULES);
    expect(sorted(read()['XMP-dc:Subject'])).toEqual(["Mom's", 'golden retriever']);
    expect(asList(read()['XMP-xcp:RemovedTags'])).toEqual([]);
    const before = `${statSync(sidecar).mtimeMs}:${readFileSync(sidecar, 'base64')}`;
    expect(await removePhotoTag(record, 'tabby', RULES)).toBe(record);
    expect(`${statSync(sidecar).mtimeMs}:${readFileSync(sidecar, 'base64')}`).toBe(before);
  });

  it('a keyword deleted in another tool comes back as a hand removal', async () => {
    const { record, sidecar, read } = await taggedPhoto();
    exiftoolWrite(['-overwrite_original', '-XMP-dc:Subject-=golden retriever', sidecar]);
    const written = await writeRecordSidecar(record, RULES);
    expect(written.removed).toEqual(['golden retriever']);
    expect(asList(read()['XMP-xcp:RemovedTags'])).toEqual(['golden retriever']);
    expect(sorted(read()['XMP-dc:Subject'])).toEqual(["Mom's"]);
  });

  it('an unusable tag is refused in one sentence (ERR_TAG_UNUSABLE) and the sidecar keeps its bytes', async () => {
    const { record, sidecar } = await taggedPhoto();
    const before = readFileSync(sidecar, 'base64');
    await expect(addPhotoTag(record, 'a|b', RULES)).rejects.toMatchObject({ code: 'ERR_TAG_UNUSABLE', message: expect.stringMatching(/^The tag "a\|b" cannot be used: .*\.$/) });
    expect(readFileSync(sidecar, 'base64')).toBe(before);
  });

  it('a taught tag at or above the threshold is a model tag with its score, replaced when taught again; below it, or unclassified, nothing is written', async () => {
    const { record, sidecar, read } = await taggedPhoto();
    const before = readFileSync(sidecar, 'base64');
    expect(await applyTaughtTag(record, 'receipt', 0.2, RULES)).toBeNull();
    expect(await applyTaughtTag({ ...record, model: undefined, status: 'new' } as PhotoRecord, 'receipt', 0.9, RULES)).toBeNull();
    expect(readFileSync(sidecar, 'base64')).toBe(before);
    const applied = await applyTaughtTag(record, 'receipt', 0.6, RULES);
    await applyTaughtTag(applied!, 'Receipt', 0.7, RULES);
    const fields = read();
    expect(sorted(fields['XMP-dc:Subject'])).toEqual(["Mom's", 'Receipt', 'golden retriever']);
    expect(asList(fields['XMP-xcp:ModelTags'])).toContain('Receipt');
    // The taught tag's class number is 1000000, outside ImageNet's 0..999.
    expect(asList(fields['XMP-xcp:Predictions']).filter((p) => p.startsWith('1000000|'))).toEqual(['1000000|Receipt|0.700000']);
  });
});
