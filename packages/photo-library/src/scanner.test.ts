import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffScan, scanFolder } from './scanner.js';
import { makeTempDir } from './testing/temp-dir.js';

describe('scanner', () => {
  it('finds photos in nested folders, skips hidden entries, sidecars and symlink loops', async () => {
    const root = makeTempDir('xception-scan-');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    mkdirSync(join(root, '.thumbs'));
    for (const f of ['one.JPG', 'a/two.jpeg', 'a/b/three.png', 'a/b/three.png.xmp', 'notes.txt', '.hidden.jpg', '.thumbs/x.jpg']) writeFileSync(join(root, f), 'x');
    symlinkSync(root, join(root, 'a', 'loop'));
    const photos = await scanFolder(root);
    expect(photos.map((p) => p.path.slice(root.length + 1))).toEqual(['a/b/three.png', 'a/two.jpeg', 'one.JPG']);
    expect(photos.every((p) => p.folder === root && p.size === 1)).toBe(true);
  });

  it('reports an unreadable folder and goes on', async () => {
    const problems: string[] = [];
    const photos = await scanFolder('/nonexistent-xception-folder', { onProblem: (p) => problems.push(p) });
    expect(photos).toEqual([]);
    expect(problems).toEqual(['/nonexistent-xception-folder']);
  });

  it('diffs a rescan: new, changed (size or mtime), removed, unchanged', async () => {
    const root = makeTempDir('xception-scan-');
    for (const f of ['keep.jpg', 'edit.jpg', 'gone.jpg']) writeFileSync(join(root, f), 'x');
    const before = new Map((await scanFolder(root)).map((p) => [p.path, p]));
    writeFileSync(join(root, 'new.jpg'), 'x');
    utimesSync(join(root, 'edit.jpg'), new Date(), new Date(Date.now() + 60_000));
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'gone.jpg'));
    const diff = diffScan(await scanFolder(root), before);
    expect(diff.added.map((p) => p.name)).toEqual(['new.jpg']);
    expect(diff.changed.map((p) => p.name)).toEqual(['edit.jpg']);
    expect(diff.removed).toEqual([join(root, 'gone.jpg')]);
    expect(diff.unchanged.map((p) => p.name)).toEqual(['keep.jpg']);
  });
});
