#!/usr/bin/env node
// The pack-and-install proof (issue 13): @xception/classifier and its workspace dependencies
// packed as a registry would get them (`pnpm pack`), installed with plain npm into an empty
// project outside the repository, and used from plain Node (no TypeScript, no tsx) with the
// README's lines: the same top-5 as `xception classify` on the same weights and photos.
//
// Too slow for CI (npm installs tfjs, sharp, onnxruntime-node and h5wasm into the project),
// so it runs on demand: `pnpm --filter @xception/classifier pack-install-check` (or
// `node packages/classifier/scripts/pack-install-check.mjs`) after `turbo run build`. Seeded
// 71x71 weights stand in for ImageNet's, which cannot be downloaded here. Exit 0 when equal.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSeededModelFolder } from './seeded-model-folder.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
// scripts/setup.sh puts pnpm in .tools/ unless the pinned one is already on PATH.
const pnpm = existsSync(join(root, '.tools', 'node_modules', '.bin', 'pnpm')) ? join(root, '.tools', 'node_modules', '.bin', 'pnpm') : 'pnpm';
// The workspace packages @xception/classifier needs at run time, dependencies first.
const PACKAGES = ['core', 'vision-utils', 'weights', 'onnx', 'engines', 'runtime', 'classifier'];
const SIZE = 71;
const photos = ['n01440764_tench.JPEG', 'n01532829_house_finch.JPEG', 'n01622779_great_grey_owl.JPEG']
  .map((f) => join(root, '..', 'shared', 'images', 'imagenet-samples', f));
if (!photos.every((p) => existsSync(p))) {
  console.log('skipped: ../shared photos are absent (set up the shared data beside the checkout)');
  process.exit(0);
}
for (const p of PACKAGES) {
  if (!existsSync(join(root, 'packages', p, 'dist'))) throw new Error(`packages/${p}/dist is missing: run node_modules/.bin/turbo run build first`);
}

const timings = {};
const timed = (label, fn) => { const t0 = performance.now(); const r = fn(); timings[label] = Math.round(performance.now() - t0); return r; };
const work = mkdtempSync(join(tmpdir(), 'xception-pack-install-'));
const keep = process.argv.includes('--keep');
try {
  // 1. Tarballs, as `pnpm publish` would upload them (workspace:* turned into versions).
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  timed('pnpm pack (6 packages)', () => {
    for (const p of PACKAGES) execFileSync(pnpm, ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', p), stdio: 'pipe' });
  });
  const files = readdirSync(tarballs);
  const tarballOf = (p) => join(tarballs, files.find((f) => f.startsWith(`xception-${p}-`)));

  // 2. An empty project outside the repository; plain npm. The other @xception tarballs stand in
  // for the registry (they are not published yet): overrides point npm at them.
  const project = join(work, 'project');
  mkdirSync(project);
  const local = Object.fromEntries(PACKAGES.map((p) => [`@xception/${p}`, `file:${tarballOf(p)}`]));
  writeFileSync(join(project, 'package.json'), JSON.stringify({
    name: 'pack-install-check', private: true, type: 'module',
    // sharp is an optional peer (browser users need none): Node users install it, as the README says.
    dependencies: { '@xception/classifier': local['@xception/classifier'], sharp: '^0.35.5' },
    overrides: local,
  }, null, 2));
  timed('npm install', () => execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project, stdio: 'inherit',
    // onnxruntime-node's postinstall fetches CUDA libraries from outside the registry; its CPU build ships in the package.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
  }));

  // 3. Seeded weights as a model.json folder, written by the repository's own built packages.
  const weights = join(work, 'web');
  const t0 = performance.now();
  await writeSeededModelFolder(weights, SIZE);
  timings['write seeded weights'] = Math.round(performance.now() - t0);

  // 4. The README's lines in plain Node, from the installed packages only.
  writeFileSync(join(project, 'main.mjs'), `
import { loadClassifier } from '@xception/classifier';
const classifier = await loadClassifier({ weights: ${JSON.stringify(join(weights, 'model.json'))}, imageSize: ${SIZE} });
const top5 = await classifier.classify(${JSON.stringify(photos)}, { topK: 5 });
const features = await classifier.embed(${JSON.stringify(photos[0])});
await classifier.dispose();
console.log(JSON.stringify({ top5, features: features.length, engine: classifier.engine }));
`);
  const home = join(work, 'home');
  const installed = timed('node main.mjs', () => JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: project, env: { ...process.env, XCEPTION_HOME: home }, encoding: 'utf8' }).trim().split('\n').pop()));

  // 5. The CLI of the repository on the same weights and photos.
  const out = join(work, 'cli.jsonl');
  timed('xception classify', () => execFileSync(process.execPath, [join(root, 'apps', 'worker', 'dist', 'cli.js'), 'classify', ...photos, '--weights', join(weights, 'model.json'), '--image-size', String(SIZE), '--out', out, '--quiet'], { env: { ...process.env, XCEPTION_HOME: home } }));
  const cli = new Map(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.path, r.top]));

  let worst = 0;
  const same = photos.every((p, i) => {
    const a = installed.top5[i];
    const b = cli.get(p);
    a.forEach((c, k) => { worst = Math.max(worst, Math.abs(c.score - b[k].score)); });
    return JSON.stringify(a.map((c) => [c.index, c.wnid, c.label])) === JSON.stringify(b.map((c) => [c.index, c.wnid, c.label]));
  });
  console.log(`installed from tarballs: ${installed.engine}; features ${installed.features}`);
  for (const [i, p] of photos.entries()) console.log(`${p.split('/').pop()}: ${installed.top5[i].map((c) => `${c.label} ${c.score.toFixed(4)}`).join(', ')}`);
  console.log(`times (ms): ${JSON.stringify(timings)}`);
  if (!same || worst > 1e-6 || installed.features !== 2048) {
    console.error(`FAIL: the installed classifier and \`xception classify\` differ (same classes: ${same}, max |score diff| ${worst})`);
    process.exitCode = 1;
  } else {
    console.log(`OK: the same top-5 as \`xception classify\` on ${photos.length} photos (max |score diff| ${worst.toExponential(1)})`);
  }
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
