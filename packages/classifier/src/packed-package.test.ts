import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from './test-support/fixtures.js';

/**
 * The tarball a registry would get (`pnpm pack`, workspace:* rewritten), read back with tar: what
 * it holds, that every export target is in it, and that the browser entry imports no Node
 * built-in. The full proof (npm install of the tarballs, the README's lines in plain Node)
 * is scripts/pack-install-check.mjs, too slow for CI.
 */
const pkg = fileURLToPath(new URL('..', import.meta.url));
// scripts/setup.sh puts pnpm in .tools/ unless the pinned one is already on PATH.
const local = join(REPO_ROOT, '.tools', 'node_modules', '.bin', 'pnpm');
const pnpm = existsSync(local) ? local : 'pnpm';
const havePnpm = pnpm === local || spawnSync('pnpm', ['--version']).status === 0;
const built = existsSync(join(pkg, 'dist', 'node', 'index.js')) && havePnpm;
if (!built) console.warn('skipped: packages/classifier/dist or pnpm is missing; run scripts/setup.sh (it builds)');

describe.skipIf(!built)('the packed @xception/classifier', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-classifier-pack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('holds dist, sources and README but no tests, test helpers or scripts; its manifest is publishable', () => {
    execFileSync(pnpm, ['pack', '--pack-destination', dir], { cwd: pkg, stdio: 'pipe' });
    const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    const read = (file: string): string => execFileSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8' });
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/node/index.js', 'dist/node/index.d.ts', 'dist/browser/index.js', 'dist/browser/index.d.ts', 'src/node/index.ts']));
    expect(files.filter((f) => /\.test\.ts$|test-support|^scripts\/|^bench\//.test(f))).toEqual([]);

    const manifest = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; exports: Record<string, unknown> };
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    expect(manifest.dependencies['@xception/core']).toMatch(/^\d+\.\d+\.\d+/);
    const targets = JSON.stringify(manifest.exports).match(/:"\.\/[^"]+"/g)!.map((t) => t.slice(4, -1));
    expect(targets.filter((t) => !files.includes(t))).toEqual([]);

    // The browser entry's own module graph inside the package: no node: built-ins, no sharp, no engines.
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of read(file).matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (spec!.startsWith('.')) visit(join(file, '..', spec!));
        else expect(spec).toMatch(/^@tensorflow\/tfjs-(core|backend-webgl|backend-wasm)$|^@xception\/(core|vision-utils|vision-utils\/browser|weights)$/);
      }
    };
    visit('dist/browser/index.js');
    expect(seen.size).toBeGreaterThan(5);
  });
});
