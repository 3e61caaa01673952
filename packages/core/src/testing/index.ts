/** Test and benchmark helpers (`@xception/core/testing`); they need @tensorflow/tfjs-layers. */
export { repoRoot, sharedDir, sharedPath, SKIP_NO_SHARED } from './shared-data.js';
export { saneRandomWeights, randomImages } from './sane-random-weights.js';
export { loadKerasReferenceModel, type KerasReferenceModel, type KerasReferenceOptions } from './keras-reference-model.js';
export { useBackend, maxAbsDiff, type TestBackend } from './backends.js';
export { oraclePython, SKIP_NO_ORACLE_PYTHON } from './oracle-python.js';
export { runOraclePython, readNpy, type NpyArray } from './run-oracle.js';
export { deadPort, startStaticServer, type StaticFile, type StaticServer, type StaticServerOptions } from './static-server.js';
export { readmeExamples, substitute, runNodeExample, runOnlyNodeExample, type ReadmeExample } from './readme-examples.js';
export { bundleForBrowser, openChromium, CHROMIUM, HAVE_CHROMIUM, SKIP_NO_CHROMIUM, type BrowserBundle, type ChromiumSession } from './chromium-page.js';
