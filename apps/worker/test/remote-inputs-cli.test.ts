import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { jsonl, rowsIn, runCli, startCli, until } from '@xception/test-kit/worker-cli';

interface Row { path: string; top?: { index: number; score: number }[]; features?: number[]; error?: { code: string; message: string } }

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const python = oraclePython();
if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];
const CAP = 200_000;
// The smallest photos (all under the --max-input-bytes cap), by name.
const smallest = (n: number): string[] => (photos ? readdirSync(photos).map((f) => join(photos, f)).filter((p) => statSync(p).size < CAP)
  .sort((a, b) => statSync(a).size - statSync(b).size || a.localeCompare(b)).slice(0, n) : []);
const rowsOf = (file: string): Row[] => jsonl<Row>(readFileSync(file, 'utf8'));
const byName = (rows: Row[], name: (path: string) => string): Map<string, Row> => new Map(rows.map((r) => [name(r.path), r]));

/** A real server on 127.0.0.1: the photos by name, each answer after `delayMs`; /big.jpg over the cap; /slow.jpg never ends. */
function photoServer(delayMs: number): { server: http.Server; url(): string; maxOpen(): number } {
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    maxOpen = Math.max(maxOpen, ++open);
    res.on('close', () => open--);
    const name = decodeURIComponent((req.url ?? '').slice(1));
    if (name === 'slow.jpg') return void res.writeHead(200, { 'content-length': 5000 }).write(Buffer.alloc(100));
    if (name === 'big.jpg') return void res.writeHead(200, { 'content-length': CAP + 1 }).end(Buffer.alloc(CAP + 1));
    const file = photos && readdirSync(photos).includes(name) ? join(photos, name) : null;
    if (!file) return void res.writeHead(404).end();
    setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(readFileSync(file)), delayMs);
  });
  return { server, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxOpen: () => maxOpen };
}

describe.skipIf(!photos)('URL lists: classify from a loopback HTTP server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-url-cli-'));
  const { server, url } = photoServer(0);
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const images = smallest(5);

  // The photos on disk go in the same run as their URLs: one CLI start gives both rows.
  test('every URL gets a row: a 404, an oversize body and a timeout are error rows; the others have the top-5 of the same photos on disk', async () => {
    const list = join(dir, 'urls.txt');
    const urls = images.map((p) => `${url()}/${basename(p)}`);
    const [missing, big, slow] = ['missing.jpg', 'big.jpg', 'slow.jpg'].map((n) => `${url()}/${n}`);
    writeFileSync(list, `# the photos\n${urls.slice(0, 3).join('\n')}\n\n${missing}\n${big}\n${slow}\n`);
    const out = join(dir, 'remote.jsonl');
    const run = await runCli(['classify', ...images, ...urls.slice(3), '--input-list', list, '--out', out, ...FAST, '--max-input-bytes', String(CAP), '--input-timeout', '1']);
    expect(run.code, run.stderr).toBe(3); // finished, some inputs failed
    const all = rowsOf(out);
    const rows = all.filter((r) => r.path.startsWith('http'));
    expect(rows.map((r) => r.path).sort()).toEqual([...urls, missing, big, slow].sort());
    const errors = Object.fromEntries(rows.filter((r) => r.error).map((r) => [r.path, r.error!]));
    expect(Object.fromEntries(Object.entries(errors).map(([p, e]) => [p, e.code]))).toEqual({
      [missing!]: 'ERR_INPUT_HTTP_STATUS', [big!]: 'ERR_INPUT_TOO_LARGE', [slow!]: 'ERR_INPUT_TIMEOUT',
    });
    expect(errors[big!]!.message).toContain('raise --max-input-bytes');
    expect(errors[slow!]!.message).toContain('--retry-failed');
    const onDisk = byName(all.filter((r) => !r.path.startsWith('http')), basename);
    expect(onDisk.size).toBe(images.length);
    for (const row of rows.filter((r) => !r.error)) expect(row.top, row.path).toEqual(onDisk.get(basename(row.path))!.top);
  }, 240_000);

  test('kill -9 mid-run over a URL list, then a rerun: every URL exactly once; downloads never exceed the decode slots', async () => {
    const slowServer = photoServer(250);
    await new Promise<void>((resolve) => slowServer.server.listen(0, '127.0.0.1', resolve));
    try {
      const urls = smallest(24).map((p) => `${slowServer.url()}/${basename(p)}`);
      const list = join(dir, 'many.txt');
      writeFileSync(list, urls.join('\n'));
      const out = join(dir, 'killed.jsonl');
      const child = startCli(['classify', '--input-list', list, '--out', out, ...FAST, '--decode-threads', '2']);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_, signal) => resolve(signal)));
      await until('the first rows', () => rowsIn(out) >= 2, 120_000);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const before = rowsIn(out);
      expect(before).toBeLessThan(urls.length); // it died mid-run
      const rerun = await runCli(['classify', '--input-list', list, '--out', out, ...FAST, '--decode-threads', '2']);
      expect(rerun.code, rerun.stderr).toBe(0);
      const paths = rowsOf(out).map((r) => r.path);
      expect(paths.sort()).toEqual([...urls].sort()); // each once: none lost, none doubled
      // Fetched in the pipeline's bounded decode step, not by the listing: at most batch x (engine
      // parallelism + 1) + --decode-threads requests at once; onnx in its worker thread runs 2 batches: 2 x 3 + 2.
      expect(slowServer.maxOpen()).toBeLessThanOrEqual(8);
    } finally {
      slowServer.server.closeAllConnections();
      await new Promise((resolve) => slowServer.server.close(resolve));
    }
  }, 300_000);
});

// Python's tarfile writes the shards (the independent writer): key.jpg + key.json per sample, as img2dataset does.
const WRITE_SHARD = `
import json, os, sys, tarfile
out, cut_name = sys.argv[1], sys.argv[2]
photos = sys.argv[3:]
with tarfile.open(os.path.join(out, 'shard.tar'), 'w') as tar:
    for i, photo in enumerate(photos):
        tar.add(photo, arcname='%09d.jpg' % i)
        meta = os.path.join(out, 'meta.json'); open(meta, 'w').write(json.dumps({'key': '%09d' % i, 'source': os.path.basename(photo)}))
        tar.add(meta, arcname='%09d.json' % i)
with tarfile.open(os.path.join(out, 'shard.tar')) as tar:
    cut = tar.getmember(cut_name)
print(cut.offset_data + cut.size // 2)
`;

describe.skipIf(!photos || !python)('webdataset tar shards: classify and embed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-tar-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const images = smallest(5);
  const shard = join(dir, 'shard.tar');
  const cutAt = python ? Number(runOraclePython(python, WRITE_SHARD, [dir, '000000003.jpg', ...images]).trim()) : 0;
  const cut = join(dir, 'cut.tar');
  beforeAll(() => {
    copyFileSync(shard, cut);
    truncateSync(cut, cutAt);
  });
  const sourceOf = (path: string): string => basename(images[Number(/#(\d+)\.jpg$/.exec(path)![1])]!);

  // Here too the photos on disk go in the same run as the shards.
  const memberRows = (rows: Row[]): Row[] => rows.filter((r) => r.path.includes('.tar#'));
  const fileRows = (rows: Row[]): Map<string, Row> => byName(rows.filter((r) => !r.path.includes('.tar#')), basename);

  test('classify: each image member has the top-5 of the same photo on disk; in the cut shard, the members before the cut classify and the cut one is an error row', async () => {
    const out = join(dir, 'shards.jsonl');
    const run = await runCli(['classify', shard, cut, ...images, '--out', out, ...FAST]);
    expect(run.code, run.stderr).toBe(3);
    const all = rowsOf(out);
    const rows = memberRows(all);
    const members = (tar: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tar}#${String(i).padStart(9, '0')}.jpg`);
    expect(rows.map((r) => r.path).sort()).toEqual([...members(shard, 5), ...members(cut, 4)].sort());
    expect(rows.filter((r) => r.error).map((r) => [r.path, r.error!.code])).toEqual([[`${cut}#000000003.jpg`, 'ERR_INPUT_TAR_TRUNCATED']]);
    const onDisk = fileRows(all);
    expect(onDisk.size).toBe(images.length);
    for (const row of rows.filter((r) => !r.error)) expect(row.top, row.path).toEqual(onDisk.get(sourceOf(row.path))!.top);
    const rerun = await runCli(['classify', shard, cut, ...images, '--out', out, ...FAST]);
    expect(rerun.code, rerun.stderr).toBe(3); // the error row is kept, nothing runs again
    expect(rowsOf(out).map((r) => r.path)).toEqual(all.map((r) => r.path));
  }, 240_000);

  test('embed: each member has the features of the same photo on disk', async () => {
    const out = join(dir, 'shard-features.jsonl');
    const run = await runCli(['embed', shard, ...images, '--out', out, ...FAST]);
    expect(run.code, run.stderr).toBe(0);
    const onDisk = fileRows(rowsOf(out));
    expect(onDisk.size).toBe(images.length);
    const rows = memberRows(rowsOf(out));
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.features, row.path).toEqual(onDisk.get(sourceOf(row.path))!.features);
  }, 240_000);
});

describe('the input flags on the command line', () => {
  test('--help names them; no inputs, or an --input-list that does not exist, is a usage error (exit 2) in one line', async () => {
    const help = await runCli(['classify', '--help']);
    for (const flag of ['--input-list <file>', '--max-input-bytes <n>', '--input-timeout <seconds>']) expect(help.stdout).toContain(flag);
    const none = await runCli(['classify', '--out', join(tmpdir(), 'never.jsonl')]);
    expect([none.code, none.stderr.trim()]).toEqual([2, 'xception: Nothing to classify: give files, folders, globs, URLs, .tar shards, --input-list, or - to read paths from standard input.']);
    const missing = await runCli(['embed', '--input-list', '/nonexistent/urls.txt', '--out', join(tmpdir(), 'never.npy')]);
    expect([missing.code, missing.stderr.trim()]).toEqual([2, 'xception: --input-list /nonexistent/urls.txt does not exist; give a file of paths or URLs, one a line.']);
  }, 120_000);
});
