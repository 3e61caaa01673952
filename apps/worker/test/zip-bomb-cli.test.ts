import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { CLI_ARGS, REPO, runCli } from '@xception/test-kit/worker-cli';

const dir = mkdtempSync(join(tmpdir(), 'xception-zip-bomb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = oraclePython();
const TIME = '/usr/bin/time';
const photo = join(dir, 'photo.jpg'); // never read: the weights are refused first
writeFileSync(photo, 'not read');

/**
 * A real zip bomb written by Python's zipfile: `entry` holds `mib` MiB of zeros deflated at level
 * 9 (about 1000 to 1), beside small other entries; with `lie`, the entry's size field in both
 * headers is rewritten to that many bytes (a lying size field over a much larger stream).
 */
function bomb(name: string, entry: string, mib: number, lie?: number): string {
  const out = join(dir, name);
  runOraclePython(python!, [
    'import sys, struct, zipfile',
    'out, entry, mib, lie = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])',
    'with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:',
    '    z.writestr("metadata.json", "{}")',
    '    z.writestr("config.json" if entry != "config.json" else "model.weights.h5", b"{}")',
    '    info = zipfile.ZipInfo(entry); info.compress_type = zipfile.ZIP_DEFLATED',
    '    with z.open(info, "w") as f:',
    '        for _ in range(mib): f.write(bytes(1 << 20))',
    'if lie >= 0:',
    '    data = bytearray(open(out, "rb").read()); i = data.find(b"PK\\x01\\x02")',
    '    while i >= 0:',
    '        n = struct.unpack_from("<H", data, i + 28)[0]',
    '        if data[i + 46:i + 46 + n] == entry.encode():',
    '            struct.pack_into("<I", data, i + 24, lie)',
    '            struct.pack_into("<I", data, struct.unpack_from("<I", data, i + 42)[0] + 22, lie)',
    '        i = data.find(b"PK\\x01\\x02", i + 4)',
    '    open(out, "wb").write(data)',
  ].join('\n'), [out, entry, String(mib), String(lie ?? -1)]);
  return out;
}

/** Runs the CLI under /usr/bin/time -v where there is one: exit code, stderr and peak RSS in MiB. */
function runMeasured(args: string[]): { code: number; stderr: string; peakMiB: number | null } {
  const timed = existsSync(TIME);
  const command = timed ? TIME : process.execPath;
  const argv = timed ? ['-v', process.execPath, ...CLI_ARGS, ...args] : [...CLI_ARGS, ...args];
  let code = 0;
  let stderr = '';
  try {
    execFileSync(command, argv, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  } catch (error) {
    code = (error as { status: number }).status;
    stderr = String((error as { stderr: Buffer }).stderr);
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const own = stderr.split('\n').filter((l) => l.startsWith('xception:')).join('\n');
  return { code, stderr: own, peakMiB: rss ? Number(rss[1]) / 1024 : null };
}

describe.skipIf(!python)(`a .keras zip bomb ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, () => {
  test('a config.json declaring 300 MiB (a real 0.3 MB bomb) is refused before inflating, by classify and by weights convert', () => {
    const path = bomb('bomb.keras', 'config.json', 300);
    expect(readFileSync(path).length).toBeLessThan(1_000_000);
    for (const args of [['classify', '--weights', path, '-o', join(dir, 'out.jsonl'), photo], ['weights', 'convert', path, join(dir, 'out.weights.h5'), '--to', 'keras']]) {
      const run = runMeasured(args);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^xception: .*bomb\.keras is refused: config\.json declares 314572800 bytes uncompressed, more than the 67108864 bytes such an entry can need.*save the model again/);
      expect(run.stderr.split('\n')).toHaveLength(1);
      // Inflating would hold 300 MiB; Node itself starts at about 50 MiB.
      if (run.peakMiB !== null) expect(run.peakMiB).toBeLessThan(250);
    }
    expect(existsSync(join(dir, 'out.jsonl.model.json'))).toBe(false);
  }, 120_000);

  test('a model.weights.h5 whose size field declares more than its compressed bytes can hold is refused', async () => {
    const path = bomb('ratio.keras', 'model.weights.h5', 1, 500_000_000);
    const run = await runCli(['weights', 'convert', path, join(dir, 'ratio.weights.h5'), '--to', 'keras']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/model\.weights\.h5 declares 500000000 bytes uncompressed, more than its \d+ compressed bytes can hold/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  test('a lying size field stops inflating at the declared size (60 MiB of zeros declared as 1000 bytes)', () => {
    const path = bomb('liar.keras', 'config.json', 60, 1000);
    const run = runMeasured(['weights', 'convert', path, join(dir, 'liar.weights.h5'), '--to', 'keras']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^xception: .*liar\.keras is refused: config\.json inflates to more than the 1000 bytes its size field declares/);
    expect(run.stderr.split('\n')).toHaveLength(1);
    if (run.peakMiB !== null) expect(run.peakMiB).toBeLessThan(250);
  }, 60_000);
});
