// Builds the app with esbuild: main + inference host (Node ESM), preload (CommonJS: sandboxed
// preloads cannot load ES modules), renderer (browser ESM) with its html and css.
// Usage: node scripts/build.mjs [outDir]   (default dist/)
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = (p) => join(appDir, 'src', p);

/** The renderer alone (what the browser tests serve). */
export async function buildRenderer(outDir) {
  const dir = join(outDir, 'renderer');
  await mkdir(dir, { recursive: true });
  const common = { bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', sourcemap: true, logLevel: 'warning', conditions: ['source'] };
  await build({ ...common, entryPoints: [src('renderer/app.ts')], outfile: join(dir, 'app.js') });
  // The webgl engine's Web Worker (tfjs webgl + @xception/core), loaded from the app only.
  await build({ ...common, entryPoints: [src('renderer/inference/inference-worker.ts')], outfile: join(dir, 'inference-worker.js') });
  await copyFile(src('renderer/index.html'), join(dir, 'index.html'));
  await copyFile(src('renderer/styles.css'), join(dir, 'styles.css'));
  return dir;
}

// tfjs, sharp, h5wasm and onnxruntime stay external: they carry native or wasm files.
const external = ['electron', 'sharp', '@tensorflow/*', 'h5wasm', 'onnxruntime-node'];
const engineThread = join(appDir, '..', '..', 'packages', 'engines', 'src', 'engine-thread.ts');
const onnxExportThread = join(appDir, '..', '..', 'packages', 'engines', 'src', 'onnx-export-thread.ts');
// Bundled CommonJS dependencies call require() for Node built-ins:
// an ES module bundle has no `require` unless it makes one.
const banner = { js: "import { createRequire as __xceptionCreateRequire } from 'node:module'; const require = __xceptionCreateRequire(import.meta.url);" };
const nodeBuild = { conditions: ['source'], outdir: undefined, bundle: true, format: 'esm', platform: 'node', target: 'node20', external, banner, sourcemap: true, logLevel: 'warning', outExtension: { '.js': '.js' } };

/**
 * The served shell (`pnpm tagger serve`): served/tagger.js with its engine thread beside it, and
 * the renderer it serves at renderer/ beside served/. No Electron in it.
 */
export async function buildServed(outDir) {
  await buildRenderer(outDir);
  // Chunk names carry hashes: the last build's chunks would pile up beside the new ones.
  await rm(join(outDir, 'served'), { recursive: true, force: true });
  // Split: the command line answers a wrong flag before the chunks with the engines load. The
  // chunks stay in served/, beside engine-thread.js, which the engines start from their own folder.
  await build({ ...nodeBuild, outdir: outDir, splitting: true, chunkNames: 'served/chunk-[hash]', entryPoints: { 'served/tagger': src('served/tagger-cli.ts'), 'served/engine-thread': engineThread, 'served/onnx-export-thread': onnxExportThread } });
}

export async function buildAll(outDir) {
  await buildServed(outDir);
  // The workspace packages are bundled from their TypeScript sources (no package build needed
  // first). @xception/engines starts its worker threads from engine-thread.js (and exports ONNX
  // models in onnx-export-thread.js) beside the module that imports it: here inference-host.js,
  // so those files are built beside it.
  await build({ ...nodeBuild, outdir: outDir, entryPoints: { 'electron/main': src('electron/main.ts'), 'electron/inference-host': src('electron/inference-host.ts'), 'electron/engine-thread': engineThread, 'electron/onnx-export-thread': onnxExportThread } });
  await build({ entryPoints: [src('electron/preload.ts')], outfile: join(outDir, 'electron', 'preload.cjs'), bundle: true, format: 'cjs', platform: 'node', target: 'node20', external: ['electron'], sourcemap: true, logLevel: 'warning' });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAll(resolve(process.argv[2] ?? join(appDir, 'dist')));
}
