// tfjs-core's gradient functions come only in its ES module files, whose extensionless imports
// plain Node cannot load, and its CommonJS build (what Node runs) has none. This bundles them into
// dist/tfjs-gradients.mjs at build time; loading it registers them in tfjs' global registry,
// where the one global engine finds them (register-gradients.ts loads it when needed).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
await build({
  entryPoints: [join(core, 'dist', 'register_all_gradients.js')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: new URL('../dist/tfjs-gradients.mjs', import.meta.url).pathname,
  logLevel: 'warning',
});
