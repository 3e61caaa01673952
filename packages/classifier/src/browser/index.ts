/**
 * @xception/classifier for browsers: the same classify() and embed() as in Node, on tfjs' webgl
 * or wasm backend, with the model folder kept in Cache Storage (IndexedDB on plain-http pages).
 * No Node built-ins.
 */
export { loadClassifier, type BrowserClassifierOptions as ClassifierOptions } from './load-classifier.js';
export type { BrowserImageInput as ImageInput } from './read-browser-input.js';
export { CACHE_NAME } from './cache-storage-store.js';
export { CACHE_DB_NAME } from './indexed-db-store.js';
export type { BrowserBackend } from './set-up-backend.js';
export { ClassifierError, type ClassifierErrorCode } from '../classifier-error.js';
export type { Classification, Classifier, ClassifyOptions, ProgressEvent } from '../classifier.js';
