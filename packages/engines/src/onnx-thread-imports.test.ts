import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const built = fileURLToPath(new URL('../dist/onnx-engine.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xception-thread-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
if (!existsSync(built)) console.warn(`the onnx thread's import test is skipped: ${built} is missing; build first (node_modules/.bin/turbo run build)`);

/** Every module URL a fresh Node process resolves while it imports `file`, read by a module.register hook. */
function modulesLoadedBy(file: string): string[] {
  const log = join(dir, 'resolved.txt');
  writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
  return resolved;
}
`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  const run = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)})`], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(log, 'utf8').trim().split('\n');
}

describe('what an onnx inference thread loads (the built onnx-engine.js in a fresh process)', () => {
  it.skipIf(!existsSync(built))('onnx-engine.js loads neither tfjs-core, the ONNX exporter (protobufjs) nor the HDF5 reader: every CLI start pays for what its thread imports', () => {
    const loaded = modulesLoadedBy(built);
    expect(loaded.some((url) => url.endsWith('/onnx-engine.js'))).toBe(true);
    for (const heavy of ['@tensorflow', 'onnx-proto', 'protobufjs', 'h5wasm', '/packages/core/', '/packages/onnx/dist/index.js', '/packages/weights/dist/index.js', '/packages/vision-utils/dist/index.js']) {
      expect(loaded.filter((url) => url.includes(heavy)), heavy).toEqual([]);
    }
  });
});
