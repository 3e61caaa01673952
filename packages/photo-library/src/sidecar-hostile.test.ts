import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { describe, expect, it } from 'vitest';
import { cleanTagName, modelTagsFrom } from './tag-rules.js';
import { MAX_SIDECAR_BYTES, readPhotoSidecar, writePhotoSidecar } from './sidecar-files.js';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from './testing/exiftool.js';
import { makeTempDir } from './testing/temp-dir.js';
import type { SidecarTags } from './xmp-sidecar.js';

const tagsWith = (userTags: string[], modelTags: string[] = []): SidecarTags => ({
  root: 'Xception',
  modelTags: modelTags.map((name) => ({ name, path: [name], score: 0.9, source: 'model' as const })),
  userTags,
  removedTags: [],
  predictions: modelTags.map((label, index) => ({ index, label, score: 0.9 })),
  model: 'imagenet',
});

const python = oraclePython();
/** Whether expat (Python's XML parser, not ours) accepts a file as well-formed XML; its error otherwise. */
function expatVerdict(file: string): string {
  const script = 'import sys, xml.parsers.expat as e\np = e.ParserCreate()\ntry:\n  p.ParseFile(open(sys.argv[1], "rb")); print("ok")\nexcept e.ExpatError as x:\n  print(x)';
  return execFileSync(python!, ['-c', script, file], { encoding: 'utf8' }).trim();
}

function photoIn(dir: string, name = 'a.jpg'): string {
  const photo = join(dir, name);
  writeFileSync(photo, 'photo');
  return photo;
}

describe('sidecar rewrites keep what the owner set', () => {
  it.each([0o444, 0o600, 0o640])('a sidecar with mode %o keeps it', async (mode) => {
    const photo = photoIn(makeTempDir('xception-mode-'));
    await writePhotoSidecar(photo, tagsWith(['first']));
    chmodSync(`${photo}.xmp`, mode);
    await writePhotoSidecar(photo, tagsWith(['first', 'second']));
    expect(statSync(`${photo}.xmp`).mode & 0o777).toBe(mode);
    expect(readFileSync(`${photo}.xmp`, 'utf8')).toContain('second');
  });

  it.skipIf(!EXIFTOOL)(`a hard-linked sidecar is written through its inode: both names show the new tags ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, async () => {
    const dir = makeTempDir('xception-hardlink-');
    const photo = photoIn(dir);
    await writePhotoSidecar(photo, tagsWith(['first']));
    const twin = join(dir, 'twin.xmp');
    linkSync(`${photo}.xmp`, twin);
    const inode = statSync(twin).ino;
    await writePhotoSidecar(photo, tagsWith(['first', 'second']));
    expect(statSync(twin).nlink).toBe(2);
    expect(statSync(`${photo}.xmp`).ino).toBe(inode);
    for (const read of exiftoolRead(`${photo}.xmp`, twin)) expect(asList(read['XMP-dc:Subject'])).toEqual(['first', 'second']);
  });

  it('a sidecar that is a symlink out of the folder is refused, and neither the link nor its target changes', async () => {
    const root = makeTempDir('xception-symlink-');
    mkdirSync(join(root, 'album'));
    const photo = photoIn(join(root, 'album'));
    const target = join(root, 'elsewhere.xmp');
    writeFileSync(target, '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>');
    const before = readFileSync(target, 'utf8');
    symlinkSync(target, `${photo}.xmp`);
    const error = await writePhotoSidecar(photo, tagsWith(['x'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_SIDECAR_SYMLINK_OUTSIDE', message: `The sidecar '${photo}.xmp' is a symlink to '${target}', outside the photo's folder; it was left untouched: put the sidecar itself beside the photo, then re-tag.` });
    expect(lstatSync(`${photo}.xmp`).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(before);
  });

  it('a sidecar that is a symlink inside the folder is written through: the link stays a link', async () => {
    const dir = makeTempDir('xception-symlink-in-');
    const photo = photoIn(dir);
    await writePhotoSidecar(photo, tagsWith(['first']));
    const shared = join(dir, 'shared.xmp');
    writeFileSync(shared, readFileSync(`${photo}.xmp`));
    execFileSync('rm', [`${photo}.xmp`]);
    symlinkSync('shared.xmp', `${photo}.xmp`);
    await writePhotoSidecar(photo, tagsWith(['first', 'second']));
    expect(readlinkSync(`${photo}.xmp`)).toBe('shared.xmp');
    expect(readFileSync(shared, 'utf8')).toContain('second');
  });
});

describe('text XML cannot hold never reaches a sidecar', () => {
  it('a hand tag with a control character or U+FFFF is refused where it is typed; a newline becomes a space', () => {
    for (const bad of ['a\u0001b', 'a\uffffb', 'a\ufffeb', 'a\ud800b', 'a\u007fb']) expect(cleanTagName(bad), JSON.stringify(bad)).toBeNull();
    expect(cleanTagName('two\nlines')).toBe('two lines');
  });

  it.skipIf(!python)(`the writer refuses such a value and leaves the sidecar well-formed (expat reads it) ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, async () => {
    const photo = photoIn(makeTempDir('xception-xmlchar-'));
    await writePhotoSidecar(photo, tagsWith(['fine']));
    for (const bad of ['\u0001', '\uffff', '\u0008']) {
      const error = await writePhotoSidecar(photo, tagsWith(['fine'], [`cat${bad}`])).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_TAG_UNUSABLE' });
      expect(expatVerdict(`${photo}.xmp`)).toBe('ok');
    }
  });
});

describe('class names that are Object.prototype keys', () => {
  it('constructor, toString and __proto__ are tags like any other', () => {
    const predictions = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'].map((label, i) => ({ index: -1 - i, label, score: 0.9 }));
    const tags = modelTagsFrom(predictions, { threshold: 0.5, ignoreLabels: [], renames: { valueOf: 'value of' }, mergeMode: 'none' });
    // Keras labels' underscores read as spaces ('__proto__' is the keyword 'proto'); the rename is the own key's.
    expect(tags.map((t) => t.name)).toEqual(['constructor', 'toString', 'proto', 'hasOwnProperty', 'value of']);
  });
});

describe('sidecar size bounds', () => {
  it('a 61 MB sidecar with millions of keywords is refused before it is read, in bounded memory', () => {
    const dir = makeTempDir('xception-huge-');
    const photo = photoIn(dir);
    const items = '<rdf:li>keyword</rdf:li>'.repeat(2_550_000);
    writeFileSync(`${photo}.xmp`, `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>${items}</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>`);
    const size = statSync(`${photo}.xmp`).size;
    expect(size).toBeGreaterThan(61e6);
    // A child process of its own, so that its peak memory is this read's alone.
    const module = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `import(${JSON.stringify(module)}).then(async (lib) => {
      const error = await lib.readPhotoSidecar(${JSON.stringify(photo)}).then(() => null, (e) => e);
      // VmHWM: this image's own peak. getrusage's maxRSS keeps the peak of the process it was forked
      // from across exec on Linux, and a test worker that ran other files first is far larger.
      const hwm = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\\s+(\\d+) kB/);
      const rss = hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
      process.stdout.write(JSON.stringify({ code: error?.code, message: error?.message, rss }));
    })`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(child.stdout) as { code: string; message: string; rss: number };
    expect(result.code).toBe('ERR_SIDECAR_TOO_LARGE');
    expect(result.message).toBe(`The sidecar '${photo}.xmp' is ${(size / 2 ** 20).toFixed(1)} MiB, over the 8 MiB a sidecar may have; it was left untouched: trim its keywords in another tool, or move it away, then re-tag.`);
    // Node itself takes ~40-60 MB; reading the file whole would add its 61 MB at least.
    expect(result.rss).toBeLessThan(size);
    console.log(`refusing a ${(size / 1e6).toFixed(1)} MB sidecar: peak RSS ${(result.rss / 2 ** 20).toFixed(1)} MiB`);
  });

  it('a sidecar at the bound is still read', async () => {
    const photo = photoIn(makeTempDir('xception-bound-'));
    await writePhotoSidecar(photo, tagsWith(['kept']));
    const text = readFileSync(`${photo}.xmp`, 'utf8');
    writeFileSync(`${photo}.xmp`, text + ' '.repeat(MAX_SIDECAR_BYTES - Buffer.byteLength(text)));
    expect((await readPhotoSidecar(photo))?.subjects).toEqual(['kept']);
  });
});
