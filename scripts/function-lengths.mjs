#!/usr/bin/env node
// Lists the hand-written functions longer than a limit (default 80 lines), longest first:
// `node scripts/function-lengths.mjs [--limit 100] [--fail] [paths...]`. A function's lines run
// from its first line to its last, nested functions included, as an editor's outline counts
// them. Tests, benches, generated code (dist/, *.d.ts, the bundled gradients) are left out.
// With --fail it exits 1 when any function passes the limit, so CI can hold the line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 80;
const fail = args.includes('--fail');
const roots = args.filter((a, i) => !a.startsWith('--') && (limitAt < 0 || i !== limitAt + 1));
const SKIP_DIR = new Set(['node_modules', 'dist', 'test', 'test-support', 'testing', 'bench', 'generated', '.turbo']);

function* sources(path) {
  if (statSync(path).isFile()) { yield path; return; }
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIP_DIR.has(entry.name)) yield* sources(join(path, entry.name));
    else if (entry.isFile() && /\.tsx?$/.test(entry.name) && !/\.(test|d)\.tsx?$/.test(entry.name)) yield join(path, entry.name);
  }
}

/** The name an outline shows: the declaration's own, or the variable/property it is assigned to. */
function nameOf(node) {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) return parent.name.getText();
  return '(anonymous)';
}

function longFunctions(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > limit) found.push({ file: relative(root, file), line: first + 1, name: nameOf(node), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const starts = roots.length > 0 ? roots : ['packages', 'apps'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p, 'src')));
const found = starts.filter((p) => { try { statSync(p); return true; } catch { return false; } })
  .flatMap((p) => [...sources(p)]).flatMap(longFunctions).sort((a, b) => b.lines - a.lines);
for (const f of found) console.log(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
console.log(`${found.length} function(s) over ${limit} lines`);
if (fail && found.length > 0) process.exit(1);
