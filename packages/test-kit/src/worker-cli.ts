import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the worker's CLI (`xception`) as a child process, for the worker's CLI tests and the
 * desktop tests that compare the app with the CLI.
 */

/** The checkout's root, with a trailing slash (this file sits in packages/test-kit/src or dist). */
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const BUILT_CLI = join(REPO, 'apps/worker/dist/cli.js');
const SOURCE_CLI = join(REPO, 'apps/worker/src/cli.ts');

/** The newest modification time of a file under dir (0 when there is none). */
function newestUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The CLI as users run it, `node apps/worker/dist/cli.js`, when the build is newer than every
 * source it is made of (the worker's and each package's src/; scripts/test.sh builds first).
 * Otherwise the TypeScript sources through tsx, which is correct but costs seconds per start:
 * a stale build must never be what a test checks.
 */
function cliCommand(): string[] {
  const sources = [join(REPO, 'apps/worker/src'), ...readdirSync(join(REPO, 'packages')).map((p) => join(REPO, 'packages', p, 'src'))];
  const built = existsSync(BUILT_CLI) ? statSync(BUILT_CLI).mtimeMs : 0;
  if (built > 0 && sources.every((dir) => newestUnder(dir) <= built)) return [BUILT_CLI];
  console.warn('worker CLI tests run from the TypeScript sources (slower): the build is missing or older than a source; `node_modules/.bin/turbo run build` first');
  return ['--conditions=source', '--import', 'tsx', SOURCE_CLI];
}
const COMMAND = cliCommand();
/** What a test passes to node to run the CLI: the built CLI, or the sources through tsx. */
export const CLI_ARGS: readonly string[] = COMMAND;

export interface CliRun { code: number | null; stdout: string; stderr: string }

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawn(process.execPath, [...CLI_ARGS, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio,
  });
}

/**
 * The CLI started through a wrapper command that ends by running its arguments, e.g.
 * `['unshare', '--uts', 'sh', '-c', 'hostname other && exec "$0" "$@"']` (another host's name).
 */
export function startCliVia(wrapper: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv = {}, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawn(wrapper[0]!, [...wrapper.slice(1), process.execPath, ...CLI_ARGS, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio,
  });
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, wrapper: readonly string[] = []): Promise<CliRun> {
  const child = wrapper.length > 0 ? startCliVia(wrapper, args, env) : startCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Rows of a JSONL results file. */
export function jsonl<T = Record<string, unknown>>(text: string): T[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** Polls until condition() holds; throws naming what it waited for after timeoutMs. */
export async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The non-blank lines of a results file written so far (0 before it exists). */
export const rowsIn = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length : 0);
