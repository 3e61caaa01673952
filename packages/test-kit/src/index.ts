/**
 * The workspace's test kit (`@xception/test-kit`, private, never published): what tests and
 * benchmarks of every package and app share that is not part of any model. Model fixtures built
 * from the graph (seeded weights, the Keras reference model) stay in `@xception/core/testing`.
 * The worker CLI runner is its own entry, `@xception/test-kit/worker-cli`: it checks on import
 * whether the CLI's build is current, which no other test should pay for.
 */
export { repoRoot, sharedDir, sharedPath, SKIP_NO_SHARED } from './shared-data.js';
export { useBackend, maxAbsDiff, type TestBackend } from './backends.js';
export { oraclePython, SKIP_NO_ORACLE_PYTHON } from './oracle-python.js';
export { runOraclePython, readNpy, type NpyArray } from './run-oracle.js';
export { deadPort, startStaticServer, type StaticFile, type StaticServer, type StaticServerOptions } from './static-server.js';
export { readmeExamples, substitute, runNodeExample, runOnlyNodeExample, type ReadmeExample } from './readme-examples.js';
export { CHROMIUM, HAVE_CHROMIUM, SKIP_NO_CHROMIUM, QUIET_CHROMIUM_ARGS, SWIFTSHADER_ARGS, launchChromium, type ChromiumLaunchOptions } from './chromium.js';
export { bundleForBrowser, openChromium, type BrowserBundle, type ChromiumSession } from './chromium-page.js';
export { s3Server, SKIP_NO_S3, type S3Server } from './s3-server.js';
