export {
  resolveXceptionConfig,
  DEFAULT_SIZE,
  MIN_SIZE,
  type XceptionOptions,
  type XceptionConfig,
  type XceptionPooling,
  type ClassifierActivation,
  type WeightsSource,
} from './config.js';
export {
  XceptionError,
  XceptionConfigError,
  XceptionInputError,
  XceptionWeightsError,
  XceptionDisposedError,
  type XceptionErrorCode,
  type WeightProblem,
} from './errors.js';
export type { GraphDescription, GraphNode, WeightSpec, Padding } from './graph-nodes.js';
export { describeXception, RESIDUAL_LAYERS } from './xception-graph.js';
export { expectedWeights, countParameters, weightSpecsOf, liveNodeNames } from './weight-specs.js';
export { compileFusedPlan, checkWeightValues, firstNonFinite, type FusedPlan, type FusedStep, type FoldedWeight, type WeightValues } from './fused-plan.js';
export { kerasInitialWeights } from './keras-initializers.js';
export { seededRandom, nextSeededState, seededValue } from './seeded-random.js';
export { classNameProblem } from './label-text.js';
export { silenceCpuBackendBanner } from './cpu-backend-banner.js';
export {
  createXception,
  createXceptionFromValues,
  featureMapSize,
  type CreateXceptionOptions,
  type XceptionModel,
  type XceptionPrediction,
  type XceptionWeightMap,
} from './xception-model.js';
