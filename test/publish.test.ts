import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemAffectsResolutionKind } from '@arethetypeswrong/core/problems';
import { allResolutionKinds } from '@arethetypeswrong/core/utils';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { packAll, REPO_ROOT } from './published-packages.js';

/**
 * The packages as a registry would get them (`pnpm pack`), checked offline by the tools users
 * and registries trust: publint (package.json against the files) and arethetypeswrong (types
 * against every module resolution). The packages are ESM-only, so attw runs with its
 * `esm-only` profile (its CLI's `--profile esm-only`: node10 and require-from-CJS resolutions
 * are not asked for).
 */
const ESM_ONLY_IGNORED = new Set(['node10', 'node16-cjs']);
const TFJS = /^@tensorflow\//;

let packed: ReturnType<typeof packAll>;
beforeAll(() => {
  packed = packAll();
});
afterAll(() => {
  if (packed) rmSync(packed.dir, { recursive: true, force: true });
});

describe('published packages', () => {
  test('publint and arethetypeswrong find nothing; tarballs carry a LICENSE and no test code', async () => {
    const summary: string[] = [];
    for (const [name, tarball] of packed.tarballs) {
      const bytes = readFileSync(tarball);
      const lint = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer }, level: 'suggestion', strict: true });
      const pkgJson = lint.pkg as Record<string, unknown>;
      const lintMessages = lint.messages.map((m) => `${m.type}: ${formatMessage(m, lint.pkg) ?? m.code}`);

      const attwPackage = createPackageFromTarballData(new Uint8Array(bytes));
      const analysis = await checkPackage(attwPackage);
      const problems = analysis.types === false ? ['no types'] : analysis.problems
        .filter((p) => allResolutionKinds.some((kind) => !ESM_ONLY_IGNORED.has(kind) && problemAffectsResolutionKind(p, kind, analysis)))
        .map((p) => JSON.stringify(p));

      const root = `/node_modules/${name}/`;
      const files = attwPackage.listFiles().map((f) => f.slice(root.length));
      summary.push(`${name}: ${files.length} files, publint ${lintMessages.length} messages, attw ${problems.length} problems`);
      expect({ name, lintMessages, problems }).toEqual({ name, lintMessages: [], problems: [] });
      expect(files, name).toContain('LICENSE');
      expect(files.filter((f) => /(^|\/)(testing|test-support)\/|\.test\.[cm]?[jt]s$/.test(f)), name).toEqual([]);

      // What users install: tfjs as peer ranges (one tfjs in their app), no terminal code,
      // sharp never required, exports without the workspace's `source` condition or `./testing`.
      const dependencies = Object.keys((pkgJson.dependencies ?? {}) as Record<string, string>);
      expect(dependencies.filter((d) => TFJS.test(d) || d === 'cli-progress' || d === 'sharp'), name).toEqual([]);
      for (const range of Object.entries((pkgJson.peerDependencies ?? {}) as Record<string, string>).filter(([d]) => TFJS.test(d)).map(([, r]) => r)) {
        expect(range, name).toBe('^4.22.0');
      }
      const exportsJson = JSON.stringify(pkgJson.exports);
      expect(exportsJson, name).not.toMatch(/"source"|\.\/testing|(?<!\.d)\.ts"/);
    }
    console.log(summary.join('\n'));
  });
});

describe('the workspace test kit', () => {
  test('@xception/test-kit is private, never packed, and no published package needs it to install', () => {
    const kit = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'test-kit', 'package.json'), 'utf8')) as { name: string; private?: boolean };
    expect(kit).toMatchObject({ name: '@xception/test-kit', private: true });
    expect(readdirSync(packed.dir).filter((f) => f.includes('test-kit'))).toEqual([]);
    for (const [name, tarball] of packed.tarballs) {
      const pkgJson = JSON.parse(execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' })) as Record<string, Record<string, string> | undefined>;
      const installs = Object.keys({ ...pkgJson.dependencies, ...pkgJson.peerDependencies, ...pkgJson.optionalDependencies });
      expect(installs.filter((d) => d === kit.name), name).toEqual([]);
    }
  });
});

describe('sharp is an optional peer of @xception/vision-utils', () => {
  test('the packed /node entry without sharp installed rejects with ERR_SHARP_MISSING, saying what to install', () => {
    // The tarball unpacked into an empty project with tfjs-core but no sharp anywhere up the tree.
    const project = mkdtempSync(join(tmpdir(), 'xception-nosharp-'));
    try {
      const target = join(project, 'node_modules', '@xception', 'vision-utils');
      mkdirSync(target, { recursive: true });
      execFileSync('tar', ['xzf', packed.tarballs.get('@xception/vision-utils')!, '-C', target, '--strip-components=1']);
      mkdirSync(join(project, 'node_modules', '@tensorflow'), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-core'), join(project, 'node_modules', '@tensorflow', 'tfjs-core'));
      const script = "import { loadImage } from '@xception/vision-utils/node'; loadImage('x.jpg').catch((e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })));";
      // pnpm's bin shims export NODE_PATH=<store>/node_modules, where sharp is; users have none.
      const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', env: withoutNodePath() }));
      expect(out).toEqual({
        name: 'VisionUtilsError',
        code: 'ERR_SHARP_MISSING',
        message: "@xception/vision-utils/node decodes photos with sharp, which is not installed; run 'npm install sharp' (or use @xception/vision-utils/browser in a browser).",
      });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

function withoutNodePath(): NodeJS.ProcessEnv {
  const { NODE_PATH: _ignored, ...env } = process.env;
  return env;
}
