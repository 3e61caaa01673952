import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The workspace's pinned pnpm (scripts/setup.sh puts it in .tools/), else the one on PATH. */
export function pnpmBinary(): string {
  const local = join(REPO_ROOT, '.tools', 'node_modules', '.bin', 'pnpm');
  return existsSync(local) ? local : 'pnpm';
}

/** The packages a registry would get: every non-private package under packages/. */
export function publishedPackageDirs(): string[] {
  const packages = join(REPO_ROOT, 'packages');
  return readdirSync(packages)
    .map((name) => join(packages, name))
    .filter((dir) => existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true);
}

/**
 * `pnpm pack` for every published package into one fresh folder: what a registry would get
 * (publishConfig applied, workspace: versions replaced). pnpm 12 fails about one run in ten
 * resolving its own pinned release (ERR_PNPM_BAD_CONFIG_DEP, see scripts/setup.sh): only that
 * failure is retried, three times at most.
 */
export function packAll(): { dir: string; tarballs: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'xception-pack-'));
  for (let attempt = 1; ; attempt++) {
    try {
      // Only the published packages: pnpm packs a private one too (the test kit) when asked.
      const filters = publishedPackageDirs().flatMap((pkgDir) => ['--filter', `./${relative(REPO_ROOT, pkgDir)}`]);
      execFileSync(pnpmBinary(), ['-r', ...filters, 'pack', '--pack-destination', dir], { cwd: REPO_ROOT, stdio: 'pipe', encoding: 'utf8' });
      break;
    } catch (error) {
      const text = `${(error as { stderr?: string }).stderr ?? ''}${(error as { stdout?: string }).stdout ?? ''}`;
      if (attempt >= 3 || !text.includes('ERR_PNPM_BAD_CONFIG_DEP')) throw error;
    }
  }
  const tarballs = new Map<string, string>();
  for (const pkgDir of publishedPackageDirs()) {
    const { name, version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; version: string };
    tarballs.set(name, join(dir, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`));
  }
  return { dir, tarballs };
}
