import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { runCli } from '@xception/test-kit/worker-cli';

const python = oraclePython();
const photos = sharedPath('images', 'imagenet-samples');
const dir = mkdtempSync(join(tmpdir(), 'xception-merge-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const COLUMNS = ['path', 'size', 'mtime', 'status', 'error_code', 'error_message', 'top1_index', 'top1_wnid', 'top1_label', 'top1_score', 'decode_ms', 'infer_ms'];

/**
 * Two parts of 12 rows each, written by Python's csv and json modules: one path and one error
 * message hold a newline (a quoted field over two lines), then one row of each part is damaged
 * in the middle: a stray quote inside a CSV field, a JSONL row cut in half.
 */
function writeParts(): { csv: string[]; jsonl: string[] } {
  runOraclePython(python!, [
    'import csv, json, sys',
    'out, columns = sys.argv[1], sys.argv[2].split(",")',
    'def rows(part):',
    '    for i in range(12):',
    '        path = f"/photos/{part}/p{i}.jpg" if i != 2 else f"/photos/{part}/two\\nlines.jpg"',
    '        error = "decode failed:\\nline two" if i == 7 else ""',
    '        yield [path, 100 + i, "2026-01-01T00:00:00.000Z", "error" if error else "ok", "ERR_DECODE" if error else "", error, i, f"n{i:08d}", f"label, {i}", 0.5, 1, 2]',
    'for part in ("a", "b"):',
    '    with open(f"{out}/{part}.csv", "w", newline="") as f:',
    '        w = csv.writer(f, lineterminator="\\n"); w.writerow(columns); w.writerows(rows(part))',
    '    with open(f"{out}/{part}.jsonl", "w") as f:',
    '        for r in rows(part): f.write(json.dumps({"path": r[0], "size": r[1], "top": [{"index": r[6], "label": r[8], "score": 0.5}]}) + "\\n")',
    'text = open(f"{out}/a.csv").read().replace("label, 5", "la\\"bel, 5", 1)',  // a stray quote in row 5's label
    'open(f"{out}/a.csv", "w").write(text)',
    'lines = open(f"{out}/b.jsonl").read().split("\\n")',
    'lines[4] = lines[4][:20]',  // a row cut in half in the middle of the part
    'open(f"{out}/b.jsonl", "w").write("\\n".join(lines))',
  ].join('\n'), [dir, COLUMNS.join(',')]);
  const paths = (part: string): string[] => Array.from({ length: 12 }, (_, i) => (i === 2 ? `/photos/${part}/two\nlines.jpg` : `/photos/${part}/p${i}.jpg`));
  return { csv: [...paths('a').filter((p) => !p.endsWith('p5.jpg')), ...paths('b')], jsonl: [...paths('a'), ...paths('b').filter((p) => !p.endsWith('p4.jpg'))] };
}

/** The rows of a merged file, as Python's csv (strict) or json module reads them. */
function pythonPaths(file: string): string[] {
  return JSON.parse(runOraclePython(python!, [
    'import csv, json, sys',
    'f = sys.argv[1]',
    'if f.endswith(".csv"): print(json.dumps([r[0] for r in list(csv.reader(open(f, newline=""), strict=True))[1:]]))',
    'else: print(json.dumps([json.loads(l)["path"] for l in open(f) if l.strip()]))',
  ].join('\n'), [file])) as string[];
}

describe.skipIf(!python)(`merge with unreadable rows ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, () => {
  const expected = python ? writeParts() : { csv: [], jsonl: [] };

  test.each(['csv', 'jsonl'] as const)('%s: every bad row is named and nothing is written; --skip-bad-rows merges the rest and counts them', async (format) => {
    const parts = [join(dir, `a.${format}`), join(dir, `b.${format}`)];
    const out = join(dir, `merged.${format}`);
    const refused = await runCli(['merge', out, ...parts]);
    expect(refused.code).toBe(1);
    const bad = format === 'csv' ? /a\.csv line 8 \(/ : /b\.jsonl line 5 \(not a JSON row with a path\)/;
    expect(refused.stderr).toMatch(new RegExp(`unreadable: .*${bad.source}`));
    expect(refused.stderr).toMatch(/xception: 1 row or part of the parts could not be read .*pass --skip-bad-rows/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);

    const skipped = await runCli(['merge', out, ...parts, '--skip-bad-rows']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(new RegExp(`merged 2 files into .*: 23 rows, 1 unreadable rows or parts skipped \\(--skip-bad-rows\\): .*${bad.source}`));
    expect(pythonPaths(out)).toEqual(expected[format]);
  }, 60_000);
});

describe.skipIf(!python || !photos)(`merge of a Parquet part with a damaged data page ${python ? '' : SKIP_NO_ORACLE_PYTHON}${photos ? '' : SKIP_NO_SHARED}`, () => {
  test('one sentence naming the part, no stack, nothing written', async () => {
    const images = readdirSync(photos!).sort().slice(0, 2).map((f) => join(photos!, f));
    const parts = [join(dir, 'p1.parquet'), join(dir, 'p2.parquet')];
    for (const [i, part] of parts.entries()) {
      const run = await runCli(['classify', images[i]!, '--out', part, '--weights', 'none', '--image-size', '71', '--threads', '1', '--quiet']);
      expect(run.code, run.stderr).toBe(0);
    }
    // pyarrow says where the first column's data page starts; its page header is overwritten.
    runOraclePython(python!, [
      'import sys, pyarrow.parquet as pq',
      'at = pq.ParquetFile(sys.argv[1]).metadata.row_group(0).column(0).data_page_offset',
      'data = bytearray(open(sys.argv[1], "rb").read()); data[at:at + 12] = b"\\xff" * 12',
      'open(sys.argv[1], "wb").write(data)',
    ].join('\n'), [parts[1]!]);
    const out = join(dir, 'merged.parquet');
    const run = await runCli(['merge', out, ...parts]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unreadable: .*p2\.parquet \(unreadable after 0 rows: /);
    expect(run.stderr).toMatch(/xception: 1 row or part of the parts could not be read \(listed above, first .*p2\.parquet/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
