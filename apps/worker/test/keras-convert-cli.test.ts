import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { saneRandomWeights } from '@xception/core/testing';
import { readWeights, writeKerasArchive } from '@xception/weights';
import { runCli } from '@xception/test-kit/worker-cli';

// What real Keras makes of these files: packages/weights/src/keras3-oracle.test.ts.
const dir = mkdtempSync(join(tmpdir(), 'xception-keras-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xception weights convert --to keras', () => {
  test('a .keras with a 4-class head becomes Keras 3 .weights.h5, read back bit for bit', async () => {
    const config = resolveXceptionConfig({ weights: null, classes: 4, inputShape: [71, 71, 3], classifierActivation: 'sigmoid' });
    const values = saneRandomWeights(expectedWeights(config), 3);
    const input = join(dir, 'four.keras');
    await writeKerasArchive(input, { config, values, classNames: ['w', 'x', 'y', 'z'] });
    const out = join(dir, 'four.weights.h5');
    const run = await runCli(['weights', 'convert', input, out, '--to', 'keras']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/wrote .*four\.weights\.h5 \(Keras 3 \.weights\.h5; 4-class top, sigmoid; input 71x71x3\)/);
    expect(run.stderr).toMatch(/read back: all 236 weights identical/);
    const written = await readWeights(out);
    expect(written.classes).toBe(4);
    for (const [name, value] of values) expect(Buffer.from(written.values.get(name)!.values.buffer).equals(Buffer.from(value.values.buffer)), name).toBe(true);
  }, 120_000);

  test('a plain .h5 name is refused with the reason, before anything is read', async () => {
    const run = await runCli(['weights', 'convert', join(dir, 'absent.keras'), join(dir, 'out.h5'), '--to', 'keras']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--to keras writes .*\.keras.*\.weights\.h5.*got '.*out\.h5'/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
