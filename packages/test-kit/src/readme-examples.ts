import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './shared-data.js';

export interface ReadmeExample {
  /** 'node' for ```js blocks, 'browser' for ```js browser blocks. */
  where: 'node' | 'browser';
  code: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

/**
 * The runnable examples of a README: fenced blocks whose info string is `js` (Node) or
 * `js browser`. Other blocks (shell, text, ts type sketches) are not examples.
 */
export function readmeExamples(readmePath: string): ReadmeExample[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const out: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```js( browser)?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    out.push({ where: open[1] ? 'browser' : 'node', code: `${body.join('\n')}\n`, line: start + 1 });
  }
  return out;
}

/**
 * The example with test-only substitutions (smaller images, a served URL, a temp folder). Each
 * `from` must occur: a README edit that drops one fails the test instead of silently running
 * something else.
 */
export function substitute(example: ReadmeExample, replacements: ReadonlyArray<readonly [string, string]>): string {
  let code = example.code;
  for (const [from, to] of replacements) {
    if (!code.includes(from)) throw new Error(`README example at line ${example.line} no longer contains ${JSON.stringify(from)}; update the test's substitutions`);
    code = code.split(from).join(to);
  }
  return code;
}

/**
 * Runs a Node example as a user would: plain `node` on an .mjs file (no TypeScript, no tsx),
 * importing the built packages by name. The file is placed in the worker app's node_modules
 * (a project that depends on every @xception package, tfjs, onnxruntime-node and sharp), so bare
 * imports resolve there; `cwd` is where its relative paths point. Returns stdout; a throw or a
 * non-zero exit fails with the example's stderr.
 */
export function runNodeExample(code: string, options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): string {
  const dir = join(repoRoot()!, 'apps', 'worker', 'node_modules', '.cache', 'readme-examples');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `example-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.mjs`);
  writeFileSync(file, code);
  // pnpm's bin shims set NODE_PATH to its store, which a user's project does not have.
  const { NODE_PATH: _unused, ...env } = { ...process.env, ...options.env };
  try {
    return execFileSync(process.execPath, [file], { cwd: options.cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
  } catch (error) {
    const e = error as { stderr?: string; status?: number };
    throw new Error(`README example failed (exit ${e.status}): ${e.stderr ?? String(error)}`);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The Node example of the README at `readmeUrl` (its only example), with substitutions, run in a fresh temp folder; returns stdout. */
export function runOnlyNodeExample(readmeUrl: URL, replacements: ReadonlyArray<readonly [string, string]>): string {
  const examples = readmeExamples(fileURLToPath(readmeUrl));
  if (examples.length !== 1 || examples[0]!.where !== 'node') throw new Error(`${fileURLToPath(readmeUrl)} should have exactly one Node example; found ${examples.map((e) => e.where).join(', ') || 'none'}`);
  const cwd = mkdtempSync(join(tmpdir(), 'xception-readme-'));
  try {
    return runNodeExample(substitute(examples[0]!, replacements), { cwd });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
