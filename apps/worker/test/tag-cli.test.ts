import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { asList, EXIFTOOL, exiftoolReadAll, exiftoolReadEach, exiftoolWrite, makeTempDir, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
import { jsonl, runCli, startCli } from '@xception/test-kit/worker-cli';

/**
 * `xception tag` as a child process over copies of real photos, with exiftool as the reader of
 * the sidecars it writes and `xception classify` (results file, another code path) as the
 * source of the expected labels.
 */
interface Row { path: string; top?: Array<{ index: number; label: string; score: number }> }

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
if (!EXIFTOOL) console.warn(SKIP_NO_EXIFTOOL);

// Seeded random weights at 71x71: the pipeline is the one used at 299.
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '4', '--threads', '2'];
// Every label of the top-5 becomes a keyword, flat: what to expect needs no rule code.
const FLAT_RULES = JSON.stringify({ threshold: 0, mergeMode: 'none', hierarchyRoot: 'AI' });

const tagName = (label: string): string => label.replace(/_/g, ' ').trim();
const sidecarsIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.xmp')).sort();
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).map((n) => [n, `${statSync(join(dir, n)).mtimeMs}:${readFileSync(join(dir, n)).toString('base64')}`]));

describe.skipIf(!photos || !EXIFTOOL)('xception tag over copies of real photos', () => {
  const root = makeTempDir('xception-tag-');
  const library = join(root, 'library');
  const album = join(library, 'album');
  mkdirSync(album, { recursive: true });
  const names = readdirSync(photos!).sort().slice(0, 6);
  for (const name of names) copyFileSync(join(photos!, name), join(album, name));
  writeFileSync(join(album, 'damaged.jpg'), 'this is not a photo\n');
  const rules = join(root, 'rules.json');
  writeFileSync(rules, FLAT_RULES);
  // A sidecar exiftool wrote before we came: its fields must survive.
  const foreign = join(album, `${names[0]}.xmp`);
  exiftoolWrite(['-o', foreign, "-XMP-dc:Title=Mom's birthday", '-XMP-dc:Title-de=Mamas Geburtstag', "-XMP-dc:Subject=Mom's", '-XMP-xmp:Rating=4']);
  const foreignBefore = exiftoolReadAll(foreign);
  const photoBytes = Object.fromEntries(names.map((n) => [n, `${statSync(join(album, n)).mtimeMs}:${readFileSync(join(album, n)).toString('base64')}`]));
  let expected: Map<string, Row['top']> = new Map();

  test('writes a sidecar per photo with the top-5 labels that classify finds; exiftool reads them; exit 3 for the damaged file', async () => {
    const out = join(root, 'classify.jsonl');
    const classify = await runCli(['classify', ...names.map((n) => join(album, n)), '--out', out, ...FAST]);
    expect(classify.code, classify.stderr).toBe(0);
    expected = new Map(jsonl<Row>(readFileSync(out, 'utf8')).map((r) => [r.path.split('/').pop()!, r.top]));

    const run = await runCli(['tag', library, '--rules', rules, ...FAST]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/tagged 7 photos: 6 classified, 0 from their sidecars; wrote 6 sidecars, 0 unchanged, 1 failed/);
    expect(run.stderr).toContain(`failed: ${join(album, 'damaged.jpg')}`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(sidecarsIn(album)).toEqual(names.map((n) => `${n}.xmp`));
    const read = exiftoolReadEach(names.map((name) => join(album, `${name}.xmp`)));
    for (const name of names) {
      const fields = read.get(join(album, `${name}.xmp`))!;
      const top = expected.get(name)!;
      const labels = top.map((p) => tagName(p.label));
      const keywords = name === names[0] ? ["Mom's", ...labels] : labels;
      expect(asList(fields['XMP-dc:Subject']), name).toEqual(keywords);
      expect(asList(fields['XMP-lr:HierarchicalSubject'])).toEqual(labels.map((l) => `AI|${l}`));
      expect(asList(fields['XMP-digiKam:TagsList'])).toEqual(labels.map((l) => `AI/${l}`));
      const recorded = asList(fields['XMP-xcp:Predictions']).map((e) => e.split('|'));
      expect(recorded.map((r) => Number(r[0]))).toEqual(top.map((p) => p.index));
      recorded.forEach((r, i) => expect(Number(r[2])).toBeCloseTo(top[i]!.score, 5));
    }
    // The foreign fields, as exiftool reads them, are all still there.
    const after = exiftoolReadAll(foreign);
    for (const [key, value] of Object.entries(foreignBefore)) if (key !== 'XMP-dc:Subject') expect(after[key], key).toEqual(value);
    // Photos are only ever read.
    for (const name of names) expect(`${statSync(join(album, name)).mtimeMs}:${readFileSync(join(album, name)).toString('base64')}`).toBe(photoBytes[name]);
  });

  test('a second run over the unchanged library classifies nothing and rewrites no byte', async () => {
    const before = snapshot(album);
    const run = await runCli(['tag', library, '--rules', rules, ...FAST]);
    expect(run.code, run.stderr).toBe(3); // the damaged file still fails
    expect(run.stderr).toMatch(/tagged 7 photos: 0 classified, 6 from their sidecars; wrote 0 sidecars, 6 unchanged, 1 failed/);
    expect(snapshot(album)).toEqual(before);
  });

  test('hand edits in another tool stay: a removed keyword is not re-added, an added one is kept; a modified photo is classified again', async () => {
    const sidecar = join(album, `${names[1]}.xmp`);
    // A photo edited after its sidecar was written (its mtime moves past the sidecar's).
    const edited = join(album, names[2]!);
    const after = new Date(statSync(`${edited}.xmp`).mtimeMs + 2000);
    utimesSync(edited, after, after);
    const editedSidecar = readFileSync(`${edited}.xmp`, 'utf8');
    const [gone] = asList(exiftoolReadAll(sidecar)['XMP-dc:Subject']);
    // As digiKam would: one model keyword deleted, one keyword of the user's added.
    exiftoolWrite(['-overwrite_original', `-XMP-dc:Subject-=${gone}`, '-XMP-dc:Subject+=beach', sidecar]);
    const run = await runCli(['tag', library, '--rules', rules, ...FAST]);
    expect(run.stderr).toMatch(/tagged 7 photos: 1 classified, 5 from their sidecars; wrote 1 sidecars, 5 unchanged/);
    // Same pixels, same predictions: the sidecar keeps its bytes, and the next run skips the photo.
    expect(readFileSync(`${edited}.xmp`, 'utf8')).toBe(editedSidecar);
    expect(statSync(`${edited}.xmp`).mtimeMs).toBeGreaterThan(after.getTime());
    const fields = exiftoolReadAll(sidecar);
    const subjects = asList(fields['XMP-dc:Subject']);
    expect(subjects).not.toContain(gone);
    expect(subjects).toContain('beach');
    expect(asList(fields['XMP-xcp:RemovedTags'])).toEqual([gone]);
    expect(asList(fields['XMP-lr:HierarchicalSubject'])).not.toContain(`AI|${gone}`);
  });

  test('--dry-run writes nothing and prints what would change', async () => {
    const before = snapshot(album);
    const run = await runCli(['tag', library, '--threshold', '0.5', '--dry-run', ...FAST]);
    expect(run.code, run.stderr).toBe(3);
    expect(snapshot(album)).toEqual(before);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(new RegExp(`^would write ${join(album, names[0]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.xmp: - `));
    expect(run.stderr).toMatch(/0 classified, 6 from their sidecars; would write 6 sidecars/);
  });

  test('usage errors exit 2, said in flag words, without a stack trace', async () => {
    const bad = join(root, 'bad-rules.json');
    writeFileSync(bad, JSON.stringify({ threshold: 3 }));
    const cases: [string[], string][] = [
      [['tag', '/nonexistent-folder'], 'is not a folder'],
      [['tag', '.', '--threshold', '1.5'], '--threshold must be a number from 0 to 1'],
      [['tag', '.', '--threshold', 'high'], '--threshold must be a number from 0 to 1'],
      [['tag', '.', '--rules', '/nonexistent.json'], '--rules /nonexistent.json cannot be read (ENOENT)'],
      [['tag', album, '--rules', bad, ...FAST], `--rules ${bad}: 'threshold' must be a number from 0 to 1.`],
      [['tag', '.', '--image-size', '71'], '--image-size 71 needs other weights than imagenet'],
    ];
    // Child processes at once: each is mostly start-up time.
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(2);
      expect(run.stderr).toContain(cases[i]![1]);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  });
});

describe.skipIf(!photos || !EXIFTOOL)('xception tag after kill -9', () => {
  test('rerun after SIGKILL: every photo tagged exactly once, no torn sidecar', async () => {
    const root = makeTempDir('xception-tag-kill-');
    const album = join(root, 'album');
    mkdirSync(album);
    const names = readdirSync(photos!).sort().slice(0, 16);
    for (const name of names) copyFileSync(join(photos!, name), join(album, name));
    const rules = join(root, 'rules.json');
    writeFileSync(rules, FLAT_RULES);
    const child = startCli(['tag', album, '--rules', rules, ...FAST, '--batch-size', '2']);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (sidecarsIn(album).length >= 3) { clearInterval(timer); child.kill('SIGKILL'); resolve(); }
      }, 10);
      child.on('exit', () => { clearInterval(timer); reject(new Error('the run ended before it could be killed')); });
    });
    await new Promise((r) => child.on('close', r));
    const survived = sidecarsIn(album).length;
    expect(survived).toBeGreaterThanOrEqual(3);
    expect(survived).toBeLessThan(names.length);

    // A temp file the killed write may have left, aged past the minute that marks it stale.
    const old = new Date(Date.now() - 120_000);
    for (const n of readdirSync(album).filter((n) => n.endsWith('.tmp'))) utimesSync(join(album, n), old, old);
    const rerun = await runCli(['tag', album, '--rules', rules, ...FAST]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const m = /tagged 16 photos: (\d+) classified, (\d+) from their sidecars/.exec(rerun.stderr);
    expect(m, rerun.stderr).not.toBeNull();
    // Each photo classified once in all: the killed run's sidecars are not classified again.
    expect(Number(m![2])).toBe(survived);
    expect(Number(m![1])).toBe(names.length - survived);
    expect(sidecarsIn(album)).toEqual(names.map((n) => `${n}.xmp`));
    const read = exiftoolReadEach(names.map((name) => join(album, `${name}.xmp`))); // throws on a torn file
    for (const name of names) {
      const fields = read.get(join(album, `${name}.xmp`))!;
      const subjects = asList(fields['XMP-dc:Subject']);
      expect(subjects.length, name).toBeGreaterThanOrEqual(1);
      expect(new Set(subjects).size).toBe(subjects.length);
      expect(asList(fields['XMP-xcp:Predictions'])).toHaveLength(5);
    }
    // Nothing but photos and sidecars: a temp file of the killed write is removed by the rerun.
    expect(readdirSync(album).filter((n) => !names.includes(n) && !n.endsWith('.xmp'))).toEqual([]);
    expect(existsSync(join(album, `${names[0]}.xmp`))).toBe(true);
  });
});
