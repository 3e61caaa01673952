/**
 * @xception/training/node: the whole recipe for a folder of class folders (Node: it reads files
 * and runs @xception/runtime's engines). The main entry stays free of Node's modules.
 */
export { trainClassifier } from './train-classifier.js';
export { resolveTrainOptions, type TrainClassifierOptions, type TrainedClassifier, type TrainingProgress, type TrainingStage } from './train-options.js';
export { TrainingError, trainingLibraryWords, type TrainingErrorCode, type TrainingOption, type TrainingWords } from './training-error.js';
export { IMAGE_EXTENSIONS, listClassFolders, type ClassFolders, type Sample } from './class-folders.js';
