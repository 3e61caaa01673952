import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asList, EXIFTOOL, exiftoolReadAll, exiftoolWrite, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';
import { mergeSidecar, readSidecarState, type SidecarTags } from './xmp-sidecar.js';

/**
 * Other tools' metadata survives a merge: exiftool (the independent reader) reads every field
 * of the sidecar before and after, and only the three keyword lists and our own xcp: fields
 * differ, the lists holding the old keywords plus ours.
 */
const fixture = (name: string): string => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');

// Tags with the characters that broke before: apostrophes, &, non-ASCII.
const tags: SidecarTags = {
  root: 'Xception',
  modelTags: [
    { name: "jack-o'-lantern", path: ["jack-o'-lantern"], score: 0.9, source: 'model' },
    { name: 'dog', path: ['animal', 'dog'], score: 0.5, source: 'model' },
  ],
  userTags: ["Zoë & Mom's"],
  removedTags: [],
  predictions: [{ index: 607, label: "jack-o'-lantern", score: 0.9 }],
  model: 'imagenet',
};
const OURS: Record<string, string[]> = {
  'XMP-dc:Subject': ["jack-o'-lantern", 'dog', "Zoë & Mom's"],
  'XMP-lr:HierarchicalSubject': ["Xception|jack-o'-lantern", 'Xception|animal|dog', "Xception|Zoë & Mom's"],
  'XMP-digiKam:TagsList': ["Xception/jack-o'-lantern", 'Xception/animal/dog', "Xception/Zoë & Mom's"],
};

/** Merges into `source` and checks with exiftool that nothing but the keyword lists and our fields changed. */
function expectOnlyOurChanges(dir: string, name: string, source: string): string {
  const before = join(dir, `before-${name}`);
  const after = join(dir, `after-${name}`);
  writeFileSync(before, source);
  const merged = mergeSidecar(source, tags, after);
  writeFileSync(after, merged);
  const old = exiftoolReadAll(before);
  const now = exiftoolReadAll(after);
  const others = (fields: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(fields).filter(([key]) => !(key in OURS) && !key.startsWith('XMP-xcp:')));
  expect(others(now)).toEqual(others(old));
  for (const key of Object.keys(OURS)) expect(asList(now[key]), key).toEqual([...new Set([...asList(old[key]), ...OURS[key]!])]);
  expect(asList(now['XMP-xcp:UserTags'])).toEqual(["Zoë & Mom's"]);
  // The references other tools wrote are never escaped a second time.
  expect(merged).not.toMatch(/&amp;#/);
  // A second merge with the same tags changes no byte.
  expect(mergeSidecar(merged, tags, after)).toBe(merged);
  return merged;
}

describe.skipIf(!EXIFTOOL)(`XMP fidelity, exiftool before and after ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it("keeps a sidecar that exiftool itself wrote (&#39;, &, <, newlines, non-ASCII, xml:lang alternatives, one description per namespace)", () => {
    const dir = makeTempDir('xception-fidelity-');
    const written = join(dir, 'exiftool.xmp');
    exiftoolWrite([
      '-o', written,
      "-XMP-dc:Title=Mom's birthday", '-XMP-dc:Title-de=Mamas Geburtstag', "-XMP-dc:Title-fr=L'anniversaire",
      '-XMP-dc:Description=Line one\nline two & <three> — ünïcödé 🎂',
      "-XMP-dc:Subject=Mom's", '-XMP-dc:Subject=a&b', '-XMP-dc:Subject=x<y',
      "-XMP-lr:HierarchicalSubject=People|Mom's", "-XMP-digiKam:TagsList=People/Mom's",
      '-XMP-dc:Creator=Zoë', '-XMP-xmp:Rating=4', '-XMP-photoshop:Instructions=tab\there & "quotes"',
    ]);
    const source = readFileSync(written, 'utf8');
    expect(source).toContain('Mom&#39;s birthday'); // exiftool's own encoding, the one that broke
    const merged = expectOnlyOurChanges(dir, 'exiftool.xmp', source);
    expect(merged).toContain("<rdf:li xml:lang='x-default'>Mom&#39;s birthday</rdf:li>");
    // Everything before the first keyword list is the original, byte for byte.
    const firstEdit = source.indexOf('<dc:subject>');
    expect(merged.slice(0, firstEdit)).toBe(source.slice(0, firstEdit));
    expect(readSidecarState(merged, 'x.xmp').subjects).toEqual(["Mom's", 'a&b', 'x<y', ...OURS['XMP-dc:Subject']!]);
  });

  it('keeps a sidecar exiftool wrote without our lists (they are added, the rest stays)', () => {
    const dir = makeTempDir('xception-fidelity-');
    const written = join(dir, 'bare.xmp');
    exiftoolWrite(['-o', written, "-XMP-dc:Title=Mom's", '-XMP-xmp:Rating=2', '-XMP-dc:Rights=© Zoë <z@example.com>']);
    expectOnlyOurChanges(dir, 'bare.xmp', readFileSync(written, 'utf8'));
  });

  it.each(['darktable-existing.xmp', 'digikam-exiv2.xmp', 'lightroom-classic.xmp', 'mixed-tools.xmp'])('keeps every field of %s', (name) => {
    const source = fixture(name);
    const merged = expectOnlyOurChanges(makeTempDir('xception-fidelity-'), name, source);
    expect(merged.length).toBeGreaterThan(source.length);
  });

  it('keeps attributes, comments, CDATA and processing instructions byte for byte (mixed fixture)', () => {
    const source = fixture('mixed-tools.xmp');
    const merged = mergeSidecar(source, tags, 'm.xmp');
    for (const piece of [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!-- a comment inside the description -->',
      'zz:Note="line one&#xA;line two&#x9;tabbed &quot;quoted&quot; &#39;single&#39;"',
      "photoshop:Instructions='Keep &lt;all&gt; of &amp;this&#10;please'",
      "<zz:Blob><![CDATA[<raw> & 'stuff' &#39; stays]]></zz:Blob>",
      '<rdf:li><![CDATA[R&D]]></rdf:li>',
      '<rdf:li xml:lang="x-default">Mom&#39;s birthday &#8212; &#x1F382; cake</rdf:li>',
      '<?xpacket end="w"?>',
    ]) expect(merged).toContain(piece);
    // The attribute-form digiKam:TagsList became a list in the same description.
    expect(merged).not.toContain('digiKam:TagsList="');
    expect(readSidecarState(merged, 'm.xmp').tagsList).toEqual(["People/Mom's", ...OURS['XMP-digiKam:TagsList']!]);
  });
});
