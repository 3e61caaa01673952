import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateSidecar, readPhotoSidecar, writePhotoSidecar } from './sidecar-files.js';
import type { SidecarTags } from './xmp-sidecar.js';
import { makeTempDir } from './testing/temp-dir.js';

const tags: SidecarTags = { root: 'Xception', modelTags: [{ name: 'cat', path: ['animal', 'cat'], score: 0.9, source: 'model' }], userTags: [], removedTags: [], predictions: [], model: 'imagenet' };
const LIGHTROOM = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Exposure2012="+0.50"/></rdf:RDF></x:xmpmeta>`;

describe('sidecar files', () => {
  it('writes <file>.<ext>.xmp beside the photo, atomically, leaving no temp file', async () => {
    const dir = makeTempDir('xception-sidecar-');
    writeFileSync(join(dir, 'a.jpg'), 'photo');
    expect(await writePhotoSidecar(join(dir, 'a.jpg'), tags)).toBe(join(dir, 'a.jpg.xmp'));
    expect(readdirSync(dir).sort()).toEqual(['a.jpg', 'a.jpg.xmp']);
    expect(readFileSync(join(dir, 'a.jpg'), 'utf8')).toBe('photo');
    expect((await readPhotoSidecar(join(dir, 'a.jpg')))?.subjects).toEqual(['cat']);
  });

  it("updates a Lightroom-style <basename>.xmp in place when it is the photo's only sidecar", async () => {
    const dir = makeTempDir('xception-sidecar-');
    writeFileSync(join(dir, 'b.jpg'), 'photo');
    writeFileSync(join(dir, 'b.xmp'), LIGHTROOM);
    expect(await writePhotoSidecar(join(dir, 'b.jpg'), tags)).toBe(join(dir, 'b.xmp'));
    expect(existsSync(join(dir, 'b.jpg.xmp'))).toBe(false);
    expect(readFileSync(join(dir, 'b.xmp'), 'utf8')).toContain('crs:Exposure2012="+0.50"');
  });

  it('does not take over <basename>.xmp when another photo shares the basename', async () => {
    const dir = makeTempDir('xception-sidecar-');
    for (const f of ['c.jpg', 'c.cr2']) writeFileSync(join(dir, f), 'photo');
    writeFileSync(join(dir, 'c.xmp'), LIGHTROOM);
    expect((await locateSidecar(join(dir, 'c.jpg'))).path).toBe(join(dir, 'c.jpg.xmp'));
    await writePhotoSidecar(join(dir, 'c.jpg'), tags);
    expect(readFileSync(join(dir, 'c.xmp'), 'utf8')).toBe(LIGHTROOM);
  });
});
