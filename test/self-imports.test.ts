import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from './published-packages.js';

/**
 * scripts/check-self-imports.mjs, which scripts/setup.sh runs before the build: on this repo,
 * and on a small workspace written here whose bench imports its own package by name (the way
 * packages/core's bench once failed a fresh clone's typecheck).
 */
const SCRIPT = join(REPO_ROOT, 'scripts/check-self-imports.mjs');
const workspaces: string[] = [];
afterAll(() => workspaces.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function runCheck(root?: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...(root ? ['--root', root] : [])], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

function workspaceWithBench(benchImport: string, typecheckDependsOn: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'self-imports-'));
  workspaces.push(root);
  const pkg = join(root, 'packages/demo');
  mkdirSync(join(pkg, 'src'), { recursive: true });
  mkdirSync(join(pkg, 'bench'));
  writeFileSync(join(root, 'turbo.json'), JSON.stringify({ tasks: { build: {}, typecheck: { dependsOn: typecheckDependsOn } } }));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@demo/pkg', type: 'module', exports: { '.': './dist/index.js' } }));
  writeFileSync(join(pkg, 'tsconfig.check.json'), JSON.stringify({ compilerOptions: { noEmit: true }, include: ['src', 'bench'] }));
  writeFileSync(join(pkg, 'src/index.ts'), 'export const answer = 42;\n');
  // The name also stands in a comment and a string: only the import may count.
  writeFileSync(join(pkg, 'bench/demo-bench.ts'), `// '@demo/pkg' in a comment\nconst label = '@demo/pkg';\nimport { answer } from '${benchImport}';\nconsole.log(label, answer);\n`);
  return root;
}

describe('check-self-imports', () => {
  test('passes on this repository', () => {
    const { status, stderr } = runCheck();
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  test('fails on a bench that imports its own package by name, naming the file and line', () => {
    const { status, stderr } = runCheck(workspaceWithBench('@demo/pkg', ['^build']));
    expect(status).toBe(1);
    expect(stderr).toContain("packages/demo/bench/demo-bench.ts:3 imports '@demo/pkg'");
    expect(stderr.match(/imports '/g)).toHaveLength(1);
  });

  test('passes when the bench imports the sources, or when typecheck waits for the own build', () => {
    expect(runCheck(workspaceWithBench('../src/index.js', ['^build'])).status).toBe(0);
    expect(runCheck(workspaceWithBench('@demo/pkg', ['^build', 'build'])).status).toBe(0);
  });
});
