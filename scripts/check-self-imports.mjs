#!/usr/bin/env node
// Fails when a package's type-check reads the package's own build output without the task graph
// ordering the two. A file under a package's tsconfig.check.json that imports the package by its
// own name ('@xception/core', '@xception/core/testing') resolves through package.json's exports to
// dist/*.d.ts, which the same turbo run may not have written yet: that typecheck then passes or
// fails by timing (seen in a fresh clone: core's bench, TS2307). Either the file imports its own
// sources by relative path, or turbo.json makes typecheck depend on the package's own build.
//
// Usage: node scripts/check-self-imports.mjs [--root DIR]   (exit 0: fine, 1: self-imports found)
// It reads the files exactly as tsc would list them (TypeScript's own config parser) and the
// import specifiers as TypeScript's pre-processor finds them, so comments and strings do not count.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values } = parseArgs({ options: { root: { type: 'string' } } });
const root = values.root ?? join(import.meta.dirname, '..');

function workspacePackages(rootDir) {
  return ['packages', 'apps'].flatMap((group) => {
    const dir = join(rootDir, group);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'package.json')))
      .map((entry) => join(dir, entry.name));
  });
}

function checkedFiles(packageDir) {
  const configPath = join(packageDir, 'tsconfig.check.json');
  if (!existsSync(configPath)) return [];
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  return parsed?.fileNames ?? [];
}

function selfImports(packageDir) {
  const name = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).name;
  const found = [];
  for (const file of checkedFiles(packageDir)) {
    const text = readFileSync(file, 'utf8');
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      if (imported.fileName !== name && !imported.fileName.startsWith(`${name}/`)) continue;
      const line = ts.createSourceFile(file, text, ts.ScriptTarget.Latest).getLineAndCharacterOfPosition(imported.pos).line + 1;
      found.push(`${relative(root, file)}:${line} imports '${imported.fileName}'`);
    }
  }
  return found;
}

function typecheckWaitsForOwnBuild(rootDir) {
  const turbo = JSON.parse(readFileSync(join(rootDir, 'turbo.json'), 'utf8'));
  return (turbo.tasks?.typecheck?.dependsOn ?? []).includes('build');
}

const found = workspacePackages(root).flatMap(selfImports);
if (found.length > 0 && !typecheckWaitsForOwnBuild(root)) {
  console.error(
    `check-self-imports: ${found.length} type-checked file(s) import their own package by name, so their typecheck reads ` +
    `that package's dist/, which turbo does not order before it; import the package's sources by relative path ` +
    `(e.g. '../src/index.js') or make typecheck depend on "build" in turbo.json:\n  ${found.join('\n  ')}`,
  );
  process.exit(1);
}
