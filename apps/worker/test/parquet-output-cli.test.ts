import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oraclePython, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
const python = oraclePython();
if (!photos) console.warn(SKIP_NO_SHARED);
if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '4', '--threads', '1', '--quiet'];

interface ParquetRead { schema: Record<string, string>; keys: string[]; rows: Array<Record<string, unknown>> }

/** pyarrow (the independent reader) reads Parquet files, in one Python start: each one's Arrow schema, kv metadata keys and rows. */
function pyarrowRead(...files: string[]): ParquetRead[] {
  const script = `
import json, sys, pyarrow.parquet as pq
def read(file):
    t = pq.read_table(file)
    rows = t.to_pylist()
    for r in rows:
        if r.get('mtime') is not None: r['mtime'] = r['mtime'].isoformat()
    return {'schema': {f.name: str(f.type) for f in t.schema}, 'keys': sorted(k.decode() for k in (pq.ParquetFile(file).metadata.metadata or {})), 'rows': rows}
print(json.dumps([read(f) for f in sys.argv[1:]]))`;
  return JSON.parse(execFileSync(python!, ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 })) as ParquetRead[];
}

/** NumPy reads embedding .npy journals with their paths, in one Python start: path → features. */
function numpyRows(...npys: string[]): Record<string, number[]> {
  const script = `
import json, sys, numpy as np
rows = {}
for npy in sys.argv[1:]:
    a = np.load(npy)
    paths = [json.loads(l) if l.startswith('"') else l for l in open(npy[:-4] + '.paths.txt', encoding='utf8').read().split('\\n')[:-1]]
    rows.update({p: a[i].tolist() for i, p in enumerate(paths)})
print(json.dumps(rows))`;
  return JSON.parse(execFileSync(python!, ['-c', script, ...npys], { encoding: 'utf8', maxBuffer: 256 << 20 })) as Record<string, number[]>;
}

describe.skipIf(!photos || !python)('--out x.parquet: classify and embed, read by pyarrow; resume; merge of .parquet shards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-parquet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = photos ? readdirSync(photos).sort().slice(0, 6).map((f) => join(photos, f)) : [];
  const broken = join(dir, 'broken.jpg');
  writeFileSync(broken, 'this is not a photo\n');

  test('classify: pyarrow reads one row per input, the same as the JSONL journal; a rerun with more inputs resumes', async () => {
    const out = join(dir, 'tags.parquet');
    const first = await runCli(['classify', ...images.slice(0, 3), broken, '--out', out, ...FAST]);
    expect(first.code, first.stderr).toBe(3);
    // What a Parquet write killed part-way would leave beside it: removed by the next write.
    writeFileSync(`${out}.99999.tmp`, 'PAR1 half a file');
    const second = await runCli(['classify', ...images, broken, '--out', out, ...FAST]);
    expect(second.code, second.stderr).toBe(3);
    expect(existsSync(`${out}.99999.tmp`)).toBe(false);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    const journal = jsonl<{ path: string; model: string; top?: Array<{ index: number; wnid: string; label: string; score: number }>; error?: { code: string } }>(readFileSync(`${out}.journal.jsonl`, 'utf8'));
    const [read] = pyarrowRead(out) as [ParquetRead];
    expect(read.schema).toMatchObject({
      path: 'string', model: 'string', size: 'int64', status: 'string', error_code: 'string',
      top_index: 'list<element: int32 not null>', top_label: 'list<element: string not null>', top_score: 'list<element: float not null>',
    });
    expect(read.keys).toEqual(['xception:kind', 'xception:model', 'xception:top_k']);
    expect(read.rows.map((r) => r.path).sort()).toEqual([...images, broken].sort()); // resumed: no input twice
    expect(read.rows).toHaveLength(journal.length);
    for (const row of journal) {
      const stored = read.rows.find((r) => r.path === row.path)!;
      expect(stored.model).toBe(row.model ?? null);
      if (row.error) {
        expect(stored).toMatchObject({ status: 'error', error_code: row.error.code, top_index: null, top_score: null });
      } else {
        expect(stored.status).toBe('ok');
        expect(stored.top_index).toEqual(row.top!.map((p) => p.index));
        expect(stored.top_wnid).toEqual(row.top!.map((p) => p.wnid));
        expect(stored.top_label).toEqual(row.top!.map((p) => p.label));
        expect(stored.top_score).toEqual(row.top!.map((p) => Math.fround(p.score)));
      }
    }
  }, 120_000);

  test('embed: pyarrow reads fixed_size_list<float>[2048] equal to the .npy journal NumPy reads; merge of shards; parts that disagree are refused', async () => {
    const out = join(dir, 'features.parquet');
    for (const i of [0, 1]) {
      const run = await runCli(['embed', ...images, broken, '--out', out, ...FAST, '--shard', `${i}/2`]);
      expect(run.code, run.stderr).toBeLessThanOrEqual(3);
    }
    const parts = [0, 1].map((i) => join(dir, `features.shard-${i}-of-2.parquet`));
    const merged = join(dir, 'merged.parquet');
    const merge = await runCli(['merge', merged, ...parts]);
    expect(merge.code, merge.stderr).toBe(0);

    const expected = numpyRows(`${parts[0]}.journal.npy`, `${parts[1]}.journal.npy`);
    expect(Object.keys(expected).sort()).toEqual(images);
    const reads = pyarrowRead(...parts, merged);
    for (const read of reads) {
      expect(read.schema).toEqual({ path: 'string', embedding: 'fixed_size_list<element: float not null>[2048]' });
      expect(read.keys).toEqual(['ARROW:schema', 'xception:kind', 'xception:model']);
      for (const row of read.rows) expect(row.embedding).toEqual(expected[row.path as string]);
    }
    expect(reads[2]!.rows.map((r) => r.path).sort()).toEqual(images);
    // The broken input's error row is beside its shard's file and in the merged errors file.
    const errorsOf = (f: string): string[] => (existsSync(`${f}.errors.jsonl`) ? jsonl<{ path: string }>(readFileSync(`${f}.errors.jsonl`, 'utf8')).map((r) => r.path) : []);
    expect([...errorsOf(parts[0]!), ...errorsOf(parts[1]!)]).toEqual([broken]);
    expect(errorsOf(merged)).toEqual([broken]);
    // Bytes per embedded image: the Parquet file, and all the run leaves (journal included).
    const perImage = statSync(merged).size / images.length;
    console.info(`parquet: ${perImage.toFixed(0)} bytes per embedded image (features: 8192)`);
    expect(perImage).toBeLessThan(1.1 * 8192);

    // A classify part and an embed part: refused, and no output left.
    const mixed = await runCli(['merge', join(dir, 'mixed.parquet'), parts[0]!, join(dir, 'tags.parquet')]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/different commands, models or settings .*: embed.*: classify --top-k 5/);
    expect(mixed.stderr).not.toMatch(/\n\s+at /);
    // A part that is not a whole Parquet file (a copy cut short): refused.
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, readFileSync(parts[1]!).subarray(0, 1000));
    const torn = await runCli(['merge', join(dir, 'torn.parquet'), parts[0]!, cut]);
    expect(torn.code).toBe(1);
    expect(torn.stderr).toContain(`${cut} is not a whole Parquet file`);
    expect(readdirSync(dir).filter((f) => f.startsWith('mixed') || f.startsWith('torn'))).toEqual([]);
  }, 180_000);
});
