import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { openClassifierWeights } from './classifier-weights.js';
import { WeightsFileError } from './errors.js';
import { writeKerasArchive } from './keras3-writer.js';
import { expectTypedError } from './test-support/expect-typed-error.js';
import { saneRandomWeights } from './test-support/test-imports.js';

// A .keras file's class_names enter the project here: they become keywords in sidecars, so
// what XML cannot hold (and control characters, which split a keyword) is refused at the door.
const dir = mkdtempSync(join(tmpdir(), 'xception-keras-names-'));
const config = resolveXceptionConfig({ weights: null, classes: 3, inputShape: [71, 71, 3] });
let entries: Record<string, Uint8Array>;

/** The archive with metadata.json's class_names replaced, zipped as any tool would (stored: a faster test). */
function withNames(name: string, classNames: string[]): string {
  const metadata = { ...JSON.parse(strFromU8(entries['metadata.json']!)), class_names: classNames };
  const path = join(dir, name);
  writeFileSync(path, zipSync({ ...entries, 'metadata.json': strToU8(JSON.stringify(metadata)) }, { level: 0 }));
  return path;
}
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  const archive = join(dir, 'base.keras');
  await writeKerasArchive(archive, { config, values: saneRandomWeights(expectedWeights(config), 4), classNames: ['a', 'b', 'c'] });
  entries = unzipSync(readFileSync(archive));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(".keras class names", () => {
  it.each([
    ['a newline', 'two\nlines', 'U+000A, a control character'],
    ['U+0001', 'odd\u0001', 'U+0001, a control character'],
    ['U+FFFF', 'odd\uffff', 'U+FFFF, a character XML cannot hold'],
    ['a lone surrogate', 'odd\ud800', 'U+D800, a character XML cannot hold'],
  ])('a class name with %s is refused in one sentence', async (_, bad, what) => {
    const path = withNames(`bad-${what.slice(2, 6)}.keras`, ['cat', bad, 'fox']);
    const sentence = `${path}: metadata.json's class name ${JSON.stringify(bad)} holds ${what}; rename that class and save the model again.`;
    await expectTypedError(openClassifierWeights(path), WeightsFileError, 'ERR_WEIGHTS_FORMAT', new RegExp(`^${escapeRegExp(sentence)}$`));
  });

  it('constructor, toString and __proto__ are class names like any other', async () => {
    const path = withNames('prototype.keras', ['constructor', 'toString', '__proto__']);
    expect((await openClassifierWeights(path)).classNames).toEqual(['constructor', 'toString', '__proto__']);
  });
});
