import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { readZipEntries, ZipEntryTooLargeError } from './zip-entries.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const payload = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251);
const python = oraclePython();
const isPayload = (bytes: Uint8Array | undefined): boolean => bytes !== undefined && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(payload);

describe('readZipEntries', () => {
  it('gives a stored entry as a view of the archive (no copy) and inflates a deflated one', () => {
    const archive = zipSync({ 'stored.bin': [payload, { level: 0 }], 'deflated.bin': [payload, { level: 6 }], 'other.txt': [new Uint8Array(3), { level: 0 }] });
    const entries = readZipEntries(archive, (name) => name !== 'other.txt');
    expect(Object.keys(entries).sort()).toEqual(['deflated.bin', 'stored.bin']);
    expect(entries['stored.bin']!.buffer).toBe(archive.buffer);
    expect(entries['deflated.bin']!.buffer).not.toBe(archive.buffer);
    expect(isPayload(entries['stored.bin'])).toBe(true);
    expect(isPayload(entries['deflated.bin'])).toBe(true);
  });

  // Python's zipfile (what Keras saves .keras archives with) as the independent writer: a zip64
  // local header, a deflated entry, and an entry streamed to a pipe (sizes in a data descriptor).
  it.skipIf(!python)(`reads what Python's zipfile writes: zip64 local headers, deflated entries, data descriptors ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, () => {
    const seekable = join(dir, 'zip64.zip');
    const streamed = join(dir, 'streamed.zip');
    runOraclePython(python!, [
      'import sys, zipfile, subprocess',
      'data = bytes((i * 7919) % 251 for i in range(70000))',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    with z.open("stored.bin", "w", force_zip64=True) as f: f.write(data)',
      '    z.writestr(zipfile.ZipInfo("deflated.bin"), data, compress_type=zipfile.ZIP_DEFLATED)',
      'class Pipe:',
      '    def __init__(self, f): self.f, self.n = f, 0',
      '    def write(self, b): self.n += len(b); return self.f.write(b)',
      '    def tell(self): return self.n',
      '    def flush(self): self.f.flush()',
      'with open(sys.argv[2], "wb") as out, zipfile.ZipFile(Pipe(out), "w") as z:',
      '    with z.open("stored.bin", "w") as f: f.write(data)',
    ].join('\n'), [seekable, streamed]);
    const zip64 = readZipEntries(readFileSync(seekable), () => true);
    expect(isPayload(zip64['stored.bin'])).toBe(true);
    expect(isPayload(zip64['deflated.bin'])).toBe(true);
    expect(isPayload(readZipEntries(readFileSync(streamed), () => true)['stored.bin'])).toBe(true);
  });

  it('refuses a deflated entry over its cap or its size field before the bytes exist (a zip bomb)', () => {
    const zeros = new Uint8Array(1 << 20);
    const archive = zipSync({ 'bomb.bin': [zeros, { level: 9 }] });
    expect(() => readZipEntries(archive, () => true, () => 1000)).toThrow(ZipEntryTooLargeError);
    expect(() => readZipEntries(archive, () => true, () => 1000)).toThrow(/bomb\.bin declares 1048576 bytes uncompressed, more than the 1000 bytes/);
    // The size field says 4096 in both headers: inflating stops there.
    const liar = archive.slice();
    const view = new DataView(liar.buffer);
    const directory = liar.findIndex((_, i) => view.getUint32(i, true) === 0x02014b50);
    view.setUint32(directory + 24, 4096, true);
    view.setUint32(view.getUint32(directory + 42, true) + 22, 4096, true);
    expect(() => readZipEntries(liar, () => true)).toThrow(/bomb\.bin inflates to more than the 4096 bytes its size field declares/);
  });

  it('says what is wrong with a damaged archive instead of reading past its end', () => {
    const archive = zipSync({ 'a.bin': [payload, { level: 0 }] });
    expect(() => readZipEntries(archive.subarray(0, archive.length - 30), () => true)).toThrow(/no end of central directory/);
    const shifted = archive.slice();
    shifted.set([0xff, 0xff, 0xff, 0x7f], archive.length - 6); // the directory's offset, far past the end
    expect(() => readZipEntries(shifted, () => true)).toThrow(/past the end of the file/);
  });
});
