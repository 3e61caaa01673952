/**
 * @xception/classifier for Node: Keras' Xception (ImageNet) in one call, on the fastest engine
 * that loads here (@xception/engines), with photos decoded by sharp.
 */
export { loadClassifier, type NodeClassifierOptions as ClassifierOptions } from './load-classifier.js';
export type { NodeImageInput as ImageInput } from './read-node-input.js';
export { ClassifierError, type ClassifierErrorCode } from '../classifier-error.js';
export type { Classification, Classifier, ClassifyOptions, ProgressEvent } from '../classifier.js';
