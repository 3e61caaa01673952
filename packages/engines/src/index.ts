export {
  ENGINE_CHOICES,
  decodedWeights,
  isDeferredWeights,
  type DeferredWeights,
  type EngineBatch,
  type EngineChoice,
  type EngineName,
  type EngineOptions,
  type EngineResult,
  type InferenceEngine,
} from './engine.js';
export { DEVICE_CHOICES, type DeviceChoice } from './engine-choices.js';
export { EngineError, libraryWords, type EngineErrorCode, type NameEngine } from './engine-error.js';
export { selectEngine, type SelectEngineDeps } from './select-engine.js';
export { createOnnxEngine, onnxSessionOptions } from './onnx-engine.js';
export { exporterFingerprint, onnxCacheKey, ONNX_CACHE_KEEP, prepareOnnxModel, pruneOnnxCache, type OnnxModelFile } from './onnx-model-file.js';
export { DISABLE_ONNX_ENV, defaultOrtLoader, onnxRuntimeInstallDir, probeOnnxRuntime, type OnnxProbe, type OrtLoader, type OrtModule } from './onnx-probe.js';
export { probeTfjsNode, type TfjsNodeProbe } from './tfjs-node-probe.js';
export { createInProcessEngine } from './tfjs-engine.js';
export { createOnnxThreadEngine, createWasmPoolEngine } from './thread-pool-engine.js';
export { activateBackend, createModelRunner, type ModelRunner } from './model-runner.js';
export { int8WeightBitsForThisCpu } from './int8-weight-bits.js';
export { CALIBRATION_DEFAULT, int8CacheKey, prepareInt8Model, type Int8ModelFile, type Int8Record, type PrepareInt8Options } from './onnx-int8-model-file.js';
