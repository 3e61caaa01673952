import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
import { makeTempDir } from './testing/index.js';

describe('atomic writes', () => {
  it('writes through a dot-named temp file that is gone afterwards', async () => {
    const dir = makeTempDir('xception-atomic-');
    await writeFileAtomic(join(dir, 'a.jpg.xmp'), 'one');
    await writeFileAtomic(join(dir, 'a.jpg.xmp'), 'two');
    expect(readdirSync(dir)).toEqual(['a.jpg.xmp']);
  });

  it("removes only temp files whose process is gone and that are older than a minute", async () => {
    const dir = makeTempDir('xception-atomic-');
    // A pid that surely ended: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const old = new Date(Date.now() - 5 * 60_000);
    const make = (name: string, mtime?: Date): string => {
      const path = join(dir, name);
      writeFileSync(path, '<x:xmpmeta');
      if (mtime) utimesSync(path, mtime, mtime);
      return path;
    };
    const orphan = make(`.a.jpg.xmp.${dead}.0123abcd.tmp`, old);
    const fresh = make(`.b.jpg.xmp.${dead}.0123abcd.tmp`);
    const alive = make(`.c.jpg.xmp.${process.pid}.0123abcd.tmp`, old);
    const someoneElses = make(`.d.jpg.xmp.${dead}.tmp`, old);
    const photo = make('e.jpg', old);
    expect(await removeStaleTempFiles(dir)).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    for (const kept of [fresh, alive, someoneElses, photo]) expect(existsSync(kept)).toBe(true);
  });
});
