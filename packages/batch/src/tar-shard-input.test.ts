import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { listInputs, type InputEntry } from './list-inputs.js';
import { tarShardInputs } from './tar-shard-input.js';

const python = oraclePython();
if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);

// Python's tarfile writes a webdataset shard (as img2dataset does: key.jpg, key.json, key.txt),
// a copy cut in the middle of an image member, and a copy with a corrupt header; it reports each
// image member's name and SHA-256, and where it cut.
const WRITE_SHARDS = `
import hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
members = [('000000000.jpg', 3000), ('000000000.json', 40), ('000000000.txt', 12), ('000000001.png', 2600),
           ('000000001.json', 40), ('sub/000000002.jpg', 4100), ('000000003.webp', 1500)]
with tarfile.open(os.path.join(out, 'shard.tar'), 'w', format=tarfile.USTAR_FORMAT) as tar:
    for i, (name, size) in enumerate(members):
        data = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
        info = tarfile.TarInfo(name); info.size = size
        tar.addfile(info, io.BytesIO(data[:size]))
data = open(os.path.join(out, 'shard.tar'), 'rb').read()
with tarfile.open(os.path.join(out, 'shard.tar')) as tar:
    infos = tar.getmembers()
images = [m for m in infos if m.name.rsplit('.', 1)[1] in ('jpg', 'png', 'webp')]
cut = next(m for m in infos if m.name == 'sub/000000002.jpg')
open(os.path.join(out, 'cut.tar'), 'wb').write(data[:cut.offset_data + cut.size // 2])
bad = next(m for m in infos if m.name == '000000001.png')
corrupt = bytearray(data); corrupt[bad.offset:bad.offset + 100] = b'\\xff' * 100
open(os.path.join(out, 'corrupt.tar'), 'wb').write(bytes(corrupt))
print(json.dumps({'images': [[m.name, hashlib.sha256(data[m.offset_data:m.offset_data + m.size]).hexdigest()] for m in images]}))
`;

describe.skipIf(!python)('webdataset .tar shards (written by Python tarfile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-tar-input-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const oracle = python ? JSON.parse(runOraclePython(python, WRITE_SHARDS, [dir])) as { images: [string, string][] } : { images: [] };
  const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
  const collect = async (inputs: AsyncIterable<InputEntry>): Promise<InputEntry[]> => {
    const all: InputEntry[] = [];
    for await (const entry of inputs) all.push(entry);
    return all;
  };

  test('every image member is one input, path shard.tar#member, with its bytes; .json and .txt are skipped', async () => {
    const shard = join(dir, 'shard.tar');
    const entries = await collect(tarShardInputs(shard));
    const got = entries.map((e) => [e.path, e.ok && e.bytes ? sha(e.bytes) : 'no bytes']);
    expect(got).toEqual(oracle.images.map(([name, digest]) => [`${shard}#${name}`, digest]));
  });

  test('listInputs reads a .tar given as an input (or matched by a glob) as its members', async () => {
    const paths = (await collect(listInputs([join(dir, 'shard.tar'), join(dir, 'sha*.tar')], { recursive: false }))).map((e) => e.path);
    const members = oracle.images.map(([name]) => `${join(dir, 'shard.tar')}#${name}`);
    expect(paths).toEqual([...members, ...members]);
  });

  test('a shard cut inside a member: the members before keep their bytes, the cut one is ERR_INPUT_TAR_TRUNCATED', async () => {
    const cut = join(dir, 'cut.tar');
    const entries = await collect(tarShardInputs(cut));
    expect(entries.map((e) => [e.path, e.ok ? 'ok' : e.code])).toEqual([
      [`${cut}#000000000.jpg`, 'ok'], [`${cut}#000000001.png`, 'ok'], [`${cut}#sub/000000002.jpg`, 'ERR_INPUT_TAR_TRUNCATED'],
    ]);
    const failed = entries[2]!;
    expect(!failed.ok && failed.message).toMatch(new RegExp(`^${cut} ends inside member sub/000000002.jpg \\(.*\\); the shard is truncated`));
  });

  test('a corrupt header: the members before it keep their rows, then one ERR_INPUT_TAR_CORRUPT row', async () => {
    const corrupt = join(dir, 'corrupt.tar');
    const entries = await collect(tarShardInputs(corrupt));
    expect(entries.map((e) => [e.path, e.ok ? 'ok' : e.code])).toEqual([
      [`${corrupt}#000000000.jpg`, 'ok'], [`${corrupt}#<header 4>`, 'ERR_INPUT_TAR_CORRUPT'],
    ]);
  });

  test('a file named .tar that is not a tar: one error row, no crash', async () => {
    const fake = join(dir, 'fake.tar');
    writeFileSync(fake, 'not a tar at all\n'.repeat(64));
    const entries = await collect(tarShardInputs(fake));
    expect(entries.map((e) => [e.path, e.ok ? 'ok' : e.code])).toEqual([[`${fake}#<header 1>`, 'ERR_INPUT_TAR_CORRUPT']]);
  });
});
