/**
 * A large library in the served app (`pnpm tagger serve --no-tag`), timed as a user meets it in
 * Debian Chromium: from starting the process to the page's count reading "N photos", on a first
 * start (new --data-dir) and a second start (same --data-dir, library unchanged), then a search
 * for one file name (the page's own bridge call, `window.xception.query`, timed in the page) and
 * the server's RSS (VmRSS and peak VmHWM from /proc). The library: hard links of the shared
 * photos in --folders folders under /tmp (built once, kept for the next run).
 * Usage: pnpm --filter @xception/desktop bench:library [-- --photos 100000 --folders 1000 --rounds 1 --tagger other/dist/served/tagger.js]
 * Writes bench/results/library.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HAVE_CHROMIUM, launchChromium, SKIP_NO_CHROMIUM, sharedPath } from '@xception/test-kit';
import { servedTagger } from '../test/served-build.js';

const { values: args } = parseArgs({ options: {
  photos: { type: 'string', default: '100000' },
  folders: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '1' },
  // Another build's dist/served/tagger.js (e.g. main's), for a baseline on the same machine at the same time;
  // its page need not say when a scan ends, so that moment is not waited for.
  tagger: { type: 'string' },
} });
const samples = sharedPath('images', 'imagenet-samples');
if (!samples || !HAVE_CHROMIUM) {
  console.error(`library-bench: ${!samples ? '../shared/images/imagenet-samples is missing' : SKIP_NO_CHROMIUM}; nothing to measure.`);
  process.exit(1);
}
const photos = Number(args.photos);
const folders = Number(args.folders);

/** /tmp/xception-library-<photos>x<folders>: folder-NNNN/pNNNNNN-<shared name>, hard links; built once. */
function buildLibrary(): string {
  const root = join(tmpdir(), `xception-library-${photos}x${folders}`);
  const done = join(root, '.complete');
  if (existsSync(done)) return root;
  rmSync(root, { recursive: true, force: true });
  const names = readdirSync(samples!).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
  for (let i = 0; i < photos; i++) {
    const folder = join(root, `folder-${String(i % folders).padStart(4, '0')}`);
    if (i < folders) mkdirSync(folder, { recursive: true });
    const name = names[i % names.length]!;
    linkSync(join(samples!, name), join(folder, `p${String(i).padStart(6, '0')}-${name}`));
  }
  writeFileSync(done, '');
  return root;
}

const rssOf = (pid: number): { rssMB: number; peakMB: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMB: Math.round(kb('VmRSS') / 1024), peakMB: Math.round(kb('VmHWM') / 1024) };
};

/** CPU seconds (user + system) the process has used: what a start costs, apart from the other work on a shared machine. */
const cpuSecondsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
};

interface Start { urlSeconds: number; pageSeconds: number; pageCpuSeconds: number; scannedSeconds: number; child: ChildProcess }

/**
 * Starts the served tagger and waits until the page's count says every photo is there (the
 * browser is started first: a user's is already open), then until the scan has ended.
 */
async function start(tagger: string, library: string, dataDir: string, profile: string): Promise<Start & { close(): Promise<void>; search(text: string): Promise<{ ms: number; total: number }> }> {
  const context = await launchChromium(profile, { gpu: 'none' });
  const page = await context.newPage();
  const t0 = performance.now();
  const child = spawn(process.execPath, [tagger, 'serve', library, '--no-tag', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let address: string | undefined;
  while (!(address = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(stdout)?.[0])) {
    if (child.exitCode !== null) throw new Error(`the served tagger stopped:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const urlSeconds = (performance.now() - t0) / 1000;
  await page.goto(address);
  const expected = `${photos.toLocaleString('en-US')} photos`;
  await page.waitForFunction((text) => document.getElementById('count')?.textContent === text, expected, { timeout: 10 * 60_000, polling: 20 });
  const pageSeconds = (performance.now() - t0) / 1000;
  const pageCpuSeconds = cpuSecondsOf(child.pid!);
  if (!args.tagger) await page.waitForFunction(() => document.body.dataset.scanning === 'false', undefined, { timeout: 10 * 60_000, polling: 20 });
  const scannedSeconds = (performance.now() - t0) / 1000;
  return {
    urlSeconds,
    pageSeconds,
    pageCpuSeconds,
    scannedSeconds,
    child,
    search: (text) => page.evaluate(async (q) => {
      const t = performance.now();
      const result = await window.xception.query({ text: q, offset: 0, limit: 200 });
      return { ms: performance.now() - t, total: result.total };
    }, text),
    async close() {
      await context.close();
      child.kill('SIGTERM'); // saves the index, as a user's Ctrl-C does
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const tagger = args.tagger ?? (await servedTagger());
console.log(`tagger: ${tagger}`);
const t = performance.now();
const library = buildLibrary();
console.log(`library: ${library} (${photos} photos in ${folders} folders; ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
const searchFor = readdirSync(join(library, 'folder-0042')).sort()[0]!;
const rounds = [];
for (let r = 0; r < Number(args.rounds); r++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'xception-library-bench-data-'));
  const profile = mkdtempSync(join(tmpdir(), 'xception-library-bench-profile-'));
  const first = await start(tagger, library, dataDir, profile);
  const firstMemory = rssOf(first.child.pid!);
  const searches = [];
  for (let i = 0; i < 5; i++) searches.push(await first.search(searchFor));
  const prefix = await first.search(searchFor.slice(0, 4));
  await first.close();
  const second = await start(tagger, library, dataDir, profile);
  const secondMemory = rssOf(second.child.pid!);
  await second.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
  const searchMs = searches.map((s) => s.ms).sort((a, b) => a - b);
  const round = {
    first: { urlSeconds: first.urlSeconds, pageSeconds: first.pageSeconds, pageCpuSeconds: first.pageCpuSeconds, scannedSeconds: first.scannedSeconds, ...firstMemory },
    second: { urlSeconds: second.urlSeconds, pageSeconds: second.pageSeconds, pageCpuSeconds: second.pageCpuSeconds, scannedSeconds: second.scannedSeconds, ...secondMemory },
    search: { text: searchFor, medianMs: searchMs[2]!, allMs: searchMs, total: searches[0]!.total, prefix: { text: searchFor.slice(0, 4), ms: prefix.ms, total: prefix.total } },
  };
  rounds.push(round);
  console.log(`round ${r + 1}: first start: URL ${round.first.urlSeconds.toFixed(1)} s, page shows ${photos} at ${round.first.pageSeconds.toFixed(1)} s (server CPU ${round.first.pageCpuSeconds.toFixed(1)} s), scan ended ${round.first.scannedSeconds.toFixed(1)} s, RSS ${round.first.rssMB} MB (peak ${round.first.peakMB} MB)`);
  console.log(`         second start: URL ${round.second.urlSeconds.toFixed(1)} s, page shows ${photos} at ${round.second.pageSeconds.toFixed(1)} s (server CPU ${round.second.pageCpuSeconds.toFixed(1)} s), its check of the folders ended ${round.second.scannedSeconds.toFixed(1)} s, RSS ${round.second.rssMB} MB (peak ${round.second.peakMB} MB)`);
  console.log(`         search '${searchFor}': median ${round.search.medianMs.toFixed(0)} ms of 5 (${searchMs.map((m) => m.toFixed(0)).join(', ')}), ${round.search.total} found; '${round.search.prefix.text}': ${prefix.ms.toFixed(0)} ms, ${prefix.total} found`);
}
const outDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'library.json');
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, loadAverage: loadavg(), node: process.version, photos, folders, rounds }, null, 2));
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); written ${file}`);
