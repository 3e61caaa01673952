export { createOptimizer, resolveOptimizerOptions, type Optimizer, type OptimizerOptions, type OptimizerState } from './optimizers.js';
export { adaptNormalization, NORMALIZATION_EPSILON, type NormalizationStats } from './normalization.js';
export { resolveClassWeights, type ClassWeights } from './class-weights.js';
export type { TrainableModel, PendingAssign } from './trainable-model.js';
export { createDenseHead, foldHead, type DenseHead, type DenseHeadOptions } from './dense-head.js';
export { createTrainingGraph, TRAINABLE_FROM_CHOICES, type TrainableFrom, type TrainingGraph, type TrainingGraphOptions } from './training-graph.js';
export { fit, type FitOptions, type FitResult, type EpochLog, type TrainingState, type EarlyStoppingOptions, type Monitor } from './fit.js';
export { encodeCheckpoint, decodeCheckpoint, writeCheckpointFile, readCheckpointFile, type Checkpoint } from './checkpoint.js';
export { ensureGradients } from './register-gradients.js';
