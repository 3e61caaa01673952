import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SidecarUnreadableError } from './errors.js';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from './testing/exiftool.js';
import { mergeSidecar, readSidecarState, type SidecarTags } from './xmp-sidecar.js';
import { makeTempDir } from './testing/temp-dir.js';

const fixture = readFileSync(new URL('../test/fixtures/darktable-existing.xmp', import.meta.url), 'utf8');

const tags = (over: Partial<SidecarTags> = {}): SidecarTags => ({
  root: 'Xception',
  modelTags: [
    { name: 'dog', path: ['animal', 'dog'], score: 0.9, source: 'model' },
    { name: 'golden retriever', path: ['animal', 'dog', 'golden retriever'], score: 0.8, source: 'model' },
  ],
  userTags: ['beach'],
  removedTags: [],
  predictions: [{ index: 207, label: 'golden_retriever', score: 0.8 }],
  model: 'imagenet',
  ...over,
});

describe('mergeSidecar', () => {
  it("adds the app's tags to a darktable sidecar and keeps the other tools' keywords", () => {
    const state = readSidecarState(mergeSidecar(fixture, tags(), 'a.xmp'), 'a.xmp');
    expect(state.subjects).toEqual(['holiday', 'Brittany', 'dog', 'golden retriever', 'beach']);
    expect(state.hierarchicalSubjects).toEqual(['places|France|Brittany', 'Xception|animal|dog', 'Xception|animal|dog|golden retriever', 'Xception|beach']);
    expect(state.tagsList).toEqual(['Xception/animal/dog', 'Xception/animal/dog/golden retriever', 'Xception/beach']);
    expect(state.app?.userTags).toEqual(['beach']);
    expect(state.app?.predictions).toEqual([{ index: 207, label: 'golden_retriever', score: 0.8 }]);
  });

  it('re-tagging replaces the model tags but keeps hand-added and foreign keywords', () => {
    const first = mergeSidecar(fixture, tags(), 'a.xmp');
    const second = mergeSidecar(first, tags({ modelTags: [{ name: 'cat', path: ['animal', 'cat'], score: 0.7, source: 'model' }] }), 'a.xmp');
    const state = readSidecarState(second, 'a.xmp');
    expect(state.subjects).toEqual(['holiday', 'Brittany', 'beach', 'cat']);
    expect(state.hierarchicalSubjects).toEqual(['places|France|Brittany', 'Xception|animal|cat', 'Xception|beach']);
  });

  it('a model keyword deleted by hand in another tool stays deleted and is recorded as removed', () => {
    const first = mergeSidecar(null, tags({ userTags: [] }), 'a.xmp');
    // Another tool removes "golden retriever" from dc:subject (and its hierarchical entry).
    const edited = first.replace('<rdf:li>golden retriever</rdf:li>', '');
    const state = readSidecarState(mergeSidecar(edited, tags({ userTags: [] }), 'a.xmp'), 'a.xmp');
    expect(state.subjects).toEqual(['dog']);
    expect(state.app?.removedTags).toEqual(['golden retriever']);
    expect(state.tagsList).toEqual(['Xception/animal/dog']);
  });

  it('is stable: merging the same tags twice gives the same bytes', () => {
    const once = mergeSidecar(fixture, tags(), 'a.xmp');
    expect(mergeSidecar(once, tags(), 'a.xmp')).toBe(once);
  });

  it('moves its entries when the hierarchy root changes', () => {
    const first = mergeSidecar(null, tags(), 'a.xmp');
    const state = readSidecarState(mergeSidecar(first, tags({ root: 'AI' }), 'a.xmp'), 'a.xmp');
    expect(state.tagsList).toEqual(['AI/animal/dog', 'AI/animal/dog/golden retriever', 'AI/beach']);
  });

  it('refuses to replace a sidecar it cannot parse', () => {
    expect(() => mergeSidecar('<x:xmpmeta><rdf:RDF>', tags(), '/p/a.jpg.xmp')).toThrow(SidecarUnreadableError);
    expect(() => mergeSidecar('<html><body/></html>', tags(), '/p/a.jpg.xmp')).toThrow(/no rdf:RDF/);
  });

  it('keeps a byte-order mark and Windows line ends (and adds its lines with them)', () => {
    const crlf = `\uFEFF${fixture.replace(/\n/g, '\r\n')}`;
    const out = mergeSidecar(crlf, tags(), 'a.xmp');
    expect(out.startsWith('\uFEFF<?xml')).toBe(true);
    expect(out).not.toMatch(/[^\r]\n/);
    expect(readSidecarState(out, 'a.xmp').subjects).toEqual(['holiday', 'Brittany', 'dog', 'golden retriever', 'beach']);
    expect(mergeSidecar(out, tags(), 'a.xmp')).toBe(out);
  });

  it('keeps an attribute-form namespace prefix other than the usual one', () => {
    const odd = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:purl="http://purl.org/dc/elements/1.1/"><purl:subject><rdf:Bag><rdf:li>old</rdf:li></rdf:Bag></purl:subject></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const out = mergeSidecar(odd, tags({ userTags: [] }), 'a.xmp');
    expect(out).toMatch(/<purl:subject><rdf:Bag>\s*<rdf:li>old<\/rdf:li>\s*<rdf:li>dog<\/rdf:li>/);
    expect(out).not.toContain('<dc:subject>');
  });
});

describe('sidecars read back by exiftool', () => {
  it.skipIf(!EXIFTOOL)(`exiftool reads the tags and every piece of the darktable metadata ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
    const dir = makeTempDir('xception-xmp-');
    const merged = join(dir, 'holiday.jpg.xmp');
    const fresh = join(dir, 'new.jpg.xmp');
    writeFileSync(merged, mergeSidecar(fixture, tags(), merged));
    writeFileSync(fresh, mergeSidecar(null, tags({ userTags: [] }), fresh));
    const [m, f] = exiftoolRead(merged, fresh);
    expect(asList(m!['XMP-dc:Subject'])).toEqual(['holiday', 'Brittany', 'dog', 'golden retriever', 'beach']);
    expect(asList(m!['XMP-lr:HierarchicalSubject'])).toEqual(['places|France|Brittany', 'Xception|animal|dog', 'Xception|animal|dog|golden retriever', 'Xception|beach']);
    expect(asList(m!['XMP-digiKam:TagsList'])).toEqual(['Xception/animal/dog', 'Xception/animal/dog/golden retriever', 'Xception/beach']);
    // The other tools' metadata, as exiftool read it from the untouched fixture.
    const [original] = exiftoolRead(writeTemp(dir, 'orig.xmp', fixture));
    for (const key of Object.keys(original!)) {
      if (key.startsWith('XMP-darktable') || ['XMP-xmp:Rating', 'XMP-dc:Creator', 'XMP-dc:Title', 'XMP-xmpMM:DerivedFrom'].includes(key)) {
        expect(m![key], key).toEqual(original![key]);
      }
    }
    expect(m!['XMP-xmp:Rating']).toBe(4);
    expect(m!['XMP-dc:Title']).toBe('Tom & Jerry at the beach');
    expect(asList(f!['XMP-dc:Subject'])).toEqual(['dog', 'golden retriever']);
    expect(asList(f!['XMP-digiKam:TagsList'])).toEqual(['Xception/animal/dog', 'Xception/animal/dog/golden retriever']);
  });
});

function writeTemp(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
