/**
 * Model fixtures for tests and benchmarks (`@xception/core/testing`, not published; they need
 * @tensorflow/tfjs-layers): seeded weights of a realistic scale and Keras' own Xception as a
 * reference, both built from this package's graph description. The workspace's test
 * infrastructure (shared data, HTTP server, Chromium, Python oracle, README runner) is
 * `@xception/test-kit`.
 */
export { saneRandomWeights, randomImages } from './sane-random-weights.js';
export { loadKerasReferenceModel, type KerasReferenceModel, type KerasReferenceOptions } from './keras-reference-model.js';
