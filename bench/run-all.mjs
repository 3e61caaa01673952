// Runs every benchmark one after another (never in parallel: they would share 2 cores), each
// printing its table and writing its JSON under bench/results/.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const run = (cmd, args, cwd) => {
  console.log(`\n$ ${[cmd, ...args].join(' ')}   (in ${cwd})`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd });
  if (r.status !== 0) process.exitCode = 1;
};
for (const group of ['packages', 'apps']) {
  for (const name of existsSync(group) ? readdirSync(group) : []) {
    const dir = join(group, name);
    const pkg = existsSync(join(dir, 'package.json')) ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) : {};
    // `bench` and every `bench:<name>` (e.g. the worker's bench:tag), in the order package.json lists them.
    for (const script of Object.keys(pkg.scripts ?? {}).filter((s) => s === 'bench' || s.startsWith('bench:'))) {
      run('pnpm', ['run', script, ...process.argv.slice(2)], dir);
    }
  }
}
